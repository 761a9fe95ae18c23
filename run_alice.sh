#!/usr/bin/env bash
# Alice (Wu et al. 2025): the teacher's uncertainty guides the student's own revision, which trains
# it; cascade Alice and the W2SG baselines on the same data. Orchestration only: every step is a
# module of src/alice/ (docs/alice.md), inference is src.inference, training scripts/train.sh.
#
#   bash run_alice.sh                     # no models given and no GPU: the offline demo (RECIPE=alice_demo)
#   DATASET=arc SOURCE=/data/arc_challenge_processed TEACHER_BASE=/models/Qwen2.5-1.5B-Instruct \
#     STUDENT_BASE=/models/Qwen2.5-3B-Instruct SUMMARISER=/models/Llama-3-70B-Instruct GPUS=0,1,2,3 bash run_alice.sh
#   ... MID_BASE=/models/Qwen2.5-3B-Instruct STUDENT_BASE=/models/Qwen2.5-7B-Instruct CASCADE=1 ...
#
# Settings (environment variables; a misspelled one stops the run):
#   DATASET        gsm8k | arc | hotpotqa | triviaqa
#   SOURCE         a datasets.save_to_disk folder, or "hub" (ARC needs the processed folder)
#   TEACHER_BASE   the weak teacher (untuned instruct model); STUDENT_BASE the strong student
#   MID_BASE       cascade Alice's middle model (CASCADE=1)
#   SUMMARISER     the model that writes the uncertainty statements (the paper: a 70B instruct model)
#   EMBEDDER       sentence-embedding model, a folder or a hub name (HotpotQA, TriviaQA clustering; default:
#                  all-MiniLM-L6-v2; the original's: hkunlp/instructor-large); EMBED_INSTRUCTION=1 the original's
#                  instruction before every answer (default: 1 for an INSTRUCTOR model)
#   CLUSTER_THRESHOLD  the QA clustering's cosine threshold (0.9, the original's for instructor-large; calibrate
#                  another embedder with python -m src.alice.calibrate, docs/alice.md)
#   N_SAMPLES      teacher samples per question (100); MAX_TOKENS (4096)
#   BASELINES      any of: w2sg_cot w2sg_qa base zero_shot (default: all)
#   FINETUNE       full | lora (default full: the paper); TRAIN_ARGS key=value overrides of
#                  scripts/configs/alice_sft.yaml for every training, TEACHER_TRAIN_ARGS for the teacher's
#   KEEP_INVALID   1: every raw uncertainty statement reaches the student (the original); default 0
#   LIMIT_TRANSFER, LIMIT_EVAL   only the first N transfer / evaluation questions
#   GPUS, TEACHER_TP, STUDENT_TP, MID_TP, SUMMARISER_TP, GPU_MEMORY_UTILIZATION, SEED, INFER_ARGS
#   NPROC, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT   multi-node training (docs/gpu.md)
#   FORCE=1, REDO="stage ...", STAGES="stage ..."   (the stage runner: scripts/stage_runner.sh)
# shellcheck source=scripts/stage_runner.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/stage_runner.sh"
preamble

# ---------------------------------------------------------------- settings (src/alice/plan.py)
if [ -z "${RECIPE:-}" ] && { [ "${DEMO:-}" = 1 ] || { [ -z "${TEACHER_BASE:-}" ] && ! has_gpu; }; }; then RECIPE=alice_demo; fi
load_recipe alice_demo.env
[ -x "$PY" ] || die "no main environment at $PY; run: bash scripts/setup.sh"
load_plan src.alice.plan  # every setting, checked; KNOWN, HF_HUB_OFFLINE, BENCH, SAMPLE_SEEDS, EVAL_GROUPS
orig_prompts=(); [ -n "$ORIGINAL_PROMPTS" ] && orig_prompts=(--original_prompts "$ORIGINAL_PROMPTS")
if [ -n "$EMBEDDER" ] && [ ! -d "$EMBEDDER" ] && [ "$EMBEDDER" = "$ROOT/.cache/models/all-minilm-l6-v2" ] && [ "${PLAN:-0}" != 1 ]; then
  "$PY" -m src.models fetch all-minilm-l6-v2
