"""Steps 4-5: one correct and one incorrect solution per unit, grouped by task (``task_sol_pairs``),
and the paraphrased pairs of the Merge-Rephrased baseline.

    python -m src.guiding.pairs build --judged DIR/labelled.jsonl --out task_sol_pairs.jsonl [--seed 0]
    python -m src.guiding.pairs paraphrase --pairs task_sol_pairs.jsonl --out DIR MODEL [--temperature 1.0] [--subtasks]

Pairs (the released ``task_sol_pairs`` layout, which ``src.guiding.error_rates`` reads):
``{ori_id, original: {task, pos_ans, neg_ans}, subtask_1: {...}, ...}``. pos = a correct sample
(judged 1) drawn with a generator seeded by (seed, ori_id, sub_idx), else the style-transferred
reference, else the unit is dropped; neg = an incorrect sample (judged 0) drawn the same way, else
dropped (the same pairs whatever the file order; rows ordered by ori_id). A task whose full-task unit or every sub-task was dropped is dropped. Units are joined by
``(ori_id, sub_idx)``, never by task text; the sub-task keys keep their decomposition index.

Paraphrase: the task, pos and neg of every full task (what Merge-Rephrased uses; ``--subtasks``: of
the sub-tasks too, as the original does), three calls each; a unit whose paraphrase failed
(no ``### Paraphrased version:``, a failed call) is left out of ``DIR/rephrased_pairs.jsonl`` and
counted (the original stored an empty string, which reached the training set).
"""
from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections import Counter, defaultdict

from ..cli import run_cli
from ..jsonio import read_jsonl, write_json, write_jsonl
from ..llm_client import Request
from . import prompts
from .parsing import parse_paraphrase, read_paraphrase


def _rng(seed: int, ori_id, sub_idx: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}\0{ori_id}\0{sub_idx}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def pick(row: dict, seed: int) -> tuple[dict | None, str]:
    """-> ({task, pos_ans, neg_ans}, how pos was chosen) or (None, why the unit is dropped)."""
    rng = _rng(seed, row["ori_id"], row["sub_idx"])
    right = [s for s, v in zip(row["samples"], row["judgements"]) if v == 1 and s]
    wrong = [s for s, v in zip(row["samples"], row["judgements"]) if v == 0 and s]
    if right:
        pos, how = rng.choice(right), "sample"
    elif row.get("transfer_ground_truth"):
        pos, how = row["transfer_ground_truth"], "style transfer"
    else:
        return None, "no correct solution"
    if not wrong:
        return None, "no incorrect sample"
    return {"task": row["task"], "pos_ans": pos, "neg_ans": rng.choice(wrong)}, how


def build(rows: list[dict], seed: int = 0) -> tuple[list[dict], dict]:
    units: dict = defaultdict(dict)
    why: Counter = Counter()
    for r in rows:
        unit, how = pick(r, seed)
        why[f"{'full' if r['sub_idx'] == 0 else 'sub'}: {how}"] += 1
        if unit:
            units[r["ori_id"]][r["sub_idx"]] = unit
    pairs = []
    for ori_id, got in sorted(units.items(), key=lambda kv: str(kv[0])):
        if 0 not in got:
            why["task dropped: no full-task pair"] += 1
        elif len(got) == 1:
            why["task dropped: no sub-task pair"] += 1
        else:
            pairs.append({"ori_id": ori_id, "original": got[0],
                          **{f"subtask_{i}": got[i] for i in sorted(got) if i}})
    return pairs, dict(why)


def paraphrase(client, pairs: list[dict], temperature: float, max_tokens: int,
               subtasks: bool = False, original: bool = False) -> tuple[list[dict], Counter]:
    places = [(n, key) for n, p in enumerate(pairs) for key in p
              if key == "original" or (subtasks and key.startswith("subtask_"))]
    reqs = []
    for n, key in places:
        u = pairs[n][key]
        reqs += [Request(prompts.paraphrase("task", u["task"]), temperature=temperature, max_tokens=max_tokens),
                 Request(prompts.paraphrase("solution", u["pos_ans"]), temperature=temperature, max_tokens=max_tokens),
                 Request(prompts.paraphrase("solution", u["neg_ans"]), temperature=temperature, max_tokens=max_tokens)]
    res = client.run(reqs)
    out: dict = defaultdict(dict)
    failed: Counter = Counter()  # units whose task or a solution was not paraphrased, by the first reason
    for m, (n, key) in enumerate(places):
        got = [(parse_paraphrase(r.text, True), None) if original and r.ok else read_paraphrase(r.text) if r.ok else (None, r.error)
               for r in res[3 * m:3 * m + 3]]
        texts = [t for t, _ in got]
        if None in texts:
            failed[next(w for t, w in got if t is None)] += 1
            continue
        out[n][key] = dict(zip(("task", "pos_ans", "neg_ans"), texts))
    rows = [{"ori_id": pairs[n]["ori_id"], **units} for n, units in sorted(out.items()) if "original" in units]
    return rows, failed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.guiding.pairs", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--judged", required=True, help="judged.jsonl or labelled.jsonl (with the style-transfer fallback)")
    b.add_argument("--out", required=True)
    b.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("paraphrase")
    p.add_argument("--pairs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--max_tokens", type=int, default=8000)
    p.add_argument("--subtasks", action="store_true", help="paraphrase the sub-tasks too (Merge-Rephrased needs only the tasks)")
    p.add_argument("--original", action="store_true", help="the original's parser (a missing marker stores an empty text)")
    prompts.add_model_args(p)
    args = ap.parse_args(argv)

    def go():
        if args.cmd == "build":
            rows = read_jsonl(args.judged, required=("ori_id", "sub_idx", "task", "samples", "judgements"), allow_empty=True)
            pairs, why = build(rows, args.seed)
            path = write_jsonl(args.out, pairs)
            write_json(path.with_suffix(".stats.json"), {"tasks": len(pairs), "units": why, "seed": args.seed}, indent=2)
            print(f"[pairs] {len(pairs)} tasks with a full-task pair and sub-task pairs; units {why} -> {path}")
        else:
            out, client = prompts.step_client(args)
            pairs = read_jsonl(args.pairs, required=("ori_id", "original"), allow_empty=True)
            rows, failed = paraphrase(client, pairs, args.temperature, args.max_tokens, args.subtasks, args.original)
            path = write_jsonl(out / "rephrased_pairs.jsonl", rows)
            write_json(out / "rephrased_pairs.stats.json", {"tasks": len(rows), "units_failed": sum(failed.values()), "failed_why": dict(failed), "model": client.model,
                                                             "temperature": args.temperature, "subtasks": args.subtasks}, indent=2)
            print(f"[paraphrase] {len(rows)} of {len(pairs)} tasks paraphrased ({sum(failed.values())} units failed: {dict(failed)}) -> {path}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
