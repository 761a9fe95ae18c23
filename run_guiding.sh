#!/usr/bin/env bash
# Guiding Through Complexity (He, Yin, Peng, NAACL 2025): which weak supervision trains a strong model
# best on hard math, hard tasks at an outcome error rate (ER) or their sub-tasks at another; on the
# project's resumable stage runner (docs/guiding.md).
#
#   bash run_guiding.sh                       the offline demo (no models given, no GPU): small models
#   POOL="numina_cn_k12.jsonl ..." TEACHER_URL=https://.../v1 TEACHER_MODEL=gpt-4o-mini TEACHER_T=1.0 \
#     STUDENT_BASE=/models/Meta-Llama-3-8B BASE_SET=base_164k.json BENCHES="math500=hub ..." GPUS=0,1,2,3 \
#     bash run_guiding.sh                     the paper's setting (docs/guiding.md has the full commands)
#
# Settings (environment variables; a misspelled one stops the run):
#   POOL           hard-task pool files {ori_id, question, "positive answer", token_len_pos_ans?}: the
#                  pipeline (decompose, check, sample, judge, style transfer, pairs) builds the pairs
#   PAIRS          a task_sol_pairs file (the released one, or an earlier run's): the sets use it
#                  instead of the pipeline's pairs (the pipeline still runs when POOL is given)
#   TEACHER_URL + TEACHER_MODEL | TEACHER_DIR   the weak teacher (an OpenAI-compatible endpoint, key in
#                  OPENAI_API_KEY, or a local model in process); it decomposes, samples, rewrites, paraphrases
#   JUDGE_URL + JUDGE_MODEL | JUDGE_DIR         the judge and the benchmark converter (neither JUDGE_URL nor
#                  JUDGE_DIR given: the teacher; the teacher runs the decomposition checks)
#   SERVE=1        TEACHER_DIR / JUDGE_DIR served by a local `vllm serve` (src/serve.py) for each stage that
#                  calls them, stopped when the stage ends (the GPUs free again for training); default 0: in process
#   TEACHER_T (required with POOL), K (3), LLM_MAX_TOKENS (8000), LLM_MAX_MODEL_LEN (in-process models), API_RPM / API_CONCURRENCY (a remote endpoint: 80 / 8; a local server: no limit / 64),
#   LLM_MAX_FAILED (0.1: a step stops when more of its calls failed), LLM_RETRY_FAILED=1 (send cached failures again),
#   COUNTER (bert-base-uncased), HINT_COUNTER (cl100k_base), BANDS ("401-1000:2 1001-1600:3"), MIN_STEPS (2),
#   CHECKS (1; 0: every parsed sub-task is kept and the three checks are not asked: the paper leaves their use open)
#   STUDENT_BASE   the strong student; BASE_SET: stage 1's set (a LLaMA-Factory file {id, content, output};
#                  empty: no stage 1); FINETUNE full|lora; TRAIN_ARGS, STAGE1_ARGS (key=value for train.sh)
#   KINDS ("hard sub"), ERS (0 10 ... 100), COMBOS ("50,10 80,40 20,10": hard ER, sub-task ER),
#   BASELINES ("epochs4 rephrased": at hard ER 50, epochs4 with twice the configured epochs; rephrased
#                  needs POOL's pipeline or REPHRASED=file)
#   SAMPLE_ALL=1   the teacher samples every pool task, not only those with a kept sub-task
#   BENCHES        "name=source ..." of math500 olympic jee sat gaokao (source: a local file/folder or hub)
#   (POOL and BENCHES are lists split at spaces, POOL's entries may be globs: their paths cannot hold a space)
#   MAX_TOKENS (1680), INFER_ARGS (more src.inference options), LIMIT_EVAL, GPUS, STUDENT_TP, GPU_MEMORY_UTILIZATION, NPROC, NNODES, NODE_RANK,
#   EVAL_JUDGE=1   the judge also grades every response against the benchmark's answer (stage llm_judge;
#                  reported beside the rule-based scores, which stay the main ones); on a finished run:
#                  EVAL_JUDGE=1 REDO=llm_judge
#   MASTER_ADDR, MASTER_PORT, SEED (42), FORCE=1, REDO="stage ...", STAGES="stage ...", RUN, RECIPE
# Stages: data pipeline sets eval_data stage1 train evaluate llm_judge report
set -euo pipefail
ROOT=$(cd "$(dirname "$0")" && pwd)
cd "$ROOT"
PY=$ROOT/.venv/bin/python
HF_OFFLINE_GIVEN=${HF_HUB_OFFLINE+1}  # the user's own HF_HUB_OFFLINE wins over hub_access (scripts/stage_runner.sh)
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} TOKENIZERS_PARALLELISM=false VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-2}
# shellcheck source=scripts/stage_runner.sh
source "$ROOT/scripts/stage_runner.sh"

