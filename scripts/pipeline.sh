#!/usr/bin/env bash
# The method's stages, shared by run_gsm8k.sh, run_math.sh and run_olympic.sh (which set DATASET and
# source this file). Orchestration only: every stage calls a standalone module; the benchmark's own
# settings (answer key, stop strings, token budget, judge, pairs rule, iterations) come from
# src/benchmarks.py, the paths of every stage from src/layout.py.
#
# Settings: environment variables (src/layout.py: W2SRSettings; a misspelled one stops the run), or a
# recipe file: RECIPE=demo or RECIPE=scripts/recipes/<name>.env. The run's config.env records every
# setting and replays the run: `set -a; source runs/X/config.env; set +a; bash run_gsm8k.sh`.
#
# Resumable: a stage is skipped when its marker $RUN/.done/<stage> exists (written last). A stage
# that is redone (FORCE=1: all; REDO="pairs": named ones) first removes its outputs; once any stage
# runs, every later stage runs again too (inference regenerates only what another model or setting
# made: src/provenance.py). STAGES="evaluate report" runs only those.
# shellcheck source=scripts/stage_runner.sh
source "$(dirname "${BASH_SOURCE[0]}")/stage_runner.sh"
preamble

# ---------------------------------------------------------------- settings (src/layout.py)
# DEMO=1, or no models given on a machine without a GPU: the offline demo (given settings still win)
if [ -z "${RECIPE:-}" ] && { [ "${DEMO:-}" = 1 ] || { [ -z "${WEAK_BASE:-}${WEAK_MODEL:-}" ] && ! has_gpu; }; }; then RECIPE=demo; fi
load_recipe demo.env repro_small.env  # offline: generated data, small models
[ -x "$PY" ] || die "no main environment at $PY; run: bash scripts/setup.sh"
export DATASET
load_plan src.layout  # every setting, checked; KNOWN, HF_HUB_OFFLINE, STAGE_LIST, SAMPLE_SEEDS, SEED_START, SEED_END
check_stage_names
setup_processes
DATA=$RUN/data
LF=$DATA/llama_factory
OUT=$RUN/outputs
MODELS=$RUN/models
TRAIN2=$DATA/test/${DATASET}_train_2.jsonl
TEST=$DATA/test/$DATASET.jsonl
export DATASET_DIR=$LF GPUS
[ "${PLAN:-0}" = 1 ] || mkdir -p "$RUN/.done" "$RUN/logs"

STAGE_SHOW='^\[(grade|stage I|pairs|majority|full-weak|data|inference)\]'
stage_outputs() { "$PY" -m src.layout outputs "$1"; }  # what a redone stage removes first

# infer MODEL TP "NAME:ADAPTER(-):DATA_FILE ..." [extra args]: every run in one model load
#   -> $OUT/NAME/output.jsonl, results.jsonl, metrics.json for each run
# With MERGE_ADAPTERS=1 the base model's runs share one load and each adapter is merged into the base
# first (one load per adapter; the merged copy is removed after its runs).
infer() {
  local model=$1 tp=$2 runs=$3 run name adapter data a base_runs="" adapters="" sub merged; shift 3
  if [ "$MERGE_ADAPTERS" != 1 ]; then infer_load "$model" "$tp" "$runs" "$@"; return; fi
  for run in $runs; do
    IFS=: read -r name adapter data <<<"$run"
    if [ "$adapter" = - ]; then base_runs+=" $run"; else adapters+=" $adapter"; fi
  done
  [ -z "$base_runs" ] || infer_load "$model" "$tp" "$base_runs" "$@"
  for adapter in $(printf '%s\n' $adapters | awk 'NF && !seen[$0]++'); do
    sub=""
    for run in $runs; do
      IFS=: read -r name a data <<<"$run"
      if [ "$a" = "$adapter" ]; then sub+=" $name:-:$data"; fi
    done
    merged=$MODELS/merged/$(basename "$adapter")
    rm -rf "$merged"
    bash scripts/train.sh export - "$model" "$merged" "$adapter" >&2
    infer_load "$merged" "$tp" "$sub" "$@"
    rm -rf "$merged"
  done
}
infer_load() {  # one model load for every run (scripts/stage_runner.sh: infer_jobs), graded by the benchmark's rule
  local model=$1 tp=$2 runs=$3 jobs="" name adapter data; shift 3
  for run in $runs; do
    IFS=: read -r name adapter data <<<"$run"
    jobs+=" $OUT/$name/output.jsonl $data $adapter"
  done
  infer_jobs "$DATASET" "$model" "$tp" "$jobs" --max_tokens "$MAX_TOKENS" "$@"
}
seed_arg() { [ -n "$SEED" ] && echo "seed=$SEED"; true; }
train() {  # train STAGE DATASET BASE OUT [ADAPTER] [args]
  local template=$WEAK_TEMPLATE args=$TRAIN_ARGS
  if [ "$3" = "$STRONG_BASE" ]; then template=$STRONG_TEMPLATE; args=$STRONG_TRAIN_ARGS; fi
  # shellcheck disable=SC2086
  bash scripts/train.sh "$@" $args "template=$template" $(seed_arg)
}
register() { "$PY" -m src.registry register "$LF" "$@"; }
weak_model() { if [ -n "${WEAK_MODEL:-}" ]; then echo "$WEAK_MODEL -"; else echo "$WEAK_BASE $MODELS/weak_sft"; fi; }

