"""What each model-calling step of a run kept: one row per step (outputs, kept, every rejection by
its reason, as the step counted it), rendered as a markdown table. The Alice and Guiding reports
build their rows from their steps' files (``step_rows`` in src/alice/report.py and
src/guiding/report.py); ``scripts/keep_rates.py`` prints them for any run, finished or not.
"""
from __future__ import annotations


def row(step: str, outputs: int, kept: int, why: dict | None = None) -> dict:
    """``why``: rejections by reason (zero counts left out)."""
    if kept > outputs or kept < 0:
        raise ValueError(f"step {step!r}: {kept} kept of {outputs} outputs")
    return {"step": step, "outputs": outputs, "kept": kept, "why": {str(k): v for k, v in (why or {}).items() if v}}


def table(rows: list[dict]) -> str:
    lines = ["| step | outputs | kept | share | rejected, by reason |", "|---|---:|---:|---:|---|"]
    for r in rows:
        share = f"{100 * r['kept'] / r['outputs']:.0f} %" if r["outputs"] else "-"
        why = ", ".join(f"{k}: {v}" for k, v in sorted(r["why"].items(), key=lambda kv: (-kv[1], kv[0])))
        lines.append(f"| {r['step']} | {r['outputs']} | {r['kept']} | {share} | {why} |")
    return "\n".join(lines)
