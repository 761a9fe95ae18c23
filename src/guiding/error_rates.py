"""Controlled-error-rate SFT sets, and the step-wise error rate (SWER).

    python -m src.guiding.error_rates grid --pairs task_sol_pairs.jsonl --out DIR [--seed 0]
        -> DIR/hard_er{0,10,...,100}.jsonl, DIR/sub_er{...}.jsonl
    python -m src.guiding.error_rates build --pairs task_sol_pairs.jsonl --er_hard 50 --er_sub 10 --out FILE
        -> the combined set (hard tasks at 50 %, their sub-tasks at 10 %); omit one rate for a one-kind set
    python -m src.guiding.error_rates swer --annotations FILE
        -> pooled (#wrong steps / #steps) and per-solution mean SWER

Pairs rows (``task_sol_pairs``): ``{ori_id, original: {task, pos_ans, neg_ans}, subtask_1: {...}, ...}``.
A set at ER p uses the incorrect solution for exactly round(p * n) of its n units (hard tasks, or
sub-tasks), the first of one seeded permutation of the units' keys: the units wrong at 30 % are
also wrong at 40 % (nested), and the same seed gives the same sets. Hard and sub-task masks use
separate permutations. SFT rows: ``{ori_id, sub_idx (0 = the full task), instruction, output, wrong}``.

The paper leaves the draw open (seed, nesting); these rules are this project's.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from pathlib import Path

from ..cli import run_cli
from ..jsonio import DataError, read_jsonl_numbered, write_jsonl

GRID = tuple(range(0, 101, 10))
SUB_KEY = re.compile(r"^subtask_(\d+)$")


def units(pairs: list[dict], kind: str) -> list[tuple]:
    """(ori_id, sub_idx, {task, pos_ans, neg_ans}) of every hard task (sub_idx 0) or sub-task."""
    out = []
    for row in pairs:
        if kind == "hard":
            out.append((row["ori_id"], 0, row["original"]))
        else:
            subs = sorted((int(m.group(1)), v) for k, v in row.items() if (m := SUB_KEY.match(k)))
            out += [(row["ori_id"], i, v) for i, v in subs]
    return out


def wrong_set(keys: list, er_pct: int, seed: int, salt: str) -> set:
    """The units that get the incorrect solution: the first round(er * n) of a seeded permutation.
    The permutation depends only on the seed, the salt (hard / sub) and the set of keys."""
    if not 0 <= er_pct <= 100:
        raise ValueError(f"error rate {er_pct} is not a percentage (0-100)")
    order = sorted(keys, key=repr)
    random.Random(int(hashlib.sha256(f"{seed}:{salt}".encode()).hexdigest(), 16)).shuffle(order)
    k = (er_pct * len(order) + 50) // 100
    return set(order[:k])


def sft_rows(pairs: list[dict], kind: str, er_pct: int, seed: int = 0) -> list[dict]:
    us = units(pairs, kind)
    wrong = wrong_set([(o, i) for o, i, _ in us], er_pct, seed, kind)
    return [{"ori_id": o, "sub_idx": i, "instruction": u["task"], "output": u["neg_ans"] if (o, i) in wrong else u["pos_ans"],
             "wrong": (o, i) in wrong} for o, i, u in us]


def combined(pairs: list[dict], er_hard: int | None, er_sub: int | None, seed: int = 0) -> list[dict]:
    rows = []
    if er_hard is not None:
        rows += sft_rows(pairs, "hard", er_hard, seed)
    if er_sub is not None:
        rows += sft_rows(pairs, "sub", er_sub, seed)
    if not rows:
        raise ValueError("give --er_hard, --er_sub or both")
    return rows


def load_pairs(path) -> list[dict]:
    rows = []
    for lineno, row in read_jsonl_numbered(path, required=("ori_id", "original")):
        for key, unit in [("original", row["original"])] + [(k, v) for k, v in row.items() if SUB_KEY.match(k)]:
            for field in ("task", "pos_ans", "neg_ans"):
                if not isinstance(unit, dict) or not isinstance(unit.get(field), str) or not unit[field].strip():
                    raise DataError(f"{path}:{lineno}: {key}.{field} is missing or empty (ori_id {row['ori_id']!r})")
        rows.append(row)
    ids = [r["ori_id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise DataError(f"{path}: repeated ori_id values")
    return rows


def swer(annotations: list[dict]) -> dict:
    """``annotations``: ``{steps: [true (correct) / false (wrong), ...]}`` per solution."""
    per = [sum(not s for s in a["steps"]) / len(a["steps"]) for a in annotations if a["steps"]]
    wrong = sum(sum(not s for s in a["steps"]) for a in annotations)
    total = sum(len(a["steps"]) for a in annotations)
    return {"solutions": len(annotations), "steps": total, "pooled": wrong / total if total else None,
            "per_solution_mean": sum(per) / len(per) if per else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.guiding.error_rates", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("grid")
    p.add_argument("--pairs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("build")
    p.add_argument("--pairs", required=True)
    p.add_argument("--er_hard", type=int, default=None)
    p.add_argument("--er_sub", type=int, default=None)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("swer")
    p.add_argument("--annotations", required=True, help="JSONL rows {steps: [bool, ...]}")
    args = ap.parse_args(argv)

    def go():
        if args.cmd == "swer":
            rows = [r for _, r in read_jsonl_numbered(args.annotations, required=("steps",))]
            print(json.dumps(swer(rows)))
            return
        pairs = load_pairs(args.pairs)
        if args.cmd == "build":
            rows = combined(pairs, args.er_hard, args.er_sub, args.seed)
            write_jsonl(args.out, rows)
            print(f"[er] {len(rows)} rows, {sum(r['wrong'] for r in rows)} with the incorrect solution -> {args.out}")
            return
        for kind in ("hard", "sub"):
            for er in GRID:
                write_jsonl(Path(args.out) / f"{kind}_er{er}.jsonl", sft_rows(pairs, kind, er, args.seed))
        print(f"[er] {len(pairs)} tasks, {len(units(pairs, 'sub'))} sub-tasks: 2 x {len(GRID)} sets -> {args.out}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
