#!/usr/bin/env bash
# Weak-to-strong reasoning on MATH (see run_gsm8k.sh for usage). Needs MATH train splits:
#   .venv/bin/python -m src.prepare_data --hub      (the release has none)
# The original trained on stage I sets padded with inconsistent questions to 1,000 (Gemma-2b) or
# 2,000 (Mistral-7b) questions; on by default (PAD_TO=1000, the benchmark's in src/benchmarks.py;
# RECIPE=math_mistral-7b_llama2-70b sets 2000; the strict sets are written as *_wo_aug.json beside the
# padded ones; PAD_TO=0 trains on the strict set only).
DATASET=math
if [ -z "${WEAK_BASE:-}${WEAK_MODEL:-}${RECIPE:-}" ] && ! (command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q GPU); then
  echo "run_math.sh: no models given and no GPU; the offline demo runs GSM8K-format data: bash run_gsm8k.sh" >&2; exit 2
fi
source "$(dirname "$0")/scripts/pipeline.sh"
run_pipeline
