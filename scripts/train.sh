#!/usr/bin/env bash
# One training step of the method with LLaMA-Factory (in .venv-train).
#
#   bash scripts/train.sh STAGE DATASET BASE_MODEL OUTPUT_DIR [ADAPTER] [key=value ...]
#
# STAGE      weak_sft | weak_sft_full | ceiling_sft | full_weak_sft | stage1_sft   (LoRA SFT unless _full)
#            dpo | orpo     (stage II: BASE_MODEL = the merged M_plus and no ADAPTER (the pipeline's
#                            default), or BASE_MODEL = the base and ADAPTER = the stage I adapter)
#            alice_sft      (Alice: full-parameter SFT in the model's chat template; ZeRO-2 on GPUs)
#            alice_sft_lora (the same with LoRA)
#            guiding_sft    (the Guiding study: full-parameter SFT, the paper's settings, either stage)
#            guiding_sft_lora (the same with LoRA)
#            export         (merge: ADAPTER = "ADAPTER1[,ADAPTER2]"; DATASET is ignored, use -)
# DATASET    a name in $DATASET_DIR/dataset_info.json (default data/llama_factory), e.g. gsm8k_1, gsm8k_2
# ADAPTER    optional; '-' for none
# key=value  any LLaMA-Factory setting, overriding the YAML in scripts/configs/
#
# Processes (docs/gpu.md):
#   GPUS=0,1,2,3    torchrun, one process per GPU, DeepSpeed ZeRO-3, bf16 (scripts/configs/ds_z3_config.json;
#                   Alice's stages: ZeRO-2, ds_z2_config.json)
#   no GPUS         all visible GPUs as above when there are several; one process on one GPU or the CPU
#   NPROC=2         on a machine without GPUs: 2 CPU processes (torchrun, gloo; tests use it)
#   NNODES=2 MASTER_ADDR=host [MASTER_PORT=29500] HOSTS=hostfile   several nodes (shared filesystem): node 0
#                   starts this same step on the hosts of HOSTS (one per line: nodes 1, 2, ... in order)
#                   through REMOTE_SHELL (default ssh), then its own part; each node's torchrun joins
#                   MASTER_ADDR:MASTER_PORT. Without HOSTS, start it on every node with its NODE_RANK.
#   DDP_TIMEOUT     seconds a collective waits for the slowest rank (default 7200: rank 0 tokenising a
#                   large set, a ZeRO-3 save of a 70B model; a hung rank fails the step after that)
# Export always runs as one process.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 4 ]; then sed -n 2,29p "$0"; exit 2; fi
STEP_ARGS=("$@")  # this step, as node 0 starts it on the other nodes
STAGE=$1 DATASET=$2 BASE=$3 OUT=$4; shift 4
ADAPTER=-
if [ $# -gt 0 ] && [[ "$1" != *=* ]]; then ADAPTER=$1; shift; fi
TPY=${W2S_TRAIN_VENV:-$ROOT/.venv-train}/bin/python
DATASET_DIR=${DATASET_DIR:-data/llama_factory}
die() { echo "error: $*" >&2; exit 2; }

case "$STAGE" in
  weak_sft|ceiling_sft|full_weak_sft|stage1_sft) CONFIG=sft_lora.yaml ;;
  weak_sft_full) CONFIG=sft_full.yaml ;;
  alice_sft|alice_sft_lora) CONFIG=alice_sft.yaml ;;
  guiding_sft|guiding_sft_lora) CONFIG=guiding_sft.yaml ;;
  dpo) CONFIG=stage2_dpo.yaml ;;
  orpo) CONFIG=stage2_orpo.yaml ;;
  export) CONFIG=export.yaml ;;
  *) die "unknown stage '$STAGE' (weak_sft, weak_sft_full, ceiling_sft, full_weak_sft, stage1_sft, alice_sft, alice_sft_lora, guiding_sft, guiding_sft_lora, dpo, orpo, export)" ;;
esac
CONFIGS=("$ROOT/scripts/configs/$CONFIG")
[[ "$STAGE" == *_sft_lora ]] && CONFIGS+=("$ROOT/scripts/configs/lora.yaml")  # its LoRA settings over the stage's config
[ -x "$TPY" ] || [ "${PLAN:-0}" = 1 ] || die "no training environment at $TPY; run: bash scripts/setup.sh train"

