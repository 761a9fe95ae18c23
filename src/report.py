"""The report of a run: ``python -m src.report RUN_DIR`` writes RUN_DIR/report.md and PNG plots.

    python -m src.report runs/gsm8k_demo
    python -m src.report ../shared/upstream        # data statistics of the original's released files

Contents: test accuracy of every model (weak floor, strong few-shot, strong ceiling, full weak
fine-tuning, stage I iter1/iter2, DPO, ORPO) with the performance gap recovered
PGR = (model - weak floor) / (strong ceiling - weak floor); stage I data (kept questions, accuracy of
the kept weak and ICL answers against gold); stage II (pairs, chosen-correct rate, majority
confidence against accuracy); pass@k of the sampled answers. Every number is computed from the
run's files, with the same grader the run used.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import benchmarks
from .layout import EVALUATIONS
from .eval import extract_pred, normalize_final_answer
from .jsonio import read_json_list, read_jsonl, write_json
from .provenance import run_plan

MODELS = EVALUATIONS  # (label, outputs/<name>), defined with the run layout


def _metrics(run: Path, name: str) -> dict | None:
    p = run / "outputs" / name / "metrics.json"
    return json.loads(p.read_text()) if p.is_file() else None


def _share(results) -> float | None:
    """Share of graded results that are correct; None when nothing has gold (OlympicArena's train_2)."""
    graded = [r for r in results if r is not None]
    return sum(bool(r) for r in graded) / len(graded) if graded else None


def _rate(rows: dict, ids) -> float | None:
    return _share(rows[i].get("result") for i in ids)


def stage_I_stats(run: Path, it: int, weak_out: str, icl_out: str, ds: str) -> dict | None:
    weak_file = run / "data/llama_factory" / ds / f"train_iter{it}_weak.json"
    w_res, c_res = run / "outputs" / weak_out / "results.jsonl", run / "outputs" / icl_out / "results.jsonl"
    if not (weak_file.is_file() and w_res.is_file() and c_res.is_file()):
        return None
    kept = {r["id"] for r in read_json_list(weak_file)} if weak_file.stat().st_size > 3 else set()
    w = {r["id"]: r for r in read_jsonl(w_res)}
    c = {r["id"]: r for r in read_jsonl(c_res)}
    return {"questions": len(w), "kept": len(kept), "kept_weak_acc": _rate(w, kept), "kept_icl_acc": _rate(c, kept),
            "weak_acc_all": _rate(w, list(w)), "icl_acc_all": _rate(c, list(c))}


def stage_II_stats(run: Path, ds: str, bench) -> dict | None:
    """Majority confidence against correctness, and the pairs' chosen / rejected answers graded with
    the benchmark's own judge (None where train_2 has no gold)."""
    pairs_file = run / "data/llama_factory" / ds / "train_pairs.json"
    maj_file = run / "outputs/mplus_samples/majority_voting_results.jsonl"
    gold_file = run / "data/test" / f"{ds}_train_2.jsonl"
    if not (maj_file.is_file() and gold_file.is_file()):
        return None
    golds = read_jsonl(gold_file)
    votes = read_jsonl(maj_file)
    bins: dict[float, list[bool]] = {}
    for v in votes:
        if v["pos_responses"][0]["result"] is not None:
            bins.setdefault(round(v["confidence"], 1), []).append(bool(v["pos_responses"][0]["result"]))
    out = {"questions": len(votes), "confidence_bins": {k: (len(b), sum(b) / len(b)) for k, b in sorted(bins.items())}}
    if pairs_file.is_file() and pairs_file.stat().st_size > 3:
        pairs = read_json_list(pairs_file)
        chosen_ok = _graded(bench, [p["chosen"] for p in pairs], [golds[p["id"]] for p in pairs])
        rejected_ok = _graded(bench, [p["rejected"] for p in pairs], [golds[p["id"]] for p in pairs])
        out.update(pairs=len(pairs), pair_questions=len({p["id"] for p in pairs}),
                   chosen_correct=chosen_ok, rejected_correct=rejected_ok)
    else:
        out.update(pairs=0)
    return out


def _graded(bench, responses: list[str], golds: list[dict]) -> float | None:
    return _share(r["result"] for r in bench.grade([{"response": r} for r in responses], golds))


def _pct(x: float | None) -> str:
    return "no gold" if x is None else f"{100 * x:.1f} %"


BOOTSTRAP = 2000


def bootstrap(run: Path, names: list[str], resamples: int = BOOTSTRAP, seed: int = 0) -> dict:
    """95 % percentile intervals of every model's test accuracy and PGR, from the same resamples of
    the test questions for every model (paired). PGR's interval is given when the ceiling is above
    the floor in at least 95 % of the resamples."""
    import numpy as np
    results = {}
    for name in names:
        p = run / "outputs" / name / "results.jsonl"
        if p.is_file():
            rows = sorted(read_jsonl(p), key=lambda r: r["id"])
            results[name] = np.array([bool(r["result"]) for r in rows], dtype=float)
    out: dict = {"acc": {}, "pgr": {}, "vs_full_weak": {}}
    if not results:
        return out
    n = len(next(iter(results.values())))
    if any(len(v) != n for v in results.values()):
        return out
    idx = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    accs = {name: v[idx].mean(axis=1) for name, v in results.items()}
    for name, a in accs.items():
        out["acc"][name] = tuple(np.percentile(a, [2.5, 97.5]))
    if "weak_test" in accs and "eval_ceiling" in accs:
        gap = accs["eval_ceiling"] - accs["weak_test"]
        ok = gap > 0
        if ok.mean() >= 0.95:
            for name, a in accs.items():
                pgr = (a[ok] - accs["weak_test"][ok]) / gap[ok]
                out["pgr"][name] = tuple(np.percentile(pgr, [2.5, 97.5]))
    if "eval_full_weak" in accs:  # paired: the same questions for both models in every resample
        for name, a in accs.items():
            out["vs_full_weak"][name] = tuple(np.percentile(a - accs["eval_full_weak"], [2.5, 97.5]))
    return out


def plot_accuracy(rows, path: Path) -> None:
    """rows: (label, accuracy, (low, high) or None)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    rows = rows[::-1]
    labels = [r[0] for r in rows]
    values = [100 * r[1] for r in rows]
    err = [[100 * (r[1] - r[2][0]) if r[2] else 0 for r in rows], [100 * (r[2][1] - r[1]) if r[2] else 0 for r in rows]]
    ax.barh(labels, values, xerr=err, capsize=3,
            color=["#888" if "weak floor" in l or "ceiling" in l else "#3a7" for l in labels])
    for y, v in enumerate(values):
        ax.text(v + 0.3, y + 0.25, f"{v:.1f}", va="center", fontsize=9)
    ax.set_xlabel("test accuracy (%), 95 % bootstrap interval")
    ax.set_xlim(0, 105)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_pgr(rows, path: Path) -> None:
    """rows: (label, PGR, (low, high) or None): performance gap recovered, 0 = weak floor, 1 = ceiling."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    rows = rows[::-1]
    values = [r[1] for r in rows]
    err = [[r[1] - r[2][0] if r[2] else 0 for r in rows], [r[2][1] - r[1] if r[2] else 0 for r in rows]]
    ax.barh([r[0] for r in rows], values, xerr=err, capsize=3, color="#37a")
    ax.axvline(0, c="k", lw=0.8)
    ax.axvline(1, c="k", lw=0.8, ls="--")
    ax.set_xlabel("PGR = (model - weak floor) / (strong ceiling - weak floor), 95 % bootstrap interval")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confidence(bins: dict, passk: dict | None, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2 if passk else 1, figsize=(10 if passk else 5.5, 3.6))
    ax = axes[0] if passk else axes
    xs = list(bins)
    ax.bar(xs, [bins[x][0] for x in xs], width=0.08, color="#9bd", label="questions")
    ax.set_xlabel("majority confidence")
    ax.set_ylabel("questions")
    ax2 = ax.twinx()
    ax2.plot(xs, [100 * bins[x][1] for x in xs], "o-", color="#c43", label="majority answer correct (%)")
    ax2.set_ylabel("majority answer correct (%)")
    ax2.set_ylim(0, 105)
    ax.axvline(0.6, ls=":", c="k")
    ax.axvline(0.8, ls="--", c="k")
    ax.set_title("stage II: confidence vs accuracy")
    if passk:
        b = axes[1]
        b.plot(list(passk), [100 * v for v in passk.values()], "o-")
        b.set_xlabel("k")
        b.set_ylabel("pass@k (%)")
        b.set_title("M_plus samples: pass@k")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_report(run: Path) -> str:
    plan = run_plan(run, "run_gsm8k.sh / run_math.sh / run_olympic.sh")  # src/layout.py wrote it
    cfg = plan["settings"]
    ds = cfg["DATASET"]
    bench = benchmarks.get(ds)
    lines = [f"# Weak-to-strong report: {run.name}", "",
             "Weak model: `" + Path(cfg["WEAK_MODEL"] or cfg["WEAK_BASE"]).name + "`, strong model: `"
             + Path(cfg["STRONG_BASE"]).name + f"`, dataset: {ds}" + (" (offline demo data)" if cfg["DEMO"] else ""), ""]
    rows = [(label, m["accuracy"], m["count"], name) for label, name in MODELS
            if (m := _metrics(run, name)) and m.get("accuracy") is not None]
    weak = next((r[1] for r in rows if r[3] == "weak_test"), None)
    ceil = next((r[1] for r in rows if r[3] == "eval_ceiling"), None)
    ci = bootstrap(run, [r[3] for r in rows])

    def pgr_of(acc: float) -> float | None:  # None: no gap between floor and ceiling
        return (acc - weak) / (ceil - weak) if weak is not None and ceil is not None and ceil > weak else None

    lines += ["## Test accuracy", "",
              f"95 % intervals: percentile bootstrap over the test questions ({BOOTSTRAP} resamples, the same "
              "resamples for every model, so PGR's interval includes the noise of floor and ceiling).", "",
              "| model | accuracy | 95 % interval | questions | PGR | 95 % interval |", "|---|---:|---:|---:|---:|---:|"]
    for label, acc, n, name in rows:
        pgr = "-" if pgr_of(acc) is None else f"{pgr_of(acc):.2f}"
        a_lo, a_hi = ci["acc"].get(name, (None, None))
        p_lo, p_hi = ci["pgr"].get(name, (None, None))
        acc_ci = f"{100 * a_lo:.1f} to {100 * a_hi:.1f}" if a_lo is not None else "-"
        pgr_ci = f"{p_lo:.2f} to {p_hi:.2f}" if p_lo is not None and name not in ("weak_test", "eval_ceiling") else "-"
        lines.append(f"| {label} | {100 * acc:.2f} | {acc_ci} | {n} | {pgr} | {pgr_ci} |")
    full = next((r[1] for r in rows if r[3] == "eval_full_weak"), None)
    beats = [(label, acc - full, ci["vs_full_weak"][name]) for label, acc, n, name in rows
             if full is not None and name in ci["vs_full_weak"]
             and name not in ("weak_test", "eval_ceiling", "eval_full_weak", "strong_icl_test")]
    if beats:
        lines += ["", "Against full weak fine-tuning (the paper's baseline: the strong model trained on every weak "
                  "answer), paired over the same resampled questions; an interval above 0 is a difference beyond the noise:",
                  "", "| model | accuracy minus full weak FT | 95 % interval | beyond the noise |", "|---|---:|---:|---|"]
        lines += [f"| {label} | {100 * d:+.1f} | {100 * lo:+.1f} to {100 * hi:+.1f} | "
                  f"{'better' if lo > 0 else 'worse' if hi < 0 else 'no'} |" for label, d, (lo, hi) in beats]
    write_json(run / "report.json", {
        "models": {name: {"label": label, "accuracy": acc, "questions": n,
                          "pgr": pgr_of(acc),
                          "accuracy_ci": ci["acc"].get(name), "pgr_ci": ci["pgr"].get(name),
                          "vs_full_weak_ci": ci["vs_full_weak"].get(name)}
                   for label, acc, n, name in rows}})
    if weak is not None and ceil is not None and ceil <= weak:
        lines += ["", f"PGR is undefined: the strong ceiling ({100 * ceil:.2f}) is not above the weak floor "
                  f"({100 * weak:.2f}); there is no gap to recover."]
    if rows:
        plot_accuracy([(r[0], r[1], ci["acc"].get(r[3])) for r in rows], run / "accuracy.png")
        lines += ["", "![test accuracy](accuracy.png)"]
        pgr_rows = [(r[0], pgr_of(r[1]), ci["pgr"].get(r[3])) for r in rows
                    if pgr_of(r[1]) is not None and r[3] not in ("weak_test", "eval_ceiling")]
        if pgr_rows:
            plot_pgr(pgr_rows, run / "pgr.png")
            lines += ["", "![PGR](pgr.png)"]
    lines += ["", "## Stage I: final-answer consistency", "",
              "| iteration | questions | kept | kept weak answers correct | kept ICL answers correct | weak acc. (all) | ICL acc. (all) |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for it, w, c in ((1, "weak_train2", "strong_icl_train2"), (2, "iter1_weak_train2", "iter1_icl_train2")):
        s = stage_I_stats(run, it, w, c, ds)
        if s:
            lines.append(f"| iter{it} | {s['questions']} | {s['kept']} | {_pct(s['kept_weak_acc'])} | "
                         f"{_pct(s['kept_icl_acc'])} | {_pct(s['weak_acc_all'])} | {_pct(s['icl_acc_all'])} |")
    s2 = stage_II_stats(run, ds, bench)
    if s2:
        lines += ["", "## Stage II: preference pairs", "",
                  f"{s2['questions']} questions sampled; {s2['pairs']} pairs"
                  + (f" from {s2['pair_questions']} questions; chosen answer correct {_pct(s2['chosen_correct'])}, "
                     f"rejected answer correct {_pct(s2['rejected_correct'])} (judged with the {bench.judge} judge)."
                     if s2["pairs"] else "."),
                  "", "| majority confidence | questions | majority answer correct |", "|---:|---:|---:|"]
        lines += [f"| {k:.1f} | {n} | {100 * a:.1f} % |" for k, (n, a) in s2["confidence_bins"].items()]
        passk = None
        seeds = plan["sample_seeds"]  # M_plus's sampling seeds (src/layout.py)
        if s2["confidence_bins"] and (run / f"outputs/mplus_samples/seed{seeds[0]}/results.jsonl").is_file():
            from .passk import passk_curve
            n = len(seeds)
            passk = passk_curve(run / "outputs/mplus_samples", seeds[0], seeds[-1] + 1)
            lines += ["", "pass@k of M_plus's samples on train_2: " + ", ".join(f"pass@{k} {100 * v:.1f} %" for k, v in passk.items() if k in (1, 2, 5, n))]
        plot_confidence(s2["confidence_bins"], passk, run / "stage2.png")
        lines += ["", "![stage II](stage2.png)"]
    return "\n".join(lines) + "\n"


def upstream_report(root: Path) -> str:
    """Data statistics of the original's released files (docs/method.md and docs/reference.md)."""
    lf = root / "data/llama_factory"
    golds = {}
    g = root / "data/test/gsm8k_train_2.jsonl"
    if g.is_file():
        golds["gsm8k"] = [normalize_final_answer(r["answer"]) for r in read_jsonl(g)]
    lines = ["# Released files: data statistics", "",
             "| file | questions / pairs | kept weak answers correct |", "|---|---:|---:|"]
    for f in sorted(lf.glob("*/*.json")):
        if not any(s in f.name for s in ("_weak", "_paired", "_full_weak")) or "_icl" in f.name:
            continue
        rows = read_json_list(f)
        ds = f.parent.name
        acc = "-"
        if ds in golds and "_paired" not in f.name:
            key = "####"
            acc = f"{100 * sum(extract_pred(r['output'], key) == golds[ds][r['id']] for r in rows) / len(rows):.1f} %"
        lines.append(f"| {ds}/{f.name} | {len(rows)} | {acc} |")
    weak = root / "outputs/gsm8k_train_2/zero_shot/llama2_7b_gsm8k_1/zero-shot/direct/results.jsonl"
    if weak.is_file():
        res = read_jsonl(weak)
        lines += ["", f"Llama2-7b weak accuracy on GSM8K train_2: {100 * sum(r['result'] for r in res) / len(res):.2f} %"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    args = ap.parse_args(argv)
    root = Path(args.run_dir)
    if (root / "data/llama_factory/dataset_info.json").is_file() and not (root / "config.json").is_file() \
            and (root / "outputs/gsm8k_train_2").is_dir():
        text = upstream_report(root)
        print(text)
        return 0
    if not root.is_dir():
        print(f"error: {root}: run folder not found", file=sys.stderr)
        return 1
    text = run_report(root)
    (root / "report.md").write_text(text)
    print(text)
    print(f"[report] written to {root / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
