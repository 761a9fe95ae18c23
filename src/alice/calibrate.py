"""The QA clustering threshold, calibrated on data: which cosine similarity means "the same answer"
for the embedder at hand (the original's 0.9 belongs to hkunlp/instructor-large with an instruction;
another embedder puts similarities on another scale).

    python -m src.alice.calibrate --dataset triviaqa --questions RUN/data/transfer.jsonl \
        --samples RUN/steps/sampling/teacher --embedder DIR [--instruct] [--limit 200] --out calibration.json

The teacher's samples of each transfer question are scored against its gold answer (the original's
rule: the gold in the response). Two correct samples of one question give the same answer (a pair
that must cluster); a correct and a wrong one do not (a pair that must not); two wrong ones may or
may not agree and are left out. For every threshold from 0.50 to 0.99 the pairs above it are
counted against those labels; the threshold with the best F1 is the recommendation, given to the run
as ``CLUSTER_THRESHOLD`` (run_alice.sh). The table shows how flat the choice is.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import run_cli
from ..eval.alice_answers import score
from ..jsonio import read_jsonl, write_json
from .cluster import INSTRUCTION, embed, load_samples

THRESHOLDS = [round(0.5 + 0.01 * k, 2) for k in range(50)]
QA = ("hotpotqa", "triviaqa")


def labelled_pairs(dataset: str, question: dict, responses: list[str]) -> list[tuple[int, int, bool]]:
    """(i, j, same) for the pairs the gold decides: both correct (same) or one correct (not)."""
    gold = [question["answer"]] if dataset == "triviaqa" else question["answer"]
    right = [bool(score(dataset, r, gold)) for r in responses]
    return [(i, j, right[i] and right[j]) for i in range(len(responses)) for j in range(i + 1, len(responses))
            if right[i] or right[j]]


def table(similar: list[tuple[float, bool]]) -> list[dict]:
    """Precision, recall and F1 of "similarity above t" against the labels, for every threshold t."""
    rows = []
    for t in THRESHOLDS:
        tp = sum(s > t and same for s, same in similar)
        fp = sum(s > t and not same for s, same in similar)
        fn = sum(s <= t and same for s, same in similar)
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        rows.append({"threshold": t, "precision": round(p, 3), "recall": round(r, 3),
                     "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0})
    return rows


def calibrate(dataset: str, questions: list[dict], samples: dict, embedder: str, instruct: bool = False) -> dict:
    import numpy as np
    similar = []
    for q in questions:
        responses = samples[q["id"]]
        pairs = labelled_pairs(dataset, q, responses)
        if not pairs:
            continue
        v = np.asarray(embed(responses, embedder, INSTRUCTION.format(question=q["question"]) if instruct else ""), dtype=np.float64)
        v = v / np.where((n := np.linalg.norm(v, axis=1, keepdims=True)) == 0, 1, n)
        similar += [(float(v[i] @ v[j]), same) for i, j, same in pairs]
    if not similar:
        raise ValueError("no question has a correct sample: nothing to calibrate on (more samples or questions)")
    rows = table(similar)
    best = max(rows, key=lambda r: (r["f1"], r["threshold"]))
    return {"embedder": embedder, "instruct": instruct, "questions": len(questions),
            "pairs": {"same": sum(s for _, s in similar), "different": sum(not s for _, s in similar)},
            "best": best, "table": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.alice.calibrate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", required=True, choices=QA)
    ap.add_argument("--questions", required=True, help="transfer questions {id, question, answer}")
    ap.add_argument("--samples", required=True, help="the teacher's samples: seed<k>/output.jsonl")
    ap.add_argument("--embedder", required=True, help="the sentence-embedding model folder the run clusters with")
    ap.add_argument("--instruct", action="store_true", help="the original's instruction before every answer")
    ap.add_argument("--limit", type=int, default=None, help="only the first N questions")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)

    def go():
        questions = read_jsonl(args.questions, required=("id", "question", "answer"))[:args.limit]
        samples = load_samples(Path(args.samples), [q["id"] for q in questions], subset=True)
        result = calibrate(args.dataset, questions, samples, args.embedder, args.instruct)
        write_json(args.out, result, indent=2)
        for r in result["table"][::5]:
            print(f"  {r['threshold']:.2f}  precision {r['precision']:.3f}  recall {r['recall']:.3f}  F1 {r['f1']:.3f}")
        b = result["best"]
        print(f"[calibrate] {result['pairs']['same']} same-answer and {result['pairs']['different']} different-answer pairs: "
              f"best threshold {b['threshold']} (F1 {b['f1']}) -> {args.out}; run with CLUSTER_THRESHOLD={b['threshold']}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
