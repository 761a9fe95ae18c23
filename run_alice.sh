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
#   EMBEDDER       sentence-embedding model folder (HotpotQA, TriviaQA clustering; default: all-MiniLM-L6-v2)
#   N_SAMPLES      teacher samples per question (100); MAX_TOKENS (4096)
#   BASELINES      any of: w2sg_cot w2sg_qa base zero_shot (default: all)
#   FINETUNE       full | lora (default full: the paper); TRAIN_ARGS key=value overrides of
#                  scripts/configs/alice_sft.yaml for every training, TEACHER_TRAIN_ARGS for the teacher's
#   KEEP_INVALID   1: every raw uncertainty statement reaches the student (the original); default 0
#   LIMIT_TRANSFER, LIMIT_EVAL   only the first N transfer / evaluation questions
#   GPUS, TEACHER_TP, STUDENT_TP, MID_TP, SUMMARISER_TP, GPU_MEMORY_UTILIZATION, SEED, INFER_ARGS
#   NPROC, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT   multi-node training (docs/gpu.md)
#   FORCE=1, REDO="stage ...", STAGES="stage ..."   (the stage runner: scripts/stage_runner.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"
PY=${W2S_VENV:-$ROOT/.venv}/bin/python
HF_OFFLINE_GIVEN=${HF_HUB_OFFLINE+1}  # the user's own HF_HUB_OFFLINE wins over hub_access (scripts/stage_runner.sh)
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} TOKENIZERS_PARALLELISM=false VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-2}
# shellcheck source=scripts/stage_runner.sh
source "$ROOT/scripts/stage_runner.sh"

KNOWN="DATASET SOURCE RECIPE DEMO DEMO_SIZES RUN TEACHER_BASE STUDENT_BASE MID_BASE SUMMARISER EMBEDDER N_SAMPLES
MAX_TOKENS BASELINES CASCADE FINETUNE TEACHER_FINETUNE TRAIN_ARGS TEACHER_TRAIN_ARGS INFER_ARGS KEEP_INVALID
LIMIT_TRANSFER LIMIT_EVAL GPUS TEACHER_TP STUDENT_TP MID_TP SUMMARISER_TP GPU_MEMORY_UTILIZATION NPROC NNODES NODE_RANK
MASTER_ADDR MASTER_PORT THREADS SEED FORCE REDO STAGES ORIGINAL_PROMPTS ANSWER_RULE"
check_settings '^(TEACHER_|STUDENT_|MID_|SUMMARI|EMBED|N_SAMPLE|MAX_TOKEN|BASELINE|CASCADE|FINETUNE|TRAIN_|INFER_|KEEP_|LIMIT_|DEMO_|GPU_MEM|ORIGINAL_|ANSWER_)'

# ---------------------------------------------------------------- settings
if [ -z "${RECIPE:-}" ] && { [ "${DEMO:-}" = 1 ] || { [ -z "${TEACHER_BASE:-}" ] && ! has_gpu; }; }; then RECIPE=alice_demo; fi
load_recipe alice_demo.env
[ -x "$PY" ] || die "no main environment at $PY; run: bash scripts/setup.sh"
: "${DATASET:?set DATASET (gsm8k, arc, hotpotqa, triviaqa)}"
[[ " gsm8k arc hotpotqa triviaqa " == *" $DATASET "* ]] || die "DATASET is gsm8k, arc, hotpotqa or triviaqa, not '$DATASET'"
: "${TEACHER_BASE:?set TEACHER_BASE (the weak teacher), or RECIPE=<name>}"
: "${STUDENT_BASE:?set STUDENT_BASE (the strong student)}"
SUMMARISER=${SUMMARISER:?set SUMMARISER (the model that writes uncertainty statements; it may be STUDENT_BASE)}
[ "$DEMO" = 1 ] || : "${SOURCE:?set SOURCE (a save_to_disk folder, or hub)}"
BENCH=alice_$DATASET
RUN=${RUN:-$ROOT/runs/alice_${DATASET}_$( [ "$DEMO" = 1 ] && echo demo || echo "$(basename "$TEACHER_BASE")_$(basename "$STUDENT_BASE")")}
N_SAMPLES=${N_SAMPLES:-100}
MAX_TOKENS=${MAX_TOKENS:-4096}
BASELINES=${BASELINES:-"w2sg_cot w2sg_qa base zero_shot"}
CASCADE=${CASCADE:-0}
FINETUNE=${FINETUNE:-full}
TEACHER_FINETUNE=${TEACHER_FINETUNE:-$FINETUNE}
TRAIN_ARGS=${TRAIN_ARGS:-}
TEACHER_TRAIN_ARGS=${TEACHER_TRAIN_ARGS:-$TRAIN_ARGS}
INFER_ARGS=${INFER_ARGS:-}
KEEP_INVALID=${KEEP_INVALID:-0}
ORIGINAL_PROMPTS=${ORIGINAL_PROMPTS:-}  # a checkout of the original: its prompt wording (src/alice/original_prompts.py)
ANSWER_RULE=${ANSWER_RULE:-original}     # clustering's marker answer: original (first marker; N/A) or last
[[ "$ANSWER_RULE" == original || "$ANSWER_RULE" == last ]] || die "ANSWER_RULE is original or last, not '$ANSWER_RULE'"
[ -z "$ORIGINAL_PROMPTS" ] || [ -f "$ORIGINAL_PROMPTS/cot/cot_generate_filter.py" ] \
  || die "ORIGINAL_PROMPTS=$ORIGINAL_PROMPTS: no cot/cot_generate_filter.py (the root of a checkout of the original Alice code)"
