#!/usr/bin/env bash
# One training step of the method with LLaMA-Factory (in .venv-train).
#
#   bash scripts/train.sh STAGE DATASET BASE_MODEL OUTPUT_DIR [ADAPTER] [key=value ...]
#
# STAGE      weak_sft | weak_sft_full | ceiling_sft | full_weak_sft | stage1_sft   (LoRA SFT unless _full)
#            dpo | orpo     (stage II; ADAPTER = the stage I adapter, which becomes the reference model)
#            export         (merge: ADAPTER = "STAGE1_ADAPTER[,STAGE2_ADAPTER]"; DATASET is ignored, use -)
# DATASET    a name in $DATASET_DIR/dataset_info.json (default data/llama_factory), e.g. gsm8k_1, gsm8k_2
# ADAPTER    optional; '-' for none
# key=value  any LLaMA-Factory setting, overriding the YAML in scripts/configs/
#
# GPUs: GPUS=0,1,2,3 runs `torchrun --nproc_per_node 4` with DeepSpeed ZeRO-3
# (scripts/configs/ds_z3_config.json); several nodes: also NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT.
# Without GPUS it runs as one process (CPU or the one visible GPU).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 4 ]; then sed -n 2,17p "$0"; exit 2; fi
STAGE=$1 DATASET=$2 BASE=$3 OUT=$4; shift 4
ADAPTER=-
if [ $# -gt 0 ] && [[ "$1" != *=* ]]; then ADAPTER=$1; shift; fi
TPY=${W2S_TRAIN_VENV:-$ROOT/.venv-train}/bin/python
DATASET_DIR=${DATASET_DIR:-data/llama_factory}

case "$STAGE" in
  weak_sft|ceiling_sft|full_weak_sft|stage1_sft) CONFIG=sft_lora.yaml ;;
  weak_sft_full) CONFIG=sft_full.yaml ;;
  dpo) CONFIG=stage2_dpo.yaml ;;
  orpo) CONFIG=stage2_orpo.yaml ;;
  export) CONFIG=export.yaml ;;
  *) echo "error: unknown stage '$STAGE' (weak_sft, weak_sft_full, ceiling_sft, full_weak_sft, stage1_sft, dpo, orpo, export)" >&2; exit 2 ;;
esac
if [[ "$STAGE" == dpo || "$STAGE" == orpo ]] && [ "$ADAPTER" = - ]; then
  echo "error: stage '$STAGE' starts from the stage I adapter: give ADAPTER" >&2; exit 2
fi
[ -x "$TPY" ] || { echo "error: no training environment at $TPY; run: bash scripts/setup.sh train" >&2; exit 2; }

ARGS=("model_name_or_path=$BASE")
[ "$ADAPTER" != - ] && ARGS+=("adapter_name_or_path=$ADAPTER")
if [ "$STAGE" = export ]; then
  ARGS+=("export_dir=$OUT")
  EXTRA=(--export)
else
  ARGS+=("dataset=$DATASET" "dataset_dir=$DATASET_DIR" "output_dir=$OUT")
  EXTRA=()
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} TOKENIZERS_PARALLELISM=false

if [ -n "${GPUS:-}" ]; then
  NPROC=$(awk -F, '{print NF}' <<<"$GPUS")
  CUDA_VISIBLE_DEVICES=$GPUS "$(dirname "$TPY")/torchrun" --nproc_per_node "$NPROC" --nnodes "${NNODES:-1}" \
    --node_rank "${NODE_RANK:-0}" --master_addr "${MASTER_ADDR:-127.0.0.1}" --master_port "${MASTER_PORT:-29500}" \
    "$ROOT/scripts/train.py" "${EXTRA[@]}" "$ROOT/scripts/configs/$CONFIG" "${ARGS[@]}" \
    "deepspeed=$ROOT/scripts/configs/ds_z3_config.json" "$@"
else
  "$TPY" "$ROOT/scripts/train.py" "${EXTRA[@]}" "$ROOT/scripts/configs/$CONFIG" "${ARGS[@]}" "$@"
fi

if [ "$STAGE" = export ]; then
  echo "[train] evaluate: .venv/bin/python -m src.inference --model_dir $OUT --dev_set <dev_set> --output_file_name <dir>/output.jsonl"
elif [[ "$STAGE" == dpo || "$STAGE" == orpo ]]; then
  echo "[train] this adapter applies on top of base + $ADAPTER; merge both, then evaluate:"
  echo "        bash scripts/train.sh export - $BASE <merged_dir> $ADAPTER,$OUT"
else
  echo "[train] evaluate: .venv/bin/python -m src.inference --model_dir $BASE --adapter $OUT --dev_set <dev_set> --output_file_name <dir>/output.jsonl"
fi
