"""The Guiding study's report: accuracy of every trained model on every benchmark, accuracy against
the error rate (hard vs sub-task supervision, as the paper's Figure 3), the combination table (as its
Table 2), and what each pipeline step kept or rejected.

    python -m src.guiding.report RUN     # its benchmarks, models and pairs: RUN/config.json (src/guiding/plan.py)

Reads ``RUN/outputs/<run>/<bench>/results.jsonl`` (graded by src.eval with the benchmark's rule), the
LLM judge's ``llm_results.stats.json`` there when it ran (src.guiding.eval_judge), and the steps'
``*.stats.json``; writes ``RUN/report.md``, ``RUN/report.json`` and ``RUN/er_accuracy.png``.
Accuracy in %, with a 95 % bootstrap interval over the questions. ``start`` is the model stage 2
starts from (after stage 1), trained on no synthesized set.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from ..cli import run_cli
from ..intervals import bootstrap
from ..jsonio import read_jsonl, write_json
from ..keep_rates import row, table
from ..provenance import run_plan

RUN_NAME = re.compile(r"^(hard|sub)_er(\d+)$")
COMBO = re.compile(r"^combo_(\d+)_(\d+)$")
LABELS = {"start": "start model (no stage 2)", "hard_er50_4epochs": "hard 50, 4 epochs",
          "merge_rephrased50": "hard 50, Merge-Rephrased"}
PAPER_N = {"math500": 500, "olympic": 213, "jee": 163, "sat": 220, "gaokao": 118}  # the paper's evaluated counts
STEP_STATS = ("pool/pool.stats.json", "decompose/decompose.stats.json", "teacher/samples.stats.json",
              "judge/judged.stats.json", "transfer/labelled.stats.json", "task_sol_pairs.stats.json",
              "paraphrase/rephrased_pairs.stats.json")


def step_stats(run_dir: Path) -> dict[str, dict]:
    """The pipeline steps' stats files that exist, by their path under ``steps/pipeline/``."""
    p = run_dir / "steps" / "pipeline"
    return {rel: json.loads((p / rel).read_text()) for rel in STEP_STATS if (p / rel).is_file()}


def step_rows(run_dir: Path, stats: dict[str, dict] | None = None) -> list[dict]:
    """The keep-rate rows of the pipeline's steps (src/keep_rates.py), from their files in
    ``steps/pipeline/`` (``stats``: ``step_stats`` already read): the pool filter, the
    decompositions, each check, the sub-tasks kept, the teacher's samples, the judge's verdicts, the
    style transfer, the pairs and the paraphrases."""
    p, rows = run_dir / "steps" / "pipeline", []
    stats = step_stats(run_dir) if stats is None else stats
    if pool := stats.get("pool/pool.stats.json"):
        rows.append(row("pool filter (tasks)", pool["read"], pool["kept"], pool["rejected"]))
    if dec := stats.get("decompose/decompose.stats.json"):
        rows.append(row("decomposition (tasks)", dec["tasks"], dec["decomposition"].get("ok", 0),
                        {**dec.get("unparseable", {}), "failed call": dec["decomposition"].get("failed call", 0)}))
        checks = read_jsonl(p / "decompose" / "checks.jsonl", allow_empty=True) if (p / "decompose" / "checks.jsonl").is_file() else []
        for name in ("conditions", "steps", "variant"):
            invalid = Counter(c["unread"][name] for c in checks if name in c.get("unread", {}))
            read = sum(c[name] is not None for c in checks)
            if read or invalid:
                rows.append(row(f"check: {name} (replies read)", read + sum(invalid.values()), read, invalid))
        rows.append(row("sub-tasks kept by the checks", dec["subtasks_parsed"], dec["subtasks_kept"], dec["rejected"]))
    if s := stats.get("teacher/samples.stats.json"):
        rows.append(row("teacher samples", s["samples"] + s["failed"], s["samples"], s["errors"]))
    if j := stats.get("judge/judged.stats.json"):
        v, unjudged = j["verdicts"], j.get("unjudged_why", {})
        rows.append(row("judge verdicts (1 or 0)", v.get("1", 0) + v.get("0", 0) + sum(unjudged.values()),
                        v.get("1", 0) + v.get("0", 0), unjudged))
        rows.append(row("units with a sample judged correct", j["units"], j["units_with_a_correct_sample"]))
    if t := stats.get("transfer/labelled.stats.json"):
        rows.append(row("style transfer (units without a correct sample)", t["needed"], t["written"],
                        {"failed call or empty": t["needed"] - t["written"]}))
    if (pr := stats.get("task_sol_pairs.stats.json")) and (p / "transfer" / "labelled.jsonl").is_file():
        tasks = {str(r["ori_id"]) for r in read_jsonl(p / "transfer" / "labelled.jsonl", allow_empty=True)}
        dropped = {k.removeprefix("task dropped: "): v for k, v in pr["units"].items() if k.startswith("task dropped: ")}
        dropped["no unit with a pair"] = len(tasks) - pr["tasks"] - sum(dropped.values())
        units = {k: v for k, v in pr["units"].items() if not k.startswith("task dropped: ")}
        paired = sum(v for k, v in units.items() if k.endswith((": sample", ": style transfer")))
        rows.append(row("unit pairs (a correct and a wrong solution)", sum(units.values()), paired,
                        {k: v for k, v in units.items() if not k.endswith((": sample", ": style transfer"))}))
        rows.append(row("pairs (tasks with a full-task and a sub-task pair)", len(tasks), pr["tasks"], dropped))
    if para := stats.get("paraphrase/rephrased_pairs.stats.json"):
        rows.append(row("paraphrases (tasks: the problem and both solutions)", para["tasks"] + para.get("units_failed", 0),
                        para["tasks"], para.get("failed_why")))
    return rows


