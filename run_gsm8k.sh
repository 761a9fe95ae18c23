#!/usr/bin/env bash
# Weak-to-strong reasoning on GSM8K, data to report. Settings: environment variables or a recipe
# (scripts/recipes/*.env); the benchmark's own settings come from src/benchmarks.py.
#
#   bash run_gsm8k.sh                     # no GPU / no models given: the offline demo (RECIPE=demo)
#   RECIPE=gsm8k_gemma-2b_llama2-70b WEAK_BASE=/models/gemma-2b STRONG_BASE=/models/Llama-2-70b-hf GPUS=0,1,2,3 bash run_gsm8k.sh
#
# Resumable: a finished stage is skipped on the next run; FORCE=1 redoes all, REDO="pairs preference"
# redoes those (and everything after them), STAGES="evaluate report" runs only those. Everything of
# a run lives in $RUN (default runs/<dataset>_<weak>_<strong>).
DATASET=gsm8k
source "$(dirname "$0")/scripts/pipeline.sh"
run_pipeline
