"""Summary of repeated runs (the same settings, different seeds): ``python -m src.report_seeds DIR``
reads DIR/seed*/report.json (written by src.report) and writes DIR/summary.md and DIR/summary.png.

For every model: test accuracy and PGR as mean, standard deviation and every seed's value, and in
how many seeds the model's paired 95 % interval against full weak fine-tuning lies above 0.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path


def load_runs(root: Path) -> dict[str, dict]:
    runs = {}
    for p in sorted(root.glob("seed*/report.json"), key=lambda p: int(p.parent.name[4:]) if p.parent.name[4:].isdigit() else 0):
        runs[p.parent.name] = json.loads(p.read_text())["models"]
    if not runs:
        raise FileNotFoundError(f"{root}: no seed*/report.json (run the seeds first, each with src.report)")
    return runs


def _stats(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summarize(root: Path) -> str:
    runs = load_runs(root)
    names = [n for n in next(iter(runs.values())) if all(n in r for r in runs.values())]
    label = {n: next(iter(runs.values()))[n]["label"] for n in names}
    seeds = list(runs)
    lines = [f"# Repeated runs: {root.name}", "", f"{len(seeds)} runs: {', '.join(seeds)}. "
             "PGR = (model - weak floor) / (strong ceiling - weak floor), per run.", "",
             "| model | accuracy mean | sd | PGR mean | sd | PGR per run | better than full weak FT (runs) |",
             "|---|---:|---:|---:|---:|---|---:|"]
    pgr_rows = []
    for n in names:
        accs = [100 * runs[s][n]["accuracy"] for s in seeds]
        pgrs = [runs[s][n]["pgr"] for s in seeds]
        a_mean, a_sd = _stats(accs)
        if all(p is not None for p in pgrs):
            p_mean, p_sd = _stats(pgrs)
            p_cols = f"{p_mean:.2f} | {p_sd:.2f} | " + ", ".join(f"{p:.2f}" for p in pgrs)
            if n not in ("weak_test", "eval_ceiling"):
                pgr_rows.append((label[n], pgrs))
        else:
            p_cols = "- | - | " + ", ".join("-" if p is None else f"{p:.2f}" for p in pgrs)
        cis = [runs[s][n].get("vs_full_weak_ci") for s in seeds]
        better = "-" if n in ("weak_test", "eval_ceiling", "eval_full_weak", "strong_icl_test") or None in cis else \
            f"{sum(ci[0] > 0 for ci in cis)} of {len(cis)}"
        lines.append(f"| {label[n]} | {a_mean:.1f} | {a_sd:.1f} | {p_cols} | {better} |")
    if pgr_rows:
        plot(pgr_rows, seeds, root / "summary.png")
        lines += ["", "![PGR per run](summary.png)"]
    return "\n".join(lines) + "\n"


def plot(rows, seeds, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(rows) + 1.4))
    for i, (_, pgrs) in enumerate(rows[::-1]):
        ax.scatter(pgrs, [i] * len(pgrs), c="#37a", s=22, zorder=3)
        m = statistics.fmean(pgrs)
        ax.plot([m, m], [i - 0.3, i + 0.3], c="k", lw=2)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows[::-1]])
    ax.axvline(0, c="k", lw=0.8)
    ax.axvline(1, c="k", lw=0.8, ls="--")
    ax.set_xlabel(f"PGR: one dot per run ({len(seeds)} runs), bar = mean")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.report_seeds", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", help="folder of the runs: DIR/seed<N>/report.json")
    args = ap.parse_args(argv)
    try:
        text = summarize(Path(args.dir))
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    (Path(args.dir) / "summary.md").write_text(text)
    print(text)
    print(f"[report] written to {Path(args.dir) / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
