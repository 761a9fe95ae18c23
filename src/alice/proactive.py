"""Steps 4-5 of Alice: the untuned student answers zero-shot, then revises its answer seeing the
teacher's answer and uncertainty; the revisions become its training labels.

    python -m src.alice.proactive zero-shot --uncertainty DIR/uncertainty.jsonl --out DIR
        -> DIR/zero_shot_requests.jsonl {id, question}            (the raw questions)
    (the student: python -m src.inference --prompt_style chat --temperature 0.9 --top_p 0.95 ...)
    python -m src.alice.proactive revise --dataset gsm8k --uncertainty DIR/uncertainty.jsonl --zero_shot OUTPUT --out DIR
        -> DIR/revision_requests.jsonl {id, question: the revision prompt}
    (the student again, on the revision requests)
    python -m src.alice.proactive collect --dataset gsm8k --uncertainty DIR/uncertainty.jsonl --zero_shot OUTPUT \\
        --revisions OUTPUT --originals DIR/originals.jsonl [DIR/na_originals.jsonl] --out DIR/student_train.jsonl
        -> {id, question, answer, label} rows: every "original" item, then every "new" one (the original's
           order); DIR/student_train.stats.json: how often the revision kept the student's own answer, took
           the teacher's, or gave a third (GSM8K, ARC: by their marker answers)

Every file is joined by question id (``row_id`` in the engine's answers), never by line.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import run_cli
from ..jsonio import read_jsonl, write_json, write_jsonl
from ..eval.alice_answers import DATASETS, RULES, final_answer
from .data import answers_by_id, require_answers
from . import prompts
from .prompts import revision_prompt


def revision_requests(dataset: str, uncertainty: list[dict], zero_shot: dict) -> list[dict]:
    require_answers([u["id"] for u in uncertainty], zero_shot, "zero-shot answers")
    return [{"id": u["id"], "question": revision_prompt(dataset, u["question"], zero_shot[u["id"]], u["final_response"],
                                                       u["uncertainty"])} for u in uncertainty]


def decision(dataset: str, own: str, teacher: str, revised: str, rule: str = "original") -> str:
    """kept (the student's own answer), teacher (took the teacher's), new (a third answer),
    unreadable (the revision has no marker answer); QA datasets: not classified. ``rule``: how the
    marker answers are read (src.eval.alice_answers.final_answer), as in clustering."""
    if dataset in ("hotpotqa", "triviaqa"):
        return "not classified"
    r = final_answer(dataset, revised, rule)
    if r is None:
        return "unreadable"
    if r == final_answer(dataset, own, rule):
        return "kept"
    return "teacher" if r == final_answer(dataset, teacher, rule) else "new"


def collect(dataset: str, uncertainty: list[dict], zero_shot: dict, revisions: dict,
            originals: list[dict], rule: str = "original") -> tuple[list[dict], dict]:
    ids = [u["id"] for u in uncertainty]
    require_answers(ids, revisions, "revisions")
    seen = {o["id"] for o in originals}
    clash = seen & set(ids)
    if clash:
        raise ValueError(f"question ids both original and new: {sorted(clash)[:5]}")
    news, counts = [], {}
    for u in uncertainty:
        d = decision(dataset, zero_shot[u["id"]], u["final_response"], revisions[u["id"]], rule)
        counts[d] = counts.get(d, 0) + 1
        news.append({"id": u["id"], "question": u["question"], "answer": revisions[u["id"]], "label": "new",
                     "decision": d})
    rows = [{k: o[k] for k in ("id", "question", "answer", "label")} for o in originals] + news
    return rows, {"original": len(originals), "new": len(news), "decisions": counts}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.alice.proactive", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("zero-shot")
    p.add_argument("--uncertainty", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("revise")
    p.add_argument("--dataset", required=True, choices=DATASETS)
    p.add_argument("--uncertainty", required=True)
    p.add_argument("--zero_shot", required=True)
    p.add_argument("--out", required=True)
    prompts.add_prompt_args(p)
    p = sub.add_parser("collect")
    p.add_argument("--dataset", required=True, choices=DATASETS)
    p.add_argument("--uncertainty", required=True)
    p.add_argument("--zero_shot", required=True)
    p.add_argument("--revisions", required=True)
    p.add_argument("--originals", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rule", choices=RULES, default="original", help="how marker answers are read (as clustering)")
    args = ap.parse_args(argv)

    def go():
        prompts.configure(args)
        unc = read_jsonl(args.uncertainty, required=("id", "question", "final_response", "uncertainty"), allow_empty=True)
        if args.cmd == "zero-shot":
            out = write_jsonl(Path(args.out) / "zero_shot_requests.jsonl", [{"id": u["id"], "question": u["question"]} for u in unc])
            print(f"[proactive] {len(unc)} questions for the student's zero-shot answers -> {out}")
            return
        zs = answers_by_id(read_jsonl(args.zero_shot, allow_empty=True), "zero-shot answers")
        if args.cmd == "revise":
            out = write_jsonl(Path(args.out) / "revision_requests.jsonl", revision_requests(args.dataset, unc, zs))
            print(f"[proactive] {len(unc)} revision prompts -> {out}")
            return
        originals = [o for f in args.originals for o in read_jsonl(f, required=("id", "question", "answer", "label"), allow_empty=True)]
        rows, stats = collect(args.dataset, unc, zs, answers_by_id(read_jsonl(args.revisions, allow_empty=True), "revisions"),
                              originals, args.rule)
        out = write_jsonl(args.out, rows)
        write_json(out.with_suffix(".stats.json"), stats, indent=2)
        print(f"[proactive] {stats['original']} original + {stats['new']} new items; revisions: {stats['decisions']} -> {out}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
