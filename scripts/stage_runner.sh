#!/usr/bin/env bash
# The resumable stage runner shared by every method's run script (sourced, not run).
#
# First: preamble (strict mode, ROOT, PY, the hub offline). Settings next (before RUN exists):
#   load_recipe DEMO_FILES   source $RECIPE (a file, or scripts/recipes/<name>.env); DEMO=1 when it is
#                            one of DEMO_FILES (offline: it sets up the environments and small models)
#   load_plan MODULE         the settings resolved and checked by the method's Python plan
#                            (src/layout.py, src/alice/plan.py, src/guiding/plan.py); a misspelled
#                            setting of the method's name families stops the run
#   setup_processes          nodes other than 0 stop (they join the training steps), the multi-node
#                            settings are exported, CPU threads set (THREADS: OMP_NUM_THREADS)
#
# The plan sets RUN (the run folder) and KNOWN (its settings' names, recorded in config.env); the
# caller sets STAGE_LIST (its stages, in order, unless the plan does), STAGE_SHOW (an egrep pattern of
# log lines worth showing) and defines stage_outputs NAME (prints the paths a redone stage removes
# first). Then:
#
#   start_run LABEL          config.env written (earlier settings kept in logs/ when they changed); when
#                            settings changed after a stage finished, the run stops unless FORCE or
#                            REDO says what to redo (RESUMABLE_SETTINGS, such as API_RPM, may change)
#   stage NAME FUNCTION      run FUNCTION unless $RUN/.done/NAME exists; its log in logs/NAME.log
#
# PLAN=1: nothing runs and nothing is written; every stage prints the commands it would run with
# their resolved settings (each training step: scripts/train.py --plan, the merged config with the
# template, effective batch and accumulation resolved; each model call: its command line).
#
# A stage is skipped when its marker exists (written last). FORCE=1 redoes every stage, REDO="a b"
# the named ones; a redone stage first loses its outputs. Once a stage runs, every later stage
# runs again too (its inputs may have changed; inference regenerates only what another model or
# setting made: src/provenance.py). STAGES="a b" runs only those.

die() { echo "error: $*" >&2; exit 2; }

preamble() {  # every run script first: strict mode, the repository as working folder, the main environment's
  # Python (W2S_VENV: another one), the hub offline unless an input needs it, no tokenizer threads
  set -euo pipefail
  ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)  # symlinks resolved, as the Python plans see it
  cd "$ROOT"
  PY=${W2S_VENV:-$ROOT/.venv}/bin/python
  export HF_OFFLINE_GIVEN=${HF_HUB_OFFLINE+1}  # the user's own HF_HUB_OFFLINE wins over the plans' rule
  export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} TOKENIZERS_PARALLELISM=false VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-2}
}

load_plan() {  # load_plan MODULE: the settings as the method's Python plan resolves them (src/<method>/plan.py:
  # defaults, checks, the grid), as shell variables; a bad setting stops the run, every one named.
  # start_run then writes the plan to RUN/config.json (the reports read it)
  local out
  out=$("$PY" -m "$1" shell) || exit 2
  eval "$out"
  PLAN_MODULE=$1
}

train_step() {  # train_step STAGE DATASET BASE OUT [key=value ...]: one training step (scripts/train.sh skips it when
  # OUT's record shows the same data, models, settings and code); a LoRA stage (*_lora) is also merged into
  # OUT_merged, which inference loads (vLLM-CPU generates several times slower through an adapter)
  bash "$ROOT/scripts/train.sh" "$@"
  if [[ "$1" == *_lora ]]; then bash "$ROOT/scripts/train.sh" export - "$3" "${4}_merged" "$4"; fi
}

