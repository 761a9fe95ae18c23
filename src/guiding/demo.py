"""The offline demo's data, generated here (no download): three-step arithmetic word problems as the
hard tasks, their two sub-tasks made by the generator itself, and a wrong solution for each.

    python -m src.guiding.demo --out DIR [--tasks 24] [--base 48] [--eval 32] [--seed 0]
        DIR/pool.jsonl            {ori_id, source, question, "positive answer"}  the pipeline steps' input
        DIR/task_sol_pairs.jsonl  {ori_id, original: {task, pos_ans, neg_ans}, subtask_1, subtask_2}
        DIR/base_set.json         stage 1's base set (one- and two-step problems, gold solutions),
                                  a LLaMA-Factory file {id, content, output}
        DIR/eval.jsonl            evaluation problems in MATH-500's layout {problem, solution, answer}

The hard task is "n boxes of k items, g given away, m bought: how many now?"; sub-task 1 is the
multiplication on its own, sub-task 2 the rest with the total given (each self-contained and using
only the original solution's steps, as the paper asks of a decomposition). A wrong solution changes
one computed value and carries the error to the boxed result. The small teacher of the demo cannot
decompose or judge reliably, so the error-rate grid trains on these generated pairs; the pipeline
steps still run on the pool with the small teacher and report what they kept (docs/guiding.md).
"""
from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

from ..cli import run_cli
from ..demo_data import ITEMS, NAMES, _plural
from ..jsonio import write_json, write_jsonl


def _tasks(rng: random.Random):
    name, (item, unit) = rng.choice(NAMES), rng.choice(ITEMS)
    n, per = rng.randint(2, 9), rng.randint(3, 12)
    total = n * per
    given, more = rng.randint(1, total - 1), rng.randint(2, 20)
    left, final = total - given, total - given + more
    full_q = (f"{name} has {n} {_plural(unit)} with {per} {item} in each {unit}. {name} gives {given} {item} to a friend. "
              f"Then {name} buys {more} more {item}. How many {item} does {name} have now?")
    sub1_q = f"{name} has {n} {_plural(unit)} with {per} {item} in each {unit}. How many {item} does {name} have?"
    sub2_q = f"{name} has {total} {item}, gives {given} of them to a friend and then buys {more} more. How many {item} does {name} have now?"

    def sol(steps, answer):
        return " ".join(steps) + f" The answer is $\\boxed{{{answer}}}$."
    err = rng.choice([d for d in range(-5, 6) if d])
    s_total = f"{name} has {n} x {per} = {total} {item}."
    s_total_bad = f"{name} has {n} x {per} = {total + err} {item}."
    s_left = f"After giving {given} away, {name} has {total} - {given} = {left}."
    s_final = f"After buying {more} more, {name} has {left} + {more} = {final}."
    full = (full_q, sol([s_total, s_left, s_final], final),
            sol([s_total_bad, f"After giving {given} away, {name} has {total + err} - {given} = {left + err}.",
                 f"After buying {more} more, {name} has {left + err} + {more} = {final + err}."], final + err))
    sub1 = (sub1_q, sol([s_total], total), sol([s_total_bad], total + err))
    sub2 = (sub2_q, sol([s_left, s_final], final),
            sol([s_left, f"After buying {more} more, {name} has {left} + {more} = {final + err}."], final + err))
    return full, sub1, sub2, final


def make(tasks: int, base: int, n_eval: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    seen, groups = set(), []
    while len(groups) < tasks + n_eval:
        g = _tasks(rng)
        if g[0][0] not in seen:
            seen.add(g[0][0])
            groups.append(g)
    train, ev = groups[:tasks], groups[tasks:]
    unit = lambda t: {"task": t[0], "pos_ans": t[1], "neg_ans": t[2]}  # noqa: E731
    pairs = [{"ori_id": f"demo_{i:06d}", "original": unit(f), "subtask_1": unit(s1), "subtask_2": unit(s2)}
             for i, (f, s1, s2, _) in enumerate(train)]
    pool = [{"ori_id": p["ori_id"], "source": "demo", "question": p["original"]["task"], "positive answer": p["original"]["pos_ans"]}
            for p in pairs]
    from ..demo_data import make_problems
    easy = make_problems(base, seed=seed + 7, levels=(1, 2))
    base_set = [{"id": f"base_{r['id']}", "content": r["question"],
                 "output": re.sub(r"<<[^>]*>>", "", r["answer"].split("\n####")[0]).replace("\n", " ")
                 + f" The answer is $\\boxed{{{r['answer'].split('####')[-1].strip()}}}$."} for r in easy]
    evals = [{"problem": f[0], "solution": f[1], "answer": str(final)} for f, _, _, final in ev]
    return {"pool": pool, "pairs": pairs, "base": base_set, "eval": evals}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.guiding.demo", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tasks", type=int, default=24)
    ap.add_argument("--base", type=int, default=48)
    ap.add_argument("--eval", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    def go():
        if min(args.tasks, args.base, args.eval) < 1:
            raise ValueError("--tasks, --base and --eval are at least 1")
        d, out = make(args.tasks, args.base, args.eval, args.seed), Path(args.out)
        write_jsonl(out / "pool.jsonl", d["pool"])
        write_jsonl(out / "task_sol_pairs.jsonl", d["pairs"])
        write_json(out / "base_set.json", d["base"], indent=2)
        write_jsonl(out / "eval.jsonl", d["eval"])
        print(f"[demo] {args.tasks} hard tasks (2 sub-tasks each), {args.base} base-set problems, {args.eval} evaluation problems -> {out}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
