#!/usr/bin/env bash
# Before spending GPU-days: a few minutes on the GPUs you will use, a table of pass / fail.
#
#   bash scripts/gpu_check.sh                  # every visible GPU
#   GPUS=0,1 bash scripts/gpu_check.sh         # these
#   MODELS="/models/Llama-2-7b-hf /models/Llama-2-70b-hf" bash scripts/gpu_check.sh   # also check their tokenizers
#   bash scripts/gpu_check.sh --cpu            # rehearse every check on CPU (1 vLLM process, 2 gloo training processes)
#
# Checks: the NVIDIA driver against the locked CUDA; vLLM with tensor parallelism over the GPUs,
# base and LoRA requests mixed in one batch == each alone == transformers (float32, greedy); the
# model's own bf16 kernels against float32, seeded sampling repeatable, tokens/s; chat inference
# stopping at the template's turn end; the tensor-parallel size each model allows; data-parallel
# replicas == one process; LoRA SFT, DPO (first loss ln 2 on the merged model), ORPO and export with
# torchrun + ZeRO-3 in bf16; Alice's full SFT with ZeRO-2 and its 16-bit save; the exported model ==
# base + adapters; both environments tokenize a prompt of each model identically. Every input is a
# model the setup fetched (.cache/models) or a folder in MODELS: it runs on offline nodes.
# On a machine without a GPU (and without --cpu) it says so and exits 0.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=.venv/bin/python
TPY=.venv-train/bin/python
CPU=0; [ "${1:-}" = --cpu ] && CPU=1
has_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU; }
if [ "$CPU" = 0 ] && ! has_gpu; then echo "gpu_check: no NVIDIA GPU on this machine; nothing to check (bash scripts/gpu_check.sh --cpu rehearses the checks on CPU)"; exit 0; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXX")
bash scripts/setup.sh all > "$WORK/setup.log" 2>&1 || { echo "gpu_check: setup failed; see $WORK/setup.log"; exit 1; }
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
RESULTS=()
record() { RESULTS+=("$(printf '| %-58s | %-4s | %s |' "$1" "$2" "$3")"); }
check() {  # check NAME COMMAND...: pass when the command exits 0; its last line is the detail
  local name=$1 out; shift
  if out=$("$@" 2>"$WORK/err.log"); then record "$name" PASS "$(tail -1 <<<"$out" | cut -c1-170)"
  else record "$name" FAIL "$(tail -1 <<<"$out$(tail -2 "$WORK/err.log")" | cut -c1-170) (log: $WORK)"; fi
}

if [ "$CPU" = 1 ]; then
  NGPU=1; TP=1; DP=2; TRAIN_ENV=(NPROC=2); DTYPE_NOTE="CPU, gloo"; ZERO2_NOTE="CPU, gloo"; SAVE_DTYPE=float32
else
  GPUS=${GPUS:-$(seq -s, 0 $(( $(nvidia-smi -L | grep -c '^GPU') - 1 )))}
  NGPU=$(awk -F, '{print NF}' <<<"$GPUS")
  TP=1; for t in 2 4; do [ "$NGPU" -ge "$t" ] && TP=$t; done   # gemma-3-270m has 4 attention heads
  export CUDA_VISIBLE_DEVICES=$GPUS
  TRAIN_ENV=(GPUS="$GPUS"); DTYPE_NOTE="$NGPU GPUs, ZeRO-3, bf16"; ZERO2_NOTE="$NGPU GPUs, ZeRO-2, bf16"; SAVE_DTYPE=bfloat16
  DP=$NGPU  # gemma-3-270m at tensor-parallel size 1: one replica per GPU
  v=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)
  need=$(grep -oE 'CUDA_DRIVER_MIN=[0-9]+' scripts/setup.sh | cut -d= -f2)
  if [ "${v%%.*}" -ge "$need" ]; then record "NVIDIA driver for the locked CUDA 13.0" PASS "driver $v >= $need"
  else record "NVIDIA driver for the locked CUDA 13.0" FAIL "driver $v < $need"; fi
fi

GEMMA=$ROOT/.cache/models/gemma3-270m
check "LoRA adapter for the vLLM check" $PY scripts/gpu_check.py adapter "$GEMMA" "$WORK/lora"
check "vLLM TP=$TP: mixed base+LoRA batch == alone == transformers" $PY scripts/gpu_check.py vllm "$GEMMA" "$WORK/lora" "$TP"

QWEN=$ROOT/.cache/models/qwen2.5-coder-0.5b
check "vLLM bf16 greedy ~ float32; seeded sampling repeats (tok/s)" $PY scripts/gpu_check.py sampling "$GEMMA"
check "chat inference stops at the template's turn end" $PY scripts/gpu_check.py chat "$QWEN"
for m in "$GEMMA" "$QWEN" ${MODELS:-}; do
  t=$($PY -m src.engines tp "$m" "$NGPU" 2>"$WORK/err.log") && record "tensor-parallel size of $(basename "$m") on $NGPU GPU(s)" PASS "$t" \
    || record "tensor-parallel size of $(basename "$m") on $NGPU GPU(s)" FAIL "$(tail -1 "$WORK/err.log")"
