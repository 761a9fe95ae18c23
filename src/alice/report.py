"""The report of an Alice run (``run_alice.sh``): report.md, report.json, clusters.png.

    python -m src.alice.report RUN     # its dataset: RUN/config.json (src/alice/plan.py)

Every evaluated model (``RUN/outputs/<name>/output.jsonl`` on ``RUN/data/eval.jsonl``) is scored
twice: the original's rule (answers without a marker are left out of the denominator; GSM8K
compares strings) and the strict one (every answer counted; numbers compared), with a 95 %
bootstrap interval of the strict accuracy. PGR = (model - weak) / (ceiling - weak), weak and
ceiling being the "base" models trained on the transfer half's gold. Then what Alice's steps did:
questions dropped at clustering, the cluster-size histogram (plot), the summariser's statements by
kind, the "original" and "new" items, and how often the student's revision kept its own answer,
took the teacher's, or gave a third, each with how often that answer was right (the transfer
questions' gold).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..cli import run_cli
from ..jsonio import read_jsonl, write_json
from ..intervals import bootstrap
from ..eval.alice_answers import DATASETS, final_answer, score_strict
from ..keep_rates import row, table
from ..provenance import run_plan

# (output name, label, ARC answer style: cot = "My choice is", qa = the whole response)
MODELS = [
    ("teacher", "weak teacher (SFT on its CoT / gold data)", "cot"),
    ("zero_shot", "strong student, untuned, zero-shot", "qa"),
    ("weak_base", "weak model, SFT on the transfer gold (weak)", "qa"),
    ("strong_base", "strong model, SFT on the transfer gold (ceiling)", "qa"),
    ("w2sg_qa", "W2SG, qa teacher", "qa"),
    ("w2sg_cot", "W2SG, cot teacher", "cot"),
    ("alice", "Alice", "cot"),
    ("cascade", "cascade Alice", "cot"),
]


def score_model(dataset: str, run: Path, name: str, style: str) -> dict | None:
    from ..benchmarks import get
    path = run / "outputs" / name / "output.jsonl"
    if not path.is_file():
        return None
    golds = read_jsonl(run / "data" / "eval.jsonl")
    rows = sorted(read_jsonl(path, required=("id", "response")), key=lambda r: r["id"])
    if len(rows) != len(golds):
        raise ValueError(f"{path}: {len(rows)} answers for {len(golds)} evaluation questions (unfinished run?)")
    bench, suffix = get(f"alice_{dataset}"), "" if style == "cot" else "_qa"
    orig = [r["result"] for r in bench.grade(rows, golds, "original" + suffix)]
    strict = [bool(r["result"]) for r in bench.grade(rows, golds, "strict" + suffix)]
    counted = [r for r in orig if r is not None]
    return {"original": sum(counted) / len(counted) if counted else None, "counted": len(counted),
            "strict": sum(strict) / len(strict), "questions": len(strict), "strict_results": strict}


def pgr(acc, weak, ceiling):
    return None if acc is None or weak is None or ceiling is None or ceiling <= weak else (acc - weak) / (ceiling - weak)


def step_stats(dataset: str, run: Path, part: str) -> dict | None:
    """What one Alice pass (steps/alice, steps/cascade_mid, steps/cascade_strong) did."""
    d = run / "steps" / part
    if not (d / "student_train.stats.json").is_file():
        return None
    # transfer rows carry the training answer (TriviaQA: answer.value alone); its scorer takes a list
    gold = {r["id"]: [r["answer"]] if dataset == "triviaqa" else r["answer"]
            for r in read_jsonl(run / "data" / "transfer.jsonl")}
    clusters = _json(d / "clusters.stats.json")
    train = read_jsonl(d / "student_train.jsonl")
    right: dict[str, list[bool]] = {}
    for r in train:
        right.setdefault(r.get("decision", "original (teacher's answer)"), []).append(score_strict(dataset, r["answer"], gold[r["id"]]))
    teacher_rows = [r for r in read_jsonl(d / "clusters.jsonl") if not r["dropped"]]
    return {"clusters": clusters, "statements": _json(d / "uncertainty.stats.json"),
            "items": _json(d / "student_train.stats.json"),
            "right_by_decision": {k: {"count": len(v), "right": sum(v)} for k, v in right.items()},
            "teacher_final_right": sum(score_strict(dataset, r["final_response"], gold[r["id"]]) for r in teacher_rows),
            "teacher_final_count": len(teacher_rows)}


def _responses(folder: Path) -> list[dict]:
    return [r for f in sorted(folder.glob("**/output.jsonl")) for r in read_jsonl(f, allow_empty=True)]


def _marker_row(step: str, dataset: str, answers: list[dict], rule: str) -> dict:
    """Answers without a marker answer, split by whether they ran out of tokens."""
    missing = [a for a in answers if final_answer(dataset, a.get("response") or "", rule) is None]
    cut = sum(a.get("finish_reason") == "length" for a in missing)
    return row(step, len(answers), len(answers) - len(missing),
               {"no marker answer (cut at the token budget)": cut, "no marker answer": len(missing) - cut})


def step_rows(dataset: str, run: Path, part: str = "alice", rule: str = "original") -> list[dict]:
    """The keep-rate rows of one Alice pass (src/keep_rates.py), from its files: the teacher's samples
    with a marker answer (the main pass), the clustering, the summariser's statements, the student's
    zero-shot answers and revisions with a marker answer (what the revisions did: the report's
    revision table)."""
    d, rows = run / "steps" / part, []
    if part == "alice" and (run / "steps" / "sampling" / "teacher").is_dir():
        rows.append(_marker_row("teacher samples with a marker answer", dataset, _responses(run / "steps" / "sampling" / "teacher"), rule))
    if (d / "clusters.stats.json").is_file():
        c = _json(d / "clusters.stats.json")
        kept = c["questions"] - c["dropped"]
        rows.append(row("questions kept by clustering", c["questions"], kept, {"no answer given twice": c["dropped"]}))
        rows.append(row("questions with several clusters (to the summariser)", kept, c["several_clusters"],
                        {"one cluster: the teacher's answer as it is": c["one_cluster"]}))
    if (d / "uncertainty.stats.json").is_file():
        kinds = _json(d / "uncertainty.stats.json")
        rows.append(row("uncertainty statements that pass the checks", sum(kinds.values()), kinds.get("ok", 0),
                        {k: v for k, v in kinds.items() if k != "ok"}))
    if (d / "zero_shot").is_dir():
        rows.append(_marker_row("student zero-shot answers with a marker answer", dataset, _responses(d / "zero_shot"), rule))
    if (d / "student_train.stats.json").is_file():
        dec = _json(d / "student_train.stats.json")["decisions"]
        n = sum(dec.values())
        rows.append(row("student revisions with a marker answer", n, n - dec.get("unreadable", 0),
                        {"no marker answer": dec.get("unreadable", 0)}))
    return rows


def _json(path: Path):
    return json.loads(path.read_text())


def plot_clusters(stats: dict[str, dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    width = 0.8 / max(len(stats), 1)
    for k, (part, s) in enumerate(stats.items()):
        sizes = {int(a): b for a, b in s["clusters"]["cluster_sizes"].items()}
        ax.bar([x + k * width for x in sizes], list(sizes.values()), width=width, label=part)
    ax.set_xlabel("cluster size (teacher samples with the same answer)")
    ax.set_ylabel("clusters")
    ax.set_title("Teacher's answer clusters (singletons dropped)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def build(run: Path, dataset: str) -> tuple[str, dict]:
    scores = {n: s for n, _, style in MODELS if (s := score_model(dataset, run, n, style)) is not None}
    weak, ceil = (scores.get(k) for k in ("weak_base", "strong_base"))
    lines = [f"# Alice on {dataset}: {run.name}", "",
             "Accuracy in % on the evaluation split. *original*: the original's rule (answers without "
             "the marker are not counted; GSM8K compares strings); *strict*: every answer counted, "
             "numbers compared; 95 % interval: bootstrap of the strict accuracy. PGR = (model - weak) / "
             "(ceiling - weak), weak and ceiling trained on the transfer half's gold.", "",
             "| model | original | counted | strict | 95 % interval | PGR (original) | PGR (strict) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    out: dict = {"dataset": dataset, "models": {}, "steps": {}}
    for name, label, _ in MODELS:
        s = scores.get(name)
        if s is None:
            continue
        lo, hi = bootstrap(s.pop("strict_results"))
        p_o = pgr(s["original"], weak and weak["original"], ceil and ceil["original"])
        p_s = pgr(s["strict"], weak and weak["strict"], ceil and ceil["strict"])
        out["models"][name] = {**s, "strict_interval": [lo, hi], "pgr_original": p_o, "pgr_strict": p_s}
        lines.append(f"| {label} | {_pct(s['original'])} | {s['counted']}/{s['questions']} | {_pct(s['strict'])} | "
                     f"{_pct(lo)}-{_pct(hi)} | {'-' if p_o is None else f'{p_o:.2f}'} | {'-' if p_s is None else f'{p_s:.2f}'} |")
    parts = {p: s for p in ("alice", "cascade_mid", "cascade_strong") if (s := step_stats(dataset, run, p))}
    for part, s in parts.items():
        c, items = s["clusters"], s["items"]
        lines += ["", f"## Steps: {part}", "",
                  f"- clustering: {c['questions']} questions, {c['dropped']} dropped (no answer given twice), "
                  f"{c['one_cluster']} with one cluster, {c['several_clusters']} with several; cluster sizes {c['cluster_sizes']}",
                  f"- the teacher's final answer right (strict, transfer gold): {s['teacher_final_right']} of {s['teacher_final_count']}",
                  f"- uncertainty statements: {s['statements']}",
                  f"- training items: {items['original']} original (one cluster or N/A: the teacher's answer), {items['new']} new (the student's revision)",
                  "", "| revision | items | right (strict, transfer gold) |", "|---|---:|---:|"]
        for k, v in s["right_by_decision"].items():
            lines.append(f"| {k} | {v['count']} | {v['right']} |")
        s["keep_rates"] = step_rows(dataset, run, part)
        lines += ["", table(s["keep_rates"])]
        out["steps"][part] = s
    if parts:
        plot_clusters(parts, run / "clusters.png")
        lines += ["", "![cluster sizes](clusters.png)"]
    return "\n".join(lines) + "\n", out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.alice.report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="the run folder")
    ap.add_argument("--dataset", choices=DATASETS, help="default: the run's (its config.json, src/alice/plan.py)")
    args = ap.parse_args(argv)

    def go():
        run = Path(args.run)
        text, data = build(run, args.dataset or run_plan(run, "run_alice.sh")["settings"]["DATASET"])
        tmp = run / "report.md.tmp"
        tmp.write_text(text)
        tmp.rename(run / "report.md")
        write_json(run / "report.json", data, indent=2)
        print(text)
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
