"""Step 1: decompose each pool task into k sub-tasks, then the three checks on every sub-task.

    python -m src.guiding.decompose --pool DIR0/pool.jsonl --out DIR (--base_url URL --model NAME | --model_dir M)
        [--temperature 0.7] [--max_tokens 8000] [--min_steps 2] [--no_checks] [--original]

Writes (every row keyed by ``ori_id`` and ``sub_idx`` 1..k; nothing is re-matched on task text):
    DIR/decompositions.jsonl  {ori_id, k, status: ok | failed call | unparseable, error (why), items: [{sub_idx, task, solution}]}
    DIR/checks.jsonl          {ori_id, sub_idx, conditions, steps, variant, kept, why, unread: {check: why its reply was not read}}
    DIR/subtasks.jsonl        {ori_id, sub_idx, task, solution}   the sub-tasks that passed
    DIR/decompose.stats.json  counts of each outcome, the model, settings and thresholds
    DIR/llm_cache.jsonl       every finished call (a rerun resends nothing already answered)

The checks (the paper leaves their use open; this project's rule, logged in the stats): a sub-task is
kept when check 1 says it uses only its own conditions (``Conclusion: 1``), check 3 says it is not a
variable-value variant of the full task (``Conclusion: 1``), and check 2 counts at least
``--min_steps`` steps. An output in another format (``2``, ``N/A``, a failed call) rejects the
sub-task as "invalid: <why>" (counted by reason in the stats), never passes it. ``--original``: the original's parser (``### End`` left in
the last solution).
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter

from ..cli import run_cli
from ..jsonio import read_jsonl, write_json, write_jsonl
from ..llm_client import Request
from . import prompts
from .parsing import parse_decomposition, read_check_conditions, read_decomposition, read_steps_count, read_variant_check


def decompose(client, pool: list[dict], temperature: float, max_tokens: int, original: bool = False) -> list[dict]:
    reqs = [Request(prompts.decompose(r["task"], r["solution"], r["k"]), temperature=temperature, max_tokens=max_tokens)
            for r in pool]
    out = []
    for r, res in zip(pool, client.run(reqs)):
        if not res.ok:
            items, why = None, res.error
        elif original:
            items = parse_decomposition(res.text, r["k"], original=True)
            why = None if items else "the original's parser found no items"
        else:
            items, why = read_decomposition(res.text, r["k"])
        status = "failed call" if not res.ok else "ok" if items else "unparseable"
        out.append({"ori_id": r["ori_id"], "k": r["k"], "status": status, "error": why,
                    "items": [{"sub_idx": i, "task": p, "solution": s} for i, (p, s) in enumerate(items or [], 1)]})
    return out


def verdict(conditions: tuple, steps: tuple, variant: tuple, min_steps: int) -> str | None:
    """Why a sub-task is rejected by its checks (None: kept); the first failing check is named. Each
    check is a reader's ``(value, why not)``: an unreadable reply rejects as "invalid: <why>"."""
    if conditions[0] is None:
        return f"conditions check invalid: {conditions[1]}"
    if conditions[0] == 0:
        return "uses conditions it does not state"
    if steps[0] is None:
        return f"steps check invalid: {steps[1]}"
    if steps[0] < min_steps:
        return f"fewer than {min_steps} steps"
    if variant[0] is None:
        return f"variant check invalid: {variant[1]}"
    if variant[0] == 0:
        return "a variable-value variant"
    return None


def check(client, pool: list[dict], decomps: list[dict], temperature: float, max_tokens: int,
          min_steps: int) -> list[dict]:
    full = {r["ori_id"]: r["task"] for r in pool}
    subs = [(d["ori_id"], it) for d in decomps for it in d["items"]]
    reqs = []
    for ori_id, it in subs:
        reqs += [Request(prompts.check_conditions(it["task"], it["solution"]), temperature=temperature, max_tokens=max_tokens),
                 Request(prompts.count_steps(it["solution"]), temperature=temperature, max_tokens=max_tokens),
                 Request(prompts.check_variant(it["task"], full[ori_id]), temperature=temperature, max_tokens=max_tokens)]
    res = client.run(reqs)
    rows = []
    for n, (ori_id, it) in enumerate(subs):
        c, s, v = res[3 * n: 3 * n + 3]
        cond = read_check_conditions(c.text) if c.ok else (None, "failed call")
        steps = read_steps_count(s.text) if s.ok else (None, "failed call")
        variant = read_variant_check(v.text) if v.ok else (None, "failed call")
        why = verdict(cond, steps, variant, min_steps)
        rows.append({"ori_id": ori_id, "sub_idx": it["sub_idx"], "conditions": cond[0], "steps": steps[0],
                     "variant": variant[0], "kept": why is None, "why": why,
                     "unread": {k: r[1] for k, r in (("conditions", cond), ("steps", steps), ("variant", variant)) if r[1]}})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.guiding.decompose", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pool", required=True)
    ap.add_argument("--out", required=True)
    prompts.add_model_args(ap)
    ap.add_argument("--temperature", type=float, default=0.7, help="the original's API default")
    ap.add_argument("--max_tokens", type=int, default=8000)
    ap.add_argument("--check_max_tokens", type=int, default=256)
    ap.add_argument("--min_steps", type=int, default=2)
    ap.add_argument("--no_checks", action="store_true", help="keep every parsed sub-task")
    ap.add_argument("--original", action="store_true", help="the original's decomposition parser")
    args = ap.parse_args(argv)

    def go():
        pool = read_jsonl(args.pool, required=("ori_id", "task", "solution", "k"), allow_empty=True)
        out, client = prompts.step_client(args)
        decomps = decompose(client, pool, args.temperature, args.max_tokens, args.original)
        write_jsonl(out / "decompositions.jsonl", decomps)
        if args.no_checks:
            checks = [{"ori_id": d["ori_id"], "sub_idx": it["sub_idx"], "conditions": None, "steps": None,
                       "variant": None, "kept": True, "why": None} for d in decomps for it in d["items"]]
        else:
            checks = check(client, pool, decomps, args.temperature, args.check_max_tokens, args.min_steps)
        write_jsonl(out / "checks.jsonl", checks)
        kept = {(c["ori_id"], c["sub_idx"]) for c in checks if c["kept"]}
        subtasks = [{"ori_id": d["ori_id"], **it} for d in decomps for it in d["items"] if (d["ori_id"], it["sub_idx"]) in kept]
        write_jsonl(out / "subtasks.jsonl", subtasks)
        stats = {"tasks": len(pool), "decomposition": dict(Counter(d["status"] for d in decomps)),
                 "unparseable": dict(Counter(d["error"] for d in decomps if d["status"] == "unparseable")),
                 "subtasks_parsed": len(checks), "subtasks_kept": len(subtasks),
                 "rejected": dict(Counter(c["why"] for c in checks if not c["kept"])),
                 "model": client.model, "temperature": args.temperature, "max_tokens": args.max_tokens,
                 "check_max_tokens": args.check_max_tokens,
                 "checks": None if args.no_checks else {"min_steps": args.min_steps, "rule": "conditions 1, variant 1, steps >= min_steps"},
                 "original_parser": args.original, "calls": {"sent": client.stats.sent, "from_cache": client.stats.from_cache}}
        write_json(out / "decompose.stats.json", stats, indent=2)
        print(f"[decompose] {len(pool)} tasks: {stats['decomposition']}; {len(checks)} sub-tasks parsed, "
              f"{len(subtasks)} kept, rejected {stats['rejected']} -> {out / 'subtasks.jsonl'}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