fi
setup_processes
has_baseline() { [[ " $BASELINES " == *" $1 "* ]]; }

STAGE_LIST="data teacher_data teacher_sft sampling alice_data student_sft cascade baselines evaluate report"
STAGE_SHOW='^\[(data|cot|cluster|uncertainty|proactive|train\] effective|inference|alice)'
check_stage_names
D=$RUN/data LF=$RUN/data/llama_factory S=$RUN/steps M=$RUN/models O=$RUN/outputs
export DATASET_DIR=$LF GPUS
stage_outputs() { "$PY" -m src.alice.plan outputs "$1"; }  # what a redone stage removes first

# ---------------------------------------------------------------- helpers
# infer MODEL TP "OUT:DATA ..." [option ...]: every run in one model load (chat prompts, no grading)
infer() {
  local model=$1 tp=$2 r out data jobs=""; shift 2
  for r in $1; do IFS=: read -r out data <<<"$r"; jobs+=" $out/output.jsonl $data -"; done; shift
  infer_jobs "$BENCH" "$model" "$tp" "$jobs" --max_tokens "$MAX_TOKENS" --no_eval --seed "$SEED" "$@"
}
# train NAME DATASET BASE KIND(full|lora) [key=value ...]; trained NAME KIND: the folder inference loads
train() {
  local name=$1 data=$2 base=$3 stage=alice_sft; shift 3
  [ "$1" = lora ] && stage=alice_sft_lora
  shift
  train_step "$stage" "$data" "$base" "$M/$name" "$@" "seed=$SEED"
}
trained() { if [ "$2" = lora ]; then echo "$M/${1}_merged"; else echo "$M/$1"; fi; }
sft() { "$PY" -m src.alice.prepare sft --lf "$LF" "$@"; }

# alice_steps DIR TEACHER_SAMPLES QUESTIONS STUDENT STUDENT_TP: clusters, uncertainty, the student's zero-shot
# answers and revisions -> DIR/student_train.jsonl (every file joined by question id)
alice_steps() {
  local dir=$1 samples=$2 questions=$3 student=$4 tp=$5 subset=() embed=() keep=()
  [ "$questions" != "$D/transfer.jsonl" ] && subset=(--subset)
  [ -n "$EMBEDDER" ] && embed=(--embedder "$EMBEDDER")
  [ "$EMBED_INSTRUCTION" = 1 ] && embed+=(--instruct)
  [ "$KEEP_INVALID" = 1 ] && keep=(--keep_invalid)
  mkdir -p "$dir"
  # shellcheck disable=SC2046
  "$PY" -m src.alice.cluster --dataset "$DATASET" --questions "$questions" --samples "$samples" --out "$dir/clusters.jsonl" "${subset[@]}" "${embed[@]}" \
    --seeds $SAMPLE_SEEDS --rule "$ANSWER_RULE" --threshold "$CLUSTER_THRESHOLD"
  "$PY" -m src.alice.uncertainty requests --dataset "$DATASET" --clusters "$dir/clusters.jsonl" --out "$dir" "${orig_prompts[@]}"
  if [ -s "$dir/summary_requests.jsonl" ]; then
    infer "$SUMMARISER" "$SUMMARISER_TP" "$dir/summaries:$dir/summary_requests.jsonl" --temperature 0.9 --top_p 0.95
  else empty_file "$dir/summaries/output.jsonl"; fi
  "$PY" -m src.alice.uncertainty collect --clusters "$dir/clusters.jsonl" --summaries "$dir/summaries/output.jsonl" --out "$dir" "${keep[@]}"
  "$PY" -m src.alice.proactive zero-shot --uncertainty "$dir/uncertainty.jsonl" --out "$dir"
  if [ -s "$dir/zero_shot_requests.jsonl" ]; then
    infer "$student" "$tp" "$dir/zero_shot:$dir/zero_shot_requests.jsonl" --temperature 0.9 --top_p 0.95
    "$PY" -m src.alice.proactive revise --dataset "$DATASET" --uncertainty "$dir/uncertainty.jsonl" --zero_shot "$dir/zero_shot/output.jsonl" --out "$dir" "${orig_prompts[@]}"
    infer "$student" "$tp" "$dir/revisions:$dir/revision_requests.jsonl" --temperature 0.9 --top_p 0.95 --seed $(( SEED + 1 ))
  else empty_file "$dir/zero_shot/output.jsonl" && empty_file "$dir/revisions/output.jsonl"; fi
  "$PY" -m src.alice.proactive collect --dataset "$DATASET" --uncertainty "$dir/uncertainty.jsonl" --zero_shot "$dir/zero_shot/output.jsonl" \
    --revisions "$dir/revisions/output.jsonl" --originals "$dir/originals.jsonl" "$dir/na_originals.jsonl" --out "$dir/student_train.jsonl" \
    --rule "$ANSWER_RULE"
}