done

# training on a tiny random model: SFT, merged M_plus, DPO from it, export, compare
$PY -m src.models tiny "$WORK/tiny" >/dev/null 2>&1
$PY scripts/gpu_check.py toy-data "$WORK/lf" >/dev/null
export DATASET_DIR=$WORK/lf
ARGS=(per_device_train_batch_size=4 gradient_accumulation_steps=1 logging_steps=1 num_train_epochs=1)
check "LoRA SFT ($DTYPE_NOTE)" env "${TRAIN_ENV[@]}" bash scripts/train.sh stage1_sft check_sft "$WORK/tiny" "$WORK/sft" "${ARGS[@]}"
check "export base + SFT (one process)" bash scripts/train.sh export - "$WORK/tiny" "$WORK/mplus" "$WORK/sft"
check "DPO on the merged model ($DTYPE_NOTE)" env "${TRAIN_ENV[@]}" bash scripts/train.sh dpo check_pairs "$WORK/mplus" "$WORK/dpo" - "${ARGS[@]}" learning_rate=0.05
first=$(head -1 "$WORK/dpo/trainer_log.jsonl" 2>/dev/null | $PY -c "import json,sys; print(json.loads(sys.stdin.read())['loss'])" 2>/dev/null)
if $PY -c "import math,sys; sys.exit(abs(float('${first:-nan}') - math.log(2)) > 1e-3)" 2>/dev/null; then
  record "DPO first loss = ln 2 (reference = merged M_plus)" PASS "first loss $first"
else record "DPO first loss = ln 2 (reference = merged M_plus)" FAIL "first loss ${first:-missing}"; fi
check "ORPO on the merged model ($DTYPE_NOTE)" env "${TRAIN_ENV[@]}" bash scripts/train.sh orpo check_pairs "$WORK/mplus" "$WORK/orpo" - "${ARGS[@]}"
check "full SFT, Alice's recipe ($ZERO2_NOTE)" env "${TRAIN_ENV[@]}" bash scripts/train.sh alice_sft check_sft "$WORK/tiny" "$WORK/full" "${ARGS[@]}" template=auto
check "the full SFT's saved model loads in $SAVE_DTYPE" $TPY scripts/gpu_check.py saved "$WORK/full" "$SAVE_DTYPE"
# data-parallel replicas: one engine per GPU (on CPU two, one thread each) write what one process writes
dp() { OMP_NUM_THREADS=1 $PY -m src.inference --model_dir "$GEMMA" --data_file "$WORK/lf/questions.jsonl" --output_file_name "$WORK/$1/output.jsonl" \
  --max_tokens 24 --no_eval --quiet --tensor_parallel_size 1 --data_parallel "$2" >>"$WORK/dp.log" 2>&1; }
if dp dp1 1 && dp dpn "$DP"; then check "data-parallel replicas ($DP) == one process" $PY scripts/gpu_check.py same-files "$WORK/dp1/output.jsonl" "$WORK/dpn/output.jsonl"
else record "data-parallel replicas ($DP) == one process" FAIL "src.inference failed (log: $WORK/dp.log)"; fi
check "export base + SFT + DPO" bash scripts/train.sh export - "$WORK/tiny" "$WORK/final" "$WORK/sft,$WORK/dpo"
check "exported model == base + adapters (peft)" $TPY scripts/gpu_check.py merged "$WORK/tiny" "$WORK/final" "$WORK/sft,$WORK/dpo"

# tokenizers: the same ids in the inference and the training environment
models=("$ROOT/.cache/models/smollm2-135m" "$GEMMA" ${MODELS:-})
a=$($PY scripts/gpu_check.py tokenize "${models[@]}" 2>/dev/null); b=$($TPY scripts/gpu_check.py tokenize "${models[@]}" 2>/dev/null)
if [ -n "$a" ] && [ "$a" = "$b" ]; then record "same token ids in both environments (${#models[@]} models)" PASS "transformers 5 and 4.57"
else record "same token ids in both environments (${#models[@]} models)" FAIL "ids differ or a tokenizer failed to load"; fi

echo
echo "| check | result | detail |"
echo "|---|---|---|"
printf '%s\n' "${RESULTS[@]}"
fails=$(printf '%s\n' "${RESULTS[@]}" | grep -c '| FAIL |')
echo; [ "$fails" = 0 ] && echo "gpu_check: all ${#RESULTS[@]} checks passed" || echo "gpu_check: $fails of ${#RESULTS[@]} checks FAILED (files in $WORK)"
[ "$fails" = 0 ]