KNOWN="POOL PAIRS REPHRASED TEACHER_URL TEACHER_MODEL TEACHER_DIR JUDGE_URL JUDGE_MODEL JUDGE_DIR TEACHER_T K
LLM_MAX_TOKENS LLM_MAX_MODEL_LEN LLM_MAX_FAILED LLM_RETRY_FAILED API_RPM API_CONCURRENCY COUNTER HINT_COUNTER BANDS MIN_STEPS CHECKS STUDENT_BASE BASE_SET FINETUNE TRAIN_ARGS
STAGE1_ARGS KINDS ERS COMBOS BASELINES SAMPLE_ALL BENCHES MAX_TOKENS INFER_ARGS LIMIT_EVAL EVAL_JUDGE GPUS STUDENT_TP
GPU_MEMORY_UTILIZATION NPROC NNODES NODE_RANK MASTER_ADDR MASTER_PORT THREADS SEED RUN RECIPE DEMO DEMO_SIZES FORCE REDO STAGES
ORIGINAL_PROMPTS ORIGINAL_RULES TRANSFER_MAX_TOKENS SERVE"
check_settings '^(POOL|PAIRS|REPHRASED|TEACHER_|JUDGE_|LLM_|API_|COUNTER|HINT_COUNTER|BANDS|MIN_STEPS|CHECKS|STUDENT_|BASE_SET|FINETUNE|TRAIN_|STAGE1_|KINDS|ERS|COMBOS|SAMPLE_ALL|BENCHES|INFER_|LIMIT_|EVAL_|DEMO_|ORIGINAL_|TRANSFER_|SERVE)'

# ---------------------------------------------------------------- settings
if [ -z "${RECIPE:-}" ] && { [ "${DEMO:-}" = 1 ] || { [ -z "${STUDENT_BASE:-}" ] && ! has_gpu; }; }; then RECIPE=guiding_demo; fi
load_recipe guiding_demo.env
[ -x "$PY" ] || die "no main environment at $PY; run: bash scripts/setup.sh"
: "${STUDENT_BASE:?set STUDENT_BASE (the strong student), or RECIPE=<name>}"
RUN=${RUN:-$ROOT/runs/guiding_$([ "$DEMO" = 1 ] && echo demo || basename "$STUDENT_BASE")}
if [ "$DEMO" = 1 ]; then  # the demo's generated data (stage data writes it)
  POOL=${POOL-$RUN/data/input/pool.jsonl} PAIRS=${PAIRS-$RUN/data/input/task_sol_pairs.jsonl}
  BASE_SET=${BASE_SET-$RUN/data/input/base_set.json} BENCHES=${BENCHES:-"math500=$RUN/data/input/eval.jsonl"}