orig_prompts=(); [ -n "$ORIGINAL_PROMPTS" ] && orig_prompts=(--original_prompts "$ORIGINAL_PROMPTS")
EMBEDDER=${EMBEDDER:-}
SEED=${SEED:-0}
GPUS=${GPUS:-}
[ "$DEMO" = 1 ] || hub_access "${SOURCE:-}" "$TEACHER_BASE" "$STUDENT_BASE" "${MID_BASE:-}" "${SUMMARISER:-}" "${EMBEDDER:-}"
TEACHER_TP=${TEACHER_TP:-$(tp_size "$TEACHER_BASE")} STUDENT_TP=${STUDENT_TP:-$(tp_size "$STUDENT_BASE")}
MID_TP=${MID_TP:-$(tp_size "${MID_BASE:-}")} SUMMARISER_TP=${SUMMARISER_TP:-$(tp_size "${SUMMARISER:-}")}
GPU_MEMORY_UTILIZATION=${GPU_MEMORY_UTILIZATION:-}
NNODES=${NNODES:-1}
THREADS=${THREADS:-$(cpu_threads_default)}  # CPU threads of training and inference (recorded: results change with it; none on GPUs)
NODE_RANK=${NODE_RANK:-0}
for b in $BASELINES; do [[ " w2sg_cot w2sg_qa base zero_shot " == *" $b "* ]] || die "BASELINES holds w2sg_cot w2sg_qa base zero_shot, not '$b'"; done
for f in "$FINETUNE" "$TEACHER_FINETUNE"; do [[ "$f" == full || "$f" == lora ]] || die "FINETUNE is full or lora, not '$f'"; done
[[ "$CASCADE" =~ ^[01]$ && "$KEEP_INVALID" =~ ^[01]$ ]] || die "CASCADE and KEEP_INVALID are 0 or 1"
[ "$CASCADE" = 1 ] && : "${MID_BASE:?CASCADE=1 needs MID_BASE (the middle model)}"
if [[ "$DATASET" == hotpotqa || "$DATASET" == triviaqa ]] && [ -z "$EMBEDDER" ]; then
  EMBEDDER=$ROOT/.cache/models/all-minilm-l6-v2
  [ -d "$EMBEDDER" ] || [ "${PLAN:-0}" = 1 ] || "$PY" -m src.models fetch all-minilm-l6-v2
fi
setup_processes
has_baseline() { [[ " $BASELINES " == *" $1 "* ]]; }

STAGE_LIST="data teacher_data teacher_sft sampling alice_data student_sft cascade baselines evaluate report"
STAGE_SHOW='^\[(data|cot|cluster|uncertainty|proactive|train\] effective|inference|alice)'
check_stage_names
D=$RUN/data LF=$RUN/data/llama_factory S=$RUN/steps M=$RUN/models O=$RUN/outputs
export DATASET_DIR=$LF GPUS
stage_outputs() {  # what a redone stage removes first
  case $1 in
    data) echo "$D" ;;
    teacher_data) echo "$S/cot" ;;
    teacher_sft) echo "$M"/teacher; echo "$M"/teacher_*; ;;
    sampling) echo "$S/sampling" ;;
    alice_data) echo "$S/alice" ;;
    student_sft) echo "$M"/alice; echo "$M"/alice_merged ;;
    cascade) echo "$S/cascade_mid"; echo "$S/cascade_strong"; echo "$M"/mid*; echo "$M"/cascade* ;;
    baselines) echo "$S/baselines"; echo "$M"/w2sg_*; echo "$M"/weak_base*; echo "$M"/strong_base* ;;
    evaluate) echo "$O" ;;
    report) echo "$RUN/report.md"; echo "$RUN/report.json"; echo "$RUN/clusters.png" ;;
  esac
}

