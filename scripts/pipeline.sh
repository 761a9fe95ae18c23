#!/usr/bin/env bash
# The method's stages, shared by run_gsm8k.sh, run_math.sh and run_olympic.sh (which set the
# variables and source this file). Orchestration only: every stage calls a standalone module.
# A stage is skipped when its marker $RUN/.done/<stage> exists (written last, after its outputs);
# FORCE=1 redoes every stage, REDO="stage1 stage2" redoes some, STAGES="..." runs only those.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${W2S_VENV:-$ROOT/.venv}/bin/python
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} TOKENIZERS_PARALLELISM=false VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-2}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}  # CPU training uses every core

has_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU; }

# ---------------------------------------------------------------- settings
if [ -z "${WEAK_BASE:-}${WEAK_MODEL:-}" ] && { [ "${DEMO:-}" = 1 ] || ! has_gpu; }; then DEMO=1; else DEMO=${DEMO:-0}; fi
if [ "$DEMO" = 1 ]; then
  [ -x "$PY" ] || bash scripts/setup.sh all
  bash scripts/setup.sh models >/dev/null
  WEAK_BASE=${WEAK_BASE:-$ROOT/.cache/models/smollm2-135m}
  STRONG_BASE=${STRONG_BASE:-$ROOT/.cache/models/gemma3-270m}
  RUN=${RUN:-$ROOT/runs/${DATASET}_demo}
  MAX_TOKENS=${MAX_TOKENS:-96}
  N_SAMPLES=${N_SAMPLES:-10}
  DEMO_SIZES=${DEMO_SIZES:-"40 32 24"}       # train_1 train_2 test
  # one-step problems: gemma-3-270m few-shot solves 79 % of them but 4 % of a mix of one- and two-step
  # problems (measured with gold demonstrations), which would leave stage I nothing to keep
  DEMO_LEVELS=${DEMO_LEVELS:-"1"}
  # the weak model learns the answer format in 3 epochs; the strong model's 262k-token vocabulary
  # makes its training steps several times slower, so two epochs
  TRAIN_ARGS=${TRAIN_ARGS:-"num_train_epochs=3 per_device_train_batch_size=8 gradient_accumulation_steps=1 cutoff_len=256 logging_steps=1 learning_rate=1.0e-3 warmup_ratio=0"}
  STRONG_TRAIN_ARGS=${STRONG_TRAIN_ARGS:-"num_train_epochs=2 per_device_train_batch_size=8 gradient_accumulation_steps=1 cutoff_len=256 logging_steps=1 learning_rate=1.0e-3 warmup_ratio=0"}
  PREF_ARGS=${PREF_ARGS:-"num_train_epochs=1 per_device_train_batch_size=4 gradient_accumulation_steps=1 cutoff_len=256 logging_steps=1 learning_rate=5.0e-4 warmup_ratio=0"}
  INFER_ARGS=${INFER_ARGS:-"--max_model_len 2048 --chunk_size 256"}
  DEMO_FILTER=${DEMO_FILTER:-has_answer}  # the tiny strong model copies the demonstrations' answer format
  STRONG_TEMPLATE=${STRONG_TEMPLATE:-vanilla_bos}  # Gemma needs its BOS in training as at inference