# ---------------------------------------------------------------- stages
s_data() {
  if [ "$DEMO" = 1 ]; then
    # shellcheck disable=SC2086
    "$PY" -m src.prepare_data --demo --demo_sizes $DEMO_SIZES --demo_levels $DEMO_LEVELS --out "$DATA"
  else
    local source=${DATA_SOURCE:-${OLYMPIC_SOURCE:+--from $OLYMPIC_SOURCE}}
    [ "$DATASET" = olympicarena ] && source=${source:---hub}
    # shellcheck disable=SC2086
    "$PY" -m src.prepare_data ${source:---from data} --datasets "$DATASET" --out "$DATA" \
      ${DATA_SUBSET:+--subset $DATA_SUBSET --subset_seed $DATA_SEED}
  fi
}
s_weak_sft() { [ -n "${WEAK_MODEL:-}" ] && { echo "WEAK_MODEL given: no weak SFT"; return; }; train weak_sft "${DATASET}_1" "$WEAK_BASE" "$MODELS/weak_sft"; }
s_weak_inference() {  # the weak floor on test and the weak labels of train_2, one load
  read -r m a <<<"$(weak_model)"
  infer "$m" "$WEAK_TP" "weak_test:$a:$TEST weak_train2:$a:$TRAIN2"
  "$PY" -m src.construct_training_data full-weak --weak "$OUT/weak_train2/results.jsonl" --output "$LF/$DATASET/train_full_weak.json"
  register full_weak "$LF/$DATASET/train_full_weak.json"
}
demo_args() { if [ -n "$DEMO_IDS" ]; then echo "--template icl --demo_ids $DEMO_IDS"; else echo "--template icl --demo_seed $DEMO_SEED --demo_filter $DEMO_FILTER"; fi; }
s_strong_icl() {  # strong few-shot on train_2 (stage I) and on test (a baseline), one load
  local runs="strong_icl_train2:-:$TRAIN2"; [ "$BASELINES" = 1 ] && runs+=" strong_icl_test:-:$TEST"
  # shellcheck disable=SC2046
  infer "$STRONG_BASE" "$STRONG_TP" "$runs" --prompt_type few-shot --demos_from "$OUT/weak_train2/results.jsonl" $(demo_args)
}
consistency() {  # consistency ITER WEAK_RESULTS ICL_RESULTS
  # shellcheck disable=SC2046
  "$PY" -m src.construct_training_data weak-icl --benchmark "$DATASET" --weak "$2" --icl "$3" \
    --output "$LF/$DATASET/train_iter$1_hybrid.json" $([ -n "$PAD_TO" ] && echo "--pad_to $PAD_TO") | tee "$RUN/logs/stage1_iter$1.stats"
  for part in hybrid weak icl; do register "iter$1_$part" "$LF/$DATASET/train_iter$1_$part.json"; done
}
s_stage1_iter1() {
  consistency 1 "$OUT/weak_train2/results.jsonl" "$OUT/strong_icl_train2/results.jsonl"
  for part in hybrid weak icl; do
    [ "$part" != hybrid ] && [ "$ITER2" != 1 ] && continue
    train stage1_sft "iter1_$part" "$STRONG_BASE" "$MODELS/iter1_$part"
  done
}
s_stage1_iter2() {  # the iter1 weak- and icl-trained models relabel train_2 (one load), then SFT again
  infer "$STRONG_BASE" "$STRONG_TP" "iter1_weak_train2:$MODELS/iter1_weak:$TRAIN2 iter1_icl_train2:$MODELS/iter1_icl:$TRAIN2"
  consistency 2 "$OUT/iter1_weak_train2/results.jsonl" "$OUT/iter1_icl_train2/results.jsonl"
  train stage1_sft iter2_hybrid "$STRONG_BASE" "$MODELS/iter2_hybrid"
}
mplus() { if [ "$ITER2" = 1 ]; then echo "$MODELS/iter2_hybrid"; else echo "$MODELS/iter1_hybrid"; fi; }
s_baselines() {
  if [ "$CEILING" = 1 ]; then train ceiling_sft "${DATASET}_2" "$STRONG_BASE" "$MODELS/ceiling"; fi
  train full_weak_sft full_weak "$STRONG_BASE" "$MODELS/full_weak"
}
sample_range() { echo "--seed_start $SEED_START --seed_end $SEED_END"; }
s_sampling() {  # N samples per train_2 question, one per seed of SAMPLE_SEEDS (src/layout.py)
  # shellcheck disable=SC2086
  infer "$STRONG_BASE" "$STRONG_TP" "mplus_samples:$(mplus):$TRAIN2" --temperature 1.0 --top_p 1.0 --num_samples "$N_SAMPLES" \
    --seeds $SAMPLE_SEEDS
  # shellcheck disable=SC2046
  "$PY" -m src.passk "$OUT/mplus_samples" $(sample_range) | tee "$RUN/logs/passk.stats"
}
s_pairs() {
  # shellcheck disable=SC2046
  "$PY" -m src.construct_training_data majority --benchmark "$DATASET" --data_dir "$OUT/mplus_samples" $(sample_range)
  "$PY" -m src.construct_training_data pairs --benchmark "$DATASET" --weak "$OUT/weak_train2/results.jsonl" \
    --weak_lf "$LF/$DATASET/train_full_weak.json" --majority "$OUT/mplus_samples/majority_voting_results.jsonl" \
    --output "$LF/$DATASET/train_pairs.json" --format current | tee "$RUN/logs/pairs.stats"
  register pairs "$LF/$DATASET/train_pairs.json" pairs
}
s_preference() {  # DPO / ORPO from M_plus -> one adapter of the base model per loss ({loss}_final)
  if [ "$STAGE2_START" = merged ]; then
    # M_plus merged once (one process); a fresh LoRA trains on it with M_plus as the frozen reference.
    # No adapter handling of LLaMA-Factory is involved, so ZeRO-3 cannot change what is trained.
    bash scripts/train.sh export - "$STRONG_BASE" "$MODELS/mplus_merged" "$(mplus)"
  fi
  for loss in $PREF; do
    if [ "$STAGE2_START" = merged ]; then
      # shellcheck disable=SC2086
      bash scripts/train.sh "$loss" pairs "$MODELS/mplus_merged" "$MODELS/$loss" - $PREF_ARGS "template=$STRONG_TEMPLATE" $(seed_arg)
      "$PY" -m src.combine_adapters "$(mplus)" "$MODELS/$loss" "$MODELS/${loss}_final"
    else
      # shellcheck disable=SC2086
      bash scripts/train.sh "$loss" pairs "$STRONG_BASE" "$MODELS/$loss" "$(mplus)" create_new_adapter=false $PREF_ARGS "template=$STRONG_TEMPLATE" $(seed_arg)
      rm -rf "$MODELS/${loss}_final" && cp -r "$MODELS/$loss" "$MODELS/${loss}_final"
    fi
    if [ "$EXPORT" = 1 ]; then bash scripts/train.sh export - "$STRONG_BASE" "$MODELS/${loss}_merged" "$MODELS/${loss}_final"; fi
  done
  rm -rf "$MODELS/mplus_merged"  # only needed for training
}
s_evaluate() {  # every trained strong model on test, one load
  local runs="eval_iter1_hybrid:$MODELS/iter1_hybrid:$TEST"
  [ "$ITER2" = 1 ] && runs+=" eval_iter2_hybrid:$MODELS/iter2_hybrid:$TEST"
  [ "$BASELINES" = 1 ] && [ "$CEILING" = 1 ] && runs+=" eval_ceiling:$MODELS/ceiling:$TEST"
  [ "$BASELINES" = 1 ] && runs+=" eval_full_weak:$MODELS/full_weak:$TEST"
  for loss in $PREF; do runs+=" eval_$loss:$MODELS/${loss}_final:$TEST"; done
  infer "$STRONG_BASE" "$STRONG_TP" "$runs"
}
s_report() { "$PY" -m src.report "$RUN"; }

run_pipeline() {
  start_run "recipe ${RECIPE:-none}, benchmark $DATASET"
  stage data s_data
  stage weak_sft s_weak_sft
  stage weak_inference s_weak_inference
  stage strong_icl s_strong_icl
  stage stage1_iter1 s_stage1_iter1
  [ "$ITER2" = 1 ] && stage stage1_iter2 s_stage1_iter2
  [ "$BASELINES" = 1 ] && stage baselines s_baselines
  stage sampling s_sampling
  stage pairs s_pairs
  stage preference s_preference
  stage evaluate s_evaluate
  stage report s_report
  status finished "report: $RUN/report.md"
}
