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

from radlite.kinds.llama_cpp import merge_lora
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

    The merge is the one routed models use (the llama.cpp kind's merge_lora: W += scale * alpha / r * B @ A in
    llama.cpp's layout, metadata and tokenizer copied), written as F32; llama.cpp quantizes the result.
    """
    f32_path = out_path if not quantize else out_path + ".f32.gguf"
    merge_lora(base_gguf, [(adapter_gguf, 1.0)], f32_path, "F32")
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
