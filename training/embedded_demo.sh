#!/usr/bin/env bash
# Rebuild the embedded demo model end to end on the SYNTHETIC corpus (about 45 minutes on 2 CPU cores):
# dataset -> LoRA (cpu-demo) -> GGUF adapter -> evaluation (base vs tuned) -> routing table -> validation.
# Outputs land in radlite/routing/ (adapter, routing table, smoke set) and docs/embedded-model/ (card, eval).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${WORK:-/tmp/radlite-embedded-demo}
export HF_HUB_OFFLINE=1
rm -rf "$work" && mkdir -p "$work" docs/embedded-model

radlite train build-data --synthetic 400 --test-per-task 12 --validation-per-task 6 --out "$work/data"
radlite train lora --data "$work/data/train_weighted.jsonl" --preset cpu-demo --max-examples 720 \
    --checkpoint-every 10 --out "$work/lora"
radlite train export "$work/lora" --out radlite/routing/embedded-lora-cpu-demo.gguf

# A routing table that sends every task to the tuned adapter, to evaluate it.
cat > "$work/tuned.yaml" <<YAML
name: embedded-tuned
models:
  smollm2-135m-lora:
    path: "embedded:smollm2"
    adapters: [{path: $(pwd)/radlite/routing/embedded-lora-cpu-demo.gguf}]
    profile: radlite-v1
    threads: 2
tasks: {rads_assignment: smollm2-135m-lora, impression_generation: smollm2-135m-lora,
        temporal_comparison: smollm2-135m-lora, radiology_ner: smollm2-135m-lora, n_staging: smollm2-135m-lora,
        m_staging: smollm2-135m-lora, radiology_nli: smollm2-135m-lora, abnormality_detection: smollm2-135m-lora,
        radiology_qa: smollm2-135m-lora}
YAML
# Zero-shot versus fine-tuned on the test split (the committed report), then both on validation for routing.
radlite train eval --routing "$work/tuned.yaml" --baseline embedded-base --split "$work/data/test.jsonl" \
    --out docs/embedded-model/test-eval
radlite train eval --routing embedded-base --split "$work/data/validation.jsonl" --out "$work/val-base"
radlite train eval --routing "$work/tuned.yaml" --split "$work/data/validation.jsonl" --out "$work/val-tuned"
radlite train route "$work/val-base/eval.json" "$work/val-tuned/eval.json" --name embedded \
    --smoke-set "$work/data/validation.jsonl" --out radlite/routing/embedded.yaml
cp "$work/data/dataset_card.md" docs/embedded-model/dataset_card.md
cp "$work/lora/training_summary.json" docs/embedded-model/training_summary.json
radlite models validate embedded
