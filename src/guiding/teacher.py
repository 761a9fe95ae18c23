"""Steps 2 and 3b: the weak teacher's samples and the style-transfer fallback (step 3, the judge's
verdicts between them: src/guiding/judge.py).

    python -m src.guiding.teacher sample --pool pool.jsonl [--subtasks subtasks.jsonl] --out DIR --temperature T
        [--k 3] [--max_tokens 8000] [--hint_counter cl100k_base|<tokenizer>|none] [--all_tasks] MODEL
    python -m src.guiding.teacher transfer --judged DIR/judged.jsonl --out DIR [--hint_counter ...] MODEL
    MODEL: --base_url URL --model NAME (an endpoint) or --model_dir DIR (in process); see src/llm_client.py

A unit is a full task (``sub_idx`` 0, reference = its solution) or a sub-task (``sub_idx`` 1..k,
reference = its sub-solution), keyed by ``(ori_id, sub_idx)`` in every file. By default the units
are the pool tasks with at least one kept sub-task, and those sub-tasks (``--all_tasks``: every
pool task, as a hard-only or weaker-teacher set needs).

    DIR/samples.jsonl   {ori_id, sub_idx, task, reference, hint_tokens, samples: [text|null] * k, errors}
    DIR/labelled.jsonl  judged.jsonl's rows + {transfer_ground_truth: text|null}   (only for units with no sample judged 1)
    DIR/<step>.stats.json  counts, the model and every setting; DIR/llm_cache.jsonl every finished call

Sampling: the student-persona prompt with the length hint right after the task (between 0.5 L and
1.5 L tokens, L the reference's length in ``--hint_counter`` tokens), k samples per unit as k
requests (sample index 0..k-1); the temperature is required (the original mixes 0.7 and 1.0 by
model without saying so). A failed call is a null sample with its error, never an empty solution.
Samples lose only a leading ``### Solution:`` header (``--original``: every "Solution" deleted).
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from statistics import mean

from ..cli import run_cli
from ..jsonio import DataError, read_jsonl
from ..llm_client import Request, write_step
from . import prompts
from .counters import counter
from .parsing import clean_sample, failed_text


def units(pool: list[dict], subtasks: list[dict], all_tasks: bool = False) -> list[dict]:
    """Full tasks (sub_idx 0) and their kept sub-tasks, ordered by (ori_id, sub_idx)."""
    with_subs = {s["ori_id"] for s in subtasks}
    pool_ids = {r["ori_id"] for r in pool}
    stray = sorted({s["ori_id"] for s in subtasks} - pool_ids, key=str)
    if stray:
        raise DataError(f"sub-tasks of ori_id {stray[:5]} have no task in the pool")
    out = [{"ori_id": r["ori_id"], "sub_idx": 0, "task": r["task"], "reference": r["solution"]}
           for r in pool if all_tasks or r["ori_id"] in with_subs]
    out += [{"ori_id": s["ori_id"], "sub_idx": s["sub_idx"], "task": s["task"], "reference": s["solution"]} for s in subtasks]
    return sorted(out, key=lambda u: (str(u["ori_id"]), u["sub_idx"]))


def _count(name: str):
    return None if name == "none" else counter(name)


def sample(client, rows: list[dict], k: int, temperature: float, top_p: float, max_tokens: int,
           hint_counter: str, original: bool = False) -> list[dict]:
    count = _count(hint_counter)
    out, reqs = [], []
    for u in rows:
        hint = count(u["reference"]) if count else None
        out.append({**u, "hint_tokens": hint})
        reqs += [Request(prompts.solve(u["task"], hint), temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                         sample=s) for s in range(k)]
    res = client.run(reqs)
    for n, row in enumerate(out):
        mine = res[n * k:(n + 1) * k]
        row["samples"] = [None if not r.ok or failed_text(r.text) else clean_sample(r.text, original) or None for r in mine]
        row["errors"] = [r.error if not r.ok else None if row["samples"][j] else
                         "failure text" if failed_text(r.text) else "empty after cleaning" for j, r in enumerate(mine)]
    return out


def transfer(client, rows: list[dict], temperature: float, max_tokens: int, hint_counter: str) -> list[dict]:
    """Units with no sample judged 1 get the reference rewritten as a solution from scratch, its
    length 0.8-1.2x the samples' mean length (the reference's when there is no sample)."""
    count = _count(hint_counter) or (lambda t: len(t.split()))
    need = [n for n, r in enumerate(rows) if 1 not in r["judgements"]]
    reqs = []
    for n in need:
        if prompts.ORIGINAL.current is not None:  # the original's note: int(mean) over every sample, a failed one as 0
            samples = rows[n]["samples"] or [rows[n]["reference"]]
            tokens = int(sum(count(s) if s else 0 for s in samples) / len(samples))
        else:
            tokens = round(mean(map(count, [s for s in rows[n]["samples"] if s] or [rows[n]["reference"]])))
        reqs.append(Request(prompts.style_transfer(rows[n]["task"], rows[n]["reference"], tokens),
                            temperature=temperature, max_tokens=max_tokens))
    res = client.run(reqs)
    out = [{**r, "transfer_ground_truth": None} for r in rows]
    for n, r in zip(need, res):
        out[n]["transfer_ground_truth"] = None if not r.ok or failed_text(r.text) else r.text.strip()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.guiding.teacher", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--pool", required=True)
    s.add_argument("--subtasks", default=None, help="kept sub-tasks (src.guiding.decompose); none: full tasks only")
    s.add_argument("--all_tasks", action="store_true")
    s.add_argument("--k", type=int, default=3)
    s.add_argument("--temperature", type=float, required=True, help="set per teacher (GPT: 1.0; the original's others 0.7)")
    s.add_argument("--top_p", type=float, default=1.0)
    s.add_argument("--max_tokens", type=int, default=8000)
    s.add_argument("--hint_counter", default="cl100k_base")
    s.add_argument("--original", action="store_true", help="the original's sample cleaning (every 'Solution' deleted)")
    t = sub.add_parser("transfer")
    t.add_argument("--judged", required=True)
    t.add_argument("--temperature", type=float, default=1.0)
    t.add_argument("--max_tokens", type=int, default=1000)
    t.add_argument("--hint_counter", default="cl100k_base")
    for p in (s, t):
        p.add_argument("--out", required=True)
        prompts.add_model_args(p)
    args = ap.parse_args(argv)

    def go():
        out, client = prompts.step_client(args)
        settings = {k: v for k, v in vars(args).items() if k not in ("base_url", "cmd")}
        if args.cmd == "sample":
            if args.k < 1:
                raise ValueError("--k is at least 1")
            rows = units(read_jsonl(args.pool, required=("ori_id", "task", "solution"), allow_empty=True),
                         read_jsonl(args.subtasks, required=("ori_id", "sub_idx", "task", "solution"), allow_empty=True)
                         if args.subtasks else [], args.all_tasks or not args.subtasks)
            rows = sample(client, rows, args.k, args.temperature, args.top_p, args.max_tokens, args.hint_counter, args.original)
            name, n_ok = "samples", sum(x is not None for r in rows for x in r["samples"])
            detail = f"{n_ok} of {len(rows) * args.k} samples ({len(rows)} units)"
            counts = {"units": len(rows), "samples": n_ok, "failed": len(rows) * args.k - n_ok,
                      "errors": dict(Counter(e.split(":")[0] for r in rows for e in r["errors"] if e))}
        else:
            rows = transfer(client, read_jsonl(args.judged, required=("ori_id", "sub_idx", "task", "reference", "samples",
                                                                       "judgements"), allow_empty=True),
                            args.temperature, args.max_tokens, args.hint_counter)
            name = "labelled"
            need = [r for r in rows if 1 not in r["judgements"]]
            counts = {"units": len(rows), "needed": len(need), "written": sum(r["transfer_ground_truth"] is not None for r in need)}
            detail = f"{counts['needed']} units without a correct sample, {counts['written']} rewritten"
        path = write_step(out, name, rows, counts, client, settings)
        print(f"[teacher {args.cmd}] {detail} -> {path}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
