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
# shellcheck source=scripts/stage_runner.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/stage_runner.sh"
preamble

# ---------------------------------------------------------------- settings (src/guiding/plan.py)
if [ -z "${RECIPE:-}" ] && { [ "${DEMO:-}" = 1 ] || { [ -z "${STUDENT_BASE:-}" ] && ! has_gpu; }; }; then RECIPE=guiding_demo; fi
load_recipe guiding_demo.env
[ -x "$PY" ] || die "no main environment at $PY; run: bash scripts/setup.sh"
load_plan src.guiding.plan  # every setting, checked; KNOWN, HF_HUB_OFFLINE, the grid (RUNS), POOL_FILES, START_MODEL, PAIRS_FILE, FOUR_EPOCHS
# an endpoint's limits: a remote API gets the original's (80 requests/min, 8 in flight); a server on
# this machine (localhost, 127.x, ::1) no rate limit and 64 in flight (vLLM batches them); API_* win
local_url() { [[ "$1" =~ ^https?://(localhost|127\.[0-9.]+|\[::1\]|0\.0\.0\.0)(:|/|$) ]]; }
setup_processes
has_baseline() { [[ " $BASELINES " == *" $1 "* ]]; }

STAGE_LIST="data pipeline sets eval_data stage1 train evaluate llm_judge report"
STAGE_SHOW='^\[(demo|pool|decompose|teacher|judge|pairs|paraphrase|er|benchmarks|train\] (effective|.*skipped|.*training again)|inference\] all|grade|eval_judge|guiding)'
check_stage_names
D=$RUN/data LF=$RUN/data/llama_factory S=$RUN/steps M=$RUN/models O=$RUN/outputs
export DATASET_DIR=$LF GPUS
stage_outputs() { "$PY" -m src.guiding.plan outputs "$1"; }  # what a redone stage removes first (LLM caches stay)

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
train_model() {  # train_model NAME DATASET BASE [key=value ...]: one SFT run (train.sh skips it when its record shows
  # the same data, models, settings and code); LoRA: merged for inference
  local stage=guiding_sft
  [ "$FINETUNE" = lora ] && stage=guiding_sft_lora
  train_step "$stage" "$2" "$3" "$M/$1" "${@:4}" "seed=$SEED"
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
  with_model JUDGE "$PY" -m src.guiding.judge --samples "$P/teacher/samples.jsonl" --out "$P/judge" \
    --max_tokens "$LLM_MAX_TOKENS"
  with_model TEACHER "$PY" -m src.guiding.teacher transfer --judged "$P/judge/judged.jsonl" --out "$P/transfer" \
    --hint_counter "$HINT_COUNTER" --max_tokens "$TRANSFER_MAX_TOKENS"
  "$PY" -m src.guiding.pairs build --judged "$P/transfer/labelled.jsonl" --out "$P/task_sol_pairs.jsonl" --seed "$SEED"
  if has_baseline rephrased && [ -z "$REPHRASED" ] && [ -s "$PAIRS_FILE" ]; then
    with_model TEACHER "$PY" -m src.guiding.pairs paraphrase --pairs "$PAIRS_FILE" --out "$P/paraphrase" --max_tokens "$LLM_MAX_TOKENS" "${orig[@]}"
  fi
}
s_sets() {
  local pairs=$PAIRS_FILE c
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
  train_model stage1 guiding_base_set "$STUDENT_BASE" $STAGE1_ARGS
}
s_train() {
  local r n=0 total
  total=$(wc -w <<<"$RUNS")
  for r in $RUNS; do
    n=$((n + 1)); echo "[guiding] training $n/$total: $r"
    # shellcheck disable=SC2086
    if [ "$r" = hard_er50_4epochs ]; then train_model "$r" "${SET_OF[$r]}" "$START_MODEL" $TRAIN_ARGS "num_train_epochs=$FOUR_EPOCHS"
    else train_model "$r" "${SET_OF[$r]}" "$START_MODEL" $TRAIN_ARGS; fi
  done
}
s_evaluate() {  # every model (and the start model) on every benchmark: the paper's sampling, one load per model
  local model name b jobs
  for name in start $RUNS; do
    if [ "$name" = start ]; then model=$START_MODEL; else model=$(trained "$name"); fi
    jobs=""
    for b in $BENCH_NAMES; do jobs+=" $O/$name/$b/output.jsonl $D/eval/$b.eval.jsonl -"; done
    # one prompt and decoding setting for all five (chat, an empty system turn, the paper's sampling: the
    # registry's guiding_* entries): generated under guiding_math500's, graded by each
    infer_jobs guiding_math500 "$model" "$STUDENT_TP" "$jobs" --no_eval --max_tokens "$MAX_TOKENS" --seed "$SEED"
    for b in $BENCH_NAMES; do
      "$PY" -m src.eval "$O/$name/$b/output.jsonl" --benchmark "guiding_$b" --gold_file "$D/eval/$b.eval.jsonl"
    done
  done
}
s_llm_judge() {  # EVAL_JUDGE=1: the judge grades every response too, all in one batch, every call cached
  [ "$EVAL_JUDGE" = 1 ] || { echo "[guiding] EVAL_JUDGE=0: rule-based scoring only"; return 0; }
  local name b jobs=()
  for name in start $RUNS; do
    for b in $BENCH_NAMES; do jobs+=(--job "$O/$name/$b/results.jsonl" "$D/eval/$b.eval.jsonl"); done
  done
  with_model JUDGE "$PY" -m src.guiding.eval_judge "${jobs[@]}" --cache "$S/llm_judge/llm_cache.jsonl" \
    --max_tokens "$LLM_MAX_TOKENS"
}
s_report() { "$PY" -m src.guiding.report "$RUN"; }  # its models, benchmarks and pairs: RUN/config.json

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
