#!/usr/bin/env bash
# Weak-to-strong reasoning on MATH (see run_gsm8k.sh for usage). Needs MATH train splits:
#   .venv/bin/python -m src.prepare_data --hub      (the release has none)
DATASET=math
ANSWER_KEY='The answer is:'
STOP=("Question" "Answer")
PAIRS_RULE=pairs-math                  # up to three pairs per question
MAX_TOKENS=${MAX_TOKENS:-2048}
ITER2=${ITER2:-0}                      # SPEC: MATH has one stage I iteration
DATA_SOURCE=${DATA_SOURCE:-}
if [ -z "${WEAK_BASE:-}${WEAK_MODEL:-}" ] && [ "${DEMO:-0}" != 1 ] && ! (command -v nvidia-smi >/dev/null && nvidia-smi -L | grep -q GPU); then
  echo "run_math.sh: no models given and no GPU; the offline demo runs GSM8K-format data: bash run_gsm8k.sh" >&2; exit 2
fi
source "$(dirname "$0")/scripts/pipeline.sh"
run_pipeline