fi
POOL=${POOL:-} PAIRS=${PAIRS:-} REPHRASED=${REPHRASED:-}
[ -n "$POOL" ] || [ -n "$PAIRS" ] || [ "$DEMO" = 1 ] || die "set POOL (pool files for the pipeline) or PAIRS (a task_sol_pairs file)"
TEACHER_URL=${TEACHER_URL:-} TEACHER_MODEL=${TEACHER_MODEL:-} TEACHER_DIR=${TEACHER_DIR:-}
JUDGE_URL=${JUDGE_URL:-} JUDGE_MODEL=${JUDGE_MODEL:-} JUDGE_DIR=${JUDGE_DIR:-}
[ -z "$JUDGE_URL" ] || [ -z "$JUDGE_DIR" ] || die "give JUDGE_URL + JUDGE_MODEL or JUDGE_DIR, not both"
[ -z "$JUDGE_URL" ] || [ -n "$JUDGE_MODEL" ] || die "JUDGE_URL needs JUDGE_MODEL (the endpoint's model name)"
[ -z "$JUDGE_MODEL" ] || [ -n "$JUDGE_URL" ] || die "JUDGE_MODEL names a model of JUDGE_URL; set JUDGE_URL too (or JUDGE_DIR)"
[ -z "$TEACHER_URL" ] || [ -z "$TEACHER_DIR" ] || die "give TEACHER_URL + TEACHER_MODEL or TEACHER_DIR, not both"
if [ -z "$JUDGE_URL$JUDGE_DIR" ]; then JUDGE_URL=$TEACHER_URL JUDGE_MODEL=$TEACHER_MODEL JUDGE_DIR=$TEACHER_DIR; fi  # the teacher judges
K=${K:-3} LLM_MAX_TOKENS=${LLM_MAX_TOKENS:-8000} LLM_MAX_MODEL_LEN=${LLM_MAX_MODEL_LEN:-} API_RPM=${API_RPM:-} API_CONCURRENCY=${API_CONCURRENCY:-}
# an endpoint's limits: a remote API gets the original's (80 requests/min, 8 in flight); a server on
# this machine (localhost, 127.x, ::1) no rate limit and 64 in flight (vLLM batches them); API_* win
local_url() { [[ "$1" =~ ^https?://(localhost|127\.[0-9.]+|\[::1\]|0\.0\.0\.0)(:|/|$) ]]; }
LLM_MAX_FAILED=${LLM_MAX_FAILED:-0.1} LLM_RETRY_FAILED=${LLM_RETRY_FAILED:-0}
COUNTER=${COUNTER:-bert-base-uncased} HINT_COUNTER=${HINT_COUNTER:-cl100k_base}
BANDS=${BANDS:-"401-1000:2 1001-1600:3"} MIN_STEPS=${MIN_STEPS:-2} TEACHER_T=${TEACHER_T:-} CHECKS=${CHECKS:-1}
[[ "$CHECKS" =~ ^[01]$ ]] || die "CHECKS is 0 or 1"
ORIGINAL_PROMPTS=${ORIGINAL_PROMPTS:-}  # a checkout of the original: its prompt wording (src/guiding/original_prompts.py)
ORIGINAL_RULES=${ORIGINAL_RULES:-0}     # 1: the original's filters and parsers, defects included (docs/guiding.md)
TRANSFER_MAX_TOKENS=${TRANSFER_MAX_TOKENS:-1000}  # the style transfer's budget (the original's 1,000)
[[ "$ORIGINAL_RULES" =~ ^[01]$ ]] || die "ORIGINAL_RULES is 0 or 1"
SERVE=${SERVE:-0}
[[ "$SERVE" =~ ^[01]$ ]] || die "SERVE is 0 or 1"
[[ "$TRANSFER_MAX_TOKENS" =~ ^[1-9][0-9]*$ ]] || die "TRANSFER_MAX_TOKENS is a positive number"
[ -z "$ORIGINAL_PROMPTS" ] || [ -f "$ORIGINAL_PROMPTS/const/prompt_template.json" ] \
  || die "ORIGINAL_PROMPTS=$ORIGINAL_PROMPTS: no const/prompt_template.json (the root of a checkout of the original)"
if [ -n "$POOL" ]; then
  [ -n "$TEACHER_URL$TEACHER_DIR" ] || die "POOL needs a teacher: TEACHER_URL + TEACHER_MODEL, or TEACHER_DIR"
  [ -z "$TEACHER_URL" ] || [ -n "$TEACHER_MODEL" ] || die "TEACHER_URL needs TEACHER_MODEL (the endpoint's model name)"
  [ -n "$TEACHER_T" ] || die "set TEACHER_T, the teacher's sampling temperature (the paper: 1.0 for GPT models, 0.7 for others)"
fi
BASE_SET=${BASE_SET:-} FINETUNE=${FINETUNE:-full} TRAIN_ARGS=${TRAIN_ARGS:-} STAGE1_ARGS=${STAGE1_ARGS:-$TRAIN_ARGS}
KINDS=${KINDS:-"hard sub"} ERS=${ERS:-"0 10 20 30 40 50 60 70 80 90 100"} COMBOS=${COMBOS:-"50,10 80,40 20,10"}
BASELINES=${BASELINES-"epochs4 rephrased"} SAMPLE_ALL=${SAMPLE_ALL:-0} INFER_ARGS=${INFER_ARGS:-}
BENCHES=${BENCHES:?set BENCHES, e.g. \"math500=hub olympic=hub jee=hub sat=/data/sat-math.jsonl gaokao=/data/gaokao-mathcloze.jsonl\"}
MAX_TOKENS=${MAX_TOKENS:-1680} LIMIT_EVAL=${LIMIT_EVAL:-} EVAL_JUDGE=${EVAL_JUDGE:-0} SEED=${SEED:-42}
GPUS=${GPUS:-} GPU_MEMORY_UTILIZATION=${GPU_MEMORY_UTILIZATION:-}
[ "$DEMO" = 1 ] || hub_access "$STUDENT_BASE" "${TEACHER_DIR:-}" "${JUDGE_DIR:-}" $( [ -n "$POOL" ] && echo "$COUNTER" "$HINT_COUNTER") \
  $(for kv in $BENCHES; do echo "${kv#*=}"; done)
STUDENT_TP=${STUDENT_TP:-$(tp_size "$STUDENT_BASE")}
# a teacher or judge in process on GPUs: the tensor-parallel size its model allows ("" on CPU)
teacher_tp=""; judge_tp=""
[ -z "${TEACHER_DIR:-}" ] || teacher_tp=$(tp_size "$TEACHER_DIR")
[ -z "${JUDGE_DIR:-}" ] || judge_tp=$(tp_size "$JUDGE_DIR")
NNODES=${NNODES:-1} NODE_RANK=${NODE_RANK:-0}
THREADS=${THREADS:-$(cpu_threads_default)}  # CPU threads of training and inference (recorded: results change with it; none on GPUs)
for k in $KINDS; do [[ "$k" == hard || "$k" == sub ]] || die "KINDS holds hard and/or sub, not '$k'"; done
for e in $ERS; do [[ "$e" =~ ^(0|10|20|30|40|50|60|70|80|90|100)$ ]] || die "ERS holds 0, 10, ..., 100, not '$e'"; done
for c in $COMBOS; do [[ "$c" =~ ^(100|[1-9]?[0-9]),(100|[1-9]?[0-9])$ ]] \
  || die "COMBOS holds HARD,SUB error-rate pairs (percentages 0-100) such as 50,10, not '$c'"; done
[[ "$LLM_RETRY_FAILED" =~ ^[01]$ ]] || die "LLM_RETRY_FAILED is 0 or 1"
[[ "$EVAL_JUDGE" =~ ^[01]$ ]] || die "EVAL_JUDGE is 0 or 1"
[ "$EVAL_JUDGE" = 0 ] || [ -n "$JUDGE_URL$JUDGE_DIR" ] || die "EVAL_JUDGE=1 needs a judge: JUDGE_URL + JUDGE_MODEL, JUDGE_DIR, or a teacher"
[[ "$LLM_MAX_FAILED" =~ ^(0(\.[0-9]+)?|1(\.0*)?)$ ]] || die "LLM_MAX_FAILED is a share of a step's calls, 0 to 1, not '$LLM_MAX_FAILED'"
# shellcheck disable=SC2206
POOL_FILES=($POOL)  # split at spaces, globs expanded
for f in "${POOL_FILES[@]}"; do [ -f "$f" ] || [ "$DEMO" = 1 ] || die "POOL file $f not found"; done
for b in $BASELINES; do [[ "$b" == epochs4 || "$b" == rephrased ]] || die "BASELINES holds epochs4 and/or rephrased, not '$b'"; done
[[ " $BASELINES " == *" rephrased "* ]] && [ -z "$POOL$REPHRASED" ] && die "BASELINES rephrased needs POOL (the paraphrase step) or REPHRASED"
[[ "$FINETUNE" == full || "$FINETUNE" == lora ]] || die "FINETUNE is full or lora, not '$FINETUNE'"
for kv in $BENCHES; do [[ " math500 olympic jee sat gaokao " == *" ${kv%%=*} "* && "$kv" == *=* ]] \
  || die "BENCHES holds name=source with a name of math500 olympic jee sat gaokao, not '$kv'"; done
[[ "$SAMPLE_ALL" =~ ^[01]$ ]] || die "SAMPLE_ALL is 0 or 1"
setup_processes
has_baseline() { [[ " $BASELINES " == *" $1 "* ]]; }

STAGE_LIST="data pipeline sets eval_data stage1 train evaluate llm_judge report"
STAGE_SHOW='^\[(demo|pool|decompose|teacher|pairs|paraphrase|er|benchmarks|train\] effective|inference\] all|grade|eval_judge|guiding)'
check_stage_names
D=$RUN/data LF=$RUN/data/llama_factory S=$RUN/steps M=$RUN/models O=$RUN/outputs
export DATASET_DIR=$LF GPUS
stage_outputs() {
  case $1 in
    data) echo "$D/input" ;;
    pipeline) if [ -d "$S/pipeline" ]; then find "$S/pipeline" -type f ! -name llm_cache.jsonl; fi ;;  # paid calls stay cached
    sets) echo "$S/sets" ;;
    eval_data) echo "$D/eval" ;;
    stage1) echo "$M/stage1"; echo "$M/stage1_merged" ;;
    train) for r in $(runs); do echo "$M/$r"; echo "$M/${r}_merged"; done ;;
    evaluate) echo "$O" ;;
    llm_judge) if [ -d "$O" ]; then find "$O" -name 'llm_results.*'; fi ;;  # its calls stay cached in steps/llm_judge
    report) echo "$RUN/report.md"; echo "$RUN/report.json"; echo "$RUN/er_accuracy.png" ;;
  esac
}

