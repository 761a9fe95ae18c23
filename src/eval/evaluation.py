"""Grade a whole results file: add ``pred``, ``gold``, ``result`` to every row; write metrics.

``grade_file`` grades with the judge of the benchmark it is handed (a ``src.benchmarks`` entry;
without one, the original's grader: the Minerva judge with ``answer_key``); nothing here looks a
benchmark up. ``get_results(pred_file, dev_set, answer_key)`` keeps the original's meaning: gold answers come
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
from .grader import DEFAULT_TIMEOUT
from .judges import JUDGES

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
    """Add pred/gold/result to each row (rows already aligned with golds): the original's grader."""
    return JUDGES["minerva"].grade(rows, golds, answer_key, mode, timeout, workers)


def compute_metrics(graded: list[dict], golds: list[dict], mode: str) -> dict:
    """Accuracy over the rows that have a gold answer (OlympicArena's train_2 has none: accuracy None)."""
    n = len(graded)
    scored = [r for r in graded if r["result"] is not None]
    correct = sum(bool(r["result"]) for r in scored)
    acc = correct / len(scored) if scored else None
    metrics = {
        "acc": acc,  # the original's key
        "accuracy": acc,
        "count": n,
        "graded": len(scored),
        "correct": correct,
        "empty_pred_rate": sum(r["pred"] == "" for r in graded) / n,
        "mode": mode,
    }
    if not scored:
        metrics["note"] = "no gold answers in the gold file: nothing graded"
    for field in ("level", "subject"):
        groups: dict[str, list[bool]] = defaultdict(list)
        for row, gold in zip(graded, golds):
            if row["result"] is None:
                continue
            tag = gold.get("tag") or {}
            if isinstance(tag, dict) and field in tag:
                groups[str(tag[field])].append(row["result"])
            elif field in gold:  # OlympicArena rows: subject at the top level
                groups[str(gold[field])].append(row["result"])
        if groups:
            metrics[f"by_{field}"] = {k: {"accuracy": sum(v) / len(v), "count": len(v)}
                                      for k, v in sorted(groups.items())}
    return metrics


def grade_file(pred_file, gold_file, answer_key: str | None = None, mode: str | None = None,
               timeout: float = DEFAULT_TIMEOUT, workers: int | None = None, quiet: bool = False,
               limit: int | None = None, benchmark=None, extra: dict | None = None) -> dict:
    """Grade ``pred_file`` against ``gold_file`` (its first ``limit`` rows, if given) with
    ``benchmark``'s judge (a ``src.benchmarks`` entry; None: the Minerva judge with ``answer_key``,
    default ``####``); write results.jsonl and metrics.json beside it (``extra`` goes into metrics)."""
    if benchmark is None:
        judge, key, name = JUDGES["minerva"], answer_key or "####", "minerva"
    else:
        judge, key, name = benchmark.judge_, answer_key or benchmark.answer_key, benchmark.name
    pred_file, gold_file = Path(pred_file), Path(gold_file)
    golds = read_jsonl(gold_file)[:limit]
    rows = read_jsonl(pred_file, required=("id", "response"))
    rows = join_to_gold(rows, golds, pred_file, gold_file)
    if mode not in judge.modes:  # none, or the original's default "exact" with a judge that has its own modes
        mode = judge.modes[0]
    graded = judge.grade(rows, golds, key, mode, timeout, workers)
    metrics = {**compute_metrics(graded, golds, mode), "benchmark": name, **(extra or {})}
    out_dir = pred_file.parent
    write_jsonl(out_dir / "results.jsonl", graded)
    write_json(out_dir / "metrics.json", metrics, indent=2)
    if not quiet:
        acc = "no gold" if metrics["accuracy"] is None else f"{metrics['accuracy']:.4f} ({metrics['correct']}/{metrics['graded']})"
        print(f"[grade] {pred_file}: accuracy {acc}, empty preds {metrics['empty_pred_rate']:.2%}, "
              f"mode {mode} -> {out_dir / 'results.jsonl'}")
    return metrics


def get_results(pred_file, dev_set, answer_key, mode: str = "exact", timeout: float = DEFAULT_TIMEOUT,
                gold_file=None, workers: int | None = None, benchmark=None) -> dict:
    """The original entry point: grade ``pred_file`` against ``data/test/<dev_set>.jsonl`` with the
    original's grader (or ``benchmark``'s judge: ``src.benchmarks.for_dev_set(dev_set)``)."""
    return grade_file(pred_file, gold_file or gold_path(dev_set), answer_key, mode, timeout, workers,
                      benchmark=benchmark)
