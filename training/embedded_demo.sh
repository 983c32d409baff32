#!/usr/bin/env bash
# Rebuild the embedded demo model end to end on the SYNTHETIC corpus (about an hour on 2 CPU cores):
# dataset -> LoRA adapters (cpu-demo: one for all tasks, one for N/M staging) -> GGUF adapters ->
# evaluation on validation -> routing table (best of base / adapters / rules / cascades per task) ->
# test report -> validation. With SKIP_TRAINING=1 the committed adapters are kept and only the
# evaluation, routing and report steps run (a few minutes).
# Outputs land in radlite/routing/ (adapters, routing table, smoke set) and docs/embedded-model/.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${WORK:-/tmp/radlite-embedded-demo}
export HF_HUB_OFFLINE=1
rm -rf "$work" && mkdir -p "$work" docs/embedded-model

radlite train build-data --synthetic 400 --test-per-task 12 --validation-per-task 6 --out "$work/data"
if [ "${SKIP_TRAINING:-0}" != 1 ]; then
radlite train lora --data "$work/data/train_weighted.jsonl" --preset cpu-demo --max-examples 720 \
    --checkpoint-every 10 --out "$work/lora"
radlite train export "$work/lora" --out radlite/routing/embedded-lora-cpu-demo.gguf
grep -E '"task": "(n_staging|m_staging)"' "$work/data/train.jsonl" > "$work/data/train_staging.jsonl"
radlite train lora --data "$work/data/train_staging.jsonl" --preset cpu-demo --max-steps 60 \
    --checkpoint-every 20 --out "$work/lora-staging"
radlite train export "$work/lora-staging" --out radlite/routing/embedded-lora-staging.gguf
fi

# Routing tables that send tasks to each adapter, to evaluate them.
tasks="rads_assignment impression_generation temporal_comparison radiology_ner n_staging m_staging radiology_nli abnormality_detection radiology_qa"
ruled="rads_assignment n_staging m_staging abnormality_detection temporal_comparison"  # tasks rules can read
radlite train model-table $tasks --name embedded-tuned --adapter radlite/routing/embedded-lora-cpu-demo.gguf \
    --threads 2 --out "$work/embedded-tuned.yaml"
radlite train model-table n_staging m_staging --name embedded-staging \
    --adapter radlite/routing/embedded-lora-staging.gguf --threads 2 --out "$work/embedded-staging.yaml"
# Rules, and cascades (rules first, the model for what they leave open), are routing candidates too.
radlite train model-table $ruled --name rules --rules only --out "$work/rules.yaml"
radlite train model-table $ruled --name cascade-tuned --rules first \
    --adapter radlite/routing/embedded-lora-cpu-demo.gguf --threads 2 --out "$work/cascade-tuned.yaml"
radlite train model-table n_staging m_staging --name cascade-staging --rules first \
    --adapter radlite/routing/embedded-lora-staging.gguf --threads 2 --out "$work/cascade-staging.yaml"
for table in embedded-base "$work"/{embedded-tuned,embedded-staging,rules,cascade-tuned,cascade-staging}.yaml; do
    radlite train eval --routing "$table" --split "$work/data/validation.jsonl" --out "$work/val-$(basename "$table" .yaml)"
done
radlite train route "$work"/val-*/eval.json --name embedded --smoke-set "$work/data/validation.jsonl" \
    --out radlite/routing/embedded.yaml
# The committed report: the routed embedded model against the zero-shot base on the test split.
radlite train eval --routing embedded --baseline embedded-base --split "$work/data/test.jsonl" \
    --out docs/embedded-model/test-eval
cp "$work/data/dataset_card.md" docs/embedded-model/dataset_card.md
if [ "${SKIP_TRAINING:-0}" != 1 ]; then
    cp "$work/lora/training_summary.json" docs/embedded-model/training_summary.json
    cp "$work/lora-staging/training_summary.json" docs/embedded-model/training_summary_staging.json
fi
radlite models validate embedded