# ---------------------------------------------------------------- helpers
declare -A SERVED=()  # SERVE=1: model folder -> "URL NAME PID" of its server, within one stage
serve() {  # serve DIR TP: a local vllm serve of DIR for the rest of the stage (started once; stopped at its end)
  [ -n "${SERVED[$1]:-}" ] && return 0
  local name log cmd
  name=$(basename "$1")
  log=$RUN/logs/serve_$name.log
  cmd=("$PY" -m src.serve start --model_dir "$1" --log "$log" --pidfile "$RUN/.serve_$name.pid")
  [ -n "$LLM_MAX_MODEL_LEN" ] && cmd+=(--max_model_len "$LLM_MAX_MODEL_LEN")
  [ -n "$2" ] && cmd+=(--tensor_parallel_size "$2")
  [ -n "$GPU_MEMORY_UTILIZATION" ] && cmd+=(--gpu_memory_utilization "$GPU_MEMORY_UTILIZATION")
  if [ "${PLAN:-0}" = 1 ]; then  # the plan prints the command; the steps get a placeholder endpoint
    "${cmd[@]}"; SERVED[$1]="http://127.0.0.1:PORT/v1 $name@FINGERPRINT -"; return 0
  fi
  SERVED[$1]=$("${cmd[@]}") || return 1
  echo "[guiding] serving $name at ${SERVED[$1]%% *} (pid ${SERVED[$1]##* }, log: $log)"
  trap stop_servers EXIT
}
stop_servers() {
  local f
  for f in "$RUN"/.serve_*.pid; do [ -f "$f" ] && "$PY" -m src.serve stop --pidfile "$f"; done
  return 0
}
with_model() {  # with_model TEACHER|JUDGE COMMAND...: run COMMAND with that model's client options
  local url="${1}_URL" name="${1}_MODEL" dir="${1}_DIR" tp="${1,,}_tp" opts=(--max_failed "$LLM_MAX_FAILED"); shift
  [ "$LLM_RETRY_FAILED" = 1 ] && opts+=(--retry_failed)
  if [ -z "${!url}" ] && [ "$SERVE" = 1 ]; then  # the folder's local server, as an endpoint
    serve "${!dir}" "${!tp}" || return 1
    local served_url served_name
    read -r served_url served_name _ <<<"${SERVED[${!dir}]}"
    opts+=(--base_url "$served_url" --model "$served_name" --concurrency "${API_CONCURRENCY:-64}")
    [ -z "$API_RPM" ] || opts+=(--rpm "$API_RPM")
  elif [ -n "${!url}" ]; then
    local rpm=$API_RPM concurrency=$API_CONCURRENCY
    if local_url "${!url}"; then concurrency=${concurrency:-64}; else rpm=${rpm:-80} concurrency=${concurrency:-8}; fi
    opts+=(--base_url "${!url}" --model "${!name}" --concurrency "$concurrency")
    [ -z "$rpm" ] || opts+=(--rpm "$rpm")
  else
    opts+=(--model_dir "${!dir}")
    [ -n "$LLM_MAX_MODEL_LEN" ] && opts+=(--max_model_len "$LLM_MAX_MODEL_LEN")
    # in process on GPUs: the tensor-parallel size the model allows, and the memory share (the GPUs are
    # free again for training when the step's process ends)
    [ -z "${!tp}" ] || opts+=(--tensor_parallel_size "${!tp}")
    [ -n "$GPU_MEMORY_UTILIZATION" ] && opts+=(--gpu_memory_utilization "$GPU_MEMORY_UTILIZATION")
  fi
  [ -n "$ORIGINAL_PROMPTS" ] && opts+=(--original_prompts "$ORIGINAL_PROMPTS")
  "$@" "${opts[@]}"
}
counter_args=()
[ "$COUNTER" = none ] || counter_args=(--counter "$COUNTER")
pairs_file() { if [ -n "$PAIRS" ]; then echo "$PAIRS"; else echo "$S/pipeline/task_sol_pairs.jsonl"; fi; }
runs() {  # the trained models' names, in order
  local k e c
  for k in $KINDS; do for e in $ERS; do echo "${k}_er$e"; done; done
  for c in $COMBOS; do echo "combo_${c/,/_}"; done
  has_baseline epochs4 && echo "hard_er50_4epochs"
  has_baseline rephrased && echo "merge_rephrased50"
  return 0
}
set_of() {  # the LLaMA-Factory dataset a run trains on
  case $1 in hard_er50_4epochs) echo guiding_hard_er50 ;; *) echo "guiding_$1" ;; esac
}
start_model() { if [ -z "$BASE_SET" ]; then echo "$STUDENT_BASE"; elif [ "$FINETUNE" = lora ]; then echo "$M/stage1_merged"; else echo "$M/stage1"; fi; }
# train_once NAME DATASET BASE [args]: one SFT run, skipped when the same run finished before: its
# .trained marker holds the command, the hashes of the dataset file, the base model (weights, configs,
# chat template), the recipe, train.sh (its LoRA settings) and the ZeRO-3 config, and the process
# layout (not the Python code); LoRA adapters are merged for inference
train_once() {
  local name=$1 data=$2 base=$3 stage=guiding_sft what file hashes; shift 3
  [ "$FINETUNE" = lora ] && stage=guiding_sft_lora
  if [ "${PLAN:-0}" = 1 ]; then bash scripts/train.sh "$stage" "$data" "$base" "$M/$name" "$@" "seed=$SEED"; return 0; fi
  file=$("$PY" -m src.registry resolve "$LF" "$data") || return 1
  hashes=$("$PY" -m src.provenance describe "$file" "$base" scripts/configs/guiding_sft.yaml scripts/configs/lora.yaml scripts/train.sh \
    scripts/configs/ds_z3_config.json) || return 1
  what="$stage $data $base $* seed=$SEED GPUS=$GPUS NPROC=${NPROC:-} NNODES=$NNODES
$hashes"
  if [ -f "$M/$name/.trained" ] && [ "$(cat "$M/$name/.trained")" = "$what" ]; then
    echo "[guiding] $name: trained before on the same data, base model and settings (skipped)"; return 0
  fi
  [ -f "$M/$name/.trained" ] && echo "[guiding] $name: its data, base model or settings changed since it was trained: training again"
  rm -rf "${M:?}/$name" "$M/${name}_merged"
  bash scripts/train.sh "$stage" "$data" "$base" "$M/$name" "$@" "seed=$SEED"
  if [ "$FINETUNE" = lora ]; then bash scripts/train.sh export - "$base" "$M/${name}_merged" "$M/$name"; fi
  printf '%s\n' "$what" > "$M/$name/.trained"
}
double_epochs() {  # the 4-Epochs baseline: twice the configured epochs (the recipe's 2, or TRAIN_ARGS')
  local kv n
  n=$(sed -n 's/^num_train_epochs: *//p' scripts/configs/guiding_sft.yaml)
  for kv in $TRAIN_ARGS; do [[ "$kv" == num_train_epochs=* ]] && n=${kv#*=}; done
  awk -v n="$n" 'BEGIN { printf "%g", 2 * n }'
}
trained() { if [ "$FINETUNE" = lora ]; then echo "$M/${1}_merged"; else echo "$M/$1"; fi; }

# ---------------------------------------------------------------- stages
s_data() {
  mkdir -p "$D/input" "$LF"
  if [ "$DEMO" = 1 ]; then
    # shellcheck disable=SC2086
    "$PY" -m src.guiding.demo --out "$D/input" $(read -r t b e <<<"$DEMO_SIZES"; echo --tasks "$t" --base "$b" --eval "$e") --seed "$SEED"
  fi
  if [ -n "$BASE_SET" ]; then "$PY" -m src.registry register "$LF" guiding_base_set "$BASE_SET"; fi
}
s_pipeline() {  # the real pipeline steps on the pool; every call cached in its step folder
  [ -n "$POOL" ] || { echo "[guiding] no POOL: the pairs come from $PAIRS"; return 0; }
  local P=$S/pipeline all=() orig=() checks=()
  [ "$SAMPLE_ALL" = 1 ] && all=(--all_tasks)
  [ "$CHECKS" = 0 ] && checks=(--no_checks)
  [ "$ORIGINAL_RULES" = 1 ] && orig=(--original)
  "$PY" -m src.guiding.pool --input "${POOL_FILES[@]}" --out "$P/pool" --bands "$BANDS" "${counter_args[@]}" "${orig[@]}"
  with_model TEACHER "$PY" -m src.guiding.decompose --pool "$P/pool/pool.jsonl" --out "$P/decompose" \
    --temperature 0.7 --max_tokens "$LLM_MAX_TOKENS" --check_max_tokens "$LLM_MAX_TOKENS" --min_steps "$MIN_STEPS" "${checks[@]}" "${orig[@]}"
  with_model TEACHER "$PY" -m src.guiding.teacher sample --pool "$P/pool/pool.jsonl" --subtasks "$P/decompose/subtasks.jsonl" \
    --out "$P/teacher" --k "$K" --temperature "$TEACHER_T" --max_tokens "$LLM_MAX_TOKENS" --hint_counter "$HINT_COUNTER" "${all[@]}" "${orig[@]}"
  with_model JUDGE "$PY" -m src.guiding.teacher judge --samples "$P/teacher/samples.jsonl" --out "$P/judge" \
    --max_tokens "$LLM_MAX_TOKENS"
  with_model TEACHER "$PY" -m src.guiding.teacher transfer --judged "$P/judge/judged.jsonl" --out "$P/transfer" \
    --hint_counter "$HINT_COUNTER" --max_tokens "$TRANSFER_MAX_TOKENS"
  "$PY" -m src.guiding.pairs build --judged "$P/transfer/labelled.jsonl" --out "$P/task_sol_pairs.jsonl" --seed "$SEED"
  if has_baseline rephrased && [ -z "$REPHRASED" ] && [ -s "$(pairs_file)" ]; then
    with_model TEACHER "$PY" -m src.guiding.pairs paraphrase --pairs "$(pairs_file)" --out "$P/paraphrase" --max_tokens "$LLM_MAX_TOKENS" "${orig[@]}"
  fi
}
s_sets() {
  local pairs c
  pairs=$(pairs_file)
  [ -s "$pairs" ] || die "no pairs in $pairs: the pipeline kept no task (see $S/pipeline/*/*.stats.json)"
  "$PY" -m src.guiding.error_rates grid --pairs "$pairs" --out "$S/sets" --lf "$LF" --seed "$SEED"
  for c in $COMBOS; do
    "$PY" -m src.guiding.error_rates build --pairs "$pairs" --er_hard "${c%,*}" --er_sub "${c#*,}" --seed "$SEED" \
      --out "$S/sets/combo_${c/,/_}.jsonl" --lf "$LF" --name "guiding_combo_${c/,/_}"
  done
  if has_baseline rephrased; then
    "$PY" -m src.guiding.error_rates build --pairs "$pairs" --er_hard 50 --seed "$SEED" --out "$S/sets/merge_rephrased50.jsonl" \
      --rephrased "${REPHRASED:-$S/pipeline/paraphrase/rephrased_pairs.jsonl}" --lf "$LF" --name guiding_merge_rephrased50
  fi
}
s_eval_data() {
  local kv name src limit=()
  [ -n "$LIMIT_EVAL" ] && limit=(--limit "$LIMIT_EVAL")
  for kv in $BENCHES; do
    name=${kv%%=*} src=${kv#*=}
    "$PY" -m src.guiding.benchmarks load --name "$name" --source "$src" --out "$D/eval" "${limit[@]}"
    if [ -n "$JUDGE_URL$JUDGE_DIR" ]; then with_model JUDGE "$PY" -m src.guiding.benchmarks convert --rows "$D/eval/$name.jsonl" --out "$D/eval"
    else "$PY" -m src.guiding.benchmarks convert --rows "$D/eval/$name.jsonl" --out "$D/eval"; fi
  done
}
s_stage1() {
  if [ -z "$BASE_SET" ]; then echo "[guiding] no BASE_SET: stage 2 starts from $STUDENT_BASE"; return 0; fi
  # shellcheck disable=SC2086
  train_once stage1 guiding_base_set "$STUDENT_BASE" $STAGE1_ARGS
}
s_train() {
  local r start n=0 total
  start=$(start_model) total=$(runs | wc -l)
  for r in $(runs); do
    n=$((n + 1)); echo "[guiding] training $n/$total: $r"
    # shellcheck disable=SC2086
    if [ "$r" = hard_er50_4epochs ]; then train_once "$r" "$(set_of "$r")" "$start" $TRAIN_ARGS "num_train_epochs=$(double_epochs)"
    else train_once "$r" "$(set_of "$r")" "$start" $TRAIN_ARGS; fi
  done
}
s_evaluate() {  # every model (and the start model) on every benchmark: the paper's sampling, one load per model
  local model name kv b jobs gpu=()
  [ -n "$STUDENT_TP" ] && [ -n "$GPUS" ] && gpu+=(--tensor_parallel_size "$STUDENT_TP")
  [ -n "$GPU_MEMORY_UTILIZATION" ] && gpu+=(--gpu_memory_utilization "$GPU_MEMORY_UTILIZATION")
  for name in start $(runs); do
    if [ "$name" = start ]; then model=$(start_model); else model=$(trained "$name"); fi
    jobs=()
    for kv in $BENCHES; do b=${kv%%=*}; jobs+=(--job "$O/$name/$b/output.jsonl" "$D/eval/$b.eval.jsonl" -); done
    # one prompt setting for all five (chat, an empty system turn): generated under guiding_math500's, graded by each
    # shellcheck disable=SC2086
    "$PY" -m src.inference --benchmark guiding_math500 --model_dir "$model" "${jobs[@]}" --no_eval --quiet \
      --temperature 0.6 --top_p 0.9 --top_k 50 --max_tokens "$MAX_TOKENS" --seed "$SEED" "${gpu[@]}" $INFER_ARGS
    for kv in $BENCHES; do
      b=${kv%%=*}
      "$PY" -m src.eval "$O/$name/$b/output.jsonl" --benchmark "guiding_$b" --gold_file "$D/eval/$b.eval.jsonl"
    done
  done
}
s_llm_judge() {  # EVAL_JUDGE=1: the judge grades every response too, all in one batch, every call cached
  [ "$EVAL_JUDGE" = 1 ] || { echo "[guiding] EVAL_JUDGE=0: rule-based scoring only"; return 0; }
  local name kv b jobs=()
  for name in start $(runs); do
    for kv in $BENCHES; do b=${kv%%=*}; jobs+=(--job "$O/$name/$b/results.jsonl" "$D/eval/$b.eval.jsonl"); done
  done
  with_model JUDGE "$PY" -m src.guiding.eval_judge "${jobs[@]}" --cache "$S/llm_judge/llm_cache.jsonl" \
    --max_tokens "$LLM_MAX_TOKENS"
}
s_report() {
  # shellcheck disable=SC2046
  "$PY" -m src.guiding.report "$RUN" --benches $(for kv in $BENCHES; do echo "${kv%%=*}"; done) --runs start $(runs) \
    --pairs "$(pairs_file)"
}

start_run "recipe ${RECIPE:-none}, Guiding, student $(basename "$STUDENT_BASE")"
stage data s_data
stage pipeline s_pipeline
stage sets s_sets
stage eval_data s_eval_data
stage stage1 s_stage1
stage train s_train
stage evaluate s_evaluate
stage llm_judge s_llm_judge
stage report s_report
status finished "report: $RUN/report.md"
