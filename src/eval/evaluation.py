"""Grade a whole results file: add ``pred``, ``gold``, ``result`` to every row; write metrics.

``get_results(pred_file, dev_set, answer_key)`` keeps the original's meaning: gold answers come
from ``data/test/<dev_set>.jsonl``, and ``results.jsonl`` and ``metrics.json`` are written next to
``pred_file``. Rows are joined to gold by their ``id`` (the question's index in the gold file), and
a file that does not line up with its gold file is an error, never a silent truncation.

Symbolic modes grade the distinct (gold, pred) pairs once each, in worker processes, each item
under a time limit.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ..jsonio import DataError, read_jsonl, write_json, write_jsonl
from .grader import DEFAULT_TIMEOUT, compare_many, extract_pred
from .normalize import normalize_final_answer

REPO_ROOT = Path(__file__).resolve().parents[2]


def gold_path(dev_set: str) -> Path:
    """``data/test/<dev_set>.jsonl``, relative to the working directory, else to the repository."""
    rel = Path("data/test") / f"{dev_set}.jsonl"
    if rel.is_file():
        return rel
    return REPO_ROOT / rel


def join_to_gold(rows: list[dict], golds: list[dict], pred_file, gold_file) -> list[dict]:
    """Order rows by gold index; every gold question must have exactly one row."""
    by_id: dict[int, dict] = {}
    for i, row in enumerate(rows):
        rid = row.get("id")
        if not isinstance(rid, int) or isinstance(rid, bool) or not 0 <= rid < len(golds):
            raise DataError(f"{pred_file}: row {i}: id {rid!r} is not an index into {gold_file} "
                            f"(0..{len(golds) - 1})")
        if rid in by_id:
            raise DataError(f"{pred_file}: row {i}: duplicate id {rid}")
        by_id[rid] = row
    if len(by_id) != len(golds):
        missing = next(k for k in range(len(golds)) if k not in by_id)
        raise DataError(f"{pred_file}: has {len(by_id)} rows but {gold_file} has {len(golds)}; "
                        f"first missing id {missing}")
    return [by_id[k] for k in range(len(golds))]


def grade_rows(rows: list[dict], golds: list[dict], answer_key: str, mode: str = "exact",
               timeout: float = DEFAULT_TIMEOUT, workers: int | None = None) -> list[dict]:
    """Add pred/gold/result to each row (rows already aligned with golds)."""
    preds = [extract_pred(r["response"], answer_key) for r in rows]
    gold_norm = [normalize_final_answer(g["answer"]) for g in golds]
    stats: dict = {}
    results = compare_many(list(zip(gold_norm, preds)), mode, timeout, workers, stats)
    if stats.get("timeouts"):
        print(f"[grade] {stats['timeouts']} of {stats['symbolic_checks']} symbolic checks passed the {timeout}s limit "
              "and count as not equal")
    out = []
    for row, pred, gold, result in zip(rows, preds, gold_norm, results):
        out.append({**row, "pred": pred, "gold": gold, "result": bool(result)})
    return out


def grade_rows_olympic(rows: list[dict], golds: list[dict], timeout: float = DEFAULT_TIMEOUT,
                       workers: int | None = None) -> list[dict]:
    """OlympicArena: pred = the first boxed answer; result = the rule-based judge against the gold
    answers; the question's answer type and type sequence travel with the row (stage I / II judge)."""
    from .olympic_judge import extract_boxed, judge_many
    preds = [extract_boxed(r["response"]) for r in rows]
    items = [(p, g["answer"], g.get("type_sequence")) for p, g in zip(preds, golds)]
    results, timeouts = judge_many(items, timeout, workers or 2)
    if timeouts:
        print(f"[grade] {timeouts} of {len(items)} judgements passed the {timeout}s limit and count as wrong")
    return [{**row, "pred": p, "gold": g["answer"], "result": bool(r), "answer_type": g.get("answer_type"),
             "type_sequence": g.get("type_sequence")} for row, p, g, r in zip(rows, preds, golds, results)]


def compute_metrics(graded: list[dict], golds: list[dict], mode: str) -> dict:
    n = len(graded)
    correct = sum(r["result"] for r in graded)
    metrics = {
        "acc": correct / n,  # the original's key
        "accuracy": correct / n,
        "count": n,
        "correct": correct,
        "empty_pred_rate": sum(r["pred"] == "" for r in graded) / n,
        "mode": mode,
    }
    for field in ("level", "subject"):
        groups: dict[str, list[bool]] = defaultdict(list)
        for row, gold in zip(graded, golds):
            tag = gold.get("tag") or {}
            if isinstance(tag, dict) and field in tag:
                groups[str(tag[field])].append(row["result"])
            elif field in gold:  # OlympicArena rows: subject at the top level
                groups[str(gold[field])].append(row["result"])
        if groups:
            metrics[f"by_{field}"] = {k: {"accuracy": sum(v) / len(v), "count": len(v)}
                                      for k, v in sorted(groups.items())}
    return metrics


def grade_file(pred_file, gold_file, answer_key: str, mode: str = "exact", timeout: float = DEFAULT_TIMEOUT,
               workers: int | None = None, quiet: bool = False, limit: int | None = None,
               judge: str | None = None) -> dict:
    """Grade ``pred_file`` against ``gold_file`` (its first ``limit`` rows, if given);
    write results.jsonl and metrics.json beside it. ``judge="olympic"``: OlympicArena's judge."""
    pred_file, gold_file = Path(pred_file), Path(gold_file)
    golds = read_jsonl(gold_file, required=("answer",))[:limit]
    rows = read_jsonl(pred_file, required=("id", "response"))
    rows = join_to_gold(rows, golds, pred_file, gold_file)
    if judge == "olympic":
        graded = grade_rows_olympic(rows, golds, timeout, workers)
        mode = "olympic"
    elif judge is None:
        graded = grade_rows(rows, golds, answer_key, mode, timeout, workers)
    else:
        raise ValueError(f"unknown judge {judge!r} (olympic)")
    metrics = compute_metrics(graded, golds, mode)
    out_dir = pred_file.parent
    write_jsonl(out_dir / "results.jsonl", graded)
    write_json(out_dir / "metrics.json", metrics, indent=2)
    if not quiet:
        print(f"[grade] {pred_file}: accuracy {metrics['accuracy']:.4f} ({metrics['correct']}/{metrics['count']}), "
              f"empty preds {metrics['empty_pred_rate']:.2%}, mode {mode} -> {out_dir / 'results.jsonl'}")
    return metrics


def get_results(pred_file, dev_set, answer_key, mode: str = "exact", timeout: float = DEFAULT_TIMEOUT,
                gold_file=None, workers: int | None = None) -> dict:
    """The original entry point: grade ``pred_file`` against ``data/test/<dev_set>.jsonl``."""
    return grade_file(pred_file, gold_file or gold_path(dev_set), answer_key, mode, timeout, workers)
