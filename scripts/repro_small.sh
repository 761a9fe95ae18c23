#!/usr/bin/env bash
# The laptop-scale reproduction: the offline demo's pipeline with larger sets, both stage I rounds and
# several seeds, then a summary across seeds (mean, sd, every seed's PGR, a plot).
#
#   make repro-small                       # = bash scripts/repro_small.sh
#   SEEDS="1 2 3 4 5" bash scripts/repro_small.sh
#
# Each seed is a resumable run in runs/repro_small/seed<N> (rerun to continue); the summary is
# runs/repro_small/summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"1 2 3"}
OUT=${REPRO_DIR:-runs/repro_small}
t0=$SECONDS
for seed in $SEEDS; do
  RECIPE=repro_small SEED=$seed RUN=$OUT/seed$seed bash run_gsm8k.sh
done
.venv/bin/python -m src.report_seeds "$OUT"
echo "[repro-small] $(echo $SEEDS | wc -w) seeds in $(( (SECONDS - t0) / 60 )) min"
