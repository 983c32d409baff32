"""LoRA adapters merged into their base model's weights, written once as a GGUF file and cached.

llama.cpp applies a runtime adapter as two extra matrix products per adapted weight on every token
(on the embedded model: prefill 329 -> 269 tok/s, batched decode 260 -> 186 tok/s). A merged model
has none, and writing the merged weights as Q8_0 also puts them on llama.cpp's tinyBLAS kernels,
which the base's Q4_1 weights miss: README, Performance, has the measured rates. The merged weights
are (dequantized base + scale * B @ A) rounded to Q8_0, so answers can differ from the runtime
adapter's at near-ties; `radlite train eval` measures the merged model, which is what is routed.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Sequence
from typing import Literal

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
from gguf.quants import dequantize, quantize

from radlite.hashing import file_sha256, text_sha256

#: The types a routed merge is written as (Q8_0: tinyBLAS kernels, 8.5 bits per weight).
MergeType = Literal["Q8_0"]

#: F32 too: every tensor dequantized, the input llama.cpp's quantizer takes (training's export).
WrittenType = Literal["Q8_0", "F32"]
#: Bump when the merge arithmetic or the file layout changes: cached merges are then rebuilt.
MERGE_VERSION = 1


class AdapterMismatch(ValueError):
    """An adapter that does not fit the base model it is merged into."""


def cache_dir() -> str:
    """Where merged models are kept: $RADLITE_MODEL_CACHE, else ~/.cache/radlite/merged."""
    return os.environ.get("RADLITE_MODEL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "radlite", "merged")


def _float_weights(tensor) -> np.ndarray:
    """A GGUF tensor as float32 in numpy's (rows, columns) layout."""
    if tensor.tensor_type in (GGMLQuantizationType.F32, GGMLQuantizationType.F16):
        return np.asarray(tensor.data, dtype=np.float32)
    return dequantize(np.asarray(tensor.data), tensor.tensor_type).astype(np.float32)


def lora_deltas(adapter_path: str, scale: float) -> dict[str, np.ndarray]:
    """base tensor name -> the weight change the adapter makes to it, scaled as llama.cpp scales it:
    ``scale * alpha / rank`` (``scale`` alone when the file declares no alpha)."""
    reader = GGUFReader(adapter_path)
    kind = reader.fields.get("adapter.type")
    if kind is None or kind.contents() != "lora":
        raise AdapterMismatch(f"{adapter_path} is not a GGUF LoRA adapter (no adapter.type = lora)")
    alpha_field = reader.fields.get("adapter.lora.alpha")
    alpha = float(alpha_field.contents()) if alpha_field is not None else 0.0
    tensors = {t.name: t for t in reader.tensors}
    deltas = {}
    for name, a_tensor in tensors.items():
        if not name.endswith(".lora_a"):
            continue
        target = name[: -len(".lora_a")]
        b_tensor = tensors.get(target + ".lora_b")
        if b_tensor is None:
            raise AdapterMismatch(f"{adapter_path}: {name} has no matching .lora_b")
        a, b = _float_weights(a_tensor), _float_weights(b_tensor)  # (rank, in), (out, rank)
        rank = a.shape[0]
        if b.shape[1] != rank:
            raise AdapterMismatch(f"{adapter_path}: {target} lora_a rank {rank} but lora_b rank {b.shape[1]}")
        deltas[target] = (scale * alpha / rank if alpha else scale) * (b @ a)
    if not deltas:
        raise AdapterMismatch(f"{adapter_path} holds no LoRA tensor pairs")
    return deltas


def _copy_metadata(reader: GGUFReader, writer: GGUFWriter, provenance: list[dict]) -> None:
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in ("general.architecture", "general.file_type"):
            continue  # the header's own fields, and the base's weight type, which no longer holds
        vtype = field.types[0]
        writer.add_key_value(key, field.contents(), vtype, field.types[-1] if vtype == GGUFValueType.ARRAY else None)
    writer.add_key_value("radlite.merged_adapters", json.dumps(provenance), GGUFValueType.STRING)


def merge_lora(base_path: str, adapters: Sequence[tuple[str, float]], out_path: str,
               weight_type: WrittenType = "Q8_0") -> int:
    """Write ``base_path`` with every ``(adapter path, scale)`` added into its weights to ``out_path``;
    adapted tensors as ``weight_type``, all others byte for byte (as F32 too when ``weight_type`` is
    F32). Returns how many tensors changed."""
    qtype = GGMLQuantizationType[weight_type]
    dequantize_all = qtype == GGMLQuantizationType.F32
    base = GGUFReader(base_path)
    deltas: dict[str, np.ndarray] = {}
    for path, scale in adapters:
        for name, delta in lora_deltas(path, scale).items():
            deltas[name] = deltas[name] + delta if name in deltas else delta
    names = {t.name for t in base.tensors}
    unknown = sorted(set(deltas) - names)
    if unknown:
        raise AdapterMismatch(f"adapter tensors {unknown[:3]} (of {len(unknown)}) are not in {base_path}: "
                              "the adapter was trained for another base model")
    writer = GGUFWriter(out_path, base.fields["general.architecture"].contents())
    _copy_metadata(base, writer, [{"adapter": os.path.basename(p), "scale": s} for p, s in adapters])
    for tensor in base.tensors:
        delta = deltas.get(tensor.name)
        if delta is None and not dequantize_all:
            writer.add_tensor(tensor.name, np.asarray(tensor.data), raw_dtype=tensor.tensor_type)
            continue
        weights = _float_weights(tensor)
        if delta is not None:
            if weights.shape != delta.shape:
                raise AdapterMismatch(f"{tensor.name}: base weights {weights.shape}, adapter change {delta.shape}")
            weights = weights + delta
        if dequantize_all:
            writer.add_tensor(tensor.name, weights)
        else:
            writer.add_tensor(tensor.name, quantize(weights, qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return len(deltas)


def merge_key(base_sha256: str, adapters: Sequence[tuple[str, float]], weight_type: str) -> str:
    """What a merged file is made of: base and adapter hashes, scales, type and merge version."""
    return text_sha256(json.dumps([MERGE_VERSION, base_sha256, [list(a) for a in adapters], weight_type]))


def merged_model(base_path: str, adapters: Sequence[tuple[str, float]], weight_type: MergeType = "Q8_0",
                 directory: str | None = None) -> str:
    """Path of the merged model for ``adapters`` ((path, scale) each) on the base, merged on first use
    and kept under ``directory`` (default cache_dir()), named by the files' own sha256s (not those a
    routing table declares, which --allow-unvalidated lets differ). Processes that ask at once wait
    for one merge (a file lock); the file appears complete or not at all."""
    identity = [(file_sha256(path), scale) for path, scale in adapters]
    directory = directory or cache_dir()
    os.makedirs(directory, exist_ok=True)
    name = merge_key(file_sha256(base_path), identity, weight_type)[:24] + f".{weight_type}.gguf"
    target = os.path.join(directory, name)
    if os.path.exists(target):
        return target
    with open(target + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(target):
            fd, scratch = tempfile.mkstemp(dir=directory, suffix=".partial")
            os.close(fd)
            try:
                merge_lora(base_path, list(adapters), scratch, weight_type)
                os.chmod(scratch, 0o644)  # readable like any model file (mkstemp makes it private)
                os.replace(scratch, target)
            finally:
                if os.path.exists(scratch):
                    os.remove(scratch)
    return target