fi
: "${STRONG_BASE:?set STRONG_BASE (the strong model folder)}"
RUN=${RUN:-$ROOT/runs/${DATASET}_$(basename "${WEAK_MODEL:-$WEAK_BASE}")_$(basename "$STRONG_BASE")}
MAX_TOKENS=${MAX_TOKENS:-1024}
N_SAMPLES=${N_SAMPLES:-10}
ITER2=${ITER2:-1}
BASELINES=${BASELINES:-1}
CEILING=${CEILING:-1}                    # the strong ceiling baseline needs gold solutions (not OlympicArena)
JUDGE=${JUDGE:-}                         # olympic: OlympicArena's rule-based judge (grading, agreement)
PROMPT_STYLE=${PROMPT_STYLE:-qa}         # qa: "Question: q\nAnswer:"; olympic: the row's prompt + "\n\nAnswer:"
STOP_EOS=${STOP_EOS:-0}
PREF=${PREF:-"dpo orpo"}
EXPORT=${EXPORT:-0}                      # 1: also write merged full models of the DPO/ORPO results
DEMO_SEED=${DEMO_SEED:-0}
DEMO_FILTER=${DEMO_FILTER:-any}          # random demonstrations (any / has_answer / correct)
DEMO_IDS=${DEMO_IDS:-}
WEAK_TEMPLATE=${WEAK_TEMPLATE:-vanilla}  # training template: vanilla (the original's) or vanilla_bos
STRONG_TEMPLATE=${STRONG_TEMPLATE:-vanilla}
TRAIN_ARGS=${TRAIN_ARGS:-}               # key=value overrides of scripts/configs/sft_lora.yaml
STRONG_TRAIN_ARGS=${STRONG_TRAIN_ARGS:-$TRAIN_ARGS}  # the same, for SFT of the strong model
PREF_ARGS=${PREF_ARGS:-}
INFER_ARGS=${INFER_ARGS:-}
DATA=$RUN/data
LF=$DATA/llama_factory
OUT=$RUN/outputs
MODELS=$RUN/models
TRAIN2=$DATA/test/${DATASET}_train_2.jsonl
TEST=$DATA/test/$DATASET.jsonl
export DATASET_DIR=$LF
mkdir -p "$RUN/.done" "$RUN/logs"

status() { printf '[%s] %-22s %s\n' "$(date +%H:%M:%S)" "$1" "$2" | tee -a "$RUN/logs/status.log"; }

stage() {  # stage NAME FUNCTION: run unless done
  local name=$1 fn=$2
  if [ -n "${STAGES:-}" ] && [[ " $STAGES " != *" $name "* ]]; then return; fi
  if [ -f "$RUN/.done/$name" ] && [ "${FORCE:-0}" != 1 ] && [[ " ${REDO:-} " != *" $name "* ]]; then
    status "$name" "done before (skipped)"; return
  fi
  rm -f "$RUN/.done/$name"
  status "$name" "running (log: $RUN/logs/$name.log)"
  local t0=$SECONDS rc=0
  # a subshell with errexit on: any failing command fails the stage (errexit is ignored in an `if`)
  set +e
  (set -e; "$fn") > >(tee -a "$RUN/logs/$name.log" | grep --line-buffered -E '^\[(grade|stage I|pairs|majority|full-weak|data|inference)\]|^error') 2>>"$RUN/logs/$name.log"
  rc=$?
  set -e
  if [ "$rc" != 0 ]; then
    status "$name" "FAILED after $((SECONDS - t0))s; see $RUN/logs/$name.log"; tail -5 "$RUN/logs/$name.log" >&2; exit 1
  fi
  touch "$RUN/.done/$name"
  status "$name" "done in $((SECONDS - t0))s"
}

# infer MODEL "NAME:ADAPTER(-):DATA_FILE ..." [extra args]: every run in one model load
#   -> $OUT/NAME/output.jsonl, results.jsonl, metrics.json for each run
infer() {
  local model=$1 runs=$2 jobs=() name adapter data; shift 2
  for run in $runs; do
    IFS=: read -r name adapter data <<<"$run"
    jobs+=(--job "$OUT/$name/output.jsonl" "$data" "$adapter")
  done
  # shellcheck disable=SC2086
  "$PY" -m src.inference --model_dir "$model" "${jobs[@]}" --answer_key "$ANSWER_KEY" --prompt_style "$PROMPT_STYLE" \
    --max_tokens "$MAX_TOKENS" --stop "${STOP[@]}" $(judge_args) $([ "$STOP_EOS" = 1 ] && echo --stop_eos) --quiet $INFER_ARGS "$@"
}
train() {  # train STAGE DATASET BASE OUT [ADAPTER] [args]
  local template=$WEAK_TEMPLATE args=$TRAIN_ARGS
  if [ "$3" = "$STRONG_BASE" ]; then template=$STRONG_TEMPLATE; args=$STRONG_TRAIN_ARGS; fi
  # shellcheck disable=SC2086
  bash scripts/train.sh "$@" $args "template=$template"
}
judge_args() { [ -n "$JUDGE" ] && echo "--judge $JUDGE"; true; }
register() { "$PY" -c "from src import registry; registry.register('$LF', '$1', '$2', '${3:-sft}')"; }
weak_model() { if [ -n "${WEAK_MODEL:-}" ]; then echo "$WEAK_MODEL -"; else echo "$WEAK_BASE $MODELS/weak_sft"; fi; }

