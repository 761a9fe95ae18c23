"""The evaluation's optional LLM judge: every response of a graded results file judged by a model
against the benchmark's answer, next to the rule-based result (the paper does not say how it scored;
an LLM extraction plus a judge is likely, reference/guiding.md).

    python -m src.guiding.eval_judge --job RESULTS.jsonl GOLD.jsonl [--job ...] --cache FILE
        [--temperature 0] [--max_tokens 1024] MODEL
    MODEL: --base_url URL --model NAME (an endpoint) or --model_dir DIR (in process); see src/llm_client.py

RESULTS: src.eval's ``results.jsonl`` {id, response, result}; GOLD: the benchmark's eval file {id,
question, answer} (src.guiding.benchmarks). All jobs go to the model as one batch. Next to each
RESULTS it writes

    llm_results.jsonl       {id, result, llm_result: true|false|null, llm_error}   (GOLD's order)
    llm_results.stats.json  {questions, judged, unjudged, accuracy, rule_accuracy, agreement, model, settings}

The judge reads the problem, the reference ``The final answer is <answer>.`` and the whole response,
through the pipeline's judge prompt and parser: 1 is right, 0 wrong; N/A, another output or a failed
call is null (``llm_error`` says which), left out of ``accuracy`` and counted in ``unjudged``.
``rule_accuracy`` and ``agreement`` are over the same judged questions. Every call is cached in FILE.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from ..cli import run_cli
from ..jsonio import DataError, read_jsonl, write_json, write_jsonl
from ..llm_client import Request
from . import prompts
from .parsing import read_judgement


def reference(answer: str) -> str:
    return f"The final answer is {answer}."


def join(results: list[dict], golds: list[dict], where: str) -> list[tuple[dict, dict]]:
    """Results and golds by ``id``; every gold needs exactly one result (src.eval writes them so)."""
    by_id = {}
    for n, r in enumerate(results, 1):
        if r.get("id") in by_id:
            raise DataError(f"{where}: row {n}: id {r.get('id')!r} appears twice")
        by_id[r.get("id")] = r
    missing = [g["id"] for g in golds if g["id"] not in by_id]
    if missing or len(by_id) != len(golds):
        raise DataError(f"{where}: {len(by_id)} results for {len(golds)} questions"
                        + (f" (no result for id {missing[:5]})" if missing else "") + "; run src.eval on the same gold file")
    return [(by_id[g["id"]], g) for g in golds]


def judge(client, pairs: list[tuple[dict, dict]], temperature: float, max_tokens: int) -> list[dict]:
    """One verdict per (result, gold): True / False, or None with the reason in ``llm_error``."""
    reqs = [Request(prompts.judge(g["question"], reference(str(g["answer"])), r.get("response") or ""),
                    temperature=temperature, max_tokens=max_tokens) for r, g in pairs]
    out = []
    for (r, g), res in zip(pairs, client.run(reqs)):
        verdict, error = read_judgement(res.text) if res.ok else (None, res.error)
        out.append({"id": g["id"], "result": r.get("result"), "llm_result": None if verdict is None else verdict == 1,
                    "llm_error": error})
    return out


def summary(rows: list[dict]) -> dict:
    judged = [r for r in rows if r["llm_result"] is not None]
    both = [r for r in judged if r["result"] is not None]
    share = (lambda xs: sum(xs) / len(xs) if xs else None)
    return {"questions": len(rows), "judged": len(judged), "unjudged": len(rows) - len(judged),
            "accuracy": share([r["llm_result"] for r in judged]),
            "rule_accuracy": share([bool(r["result"]) for r in both]),
            "agreement": share([r["llm_result"] == bool(r["result"]) for r in both])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.guiding.eval_judge", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--job", nargs=2, action="append", required=True, metavar=("RESULTS", "GOLD"))
    ap.add_argument("--cache", required=True, help="the calls' cache (JSONL); keep it to never pay for a call twice")
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--max_tokens", type=int, default=1024)
    prompts.add_model_args(ap)
    args = ap.parse_args(argv)

    def go():
        _, client = prompts.step_client(args, args.cache)
        jobs, pairs = [], []
        for results, gold in args.job:
            p = join(read_jsonl(results, required=("id",)), read_jsonl(gold, required=("id", "question", "answer")), results)
            jobs.append((Path(results), len(pairs), len(p)))
            pairs += p
        rows = judge(client, pairs, args.temperature, args.max_tokens)
        settings = {"temperature": args.temperature, "max_tokens": args.max_tokens}
        for path, start, n in jobs:
            mine = rows[start:start + n]
            write_jsonl(path.with_name("llm_results.jsonl"), mine)
            s = {**summary(mine), "unjudged_why": dict(Counter(r["llm_error"] for r in mine if r["llm_result"] is None))}
            write_json(path.with_name("llm_results.stats.json"), {**s, "model": client.model, "settings": settings}, indent=2)
            acc = "-" if s["accuracy"] is None else f"{100 * s['accuracy']:.1f}"
            print(f"[eval_judge] {path.parent}: {s['judged']} of {s['questions']} judged, accuracy {acc}")
        print(f"[eval_judge] calls sent {client.stats.sent}, from the cache {client.stats.from_cache}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
