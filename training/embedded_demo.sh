#!/usr/bin/env bash
# Rebuild the embedded demo model end to end (about 1.5 hours on 2 CPU cores): dataset from the real
# IU X-ray reports (NegBio's 771 test reports held out) plus 400 SYNTHETIC reports -> one LoRA adapter
# for all tasks (cpu-demo preset, 480 weighted examples = 60 steps) -> GGUF adapter -> evaluation
# on validation (20 records per task) -> routing table (best of base / adapter / rules / cascades
# per task) -> real-data test report (against the zero-shot base and the trivial impression
# baselines) -> validation. With SKIP_TRAINING=1 the committed adapter is kept and only the
# evaluation, routing and report steps run. Needs ../shared/data (IU X-ray reports, NegBio labels).
# Outputs land in radlite/routing/ (routing table, smoke set), adapters/iu-xray-nc/ (the real-data adapter:
# CC BY-NC-ND 4.0, kept out of the wheel) and docs/embedded-model/.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${WORK:-/tmp/radlite-embedded-demo}
export HF_HUB_OFFLINE=1
rm -rf "$work" && mkdir -p "$work" docs/embedded-model

data=${DATA:-../shared/data}
radlite train build-data --source iu-xray="$data/iu-xray/indiana_reports.csv" \
    --source negbio-gold="$data/negbio/openi_gld_std14.csv" --test-ids "$data/negbio/openi-testset.txt" \
    --synthetic 400 --out "$work/data"
if [ "${SKIP_TRAINING:-0}" != 1 ]; then
radlite train lora --data "$work/data/train_weighted.jsonl" --preset cpu-demo --max-examples 480 \
    --checkpoint-every 10 --out "$work/lora"
radlite train export "$work/lora" --out adapters/iu-xray-nc/embedded-lora-cpu-demo.gguf
fi

# Routing tables that send tasks to each adapter, to evaluate them.
tasks="rads_assignment impression_generation temporal_comparison radiology_ner n_staging m_staging radiology_nli abnormality_detection radiology_qa"
ruled="rads_assignment n_staging m_staging abnormality_detection temporal_comparison radiology_ner"  # tasks rules can read
# The rules write impressions for chest radiographs only: offered as a cascade, so that the other
# reports still get one from the model.
cascaded="$ruled impression_generation"
# Each adapter is merged into the base's weights (Q8_0, cached on first use): the same model without
# llama.cpp's per-token adapter products, and on its faster Q8_0 kernels (README, Performance).
radlite train model-table $tasks --name embedded-tuned --adapter adapters/iu-xray-nc/embedded-lora-cpu-demo.gguf \
    --merge Q8_0 --threads 2 --out "$work/embedded-tuned.yaml"
# The earlier adapter, trained on the SYNTHETIC corpus only (90 steps of 8; its training summary:
# docs/embedded-model/training_summary_synthetic.json), is a candidate too.
radlite train model-table $tasks --name embedded-synthetic --adapter radlite/routing/embedded-lora-synthetic.gguf \
    --merge Q8_0 --threads 2 --out "$work/embedded-synthetic.yaml"
# Rules, and cascades (rules first, the model for what they leave open), are routing candidates too.
radlite train model-table $ruled --name rules --rules only --out "$work/rules.yaml"
radlite train model-table $cascaded --name cascade-tuned --rules first \
    --adapter adapters/iu-xray-nc/embedded-lora-cpu-demo.gguf --merge Q8_0 --threads 2 --out "$work/cascade-tuned.yaml"
for table in embedded-base "$work"/{embedded-tuned,embedded-synthetic,rules,cascade-tuned}.yaml; do
    radlite train eval --routing "$table" --split "$work/data/validation.jsonl" --limit-per-task 20 \
        --out "$work/val-$(basename "$table" .yaml)"
done
# the smoke set is the validation records the routing was scored on (20 per task)
python -c "import sys; from training.gate import first_per_task; from training.data.build import load_split; sys.stdout.write(''.join(r.model_dump_json() + '\n' for r in first_per_task(load_split(sys.argv[1]), 20)))" "$work/data/validation.jsonl" > "$work/data/validation-first20.jsonl"
radlite train route "$work"/val-*/eval.json --name embedded --smoke-set "$work/data/validation-first20.jsonl" \
    --out radlite/routing/embedded.yaml
# The real-data adapter is installed apart (its licence keeps it out of the wheel): where it is not,
# its tasks use the synthetic adapter (docs/models.md, "Adapters installed apart"); the table names it
# by its file name, found wherever it is installed.
python -c "import sys, yaml; p = sys.argv[1]; t = yaml.safe_load(open(p)); e = t['models']['cascade-tuned.cascade-tuned']; e['fallback'] = 'embedded-synthetic.embedded-synthetic'; e['adapters'][0]['path'] = 'embedded-lora-cpu-demo.gguf'; yaml.safe_dump(t, open(p, 'w'), sort_keys=False)" radlite/routing/embedded.yaml
# The committed reports. The routed model on the whole test split (the 771 IU test reports' records
# and the synthetic test records) against the trivial impression baselines; then, on the first 60
# records per task (the zero-shot base decodes slowly), against the zero-shot base.
radlite train eval --routing embedded --split "$work/data/test.jsonl" --trivial-from "$work/data/train.jsonl" \
    --out docs/embedded-model/test-eval
radlite train eval --routing embedded --baseline embedded-base --split "$work/data/test.jsonl" \
    --limit-per-task 60 --out docs/embedded-model/test-eval-vs-base
cp "$work/data/dataset_card.md" docs/embedded-model/dataset_card.md
if [ "${SKIP_TRAINING:-0}" != 1 ]; then
    cp "$work/lora/training_summary.json" docs/embedded-model/training_summary.json
fi
radlite models validate embedded
