#!/usr/bin/env bash
# Weak-to-strong reasoning on GSM8K, data to report. Every variable can be set from the environment.
#
#   bash run_gsm8k.sh                     # no GPU / no models given: the offline demo on small models
#   WEAK_BASE=/models/Llama-2-7b-hf STRONG_BASE=/models/Llama-2-70b-hf GPUS=0,1,2,3 bash run_gsm8k.sh
#
# Resumable: a finished stage is skipped on the next run; FORCE=1 redoes all, REDO="pairs preference"
# redoes some, STAGES="evaluate report" runs only those. Everything of a run lives in $RUN.
DATASET=gsm8k
ANSWER_KEY='####'
STOP=("Question" "Answer")
PAIRS_RULE=pairs-gsm8k                 # one pair per question
WEAK_BASE=${WEAK_BASE:-}               # weak model before SFT on train_1 (or WEAK_MODEL: already fine-tuned)
STRONG_BASE=${STRONG_BASE:-}           # strong model
MAX_TOKENS=${MAX_TOKENS:-}             # default 1024 (demo 128)
ITER2=${ITER2:-1}                      # stage I twice (SPEC: GSM8K yes)
DATA_SOURCE=${DATA_SOURCE:-}           # e.g. "--from ../shared/upstream"; default: the prepared data/ folder
source "$(dirname "$0")/scripts/pipeline.sh"
run_pipeline