# ---------------------------------------------------------------- stages
s_data() {
  if [ "$DATASET" = olympicarena ]; then
    # shellcheck disable=SC2086
    "$PY" -m src.olympic_data $DATA_SOURCE --out "$DATA"
  elif [ "$DEMO" = 1 ]; then
    "$PY" -c "
from pathlib import Path
from src.demo_data import make_demo_splits
from src.prepare_data import write_dataset
a, b, c = map(int, '$DEMO_SIZES'.split())
write_dataset('$DATASET', make_demo_splits(a, b, c, seed=42, levels=[int(x) for x in '${DEMO_LEVELS:-1 2 3}'.split()]), Path('$DATA'), source_tag='DEMO')"
  else
    "$PY" -m src.prepare_data ${DATA_SOURCE:---from data} --datasets "$DATASET" --out "$DATA"
  fi
}
s_weak_sft() { [ -n "${WEAK_MODEL:-}" ] && { echo "WEAK_MODEL given: no weak SFT"; return; }; train weak_sft "${DATASET}_1" "$WEAK_BASE" "$MODELS/weak_sft"; }
s_weak_inference() {  # the weak floor on test and the weak labels of train_2, one load
  read -r m a <<<"$(weak_model)"
  infer "$m" "weak_test:$a:$TEST weak_train2:$a:$TRAIN2"
  "$PY" -m src.construct_training_data full-weak --weak "$OUT/weak_train2/results.jsonl" --output "$LF/$DATASET/train_full_weak.json"
  register full_weak "$LF/$DATASET/train_full_weak.json"
}
demo_args() { if [ -n "$DEMO_IDS" ]; then echo "--template icl --demo_ids $DEMO_IDS"; else echo "--template icl --demo_seed $DEMO_SEED --demo_filter $DEMO_FILTER"; fi; }
s_strong_icl() {  # strong few-shot on train_2 (stage I) and on test (a baseline), one load
  local runs="strong_icl_train2:-:$TRAIN2"; [ "$BASELINES" = 1 ] && runs+=" strong_icl_test:-:$TEST"
  # shellcheck disable=SC2046
  infer "$STRONG_BASE" "$runs" --prompt_type few-shot --demos_from "$OUT/weak_train2/results.jsonl" $(demo_args)
}
consistency() {  # consistency ITER WEAK_RESULTS ICL_RESULTS
  # shellcheck disable=SC2046
  "$PY" -m src.construct_training_data weak-icl --weak "$2" --icl "$3" --output "$LF/$DATASET/train_iter$1_hybrid.json" $(judge_args) | tee "$RUN/logs/stage1_iter$1.stats"
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
  infer "$STRONG_BASE" "iter1_weak_train2:$MODELS/iter1_weak:$TRAIN2 iter1_icl_train2:$MODELS/iter1_icl:$TRAIN2"
  consistency 2 "$OUT/iter1_weak_train2/results.jsonl" "$OUT/iter1_icl_train2/results.jsonl"
  train stage1_sft iter2_hybrid "$STRONG_BASE" "$MODELS/iter2_hybrid"
}
mplus() { if [ "$ITER2" = 1 ]; then echo "$MODELS/iter2_hybrid"; else echo "$MODELS/iter1_hybrid"; fi; }
s_baselines() {
  if [ "$CEILING" = 1 ]; then train ceiling_sft "${DATASET}_2" "$STRONG_BASE" "$MODELS/ceiling"; fi
  train full_weak_sft full_weak "$STRONG_BASE" "$MODELS/full_weak"
}
s_sampling() {
  infer "$STRONG_BASE" "mplus_samples:$(mplus):$TRAIN2" --temperature 1.0 --top_p 1.0 --num_samples "$N_SAMPLES"
  "$PY" -m src.passk "$OUT/mplus_samples" --seed_end "$N_SAMPLES" | tee "$RUN/logs/passk.stats"
}
s_pairs() {
  # shellcheck disable=SC2046
  "$PY" -m src.construct_training_data majority --data_dir "$OUT/mplus_samples" --seed_end "$N_SAMPLES" $(judge_args)
  # shellcheck disable=SC2046
  "$PY" -m src.construct_training_data "$PAIRS_RULE" $(judge_args) --weak "$OUT/weak_train2/results.jsonl" \
    --weak_lf "$LF/$DATASET/train_full_weak.json" --majority "$OUT/mplus_samples/majority_voting_results.jsonl" \
    --output "$LF/$DATASET/train_pairs.json" --format current | tee "$RUN/logs/pairs.stats"
  register pairs "$LF/$DATASET/train_pairs.json" pairs
}
s_preference() {  # DPO / ORPO on top of M_plus; the two adapters combined into one adapter of the base model
  for loss in $PREF; do
    # shellcheck disable=SC2086
    bash scripts/train.sh "$loss" pairs "$STRONG_BASE" "$MODELS/$loss" "$(mplus)" $PREF_ARGS "template=$STRONG_TEMPLATE"
    "$PY" -m src.combine_adapters "$(mplus)" "$MODELS/$loss" "$MODELS/${loss}_final"
    if [ "$EXPORT" = 1 ]; then bash scripts/train.sh export - "$STRONG_BASE" "$MODELS/${loss}_merged" "$(mplus),$MODELS/$loss"; fi
  done
}
s_evaluate() {  # every trained strong model on test, one load
  local runs="eval_iter1_hybrid:$MODELS/iter1_hybrid:$TEST"
  [ "$ITER2" = 1 ] && runs+=" eval_iter2_hybrid:$MODELS/iter2_hybrid:$TEST"
  [ "$BASELINES" = 1 ] && [ "$CEILING" = 1 ] && runs+=" eval_ceiling:$MODELS/ceiling:$TEST"
  [ "$BASELINES" = 1 ] && runs+=" eval_full_weak:$MODELS/full_weak:$TEST"
  for loss in $PREF; do runs+=" eval_$loss:$MODELS/${loss}_final:$TEST"; done
  infer "$STRONG_BASE" "$runs"
}
s_report() { "$PY" -m src.report "$RUN"; }

run_pipeline() {
  printf '%s\n' "DATASET=$DATASET" "DEMO=$DEMO" "WEAK_BASE=${WEAK_BASE:-}" "WEAK_MODEL=${WEAK_MODEL:-}" "STRONG_BASE=$STRONG_BASE" \
    "MAX_TOKENS=$MAX_TOKENS" "N_SAMPLES=$N_SAMPLES" "ITER2=$ITER2" "BASELINES=$BASELINES" "CEILING=$CEILING" "JUDGE=$JUDGE" "PREF=$PREF" "EXPORT=$EXPORT" \
    "WEAK_TEMPLATE=$WEAK_TEMPLATE" "STRONG_TEMPLATE=$STRONG_TEMPLATE" "TRAIN_ARGS=$TRAIN_ARGS" "STRONG_TRAIN_ARGS=$STRONG_TRAIN_ARGS" "PREF_ARGS=$PREF_ARGS" "INFER_ARGS=$INFER_ARGS" > "$RUN/config.env"
  status start "run dir $RUN (demo=$DEMO)"
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
