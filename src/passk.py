"""pass@k over sampled answers: a question counts when any of its k samples is correct.

    python -m src.passk <data_dir> [--seed_start 0 --seed_end 10]

``passk`` is the original's measure (k = the number of sample files). ``passk_curve`` gives the
unbiased estimator of Chen et al. (2021) for every k from 1 to N, for plots.
"""
from __future__ import annotations

import argparse
import sys
from math import comb

from .construct_training_data import _check_aligned, sample_files
from .jsonio import read_jsonl


def _load(data_dir, seed_start, seed_end):
    files = sample_files(data_dir, seed_start, seed_end)
    runs = [read_jsonl(f, required=("id", "result")) for f in files]
    _check_aligned(list(zip(files, runs)))
    return runs


def passk(data_dir, seed_start=0, seed_end=10) -> float:
    runs = _load(data_dir, seed_start, seed_end)
    n = len(runs[0])
    if all(r["result"] is None for run in runs for r in run):
        print(f"data_dir: {data_dir}\nlen(data): {n}\npass@{len(runs)}: no gold answers")
        return None
    hit = sum(any(bool(r["result"]) for r in samples) for samples in zip(*runs))
    print(f"data_dir: {data_dir}\nlen(data): {n}\npass@{len(runs)}: {hit / n:.4f}")
    return hit / n


def passk_curve(data_dir, seed_start=0, seed_end=10) -> dict[int, float]:
    """Unbiased pass@k for k = 1..N: mean over questions of 1 - C(N-c, k) / C(N, k)."""
    runs = _load(data_dir, seed_start, seed_end)
    N = len(runs)
    correct = [sum(bool(r["result"]) for r in samples) for samples in zip(*runs)]
    return {k: sum(1 - comb(N - c, k) / comb(N, k) for c in correct) / len(correct) for k in range(1, N + 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.passk", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir")
    ap.add_argument("--seed_start", type=int, default=0)
    ap.add_argument("--seed_end", type=int, default=10)
    args = ap.parse_args(argv)
    from .cli import run_cli
    return run_cli(lambda: passk(args.data_dir, args.seed_start, args.seed_end))


if __name__ == "__main__":
    sys.exit(main())
