#!/usr/bin/env bash
# Weak-to-strong reasoning on OlympicArena (the paper's forward-looking setting), data to report.
#
#   RECIPE=olympic_llama3-8b-instruct_llama3-70b WEAK_MODEL=/models/Meta-Llama-3-8B-Instruct \
#     STRONG_BASE=/models/Meta-Llama-3-70B GPUS=0,1,2,3 bash run_olympic.sh
#
# No train_1 and no gold for training: the weak model is used as it is (no weak SFT, no strong
# ceiling); the benchmark's test split (answers withheld) is train_2 and its val split the test set
# (src/olympic_data.py). Answers are compared with OlympicArena's rule-based judge in grading, in the
# stage I consistency filter, in majority voting and in building pairs (src/benchmarks.py).
# Data: from the hub (GAIR/OlympicArena; the run then leaves the hub online), or
# OLYMPIC_SOURCE=/path/to/a/local/copy (hub layout). Resumable like run_gsm8k.sh.
DATASET=olympicarena
if [ -z "${WEAK_MODEL:-}${RECIPE:-}" ] || [ -z "${STRONG_BASE:-}" ]; then
  echo "run_olympic.sh: set WEAK_MODEL (used as it is, e.g. Llama3-8b-instruct) and STRONG_BASE (e.g. Llama3-70b)." >&2
  echo "  The offline demo runs GSM8K-format data: bash run_gsm8k.sh" >&2
  exit 2
fi
source "$(dirname "$0")/scripts/pipeline.sh"
run_pipeline