# ---------------------------------------------------------------- helpers
# infer "BASE ADAPTER" TP "OUT:DATA ..." [args]: every run in one model load (chat prompts, no grading)
infer() {
  local base adapter tp=$2 runs=$3 jobs=() out data gpu=()
  read -r base adapter <<<"$1"; shift 3
  for r in $runs; do IFS=: read -r out data <<<"$r"; jobs+=(--job "$out/output.jsonl" "$data" "${adapter:--}"); done
  [ -n "$tp" ] && [ -n "$GPUS" ] && gpu+=(--tensor_parallel_size "$tp")
  [ -n "$GPU_MEMORY_UTILIZATION" ] && gpu+=(--gpu_memory_utilization "$GPU_MEMORY_UTILIZATION")
  # shellcheck disable=SC2086
  "$PY" -m src.inference --benchmark "$BENCH" --model_dir "$base" "${jobs[@]}" --max_tokens "$MAX_TOKENS" \
    "${gpu[@]}" --quiet --no_eval --seed "$SEED" $INFER_ARGS "$@"
}
# train NAME DATASET BASE KIND(full|lora) [args]; trained "BASE ADAPTER" of NAME: trained NAME BASE KIND
train() {
  local name=$1 data=$2 base=$3 kind=$4 stage=alice_sft; shift 4
  [ "$kind" = lora ] && stage=alice_sft_lora
  # shellcheck disable=SC2086
  bash scripts/train.sh "$stage" "$data" "$base" "$M/$name" "$@" "seed=$SEED"
  # a LoRA adapter is merged for inference: vLLM-CPU generates several times slower with an adapter
  # (docs/alice.md: the demo's 288 teacher samples took 95 s merged and ... s with the adapter)
  if [ "$kind" = lora ]; then bash scripts/train.sh export - "$base" "$M/${name}_merged" "$M/$name"; fi
}
trained() { if [ "$3" = lora ]; then echo "$M/${1}_merged -"; else echo "$M/$1 -"; fi; }
sft() { "$PY" -m src.alice.prepare sft --lf "$LF" "$@"; }
sample_seeds() { seq $(( SEED * 1000 )) $(( SEED * 1000 + N_SAMPLES - 1 )); }

