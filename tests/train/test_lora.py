"""LoRA tuning on the embedded base (cpu-demo preset) and export to a GGUF adapter llama.cpp applies."""

import json
import os

import pytest
from conftest import run_cli

from radlite.routing import embedded_model_path
from training.data.sources.synthetic import synthetic_records

pytest.importorskip("peft")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A few cpu-demo steps on one short record the model can memorise."""
    root = tmp_path_factory.mktemp("lora")
    records = [r for r in synthetic_records(12) if r.task == "m_staging"][:1]
    data = root / "tiny.jsonl"
    data.write_text("".join(json.dumps(r.model_dump(mode="json")) + "\n" for r in records))
    result = run_cli("train", "lora", "--data", str(data), "--preset", "cpu-demo", "--max-steps", "8",
                     "--checkpoint-every", "4", "--out", str(root / "adapter"), env={"HF_HUB_OFFLINE": "1"})
    assert result.exit_code == 0, result.stderr[-2000:]
    return root, records


def test_loss_falls_on_a_batch_it_can_memorise(trained):
    root, _ = trained
    summary = json.load(open(root / "adapter" / "training_summary.json"))
    losses = summary["loss_history"]
    assert len(losses) == 8
    assert losses[-1] < losses[0] / 2, losses
    assert summary["preset"]["name"] == "cpu-demo"
    assert (root / "adapter" / "adapter_model.safetensors").exists()


def test_resume_continues_from_the_checkpoint(trained, tmp_path):
    root, _ = trained
    result = run_cli("train", "lora", "--data", str(root / "tiny.jsonl"), "--preset", "cpu-demo", "--max-steps", "9",
                     "--out", str(root / "adapter"), env={"HF_HUB_OFFLINE": "1"})
    assert result.exit_code == 0, result.stderr[-2000:]
    assert "resumed from step 8" in result.stderr
    assert len(json.load(open(root / "adapter" / "training_summary.json"))["loss_history"]) == 9


def test_exported_adapter_loads_in_llama_cpp_and_moves_outputs_toward_the_target(trained):
    from llama_cpp import Llama

    from radlite.kinds.llama_cpp import gguf_problems
    from training.data.records import record_prompt

    root, records = trained
    out = root / "adapter.gguf"
    result = run_cli("train", "export", str(root / "adapter"), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert gguf_problems(str(out), adapter=True) == []
    prompt = record_prompt(records[0], "radlite-v1").text

    def answer(lora):
        llm = Llama(model_path=embedded_model_path(), lora_path=lora, n_ctx=1024, verbose=False)
        return llm.create_completion(prompt, max_tokens=4, temperature=0.0, stop=["<|im_end|>"])["choices"][0]["text"]

    base, tuned = answer(None), answer(str(out))
    assert tuned != base
    assert tuned.strip() == records[0].output


def test_adapters_switch_on_one_loaded_base(trained):
    from radlite.inference import engine
    from radlite.routing import Adapter, ModelEntry
    from training.data.records import record_prompt

    root, records = trained
    out = root / "switch.gguf"
    assert run_cli("train", "export", str(root / "adapter"), "--out", str(out)).exit_code == 0
    prompt = record_prompt(records[0], "radlite-v1")
    base = ModelEntry(path=embedded_model_path(), threads=2, n_ctx=1024, seed=7)
    tuned = base.model_copy(update={"adapters": (Adapter(path=str(out)),)})
    before = engine.LOAD_COUNTS[os.path.basename(embedded_model_path())]
    # each prompt a group of one; [0][0][0]: the first group's completions' first
    outputs = [engine.get_model(entry).generate_groups([[prompt]])[0][0][0].text
               for entry in (base, tuned, base, tuned)]
    assert engine.LOAD_COUNTS[os.path.basename(embedded_model_path())] == before + 1
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3] and outputs[0] != outputs[1]
    assert outputs[1].strip() == records[0].output


def test_merge_and_quantize_gives_one_gguf_that_answers_like_base_plus_adapter(trained):
    from llama_cpp import Llama

    from training.data.records import record_prompt

    root, records = trained
    merged = root / "merged-q8.gguf"
    result = run_cli("train", "export", str(root / "adapter"), "--out", str(root / "m.gguf"),
                     "--merge-to", str(merged), "--quantize", "Q8_0")
    assert result.exit_code == 0, result.stderr
    prompt = record_prompt(records[0], "radlite-v1").text
    llm = Llama(model_path=str(merged), n_ctx=1024, verbose=False)
    answer = llm.create_completion(prompt, max_tokens=4, temperature=0.0, stop=["<|im_end|>"])["choices"][0]["text"]
    assert answer.strip() == records[0].output
