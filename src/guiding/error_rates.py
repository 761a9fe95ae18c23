"""Controlled-error-rate SFT sets, and the step-wise error rate (SWER).

    python -m src.guiding.error_rates grid --pairs task_sol_pairs.jsonl --out DIR [--seed 0]
        -> DIR/hard_er{0,10,...,100}.jsonl, DIR/sub_er{...}.jsonl
    python -m src.guiding.error_rates build --pairs task_sol_pairs.jsonl --er_hard 50 --er_sub 10 --out FILE
        -> the combined set (hard tasks at 50 %, their sub-tasks at 10 %); omit one rate for a one-kind set
    python -m src.guiding.error_rates build --pairs P --er_hard 50 --rephrased rephrased_pairs.jsonl --out FILE
        -> Merge-Rephrased: the hard set at 50 % and its paraphrased copy (the same units wrong)
    --lf DIR (grid, build): also write LLaMA-Factory files DIR/<name>.json {id, content, output}
        and register them in DIR/dataset_info.json (grid: guiding_hard_er<p>, guiding_sub_er<p>)
    python -m src.guiding.error_rates natural --judged judged.jsonl --out FILE [--lf DIR --name NAME]
        -> a weaker teacher's hard set at its natural ER: each full task's first judged sample as the
           target (judged 0 = wrong); tasks with no verdict are left out and counted
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
from ..jsonio import DataError, read_jsonl_numbered, write_json, write_jsonl
from .parsing import failed_text

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


def merge_rephrased(pairs: list[dict], rephrased: list[dict], er_hard: int, seed: int = 0) -> tuple[list[dict], int]:
    """The hard set at ``er_hard`` and, for every hard task with a paraphrase, its paraphrased copy
    with the same choice of solution (a unit wrong in the set is wrong in its copy).
    -> (rows, hard tasks without a paraphrase)."""
    rows = sft_rows(pairs, "hard", er_hard, seed)
    para = {str(r["ori_id"]): r["original"] for r in rephrased}  # ids as text: 7 and "7" are one task
    extra = [{"ori_id": r["ori_id"], "sub_idx": 0, "instruction": para[str(r["ori_id"])]["task"],
              "output": para[str(r["ori_id"])]["neg_ans" if r["wrong"] else "pos_ans"], "wrong": r["wrong"], "rephrased": True}
             for r in rows if str(r["ori_id"]) in para]
    if rephrased and not extra:
        raise DataError(f"none of the {len(rephrased)} paraphrased tasks' ori_id is a task of the pairs "
                        f"(e.g. {rephrased[0]['ori_id']!r} vs {rows[0]['ori_id'] if rows else None!r})")
    return rows + extra, len(rows) - len(extra)


def natural(judged: list[dict]) -> tuple[list[dict], int]:
    """A weaker teacher's set: per full task (sub_idx 0) its first sample with a verdict.
    -> (rows, tasks without one)."""
    rows, skipped = [], 0
    for r in judged:
        if r["sub_idx"] != 0:
            continue
        first = next(((s, v) for s, v in zip(r["samples"], r["judgements"]) if s and v in (0, 1)), None)
        if first is None:
            skipped += 1
            continue
        rows.append({"ori_id": r["ori_id"], "sub_idx": 0, "instruction": r["task"], "output": first[0], "wrong": first[1] == 0})
    return rows, skipped


def to_llama_factory(rows: list[dict], lf_dir, name: str) -> Path:
    """An SFT set as a LLaMA-Factory file {id, content, output}, registered as ``name``."""
    from .. import registry
    path = write_json(Path(lf_dir) / f"{name}.json",
                      [{"id": f"{r['ori_id']}/{r['sub_idx']}{'/r' if r.get('rephrased') else ''}", "content": r["instruction"],
                        "output": r["output"]} for r in rows])
    registry.register(lf_dir, name, path)
    return path


def load_pairs(path, log=print) -> list[dict]:
    """Pairs rows, checked. A unit whose text is a failed call's (empty, or the original's "Invalid
    Request: Prompt was filtered"; the original's files hold such texts) is left out, the whole task
    when it is the full task's, and counted; a missing field or another type is an error."""
    rows, dropped = [], {"tasks": 0, "sub-tasks": 0}
    for lineno, row in read_jsonl_numbered(path, required=("ori_id", "original")):
        keep = dict(row)
        for key, unit in [("original", row["original"])] + [(k, v) for k, v in row.items() if SUB_KEY.match(k)]:
            for field in ("task", "pos_ans", "neg_ans"):
                if not isinstance(unit, dict) or not isinstance(unit.get(field), str):
                    raise DataError(f"{path}:{lineno}: {key}.{field} is missing or not text (ori_id {row['ori_id']!r})")
            if any(failed_text(unit[f]) for f in ("task", "pos_ans", "neg_ans")):
                keep.pop(key)
                dropped["tasks" if key == "original" else "sub-tasks"] += 1
        if "original" in keep:
            rows.append(keep)
    ids = [str(r["ori_id"]) for r in rows]
    if len(set(ids)) != len(ids):
        raise DataError(f"{path}: repeated ori_id values")
    if any(dropped.values()):
        log(f"[er] {path}: left out {dropped['tasks']} tasks and {dropped['sub-tasks']} sub-tasks whose text is a "
            f"failed call's (empty or 'Invalid Request')")
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
    p.add_argument("--lf", default=None, help="also write and register LLaMA-Factory files in this folder")
    p = sub.add_parser("build")
    p.add_argument("--pairs", required=True)
    p.add_argument("--er_hard", type=int, default=None)
    p.add_argument("--er_sub", type=int, default=None)
    p.add_argument("--rephrased", default=None, help="paraphrased pairs: Merge-Rephrased (with --er_hard only)")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lf", default=None, help="also write and register a LLaMA-Factory file in this folder")
    p.add_argument("--name", default=None, help="its name (default: guiding_<OUT's stem>)")
    p = sub.add_parser("natural")
    p.add_argument("--judged", required=True, help="the weaker teacher's judged.jsonl (src.guiding.judge)")
    p.add_argument("--out", required=True)
    p.add_argument("--lf", default=None)
    p.add_argument("--name", default=None)
    p = sub.add_parser("swer")
    p.add_argument("--annotations", required=True, help="JSONL rows {steps: [bool, ...]}")
    args = ap.parse_args(argv)

    def go():
        if args.cmd == "swer":
            rows = [r for _, r in read_jsonl_numbered(args.annotations, required=("steps",))]
            print(json.dumps(swer(rows)))
            return
        if args.cmd == "natural":
            from ..jsonio import read_jsonl
            rows, skipped = natural(read_jsonl(args.judged, required=("ori_id", "sub_idx", "task", "samples", "judgements")))
            if not rows:
                raise DataError(f"{args.judged}: no full task has a sample with a verdict")
            out = write_jsonl(args.out, rows)
            if args.lf:
                to_llama_factory(rows, args.lf, args.name or f"guiding_{out.stem}")
            print(f"[er] natural ER {100 * sum(r['wrong'] for r in rows) / len(rows):.1f} % on {len(rows)} tasks "
                  f"({skipped} without a verdict left out) -> {out}")
            return
        pairs = load_pairs(args.pairs)
        if args.cmd == "build":
            missing = 0
            if args.rephrased:
                if args.er_hard is None or args.er_sub is not None:
                    raise ValueError("--rephrased (Merge-Rephrased) takes --er_hard and no --er_sub")
                rows, missing = merge_rephrased(pairs, load_pairs(args.rephrased), args.er_hard, args.seed)
            else:
                rows = combined(pairs, args.er_hard, args.er_sub, args.seed)
            out = write_jsonl(args.out, rows)
            if args.lf:
                to_llama_factory(rows, args.lf, args.name or f"guiding_{out.stem}")
            print(f"[er] {len(rows)} rows, {sum(r['wrong'] for r in rows)} with the incorrect solution"
                  f"{f', {missing} hard tasks without a paraphrase' if args.rephrased else ''} -> {args.out}")
            return
        for kind in ("hard", "sub"):
            for er in GRID:
                rows = sft_rows(pairs, kind, er, args.seed)
                write_jsonl(Path(args.out) / f"{kind}_er{er}.jsonl", rows)
                if args.lf:
                    to_llama_factory(rows, args.lf, f"guiding_{kind}_er{er}")
        print(f"[er] {len(pairs)} tasks, {len(units(pairs, 'sub'))} sub-tasks: 2 x {len(GRID)} sets -> {args.out}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