def label(run: str) -> str:
    if m := RUN_NAME.match(run):
        return f"{m.group(1)} {m.group(2)}"
    if m := COMBO.match(run):
        return f"({m.group(1)},{m.group(2)})"
    return LABELS.get(run, run)


def score(run_dir: Path, run: str, bench: str) -> dict | None:
    path = run_dir / "outputs" / run / bench / "results.jsonl"
    if not path.is_file():
        return None
    results = [r["result"] for r in read_jsonl(path, allow_empty=True) if r.get("result") is not None]
    if not results:
        return None
    lo, hi = bootstrap(results)
    return {"accuracy": sum(results) / len(results), "graded": len(results), "interval": [lo, hi]}


def llm_judged(run_dir: Path, run: str, bench: str) -> dict | None:
    path = run_dir / "outputs" / run / bench / "llm_results.stats.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def plot(scores: dict, benches: list[str], path: Path) -> bool:
    curves = {(m.group(1), int(m.group(2))): r for r in scores if (m := RUN_NAME.match(r))}
    if not curves:
        return False
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(benches), figsize=(4 * len(benches), 3.4), squeeze=False)
    for ax, b in zip(axes[0], benches):
        for kind, style in (("hard", "o-"), ("sub", "s--")):
            pts = sorted((er, scores[r][b]["accuracy"] * 100) for (k, er), r in curves.items()
                         if k == kind and scores[r].get(b))
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=f"{kind} task")
        if scores.get("start", {}).get(b):
            ax.axhline(scores["start"][b]["accuracy"] * 100, color="grey", lw=1, ls=":", label="start model")
        ax.set_title(b)
        ax.set_xlabel("outcome error rate (%)")
        ax.set_ylabel("accuracy (%)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def build(run_dir: Path, benches: list[str], runs: list[str], pairs: str | None = None) -> tuple[str, dict]:
    scores = {r: {b: score(run_dir, r, b) for b in benches} for r in runs}
    lines = [f"# Guiding Through Complexity: {run_dir.name}", "",
             "Accuracy in % (95 % bootstrap interval over the questions) of every model trained on a synthesized "
             "set, on every benchmark; *hard k* / *sub k*: hard tasks or sub-tasks at outcome error rate k %; "
             "*(a,b)*: hard tasks at a % with their sub-tasks at b %.", "",
             "| model | " + " | ".join(benches) + " | avg |", "|---|" + "---:|" * (len(benches) + 1)]
    for r in runs:
        cells, accs = [], []
        for b in benches:
            s = scores[r][b]
            cells.append("-" if s is None else f"{_pct(s['accuracy'])} ({_pct(s['interval'][0])}-{_pct(s['interval'][1])})")
            if s:
                accs.append(s["accuracy"])
        avg = sum(accs) / len(accs) if len(accs) == len(benches) else None
        lines.append(f"| {label(r)} | " + " | ".join(cells) + f" | {_pct(avg)} |")
    graded = {b: max((scores[r][b]["graded"] for r in runs if scores[r][b]), default=0) for b in benches}
    lines += ["", "Questions graded: " + ", ".join(f"{b} {n}" + (f" (paper {PAPER_N[b]})" if b in PAPER_N else "")
                                                 for b, n in graded.items()) + "."]
    judged = {r: {b: llm_judged(run_dir, r, b) for b in benches} for r in runs}
    if any(s for row in judged.values() for s in row.values()):
        models = sorted({s["model"] for row in judged.values() for s in row.values() if s})
        lines += ["", f"## LLM judge ({', '.join(models)})", "",
                  "Accuracy in % by the LLM judge (src.guiding.eval_judge) over the questions it gave a verdict, "
                  "the share of those on which it agrees with the rule above, and the questions it left unjudged.", "",
                  "| model | " + " | ".join(benches) + " |", "|---|" + "---:|" * len(benches)]
        for r in runs:
            lines.append(f"| {label(r)} | " + " | ".join(
                "-" if s is None else f"{_pct(s['accuracy'])} (agrees {_pct(s['agreement'])}, unjudged {s['unjudged']})"
                for s in judged[r].values()) + " |")
    combos = [r for r in runs if COMBO.match(r)]
    if combos:
        lines += ["", "## Combining hard tasks with sub-tasks (as Table 2)", "",
                  "| setting | " + " | ".join(benches) + " |", "|---|" + "---:|" * len(benches)]
        for c in combos:
            hard = f"hard_er{COMBO.match(c).group(1)}"
            for r in (c, hard):
                if r in scores:
                    lines.append(f"| {label(r)} | " + " | ".join(_pct(s and s["accuracy"]) for s in scores[r].values()) + " |")
        for r in ("hard_er50_4epochs", "merge_rephrased50"):
            if r in scores:
                lines.append(f"| {label(r)} | " + " | ".join(_pct(s and s["accuracy"]) for s in scores[r].values()) + " |")
    pipeline_pairs = run_dir / "steps" / "pipeline" / "task_sol_pairs.jsonl"
    if pairs:
        ours = Path(pairs).resolve() == pipeline_pairs.resolve()
        lines += ["", f"The training sets were built from {'the pipeline below' if ours else 'another file, not the pipeline below'}: "
                      f"`{pairs}`."]
    stats = step_stats(run_dir)
    steps = {rel.split("/")[0].replace(".stats.json", ""): s for rel, s in stats.items()}
    kept = step_rows(run_dir, stats)
    if kept:
        models = sorted({s["model"] for s in steps.values() if s.get("model")})
        lines += ["", "## Pipeline steps: what each kept or rejected", "", table(kept), "",
                  f"Model{'s' if len(models) > 1 else ''}: {', '.join(f'`{m}`' for m in models) or '-'}."]
    sets = run_dir / "steps" / "sets"
    if sets.is_dir():
        sizes = {p.stem: sum(1 for _ in p.open()) for p in sorted(sets.glob("*.jsonl"))}
        lines += ["", f"Training sets (rows): {json.dumps(sizes)}"]
    if plot(scores, benches, run_dir / "er_accuracy.png"):
        lines += ["", "![accuracy against the error rate](er_accuracy.png)"]
    return "\n".join(lines) + "\n", {"scores": scores, "llm_judge": judged, "steps": steps, "keep_rates": kept, "pairs": pairs}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.guiding.report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="the run folder (its config.json, src/guiding/plan.py, names the rest)")
    ap.add_argument("--benches", nargs="+", help="default: the run's benchmarks")
    ap.add_argument("--runs", nargs="+", help="default: the start model and the run's grid")
    ap.add_argument("--pairs", default=None, help="the pairs file the training sets were built from (default: the run's)")
    args = ap.parse_args(argv)

    def go():
        run_dir = Path(args.run)
        plan = {}
        if not (args.benches and args.runs):
            plan = run_plan(run_dir, "run_guiding.sh")
        benches = args.benches or plan["benches"]
        runs = args.runs or ["start", *plan["runs"]]
        text, data = build(run_dir, benches, runs, args.pairs or plan.get("pairs"))
        if not any(s for r in data["scores"].values() for s in r.values()):
            raise FileNotFoundError(f"{run_dir}/outputs: no graded results (run the evaluate stage)")
        tmp = run_dir / "report.md.tmp"
        tmp.write_text(text)
        tmp.rename(run_dir / "report.md")
        write_json(run_dir / "report.json", data, indent=2)
        print(f"[guiding] report: {run_dir / 'report.md'}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
