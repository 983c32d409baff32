"""LoRA adapters merged into the base's weights: the arithmetic llama.cpp applies at run time, written
once, cached, and the merged embedded model answering as the runtime adapter does."""

import os

import llama_cpp
import numpy as np
import pytest
from conftest import run_cli
from gguf import GGMLQuantizationType, GGUFReader, GGUFWriter
from gguf.quants import dequantize
from llama_cpp import Llama

from radlite.errors import ExitCode
from radlite.inference import engine
from radlite.inference.merge import AdapterMismatch, merge_lora, merged_model
from radlite.routing import Adapter, ModelEntry, embedded_model_path, load_routing

ROUTING_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "radlite", "routing")
SYNTHETIC_ADAPTER = os.path.abspath(os.path.join(ROUTING_DIR, "embedded-lora-synthetic.gguf"))


def _tiny_base(path, weights: dict[str, np.ndarray]) -> None:
    writer = GGUFWriter(str(path), "llama")
    writer.add_name("tiny")
    for name, array in weights.items():
        writer.add_tensor(name, array.astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _tiny_adapter(path, pairs: dict[str, tuple[np.ndarray, np.ndarray]], alpha: float) -> None:
    writer = GGUFWriter(str(path), "llama")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", alpha)
    for name, (a, b) in pairs.items():
        writer.add_tensor(name + ".lora_a", a.astype(np.float32))
        writer.add_tensor(name + ".lora_b", b.astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_merging_adds_alpha_over_rank_times_b_a_and_keeps_other_tensors(tmp_path):
    rng = np.random.default_rng(0)
    q, norm = rng.normal(size=(4, 64)), rng.normal(size=(64,))
    a, b = rng.normal(size=(2, 64)), rng.normal(size=(4, 2))  # rank 2: (rank, in), (out, rank)
    _tiny_base(tmp_path / "base.gguf", {"blk.0.attn_q.weight": q, "blk.0.attn_norm.weight": norm})
    _tiny_adapter(tmp_path / "lora.gguf", {"blk.0.attn_q.weight": (a, b)}, alpha=4.0)

    changed = merge_lora(str(tmp_path / "base.gguf"), [(str(tmp_path / "lora.gguf"), 0.5)], str(tmp_path / "m.gguf"))

    assert changed == 1
    tensors = {t.name: t for t in GGUFReader(str(tmp_path / "m.gguf")).tensors}
    merged = tensors["blk.0.attn_q.weight"]
    assert merged.tensor_type == GGMLQuantizationType.Q8_0
    expected = q + 0.5 * (4.0 / 2) * (b @ a)  # llama.cpp's scale: user scale * alpha / rank
    got = dequantize(np.asarray(merged.data), merged.tensor_type)
    assert np.abs(got - expected).max() <= np.abs(expected).max() / 127  # within Q8_0's rounding
    assert np.array_equal(np.asarray(tensors["blk.0.attn_norm.weight"].data), norm.astype(np.float32))


def test_an_adapter_for_another_base_is_refused_with_the_reason(tmp_path):
    rng = np.random.default_rng(1)
    _tiny_base(tmp_path / "base.gguf", {"blk.0.attn_q.weight": rng.normal(size=(4, 64))})
    _tiny_adapter(tmp_path / "lora.gguf", {"blk.7.ffn_up.weight": (rng.normal(size=(2, 64)), rng.normal(size=(4, 2)))},
                  alpha=4.0)
    with pytest.raises(AdapterMismatch, match="another base model"):
        merge_lora(str(tmp_path / "base.gguf"), [(str(tmp_path / "lora.gguf"), 1.0)], str(tmp_path / "m.gguf"))
    assert not (tmp_path / "m.gguf").exists() or os.path.getsize(tmp_path / "m.gguf") == 0


def test_a_merged_model_is_made_once_per_base_adapter_and_scale(tmp_path):
    rng = np.random.default_rng(2)
    _tiny_base(tmp_path / "base.gguf", {"blk.0.attn_q.weight": rng.normal(size=(4, 64))})
    _tiny_adapter(tmp_path / "lora.gguf", {"blk.0.attn_q.weight": (rng.normal(size=(2, 64)), rng.normal(size=(4, 2)))},
                  alpha=4.0)
    base, lora, cache = str(tmp_path / "base.gguf"), str(tmp_path / "lora.gguf"), str(tmp_path / "cache")

    first = merged_model(base, [(lora, 1.0)], directory=cache)
    made = os.stat(first).st_mtime_ns
    again = merged_model(base, [(lora, 1.0)], directory=cache)
    other = merged_model(base, [(lora, 0.5)], directory=cache)

    assert again == first and os.stat(first).st_mtime_ns == made
    assert other != first
    # the same file name with other weights (a replaced base) is another merge, never the stale one
    _tiny_base(tmp_path / "base.gguf", {"blk.0.attn_q.weight": rng.normal(size=(4, 64))})
    replaced = merged_model(base, [(lora, 1.0)], directory=cache)
    assert replaced not in (first, other)
    assert sorted(p for p in os.listdir(cache) if p.endswith(".gguf")) == sorted(
        os.path.basename(p) for p in (first, other, replaced))


def _last_logits(llm: Llama, text: str) -> np.ndarray:
    """The next-token logits after ``text``, from llama-cpp-python's own context (the engine decodes
    elsewhere, so this context holds only what is evaluated here)."""
    llm.reset()
    llm.eval(llm.tokenize(text.encode(), add_bos=True, special=True))
    return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(llm.n_vocab(),)).copy()


def test_the_merged_embedded_model_answers_as_its_runtime_adapter(tmp_path, monkeypatch):
    monkeypatch.setenv("RADLITE_MODEL_CACHE", str(tmp_path))
    adapter = (Adapter(path=SYNTHETIC_ADAPTER),)
    runtime = engine.get_model(ModelEntry(path=embedded_model_path(), adapters=adapter, threads=2))
    merged = engine.get_model(ModelEntry(path=embedded_model_path(), adapters=adapter, threads=2, merge="Q8_0"))
    bare = engine.get_model(ModelEntry(path=embedded_model_path(), threads=2))
    assert merged.adapters == () and merged.weights.endswith(".Q8_0.gguf")
    assert merged.identity != runtime.identity  # its answers are cached apart from the runtime adapter's

    prompts = ["<|im_start|>user\nFindings: Small left pleural effusion. No pneumothorax. Heart size normal."
               "\nWhat is the N stage?<|im_end|>\n<|im_start|>assistant\n",
               "<|im_start|>user\nPremise: The lungs are clear.\nHypothesis: There is pneumonia.<|im_end|>\n"
               "<|im_start|>assistant\n"]
    # the runtime adapter as llama-cpp-python applies it to its own context
    adapted = Llama(model_path=embedded_model_path(), lora_path=SYNTHETIC_ADAPTER, n_ctx=512, n_threads=2,
                    flash_attn=True, verbose=False)
    for text in prompts:
        with_adapter, with_merge, without = (_last_logits(llm, text) for llm in (adapted, merged.llm, bare.llm))
        # the adapter's effect survives the merge: the merged logits sit far closer to the runtime
        # adapter's than the bare base's do, and pick the same next token
        gap = np.abs(with_merge - with_adapter).max()
        assert gap < 0.25 * np.abs(without - with_adapter).max()
        assert with_merge.argmax() == with_adapter.argmax()


def test_model_table_writes_a_merged_entry_and_refuses_a_merge_without_adapters(tmp_path):
    out = tmp_path / "table.yaml"
    refused = run_cli("train", "model-table", "n_staging", "--name", "x", "--merge", "Q8_0", "--out", out)
    assert refused.exit_code == ExitCode.USAGE and "--merge needs at least one --adapter" in refused.output
    assert not out.exists()

    made = run_cli("train", "model-table", "n_staging", "--name", "x", "--adapter", SYNTHETIC_ADAPTER,
                   "--merge", "Q8_0", "--out", out)
    assert made.exit_code == 0, made.output
    entry = load_routing(str(out), verify=False).models["x"]
    assert entry.merge == "Q8_0" and entry.label().endswith("embedded-lora-synthetic.gguf@merged-Q8_0")