# alice_steps DIR TEACHER_SAMPLES QUESTIONS STUDENT STUDENT_TP: clusters, uncertainty, the student's zero-shot
# answers and revisions -> DIR/student_train.jsonl (every file joined by question id)
alice_steps() {
  local dir=$1 samples=$2 questions=$3 student=$4 tp=$5 subset=() embed=() keep=()
  [ "$questions" != "$D/transfer.jsonl" ] && subset=(--subset)
  [ -n "$EMBEDDER" ] && embed=(--embedder "$EMBEDDER")
  [ "$KEEP_INVALID" = 1 ] && keep=(--keep_invalid)
  mkdir -p "$dir"
  # shellcheck disable=SC2046
  "$PY" -m src.alice.cluster --dataset "$DATASET" --questions "$questions" --samples "$samples" --out "$dir/clusters.jsonl" "${subset[@]}" "${embed[@]}" \
    --seeds $(sample_seeds) --rule "$ANSWER_RULE"
  "$PY" -m src.alice.uncertainty requests --dataset "$DATASET" --clusters "$dir/clusters.jsonl" --out "$dir" "${orig_prompts[@]}"
  if [ -s "$dir/summary_requests.jsonl" ]; then
    infer "$SUMMARISER -" "$SUMMARISER_TP" "$dir/summaries:$dir/summary_requests.jsonl" --temperature 0.9 --top_p 0.95
  else empty_file "$dir/summaries/output.jsonl"; fi
  "$PY" -m src.alice.uncertainty collect --clusters "$dir/clusters.jsonl" --summaries "$dir/summaries/output.jsonl" --out "$dir" "${keep[@]}"
  "$PY" -m src.alice.proactive zero-shot --uncertainty "$dir/uncertainty.jsonl" --out "$dir"
  if [ -s "$dir/zero_shot_requests.jsonl" ]; then
    infer "$student -" "$tp" "$dir/zero_shot:$dir/zero_shot_requests.jsonl" --temperature 0.9 --top_p 0.95
    "$PY" -m src.alice.proactive revise --dataset "$DATASET" --uncertainty "$dir/uncertainty.jsonl" --zero_shot "$dir/zero_shot/output.jsonl" --out "$dir" "${orig_prompts[@]}"
    infer "$student -" "$tp" "$dir/revisions:$dir/revision_requests.jsonl" --temperature 0.9 --top_p 0.95 --seed $(( SEED + 1 ))
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
  infer "$TEACHER_BASE -" "$TEACHER_TP" "$S/cot/answers:$S/cot/cot_requests.jsonl" --temperature 0.7 --top_p 0.95
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
  infer "$(trained teacher "$TEACHER_BASE" "$TEACHER_FINETUNE")" "$TEACHER_TP" "$S/sampling/teacher:$D/transfer.jsonl" \
    --temperature 0.9 --top_p 0.95 --num_samples "$N_SAMPLES" --seeds $(sample_seeds)
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
  infer "$(trained mid "$MID_BASE" "$FINETUNE")" "$MID_TP" "$S/cascade_mid/samples:$D/transfer_strong.jsonl" \
    --temperature 0.9 --top_p 0.95 --num_samples "$N_SAMPLES" --seeds $(sample_seeds)
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
    infer "$(trained $t "$TEACHER_BASE" "$TEACHER_FINETUNE")" "$TEACHER_TP" "$S/baselines/labels_$kind:$D/transfer.jsonl" --temperature 0.6 --top_p 0.95
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
s_evaluate() {  # greedy, every model on the evaluation split; models that share a base: one load
  local -A runs=() tps=()
  add() {  # add NAME "BASE ADAPTER" TP
    local base adapter; read -r base adapter <<<"$2"
    runs["$base"]+=" $O/$1/output.jsonl $D/eval.jsonl ${adapter:--}"; tps["$base"]=$3
  }
  add teacher "$(trained teacher "$TEACHER_BASE" "$TEACHER_FINETUNE")" "$TEACHER_TP"
  add alice "$(trained alice "$STUDENT_BASE" "$FINETUNE")" "$STUDENT_TP"
  [ "$CASCADE" = 1 ] && add cascade "$(trained cascade "$STUDENT_BASE" "$FINETUNE")" "$STUDENT_TP"
  has_baseline w2sg_cot && add w2sg_cot "$(trained w2sg_cot "$STUDENT_BASE" "$FINETUNE")" "$STUDENT_TP"
  has_baseline w2sg_qa && add w2sg_qa "$(trained w2sg_qa "$STUDENT_BASE" "$FINETUNE")" "$STUDENT_TP"
  has_baseline base && add weak_base "$(trained weak_base "$TEACHER_BASE" "$TEACHER_FINETUNE")" "$TEACHER_TP"
  has_baseline base && add strong_base "$(trained strong_base "$STUDENT_BASE" "$FINETUNE")" "$STUDENT_TP"
  has_baseline zero_shot && add zero_shot "$STUDENT_BASE -" "$STUDENT_TP"
  local base jobs gpu
  for base in "${!runs[@]}"; do
    jobs=(); gpu=()
    # shellcheck disable=SC2206
    local parts=(${runs[$base]})
    for ((k = 0; k < ${#parts[@]}; k += 3)); do jobs+=(--job "${parts[k]}" "${parts[k+1]}" "${parts[k+2]}"); done
    [ -n "${tps[$base]}" ] && [ -n "$GPUS" ] && gpu+=(--tensor_parallel_size "${tps[$base]}")
    [ -n "$GPU_MEMORY_UTILIZATION" ] && gpu+=(--gpu_memory_utilization "$GPU_MEMORY_UTILIZATION")
    # shellcheck disable=SC2086
    "$PY" -m src.inference --benchmark "$BENCH" --model_dir "$base" "${jobs[@]}" --max_tokens "$MAX_TOKENS" \
      "${gpu[@]}" --quiet --no_eval --temperature 0 $INFER_ARGS  # the report grades (cot and qa styles)
  done
}
s_report() { "$PY" -m src.alice.report "$RUN" --dataset "$DATASET"; }

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