infer_jobs() {  # infer_jobs BENCH MODEL TP JOBS [option ...]: src.inference over every job of JOBS ("OUT DATA ADAPTER
  # ..." in threes; paths without spaces) in one model load; TP GPUs when GPUS are set; INFER_ARGS before the
  # stage's own options (a stage's sampling, seeds and prompts win over them)
  local bench=$1 model=$2 tp=$3 words jobs=() gpu=() k
  read -r -a words <<<"$4"; shift 4
  for ((k = 0; k < ${#words[@]}; k += 3)); do jobs+=(--job "${words[k]}" "${words[k+1]}" "${words[k+2]}"); done
  [ -n "$tp" ] && [ -n "${GPUS:-}" ] && gpu+=(--tensor_parallel_size "$tp")
  [ -n "${GPU_MEMORY_UTILIZATION:-}" ] && gpu+=(--gpu_memory_utilization "$GPU_MEMORY_UTILIZATION")
  # shellcheck disable=SC2086
  "$PY" -m src.inference --benchmark "$bench" --model_dir "$model" "${jobs[@]}" --quiet "${gpu[@]}" ${INFER_ARGS:-} "$@"
}

has_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU; }
status() {
  if [ "${PLAN:-0}" = 1 ]; then printf '%-22s %s\n' "$1" "$2"; return; fi
  printf '[%s] %-22s %s\n' "$(date +%H:%M:%S)" "$1" "$2" | tee -a "$RUN/logs/status.log"
}

load_recipe() {
  DEMO=0
  export DEMO
  [ -n "${RECIPE:-}" ] || return 0
  local file=$RECIPE
  [ -f "$file" ] || file=$ROOT/scripts/recipes/$RECIPE.env
  [ -f "$file" ] || die "recipe $RECIPE not found (scripts/recipes/: $(cd "$ROOT/scripts/recipes" && ls *.env | sed 's/\.env$//' | tr '\n' ' '))"
  [[ " $* " == *" $(basename "$file") "* ]] && DEMO=1
  if [ "$DEMO" = 1 ]; then [ -x "$PY" ] || bash "$ROOT/scripts/setup.sh" all; bash "$ROOT/scripts/setup.sh" models >/dev/null; fi
  export DEMO RECIPE
  set -a  # the recipe's settings reach the Python plans (load_plan) as the user's own do
  # shellcheck disable=SC1090
  source "$file"
  set +a
}

setup_processes() {  # after load_plan (GPUS, NNODES, NODE_RANK, THREADS checked): nodes other than 0 stop, the
  # multi-node settings exported, CPU threads set
  if [ "$NNODES" -gt 1 ] && [ "$NODE_RANK" != 0 ]; then  # only node 0 runs the pipeline; the others join its training steps
    echo "node $NODE_RANK: run 'bash scripts/train.sh ...' for each training step node 0 starts, or run only node 0 with HOSTS (docs/gpu.md)"; exit 0
  fi
  export NNODES NODE_RANK
  local v
  for v in NPROC MASTER_ADDR MASTER_PORT; do [ -n "${!v:-}" ] && export "${v?}"; done
  if [ -n "$GPUS" ]; then export CUDA_VISIBLE_DEVICES=$GPUS
  else
    # CPU: THREADS threads (a run's setting, recorded: float sums, and so the trained weights and the
    # greedy answers, change with the thread count; default every core), and OpenMP threads that sleep
    # instead of spinning while they wait; spinning threads fight any other busy process for the cores
    # (measured next to another PyTorch job: LoRA SFT 10.8x slower, PASSIVE 1.3x; docs/demo.md,
    # scripts/bench_contention.py)
    export OMP_NUM_THREADS=${THREADS:-${OMP_NUM_THREADS:-$(nproc)}} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
  fi
  return 0
}

check_stage_names() {  # REDO and STAGES must name real stages (and PLAN is 0 or 1)
  local s
  [[ "${PLAN:-0}" =~ ^[01]$ ]] || die "PLAN is 0 or 1, not '$PLAN' (PLAN=1 prints the run's commands and runs nothing)"
  for s in ${REDO:-} ${STAGES:-}; do [[ " $STAGE_LIST " == *" $s "* ]] || die "unknown stage '$s' (stages: $STAGE_LIST)"; done
}

# settings that never change what a stage writes: a resumed run may change them
RESUMABLE_SETTINGS="NODE_RANK MASTER_ADDR MASTER_PORT API_RPM API_CONCURRENCY LLM_RETRY_FAILED LLM_MAX_FAILED GPU_MEMORY_UTILIZATION"

empty_file() { mkdir -p "$(dirname "$1")" && : > "$1"; }  # an empty answer file (PLAN=1: nothing)

plan_cmd() {  # PLAN=1: a command of a stage, printed instead of run
  local out="" a
  for a in "$@"; do out+=" $(printf '%q' "$a")"; done
  echo "\$ python${out}"
}

plan_stage() {  # plan_stage NAME FUNCTION: the stage's commands, printed; files are neither read nor written
  echo "== $1"
  (
    set +e
    PY=plan_cmd
    export PLAN=1
    # writes are stubbed; the run scripts write other files only through these (or train.sh, which plans)
    tee() { cat; }; rm() { :; }; cp() { :; }; mkdir() { :; }; touch() { :; }; mv() { :; }; empty_file() { :; }
    die() { echo "(the plan stops here: this stage reads what earlier stages write: $*)"; exit 0; }
    "$2"
  ) 2>&1 | sed 's/^/  /' || true
}

start_run() {  # start_run LABEL
  local v config changed
  if [ "${PLAN:-0}" = 1 ]; then
    echo "PLAN of $1 (nothing runs; run folder $RUN; HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-})"
    for v in $KNOWN; do [ -n "${!v:-}" ] && printf '  %s=%q\n' "$v" "${!v}"; done
    return 0
  fi
  mkdir -p "$RUN/.done" "$RUN/logs"
  config=$(for v in $KNOWN; do
    case $v in FORCE|REDO|STAGES|RECIPE|PLAN) continue ;; esac
    printf '%s=%q\n' "$v" "${!v:-}"
  done)
  # compared as sets of lines: a version that lists the settings in another order changes nothing
  if [ -f "$RUN/config.env" ] && [ "$(sort <<<"$config")" != "$(sort "$RUN/config.env")" ]; then
    # a finished stage made with other settings must not be reused silently: say which differ and stop,
    # unless the run is told what to redo
    # settings in both records whose values differ (a setting new to this version, absent from an older
    # record, is no change); RESUMABLE_SETTINGS never count
    changed=$(diff <(printf '%s\n' "$config") "$RUN/config.env" | sed -n 's/^[<>] \([A-Z0-9_]*\)=.*/\1/p' | sort | uniq -d \
      | grep -vxF -f <(tr ' ' '\n' <<<"$RESUMABLE_SETTINGS") | tr '\n' ' ' || true)
    if [ -n "$changed" ] && [ -n "$(ls -A "$RUN/.done")" ] && [ "${FORCE:-0}" != 1 ] && [ -z "${REDO:-}" ]; then
      die "settings changed since the last run in $RUN: ${changed% } (earlier: $RUN/config.env). Finished stages would be
reused as they are. Redo from the first stage they affect (REDO=<stage>: it and every later stage run again), redo
everything (FORCE=1), or use another RUN"
    fi
    mv "$RUN/config.env" "$RUN/logs/config.$(date +%Y%m%d-%H%M%S).env"
    status settings "changed since the last run (earlier settings in $RUN/logs/config.*.env)"
  fi
  printf '%s\n' "$config" > "$RUN/config.env"
  [ -z "${PLAN_MODULE:-}" ] || "$PY" -m "$PLAN_MODULE" write "$RUN/config.json"
  status start "run dir $RUN ($1)"
}

RERUN=0  # once a stage runs, every later stage runs too
stage() {  # stage NAME FUNCTION
  local name=$1 fn=$2
  if [ -n "${STAGES:-}" ] && [[ " $STAGES " != *" $name "* ]]; then return; fi
  if [ "${PLAN:-0}" = 1 ]; then plan_stage "$name" "$fn"; return; fi
  local redo=0
  if [ "${FORCE:-0}" = 1 ] || [[ " ${REDO:-} " == *" $name "* ]]; then redo=1; fi
  if [ -f "$RUN/.done/$name" ] && [ "$RERUN" = 0 ] && [ "$redo" = 0 ]; then
    status "$name" "done before (skipped)"; return
  fi
  RERUN=1
  rm -f "$RUN/.done/$name"
  # asked to redo: its outputs go first. Otherwise (an interrupted stage, or one after a redone
  # stage) they stay: inference resumes or regenerates by its records, training overwrites.
  if [ "$redo" = 1 ]; then stage_outputs "$name" | while read -r p; do rm -rf "$p"; done; fi
  status "$name" "running (log: $RUN/logs/$name.log)"
  local t0=$SECONDS rc=0
  # a subshell with errexit on: any failing command fails the stage (errexit is ignored in an `if`)
  set +e
  (set -e; "$fn") > >(tee -a "$RUN/logs/$name.log" | grep --line-buffered -E "$STAGE_SHOW|^error") 2>>"$RUN/logs/$name.log"
  rc=$?
  set -e
  if [ "$rc" != 0 ]; then
    status "$name" "FAILED after $((SECONDS - t0))s; see $RUN/logs/$name.log"; tail -5 "$RUN/logs/$name.log" >&2; exit 1
  fi
  touch "$RUN/.done/$name"
  status "$name" "done in $((SECONDS - t0))s"
}
