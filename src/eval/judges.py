"""Every judge: how final answers are read from responses and compared, one per family of
benchmarks. The registry (src/benchmarks.py) names one for each benchmark; nothing here looks a
benchmark up.

    minerva       GSM8K / MATH: the original's key extraction, Minerva normalisation, then string or
                  symbolic equality
    olympic       OlympicArena: the first boxed answer, the benchmark's rule-based judge (also the
                  agreement of two answers in stages I and II)
    guiding       the Guiding study's benchmarks: the last boxed answer
    alice_<ds>    Alice's datasets: src/eval/alice_answers.py
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .boxed import boxed
from .grader import DEFAULT_TIMEOUT

# A judge of agreement, batched (it may run sympy in worker processes with a time limit):
# [(pred_a, pred_b, row of the question)] -> [same answer?]. None: equal preds.
Agreement = Callable[[list[tuple[str, str, dict]]], list[bool]]


def _log(msg: str) -> None:
    print(msg, flush=True)


# ------------------------------------------------------------------ judges
def grade_minerva(rows: list[dict], golds: list[dict], answer_key: str, mode: str = "exact",
                  timeout: float = DEFAULT_TIMEOUT, workers: int | None = None) -> list[dict]:
    """GSM8K / MATH: the original's extraction and normalisation, then ``mode`` comparison."""
    from .grader import compare_many, extract_pred
    from .normalize import normalize_final_answer
    preds = [extract_pred(r["response"], answer_key) for r in rows]
    gold_norm = [normalize_final_answer(g["answer"]) if g.get("answer") is not None else None for g in golds]
    graded = [i for i, g in enumerate(gold_norm) if g is not None]
    stats: dict = {}
    results = compare_many([(gold_norm[i], preds[i]) for i in graded], mode, timeout, workers, stats)
    if stats.get("timeouts"):
        _log(f"[grade] {stats['timeouts']} of {stats['symbolic_checks']} symbolic checks passed the {timeout}s "
             "limit and count as not equal")
    result: list[bool | None] = [None] * len(rows)
    for i, r in zip(graded, results):
        result[i] = bool(r)
    return [{**row, "pred": p, "gold": g, "result": r} for row, p, g, r in zip(rows, preds, gold_norm, result)]


def grade_olympic(rows: list[dict], golds: list[dict], answer_key: str = "", mode: str = "olympic",
                  timeout: float = DEFAULT_TIMEOUT, workers: int | None = None) -> list[dict]:
    """OlympicArena: pred = the first boxed answer; result = the rule-based judge against the gold
    answers; the answer type and type sequence travel with the row (stage I / II agreement)."""
    from .olympic_judge import extract_boxed, judge_many
    preds = [extract_boxed(r["response"]) for r in rows]
    graded = [i for i, g in enumerate(golds) if g.get("answer")]
    items = [(preds[i], golds[i]["answer"], golds[i].get("type_sequence")) for i in graded]
    results, timeouts = judge_many(items, timeout, workers or 2)
    if timeouts:
        _log(f"[grade] {timeouts} of {len(items)} judgements passed the {timeout}s limit and count as wrong")
    result: list[bool | None] = [None] * len(rows)
    for i, r in zip(graded, results):
        result[i] = bool(r)
    return [{**row, "pred": p, "gold": g.get("answer") or None, "result": r, "answer_type": g.get("answer_type"),
             "type_sequence": g.get("type_sequence"), "qid": g.get("id")} for row, p, g, r in zip(rows, preds, golds, result)]


def agreement_olympic(items: list[tuple[str, str, dict]]) -> list[bool]:
    """OlympicArena: two answers agree when the benchmark's rule-based judge says so."""
    from .olympic_judge import agree_many
    results, timeouts = agree_many([(a, b, row.get("type_sequence")) for a, b, row in items])
    if timeouts:
        _log(f"[judge] {timeouts} of {len(items)} agreement checks passed the time limit (not agreeing)")
    return results


@dataclass(frozen=True)
class Judge:
    """How final answers are read from responses and compared."""
    name: str
    grade: Callable[..., list[dict]]      # (rows, golds, answer_key, mode, timeout, workers) -> graded rows
    agreement: Agreement | None           # None: two answers agree when their preds are equal
    modes: tuple[str, ...]                # comparison modes it accepts


def alice_judge(ds: str) -> Judge:
    """Alice's datasets (src/eval/alice_answers.py): ``original`` is the original's rule (result None =
    not counted: a GSM8K answer without ``####``, an ARC CoT answer without ``My choice is``),
    ``strict`` counts every response (failures wrong; GSM8K compares numbers). ``_qa`` reads an ARC
    answer as the qa-style models of the original (the whole response)."""
    def grade(rows, golds, answer_key="", mode="original", timeout=DEFAULT_TIMEOUT, workers=None):
        from .alice_answers import final_answer, score, score_strict
        rule, _, style = mode.partition("_")
        scorer = score if rule == "original" else score_strict
        out = []
        for row, g in zip(rows, golds):
            gold = g.get("gold", g.get("answer"))
            pred = final_answer(ds, row["response"]) or ""
            result = None if gold is None else scorer(ds, row["response"], gold, style or "cot")
            out.append({**row, "pred": pred, "gold": gold, "result": result})
        return out
    return Judge(f"alice_{ds}", grade, None, ("original", "strict", "original_qa", "strict_qa"))


def grade_guiding(rows: list[dict], golds: list[dict], answer_key: str = "", mode: str = "sympy",
                  timeout: float = DEFAULT_TIMEOUT, workers: int | None = None) -> list[dict]:
    """The Guiding study's rule: the last boxed answer against the gold answer, both without a
    sentence's final period ("12." is 12), Minerva-normalised, compared as strings then ``mode``."""
    from .grader import compare_many
    from .normalize import normalize_final_answer

    def norm(x: str) -> str:
        return normalize_final_answer(re.sub(r"(?<!\.)\.$", "", x.strip()))
    preds = [(b.strip() if (b := boxed(r["response"])) is not None else None) for r in rows]
    gold = [norm(str(g["answer"])) if g.get("answer") not in (None, "") else None for g in golds]
    idx = [i for i, (p, g) in enumerate(zip(preds, gold)) if p is not None and g is not None]
    same = compare_many([(gold[i], norm(preds[i])) for i in idx], mode, timeout, workers)
    result: list[bool | None] = [None if g is None else False for g in gold]
    for i, s in zip(idx, same):
        result[i] = bool(s)
    return [{**row, "pred": p, "gold": g, "result": r} for row, p, g, r in zip(rows, preds, gold, result)]


JUDGES = {
    "minerva": Judge("minerva", grade_minerva, None, ("exact", "sympy", "math_verify")),
    "guiding": Judge("guiding", grade_guiding, None, ("sympy", "exact", "math_verify")),
    "olympic": Judge("olympic", grade_olympic, agreement_olympic, ("olympic",)),
    **{f"alice_{ds}": alice_judge(ds) for ds in ("gsm8k", "arc", "hotpotqa", "triviaqa")},
}
