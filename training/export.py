"""Export: a PEFT LoRA adapter -> a GGUF LoRA adapter llama.cpp applies to the base GGUF; and the
full path for single-file deployment: merge -> GGUF (F32) -> quantize (llama.cpp's quantize API).

Tensor names follow llama.cpp's llama architecture (blk.N.attn_q ...). Like llama.cpp's own HF
converter, the q and k projections are row-permuted for its rotary layout; for an adapter only the
B matrix (output rows) needs it.
"""

from __future__ import annotations

import json
import os
import re

import gguf
import llama_cpp
import numpy as np

from training.optional import require

HF_TO_GGUF = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
_LORA_KEY = re.compile(r"layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\.lora_([AB])\.weight$")


def rope_permute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's row permutation of q/k projections (interleaved -> halves rotary layout)."""
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def base_gguf_metadata(path: str) -> dict:
    """Architecture facts of the base GGUF that the adapter must match."""
    reader = gguf.GGUFReader(path)
    arch = reader.fields["general.architecture"].contents()
    return {"arch": arch, "n_head": int(reader.fields[f"{arch}.attention.head_count"].contents()),
            "n_head_kv": int(reader.fields[f"{arch}.attention.head_count_kv"].contents())}


def export_lora_adapter(adapter_dir: str, base_gguf: str, out_path: str) -> str:
    """Write the PEFT adapter in ``adapter_dir`` as a GGUF LoRA adapter for ``base_gguf``."""
    load_file = require("safetensors.numpy").load_file

    config = json.load(open(os.path.join(adapter_dir, "adapter_config.json")))
    tensors = load_file(os.path.join(adapter_dir, "adapter_model.safetensors"))
    meta = base_gguf_metadata(base_gguf)
    writer = gguf.GGUFWriter(out_path, meta["arch"])
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(config["lora_alpha"]))
    written = 0
    for key in sorted(tensors):
        m = _LORA_KEY.search(key)
        if not m:
            continue
        layer, module, which = m.groups()
        data = tensors[key].astype(np.float32)
        if which == "B" and module == "self_attn.q_proj":
            data = rope_permute(data, meta["n_head"])
        elif which == "B" and module == "self_attn.k_proj":
            data = rope_permute(data, meta["n_head_kv"])
        # F16 halves the file; llama.cpp computes LoRA deltas from F16 adapters as well.
        writer.add_tensor(f"blk.{layer}.{HF_TO_GGUF[module]}.weight.lora_{which.lower()}", data.astype(np.float16))
        written += 1
    if not written:
        raise ValueError(f"{adapter_dir}: no LoRA tensors of the llama architecture found")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out_path


def merge_to_gguf(base_gguf: str, adapter_gguf: str, out_path: str, quantize: str | None = "Q4_K_M") -> str:
    """Merge the adapter into the base weights and write one GGUF (optionally quantized).

    The base tensors are dequantized with gguf-py, W += (alpha / r) * B @ A is applied in llama.cpp's
    own layout, metadata and tokenizer are copied from the base, and llama.cpp quantizes the result.
    """
    base = gguf.GGUFReader(base_gguf)
    adapter = gguf.GGUFReader(adapter_gguf)
    alpha = float(adapter.fields[gguf.Keys.Adapter.LORA_ALPHA].contents())
    lora = {t.name: np.array(t.data, dtype=np.float32) for t in adapter.tensors}
    arch = base.fields["general.architecture"].contents()
    f32_path = out_path if not quantize else out_path + ".f32.gguf"
    writer = gguf.GGUFWriter(f32_path, arch)
    for name, field in base.fields.items():
        if name.startswith("GGUF.") or name in ("general.architecture", "general.file_type"):
            continue
        value, vtype = field.contents(), field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            writer.add_key_value(name, value, vtype, sub_type=field.types[-1])
        else:
            writer.add_key_value(name, value, vtype)
    for tensor in base.tensors:
        weights = gguf.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        weights = weights.reshape([int(d) for d in reversed(tensor.shape)])
        a, b = lora.get(tensor.name + ".lora_a"), lora.get(tensor.name + ".lora_b")
        if a is not None and b is not None:
            weights = weights + (alpha / a.shape[0]) * (b @ a)
        writer.add_tensor(tensor.name, weights)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if quantize:
        quantize_gguf(f32_path, out_path, quantize)
        os.remove(f32_path)
    return out_path


def quantize_gguf(src: str, dst: str, kind: str = "Q4_K_M") -> None:
    """llama.cpp's quantizer through llama-cpp-python's bindings."""
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{kind}")
    if llama_cpp.llama_model_quantize(src.encode(), dst.encode(), params) != 0:
        raise RuntimeError(f"llama.cpp failed to quantize {src} to {kind}")