# ---------------------------------------------------------------- stages
s_data() {
  local src=(--source "${SOURCE:-}") lim=()
  [ "${SOURCE:-}" = hub ] && src=(--hub)
  # shellcheck disable=SC2086
  [ "$DEMO" = 1 ] && src=(--demo $DEMO_SIZES --demo_seed 42)
  [ -n "${LIMIT_TRANSFER:-}" ] && lim+=(--limit_transfer "$LIMIT_TRANSFER")
  [ -n "${LIMIT_EVAL:-}" ] && lim+=(--limit_eval "$LIMIT_EVAL")
  "$PY" -m src.alice.prepare splits --dataset "$DATASET" "${src[@]}" "${lim[@]}" --out "$D"
  # the "base" baselines: weak and strong models trained on the transfer half's gold
  sft --rows "$D/transfer.jsonl" --name transfer_gold
}
s_teacher_data() {  # step 0: what the teacher trains on (GSM8K: the gold solutions)
  if [ "$DATASET" = gsm8k ]; then
    sft --rows "$D/teacher.jsonl" --name teacher_cot
    sft --rows "$D/teacher.jsonl" --name teacher_qa --answer_only
    return
  fi
  "$PY" -m src.alice.cot requests --dataset "$DATASET" --questions "$D/teacher.jsonl" --out "$S/cot" "${orig_prompts[@]}"
  infer "$TEACHER_BASE" "$TEACHER_TP" "$S/cot/answers:$S/cot/cot_requests.jsonl" --temperature 0.7 --top_p 0.95
  "$PY" -m src.alice.cot collect --dataset "$DATASET" --questions "$D/teacher.jsonl" --answers "$S/cot/answers/output.jsonl" --out "$S/cot"
  sft --rows "$S/cot/teacher_cot.jsonl" --name teacher_cot
  sft --rows "$S/cot/teacher_qa.jsonl" --name teacher_qa
}
s_teacher_sft() {
  # shellcheck disable=SC2086
  train teacher teacher_cot "$TEACHER_BASE" "$TEACHER_FINETUNE" $TEACHER_TRAIN_ARGS
  # shellcheck disable=SC2086
  if has_baseline w2sg_qa; then train teacher_qa teacher_qa "$TEACHER_BASE" "$TEACHER_FINETUNE" $TEACHER_TRAIN_ARGS; fi
}
s_sampling() {  # N samples per transfer question (T 0.9, top_p 0.95, seeds 1000*SEED ..), one load
  # shellcheck disable=SC2046
  infer "$(trained teacher "$TEACHER_FINETUNE")" "$TEACHER_TP" "$S/sampling/teacher:$D/transfer.jsonl" \
    --temperature 0.9 --top_p 0.95 --num_samples "$N_SAMPLES" --seeds $SAMPLE_SEEDS
}
s_alice_data() { alice_steps "$S/alice" "$S/sampling/teacher" "$D/transfer.jsonl" "$STUDENT_BASE" "$STUDENT_TP"; }
s_student_sft() {
  sft --rows "$S/alice/student_train.jsonl" --name alice
  # shellcheck disable=SC2086
  train alice alice "$STUDENT_BASE" "$FINETUNE" $TRAIN_ARGS
}
s_cascade() {  # teacher -> mid on the first half of the transfer questions (by id), mid -> strong on the second
  alice_steps "$S/cascade_mid" "$S/sampling/teacher" "$D/transfer_mid.jsonl" "$MID_BASE" "$MID_TP"
  sft --rows "$S/cascade_mid/student_train.jsonl" --name cascade_mid
  # shellcheck disable=SC2086
  train mid cascade_mid "$MID_BASE" "$FINETUNE" $TRAIN_ARGS
  # shellcheck disable=SC2046
  infer "$(trained mid "$FINETUNE")" "$MID_TP" "$S/cascade_mid/samples:$D/transfer_strong.jsonl" \
    --temperature 0.9 --top_p 0.95 --num_samples "$N_SAMPLES" --seeds $SAMPLE_SEEDS
  alice_steps "$S/cascade_strong" "$S/cascade_mid/samples" "$D/transfer_strong.jsonl" "$STUDENT_BASE" "$STUDENT_TP"
  sft --rows "$S/cascade_strong/student_train.jsonl" --name cascade
  # shellcheck disable=SC2086
  train cascade cascade "$STUDENT_BASE" "$FINETUNE" $TRAIN_ARGS
}
s_baselines() {
  local kind
  for kind in cot qa; do  # original W2SG: the teacher labels every transfer question once (T 0.6)
    has_baseline "w2sg_$kind" || continue
    local t=teacher; [ "$kind" = qa ] && t=teacher_qa
    infer "$(trained $t "$TEACHER_FINETUNE")" "$TEACHER_TP" "$S/baselines/labels_$kind:$D/transfer.jsonl" --temperature 0.6 --top_p 0.95
    sft --rows "$D/transfer.jsonl" --answers "$S/baselines/labels_$kind/output.jsonl" --name "w2sg_$kind"
    # shellcheck disable=SC2086
    train "w2sg_$kind" "w2sg_$kind" "$STUDENT_BASE" "$FINETUNE" $TRAIN_ARGS
  done
  if has_baseline base; then  # weak performance and strong ceiling: trained on the transfer half's gold
    # shellcheck disable=SC2086
    train weak_base transfer_gold "$TEACHER_BASE" "$TEACHER_FINETUNE" $TEACHER_TRAIN_ARGS
    # shellcheck disable=SC2086
    train strong_base transfer_gold "$STUDENT_BASE" "$FINETUNE" $TRAIN_ARGS
  fi
}
s_evaluate() {  # greedy, every model on the evaluation split; models that share a folder: one load (src/alice/plan.py)
  local model tp jobs
  while read -r model tp jobs; do
    [ "$tp" = - ] && tp=""
    infer_jobs "$BENCH" "$model" "$tp" "$jobs" --max_tokens "$MAX_TOKENS" --no_eval --temperature 0 </dev/null  # the report grades
  done <<<"$EVAL_GROUPS"
}
s_report() { "$PY" -m src.alice.report "$RUN"; }  # its dataset: RUN/config.json

start_run "recipe ${RECIPE:-none}, Alice on $DATASET"
stage data s_data
stage teacher_data s_teacher_data
stage teacher_sft s_teacher_sft
stage sampling s_sampling
stage alice_data s_alice_data
stage student_sft s_student_sft
[ "$CASCADE" = 1 ] && stage cascade s_cascade
stage baselines s_baselines
stage evaluate s_evaluate
stage report s_report
status finished "report: $RUN/report.md"
