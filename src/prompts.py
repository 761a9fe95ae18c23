"""Prompts: zero-shot ``Question: ...\\nAnswer:`` and few-shot with the weak model's own answers.

The few-shot (ICL) prompt of the method is k=4 demonstrations ``Question: q\\nAnswer: a`` separated
by blank lines, then the zero-shot prompt. The demonstrations are the weak model's answers on
train_2 questions, verbatim, right or wrong; they are always built from a weak results file by
question id (or a seeded random choice), never pasted.

Templates (``--template``): ``zero_shot``; the original's named demonstration sets, whose GSM8K
question ids are in SPEC.md; ``icl`` (ids from ``--demo_ids`` or a seeded random choice).
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Sequence

from .jsonio import DataError, read_jsonl

direct_prompt = "Question: {}\nAnswer:"
InstructionList = {"direct": "Question: [INPUT]\nAnswer:"}
# OlympicArena rows carry the benchmark's own prompt, its problem header already replaced by
# "Question: " (src.olympic_data); the original appends "\n\nAnswer:"
PROMPT_STYLES = {"qa": direct_prompt, "olympic": "{}\n\nAnswer:"}

# Question indices (in gsm8k train_2) of the original's GSM8K demonstration sets.
ORIGINAL_DEMO_IDS = {
    "gsm8k_my_llama2_7b_icl": (2619, 456, 102, 3037),
    "gsm8k_my_mistral_7b_icl": (2619, 456, 102, 3037),
    "gsm8k_my_gemma_2b_icl": (3401, 173, 354, 6272),
}
TEMPLATES = ("zero_shot", "icl", *ORIGINAL_DEMO_IDS)
DEMO_FILTERS = ("any", "has_answer", "correct")


def zero_shot(question: str, style: str = "qa") -> str:
    if style not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt style {style!r}; choose one of {', '.join(PROMPT_STYLES)}")
    return PROMPT_STYLES[style].format(question)


def select_demo_ids(rows: Sequence[dict], k: int, seed: int, demo_filter: str = "any") -> list:
    """A seeded random choice of k demonstration ids, optionally among answers passing a filter:
    ``has_answer`` (a final answer was extracted) or ``correct`` (right against gold: an oracle
    choice, outside the weak-to-strong setting; for ablations)."""
    if demo_filter not in DEMO_FILTERS:
        raise ValueError(f"unknown demo filter {demo_filter!r}; choose one of {', '.join(DEMO_FILTERS)}")
    if demo_filter == "has_answer":
        rows = [r for r in rows if r.get("pred", "") != ""]
    elif demo_filter == "correct":
        rows = [r for r in rows if r.get("result")]
    if len(rows) < k:
        raise DataError(f"only {len(rows)} demonstration candidates pass filter {demo_filter!r}; {k} needed")
    return [r["id"] for r in random.Random(seed).sample(list(rows), k)]


def build_demonstrations(demos_from, demo_ids: Sequence | None = None, k: int = 4, seed: int = 0,
                         demo_filter: str = "any") -> str:
    """The demonstration block: ``Question: q\\nAnswer: a\\n\\n`` for each chosen weak answer."""
    path = Path(demos_from)
    rows = read_jsonl(path, required=("id", "prompt", "response"))
    by_id = {r["id"]: r for r in rows}
    ids = list(demo_ids) if demo_ids else select_demo_ids(rows, k, seed, demo_filter)
    block = []
    for i in ids:
        if i not in by_id:
            raise DataError(f"{path}: no row with id {i!r} (demonstration ids: {list(ids)})")
        row = by_id[i]
        if not row["prompt"].endswith("Answer:"):
            raise DataError(f"{path}: row with id {i!r}: prompt is not a zero-shot prompt ending in 'Answer:'")
        block.append(f"{row['prompt']} {row['response']}\n\n")
    return "".join(block)


def template_demo_ids(template: str, demo_ids: Sequence | None) -> Sequence | None:
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; choose one of {', '.join(TEMPLATES)}")
    return demo_ids or ORIGINAL_DEMO_IDS.get(template)


def get_prompts(questions: Sequence[str], demonstrations: str = "", style: str = "qa") -> list[str]:
    """Prompts for a list of questions: the demonstration block (possibly empty), then the zero-shot prompt."""
    return [demonstrations + zero_shot(q, style) for q in questions]
