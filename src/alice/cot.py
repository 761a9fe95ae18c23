"""Step 0 of Alice: the untuned weak model writes one chain of thought per teacher-half question;
those that reach the gold answer train the teacher (HotpotQA, TriviaQA, ARC; GSM8K's gold solutions
already reason).

    python -m src.alice.cot requests --dataset arc --questions DIR/teacher.jsonl --out DIR
        -> DIR/cot_requests.jsonl {id, question: the CoT prompt}
    (the weak model: python -m src.inference --prompt_style chat --temperature 0.7 --top_p 0.95 ...)
    python -m src.alice.cot collect --dataset arc --questions DIR/teacher.jsonl --answers OUTPUT --out DIR
        -> DIR/teacher_cot.jsonl {id, question (raw), answer (the CoT), ground_truth_response}
           DIR/teacher_qa.jsonl  {id, question, answer (the gold)}: the kept questions with the gold
           answer only, the W2SG "qa" teacher's data

One try per question, as the original.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import run_cli
from ..jsonio import read_jsonl, write_jsonl
from ..eval.alice_answers import cot_keep
from . import prompts
from .prompts import cot_prompt
from .data import answers_by_id, require_answers


def collect(dataset: str, questions: list[dict], answers: dict) -> tuple[list[dict], list[dict]]:
    require_answers([q["id"] for q in questions], answers, "CoT answers")
    cot, qa = [], []
    for q in questions:
        if cot_keep(dataset, answers[q["id"]], q["answer"]):
            cot.append({"id": q["id"], "question": q["question"], "answer": answers[q["id"]], "ground_truth_response": q["answer"]})
            qa.append({"id": q["id"], "question": q["question"], "answer": q["answer"]})
    return cot, qa


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.alice.cot", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("requests", "collect"):
        p = sub.add_parser(name)
        p.add_argument("--dataset", required=True, choices=("arc", "hotpotqa", "triviaqa"))
        p.add_argument("--questions", required=True, help="the teacher half {id, question, answer}")
        p.add_argument("--out", required=True)
        if name == "collect":
            p.add_argument("--answers", required=True, help="the weak model's output.jsonl (src.inference)")
        else:
            prompts.add_prompt_args(p)
    args = ap.parse_args(argv)

    def go():
        prompts.configure(args)
        questions = read_jsonl(args.questions, required=("id", "question", "answer"))
        out = Path(args.out)
        if args.cmd == "requests":
            path = write_jsonl(out / "cot_requests.jsonl", [{"id": q["id"], "question": cot_prompt(args.dataset, q["question"])}
                                                           for q in questions])
            print(f"[cot] {len(questions)} CoT prompts -> {path}")
            return
        cot, qa = collect(args.dataset, questions, answers_by_id(read_jsonl(args.answers), "CoT answers"))
        write_jsonl(out / "teacher_cot.jsonl", cot)
        write_jsonl(out / "teacher_qa.jsonl", qa)
        print(f"[cot] kept {len(cot)} of {len(questions)} chains of thought (they reach the gold answer) -> {out}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
