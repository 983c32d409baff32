"""LoRA fine-tuning (transformers + peft) on instruction records rendered by the task registry.

Loss is on answer tokens only; the run is seeded, shows loss and tokens/s, checkpoints the adapter
and optimizer every ``checkpoint_every`` steps and resumes from the newest checkpoint.
"""

from __future__ import annotations

import math
import os
import random
import time
from importlib import resources

import yaml
from pydantic import BaseModel

from radlite.prompts import DEFAULT_PROFILE
from training.data.records import InstructionRecord, record_prompt
from training.optional import require

END = "<|im_end|>"


class LoraPreset(BaseModel):
    name: str
    r: int
    alpha: int
    dropout: float
    target_modules: list[str]
    learning_rate: float
    #: A transformers learning-rate schedule name (the paper: cosine).
    scheduler: str = "cosine"
    warmup_ratio: float = 0.0
    per_device_batch_size: int
    gradient_accumulation_steps: int = 1
    epochs: float = 1
    max_length: int
    profile: str = DEFAULT_PROFILE


def load_preset(name_or_path: str) -> LoraPreset:
    """A preset by name (training/presets/<name>.yaml) or from a YAML file."""
    if os.path.exists(name_or_path):
        path = name_or_path
    else:
        path = str(resources.files("training").joinpath("presets", f"{name_or_path}.yaml"))
        if not os.path.exists(path):
            raise FileNotFoundError(f"no preset {name_or_path!r}")
    with open(path) as fh:
        return LoraPreset(**yaml.safe_load(fh))


def load_base(base: str):
    """(model, tokenizer) from a Hugging Face directory or a .gguf file (transformers' gguf_file=).

    Bases are local files: the hub is never asked (HF_HUB_OFFLINE=1 unless the caller set it)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch, transformers = require("torch"), require("transformers")
    AutoModelForCausalLM, AutoTokenizer = transformers.AutoModelForCausalLM, transformers.AutoTokenizer

    if base.endswith(".gguf"):
        directory, name = os.path.dirname(os.path.abspath(base)), os.path.basename(base)
        tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)
    else:
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    return model, tokenizer


def encode(record: InstructionRecord, tokenizer, profile: str, max_length: int) -> dict | None:
    """input_ids with labels -100 over the prompt: the loss sees only the answer and its end token."""
    prompt = record_prompt(record, profile).text
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    answer_ids = tokenizer(record.output + END, add_special_tokens=False).input_ids
    if len(prompt_ids) + len(answer_ids) > max_length:
        return None
    return {"input_ids": prompt_ids + answer_ids, "labels": [-100] * len(prompt_ids) + answer_ids}


def _batches(examples: list[dict], size: int, pad_id: int):
    torch = require("torch")

    for start in range(0, len(examples), size):
        chunk = examples[start:start + size]
        width = max(len(e["input_ids"]) for e in chunk)
        ids = torch.full((len(chunk), width), pad_id)
        labels = torch.full((len(chunk), width), -100)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for i, e in enumerate(chunk):
            n = len(e["input_ids"])
            ids[i, :n] = torch.tensor(e["input_ids"])
            labels[i, :n] = torch.tensor(e["labels"])
            mask[i, :n] = 1
        yield ids, labels, mask


class TrainingSummary(BaseModel):
    """training_summary.json: what was trained, on what, and how it went."""

    preset: LoraPreset
    base: str
    steps: int
    examples: int
    loss_history: list[float]
    tokens_per_second: float


def train_lora(records: list[InstructionRecord], base: str, preset: LoraPreset, out_dir: str, *,
               max_steps: int | None = None, seed: int = 42, checkpoint_every: int = 50,
               log=print) -> TrainingSummary:
    """Train and save a PEFT adapter in ``out_dir``; returns the loss history and throughput."""
    torch, peft = require("torch"), require("peft")
    get_scheduler = require("transformers").get_scheduler
    LoraConfig, get_peft_model, set_peft_model_state_dict = (peft.LoraConfig, peft.get_peft_model,
                                                             peft.set_peft_model_state_dict)

    random.seed(seed)
    torch.manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    model, tokenizer = load_base(base)
    model = get_peft_model(model, LoraConfig(r=preset.r, lora_alpha=preset.alpha, lora_dropout=preset.dropout,
                                             target_modules=preset.target_modules, task_type="CAUSAL_LM"))
    examples = [e for e in (encode(r, tokenizer, preset.profile, preset.max_length) for r in records) if e]
    random.Random(seed).shuffle(examples)
    micro_batches = math.ceil(len(examples) / preset.per_device_batch_size)
    steps = math.ceil(micro_batches * preset.epochs / preset.gradient_accumulation_steps)
    if max_steps:
        steps = max_steps  # the example stream cycles, so a tiny slice can be trained for many steps
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=preset.learning_rate)
    scheduler = get_scheduler(preset.scheduler, optimizer, int(steps * preset.warmup_ratio), steps)
    state_path = os.path.join(out_dir, "checkpoint.pt")
    step, history = 0, []
    if os.path.exists(state_path):
        state = torch.load(state_path, weights_only=False)
        set_peft_model_state_dict(model, state["adapter"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, history = state["step"], state["history"]
        log(f"resumed from step {step}")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    model.train()
    started, tokens = time.perf_counter(), 0

    def stream():
        epoch = 0
        while True:
            order = examples[:]
            random.Random(seed + epoch).shuffle(order)
            yield from _batches(order, preset.per_device_batch_size, pad_id)
            epoch += 1

    batches = stream()
    # Skip the micro-batches a resumed run has already consumed.
    for _ in range(step * preset.gradient_accumulation_steps):
        next(batches)
    while step < steps:
        optimizer.zero_grad()
        loss_sum = 0.0
        for _ in range(preset.gradient_accumulation_steps):
            ids, labels, mask = next(batches)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss / preset.gradient_accumulation_steps
            loss.backward()
            loss_sum += loss.item()
            tokens += int(mask.sum())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        step += 1
        history.append(loss_sum)
        rate = tokens / (time.perf_counter() - started)
        log(f"step {step}/{steps} loss {loss_sum:.4f} lr {scheduler.get_last_lr()[0]:.2e} {rate:.0f} tok/s")
        if step % checkpoint_every == 0 or step == steps:
            torch.save({"adapter": {k: v for k, v in model.state_dict().items() if "lora_" in k},
                        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "step": step,
                        "history": history}, state_path)
    model.save_pretrained(out_dir)
    summary = TrainingSummary(preset=preset, base=base, steps=step, examples=len(examples), loss_history=history,
                              tokens_per_second=tokens / max(1e-9, time.perf_counter() - started))
    with open(os.path.join(out_dir, "training_summary.json"), "w") as fh:
        fh.write(summary.model_dump_json(indent=1))
    return summary