ARGS=("model_name_or_path=$BASE")
[ "$ADAPTER" != - ] && ARGS+=("adapter_name_or_path=$ADAPTER")
DS_CONFIG=ds_z3_config.json
case "$STAGE" in alice_sft*) DS_CONFIG=ds_z2_config.json ;; esac  # the Alice recipe: ZeRO-2, as its paper
if [ "$STAGE" = export ]; then
  ARGS+=("export_dir=$OUT")
  EXTRA=(--export)
else
  ARGS+=("dataset=$DATASET" "dataset_dir=$DATASET_DIR" "output_dir=$OUT")
  EXTRA=()
fi
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} TOKENIZERS_PARALLELISM=false

visible_gpus() {  # the GPUs this process may use: CUDA_VISIBLE_DEVICES if set, else every GPU nvidia-smi lists
  local n=0
  if [ -n "${CUDA_VISIBLE_DEVICES+x}" ]; then n=$(awk -F, '{print ($0 == "" ? 0 : NF)}' <<<"$CUDA_VISIBLE_DEVICES")
  elif command -v nvidia-smi >/dev/null 2>&1; then n=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true); fi
  echo "${n:-0}"
}
NGPU=$(visible_gpus)
if [ -z "${GPUS:-}" ] && [ "$NGPU" -gt 1 ] && [ "$STAGE" != export ]; then
  GPUS=${CUDA_VISIBLE_DEVICES:-$(seq -s, 0 $((NGPU - 1)))}
  echo "[train] $NGPU GPUs visible and GPUS not set: training on all of them (GPUS=$GPUS)" >&2
fi
NNODES=${NNODES:-1}
if [ "$NNODES" -gt 1 ] && [ -z "${MASTER_ADDR:-}" ]; then die "NNODES=$NNODES needs MASTER_ADDR (the address of node 0)"; fi

