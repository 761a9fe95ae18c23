#!/usr/bin/env bash
# Weak-to-strong reasoning on OlympicArena (the paper's forward-looking setting), data to report.
#
#   WEAK_MODEL=/models/Meta-Llama-3-8B-Instruct STRONG_BASE=/models/Meta-Llama-3-70B GPUS=0,1,2,3 bash run_olympic.sh
#
# No train_1 and no gold for training: the weak model is used as it is (no weak SFT, no strong
# ceiling); the benchmark's test split is train_2 and its val split the test set (src/olympic_data.py).
# Final answers are compared with OlympicArena's rule-based judge (src/eval/olympic_judge.py), in
# grading, in the stage I consistency filter, in majority voting and in building pairs.
# Data: from the hub (GAIR/OlympicArena), or OLYMPIC_SOURCE=/path/to/a/local/copy (hub layout).
# Resumable like run_gsm8k.sh (FORCE=1, REDO="...", STAGES="...").
DATASET=olympicarena
ANSWER_KEY='####'                      # unused: the judge reads \boxed{} answers
JUDGE=olympic
PROMPT_STYLE=olympic                   # the row's own prompt + "\n\nAnswer:"
STOP=("Question" "Answer" "<|eot_id|>")
STOP_EOS=1                             # and the tokenizer's EOS text, as the original
PAIRS_RULE=pairs-math                  # up to three pairs per question
MAX_TOKENS=${MAX_TOKENS:-2048}
ITER2=${ITER2:-1}                      # SPEC: OlympicArena has stage I twice
CEILING=0                              # no gold solutions to fine-tune on
if [ -z "${WEAK_MODEL:-}" ] || [ -z "${STRONG_BASE:-}" ]; then
  echo "run_olympic.sh: set WEAK_MODEL (used as it is, e.g. Llama3-8b-instruct) and STRONG_BASE (e.g. Llama3-70b)." >&2
  echo "  The offline demo runs GSM8K-format data: bash run_gsm8k.sh" >&2
  exit 2
fi
DATA_SOURCE=${DATA_SOURCE:-${OLYMPIC_SOURCE:+--from $OLYMPIC_SOURCE}}
DATA_SOURCE=${DATA_SOURCE:---hub}
source "$(dirname "$0")/scripts/pipeline.sh"
run_pipeline
