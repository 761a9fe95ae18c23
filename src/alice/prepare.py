"""Alice's run data: the splits as files, the cascade halves, and training files for LLaMA-Factory.

    python -m src.alice.prepare splits --dataset arc --source DIR --out DATA [--limit_transfer N] [--limit_eval N]
    python -m src.alice.prepare splits --dataset gsm8k --hub --out DATA
    python -m src.alice.prepare splits --dataset gsm8k --demo 48 48 40 --out DATA      # generated problems
        -> DATA/teacher.jsonl   {id, question, answer}        the first half (teacher training)
           DATA/transfer.jsonl  {id, question, answer}        the W2S half (QA datasets: its first 20 %)
           DATA/eval.jsonl      {id, question, answer, gold}  the whole evaluation split
           DATA/transfer_mid.jsonl, transfer_strong.jsonl     cascade Alice's two halves, split by id
    python -m src.alice.prepare sft --rows ROWS.jsonl [--answers OUTPUT.jsonl] [--answer_only] \\
        --lf DIR --name NAME
        -> DIR/NAME.json {id, content, output} registered in DIR/dataset_info.json as NAME

``sft`` writes a training file from rows ``{id, question, answer}``: their own answers (gold,
kept chains of thought, Alice's student file), or ``--answers``: a model's answers joined by id
(the W2SG baselines' teacher labels). ``--answer_only`` keeps only ``#### N`` of a GSM8K answer
(the W2SG "qa" teacher's target). ``id`` is a row's position in its source split everywhere.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import registry
from ..cli import run_cli
from ..jsonio import read_jsonl, write_json, write_jsonl
from ..eval.alice_answers import DATASETS
from .data import answers_by_id, load, require_answers, split


def demo_source(sizes: tuple[int, int, int], seed: int = 42) -> dict[str, list[dict]]:
    """Generated GSM8K-format problems (src.demo_data): teacher half, transfer half, eval."""
    from ..demo_data import make_demo_splits
    s = make_demo_splits(*sizes, seed=seed)
    train = [{"id": i, "question": r["question"], "answer": r["answer"]} for i, r in enumerate(s["train_1"] + s["train_2"])]
    return {"train": train, "eval": [{**r, "gold": r["answer"]} for r in s["test"]]}


def cascade_halves(transfer: list[dict]) -> tuple[list[dict], list[dict]]:
    """Cascade Alice's two disjoint halves of the transfer questions, by question id: the first
    (lower ids) trains the mid model, the second the strong one. The original halved its training
    file's lines instead, which overlap and favour the teacher-consistent items."""
    rows = sorted(transfer, key=lambda r: r["id"])
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError("transfer questions with repeated ids: the cascade halves would overlap")
    half = len(rows) // 2
    return rows[:half], rows[half:]


def answer_only(answer: str) -> str:
    if "####" not in answer:
        raise ValueError(f"GSM8K answer without '####': {answer[:80]!r}")
    return "#### " + answer.split("####")[-1].strip()


def sft_rows(rows: list[dict], answers: dict | None = None, only_answer: bool = False) -> list[dict]:
    if answers is not None:
        require_answers([r["id"] for r in rows], answers, "teacher labels")
    out = []
    for r in rows:
        a = answers[r["id"]] if answers is not None else r["answer"]
        out.append({"id": r["id"], "content": r["question"], "output": answer_only(a) if only_answer else a})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.alice.prepare", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("splits")
    p.add_argument("--dataset", required=True, choices=DATASETS)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--source", help="a datasets.save_to_disk folder")
    src.add_argument("--hub", action="store_true", help="the dataset's hub repository")
    src.add_argument("--demo", type=int, nargs=3, metavar=("TEACHER", "TRANSFER", "EVAL"), help="generated GSM8K-format problems")
    p.add_argument("--demo_seed", type=int, default=42)
    p.add_argument("--limit_transfer", type=int, default=None, help="only the first N transfer questions")
    p.add_argument("--limit_eval", type=int, default=None, help="only the first N evaluation questions")
    p.add_argument("--out", required=True)
    p = sub.add_parser("sft")
    p.add_argument("--rows", required=True, help="{id, question, answer} rows")
    p.add_argument("--answers", default=None, help="a model's output.jsonl: its answers replace the rows' (joined by id)")
    p.add_argument("--answer_only", action="store_true", help="GSM8K: train on '#### N' only")
    p.add_argument("--lf", required=True, help="the LLaMA-Factory dataset folder")
    p.add_argument("--name", required=True)
    args = ap.parse_args(argv)

    def go():
        if args.cmd == "sft":
            rows = read_jsonl(args.rows, required=("id", "question", "answer"))
            answers = answers_by_id(read_jsonl(args.answers, required=("response",)), args.answers) if args.answers else None
            path = write_json(Path(args.lf) / f"{args.name}.json", sft_rows(rows, answers, args.answer_only), indent=2)
            registry.register(args.lf, args.name, path)
            print(f"[data] {len(rows)} training rows -> {path} (dataset {args.name})")
            return
        if args.demo:
            if args.dataset != "gsm8k":
                raise ValueError("--demo generates GSM8K-format problems: use --dataset gsm8k")
            d = demo_source(tuple(args.demo), args.demo_seed)
        else:
            d = load(args.dataset, None if args.hub else args.source)
        parts = split(args.dataset, d["train"]) if not args.demo else {
            "teacher": d["train"][:args.demo[0]], "transfer": d["train"][args.demo[0]:]}
        parts["transfer"] = parts["transfer"][:args.limit_transfer]
        parts["eval"] = d["eval"][:args.limit_eval]
        parts["transfer_mid"], parts["transfer_strong"] = cascade_halves(parts["transfer"])
        out = Path(args.out)
        for name, rows in parts.items():
            write_jsonl(out / f"{name}.jsonl", rows)
        print(f"[data] {args.dataset}: teacher {len(parts['teacher'])}, transfer {len(parts['transfer'])} "
              f"(cascade {len(parts['transfer_mid'])} + {len(parts['transfer_strong'])}), eval {len(parts['eval'])} -> {out}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