DDP_TIMEOUT=${DDP_TIMEOUT:-7200}
[[ "$DDP_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "DDP_TIMEOUT is a number of seconds, not '$DDP_TIMEOUT'"

OTHERS=()
start_other_nodes() {  # node 0 with HOSTS: this step on nodes 1..NNODES-1 through REMOTE_SHELL (pids in OTHERS)
  local hosts k v cmd
  [ -f "$HOSTS" ] || die "HOSTS=$HOSTS is not a file (one host per line: nodes 1 to $((NNODES - 1)))"
  mapfile -t hosts < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$HOSTS" | grep -v '^$')
  [ "${#hosts[@]}" -ge $((NNODES - 1)) ] || die "HOSTS lists ${#hosts[@]} host(s); NNODES=$NNODES needs $((NNODES - 1)) besides this one"
  for k in $(seq 1 $((NNODES - 1))); do
    cmd="cd $(printf %q "$ROOT") && env NODE_RANK=$k HOSTS="
    for v in NNODES MASTER_ADDR MASTER_PORT DATASET_DIR GPUS NPROC DDP_TIMEOUT OMP_NUM_THREADS HF_HUB_OFFLINE W2S_TRAIN_VENV; do
      [ -n "${!v:-}" ] && cmd+=" $v=$(printf %q "${!v}")"
    done
    cmd+=" bash scripts/train.sh$(printf ' %q' "${STEP_ARGS[@]}")"
    echo "[train] node $k (${hosts[k-1]}): $cmd" >&2
    ${REMOTE_SHELL:-ssh} "${hosts[k-1]}" "$cmd" > "$OUT.node$k.log" 2>&1 &
    OTHERS+=($!)
  done
}

launch() {  # launch NPROC ARGS...: torchrun on one node (a free port) or several (MASTER_ADDR:MASTER_PORT)
  local n=$1; shift
  local where=(--standalone) pid rc=0
  if [ "$NNODES" -gt 1 ]; then
    where=(--nnodes "$NNODES" --node_rank "${NODE_RANK:-0}" --master_addr "$MASTER_ADDR" --master_port "${MASTER_PORT:-29500}")
    if [ -n "${HOSTS:-}" ] && [ "${NODE_RANK:-0}" = 0 ]; then mkdir -p "$(dirname "$OUT")"; start_other_nodes; fi
  fi
  "$(dirname "$TPY")/torchrun" --nproc_per_node "$n" "${where[@]}" "$ROOT/scripts/train.py" "$@" || rc=$?
  for pid in "${OTHERS[@]}"; do
    wait "$pid" || { [ "$rc" != 0 ] || rc=1; echo "[train] a node failed: see $OUT.node*.log" >&2; }
  done
  [ "${#OTHERS[@]}" = 0 ] || echo "[train] the other nodes' logs: $OUT.node*.log" >&2
  return "$rc"
}

if [ "${PLAN:-0}" = 1 ]; then  # print the launch and the resolved config; train nothing
  if [ "$STAGE" = export ]; then n=1; elif [ -n "${GPUS:-}" ]; then n=$(awk -F, '{print NF}' <<<"$GPUS"); else n=${NPROC:-1}; fi
  extra=()
  [ -n "${GPUS:-}" ] && [ "$STAGE" != export ] && extra=("deepspeed=$ROOT/scripts/configs/$DS_CONFIG" bf16=true)
  echo "\$ bash scripts/train.sh $STAGE $DATASET $BASE $OUT $ADAPTER $*   # $n process(es) per node x $NNODES node(s)"
  PPY=$TPY; [ -x "$PPY" ] || PPY=$ROOT/.venv/bin/python
  WORLD_SIZE=$((n * NNODES)) "$PPY" "$ROOT/scripts/train.py" --plan "${EXTRA[@]}" "${CONFIGS[@]}" "${ARGS[@]}" "${extra[@]}" "$@"
  exit 0
fi
# the launch: one process (export; one device), torchrun over the GPUs, or several CPU processes
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}  # one OpenMP thread per rank unless THREADS said otherwise
MODE=single N=1 LAUNCH_ARGS=()
if [ "$STAGE" = export ]; then
  LAUNCH_ARGS=("${EXTRA[@]}")  # LLaMA-Factory's export parser takes no training keys
elif [ -n "${GPUS:-}" ]; then
  MODE=torchrun N=$(awk -F, '{print NF}' <<<"$GPUS")
  export CUDA_VISIBLE_DEVICES=$GPUS
  # bf16 compute (a fp16 checkpoint such as Llama-2 trains without fp16's loss scaling), ZeRO, a long
  # collective timeout (rank 0 may tokenise a large set while the others wait)
  LAUNCH_ARGS=("deepspeed=$ROOT/scripts/configs/$DS_CONFIG" bf16=true "ddp_timeout=$DDP_TIMEOUT")
elif [ "${NPROC:-1}" -gt 1 ] || [ "$NNODES" -gt 1 ]; then
  [ "$NGPU" = 0 ] || die "NPROC is for CPU processes; on GPUs set GPUS"
  # several CPU processes (gloo), on this node or several: the distributed code path without CUDA
  MODE=torchrun N=${NPROC:-1} LAUNCH_ARGS=(ddp_backend=gloo use_cpu=true "ddp_timeout=$DDP_TIMEOUT")
elif [ "$NGPU" -ge 1 ]; then LAUNCH_ARGS=(bf16=true)
fi
STEP=("${CONFIGS[@]}" "${ARGS[@]}" "${LAUNCH_ARGS[@]}" "$@")

# the step's record (OUT/training.meta.json: src/provenance.py): a step trained before on the same data,
# models, settings, training code and processes is skipped; a changed one's old output is set aside
# (OUT.replaced, removed once the new step is recorded). Node 0 alone decides: the other nodes of a
# multi-node step join whatever node 0 starts (with HOSTS, node 0 starts them only when it trains)
RECORD=(--threads "$OMP_NUM_THREADS")
if [ -n "${GPUS:-}" ] || [ "$NGPU" -ge 1 ]; then RECORD=(); fi  # float sums on GPUs do not follow the CPU threads
WORLD=$((N * NNODES)) rc=0
[ "$STAGE" != export ] || WORLD=1  # a merge is one process
if [ "${NODE_RANK:-0}" = 0 ]; then
  WORLD_SIZE=$WORLD "$TPY" "$ROOT/scripts/train.py" --skip_if_trained "${RECORD[@]}" "${STEP[@]}" || rc=$?
  [ "$rc" = 0 ] && exit 0
  [ "$rc" = 10 ] || exit "$rc"
fi

if [ "$MODE" = torchrun ]; then launch "$N" "${STEP[@]}"; else "$TPY" "$ROOT/scripts/train.py" "${STEP[@]}"; fi
# node 0 records the finished step (the other nodes share its filesystem)
[ "${NODE_RANK:-0}" != 0 ] || WORLD_SIZE=$WORLD "$TPY" "$ROOT/scripts/train.py" --record "${RECORD[@]}" "${STEP[@]}"

if [ "$STAGE" = export ]; then
  echo "[train] evaluate: .venv/bin/python -m src.inference --model_dir $OUT --dev_set <dev_set> --output_file_name <dir>/output.jsonl"
else
  echo "[train] evaluate: .venv/bin/python -m src.inference --model_dir $BASE --adapter $OUT --dev_set <dev_set> --output_file_name <dir>/output.jsonl"
fi
