"""Alice's prompts, written for this project with the original's instructions and output markers.
Each is one user message in the model's chat template (no system prompt of our own).

    cot_prompt(ds, question)                     step 0: the untuned teacher's reasoning
    summary_prompt(ds, question, representatives)  step 3: the summariser's uncertainty statement
    revision_prompt(ds, question, own, teacher, uncertainty)  step 5: the student's proactive revision

Steps 1, 2, 4 and 6 and every evaluation use the raw question alone.

``--original_prompts CHECKOUT`` (the ``requests`` commands of src.alice.cot, uncertainty and
proactive; ``ORIGINAL_PROMPTS`` in run_alice.sh): the original's own wording, read from a checkout of
the original (``original_prompts.py``).
"""
from __future__ import annotations

from typing import Sequence

from ..cli import OriginalWording
from ..eval.alice_answers import DATASETS

def _loader():
    from .original_prompts import OriginalPrompts
    return OriginalPrompts


ORIGINAL = OriginalWording(_loader, "ShujinWu-0814/Alice")  # ORIGINAL.current: the original's wording, when a run asks for it
use_original, add_prompt_args, configure = ORIGINAL.use, ORIGINAL.add_args, ORIGINAL.configure

QA_COT = ("{question}\n\nAnswer the question above in one to three sentences. Think it through step by step and "
          "show your reasoning before the answer.")
ARC_COT = ("Reason about the multiple-choice question below step by step, then finish with one sentence of the "
           "form \"My choice is X.\", where X is the letter (or number) of the option you choose; for example, "
           "\"My choice is A.\". Here is the question:{question}")

_SUMMARY_RULES = """You will see a question and several answers that my model gave to it; some may be right and some wrong.
Describe, in my model's own voice, the inconsistency behind its uncertainty about this question.
    - Write in the first person, as if you were the model.
    - Use only what the model knows about the question.
    - Write one to three sentences, with no greeting or preamble.
    - If all the answers agree, write N/A.
    - Never mention "my responses", "the responses" or that there are several answers: the model sees one answer at a time and does not know which one is right."""

_SUMMARY_EXAMPLE_QA = """Example.
Question: Which film came out first, the one directed by the director of "Harbor Lights" or the one starring the lead of "Night Train"?
Answers:
1. "Harbor Lights" came first, in 1954.
2. "Night Train" came first, since its lead actor's film was released in 1949.
3. They were released in the same year.
Uncertainty: I am not sure who directed "Harbor Lights" or who led "Night Train", so I cannot tell whether the relevant film dates from 1949 or 1954, or whether both appeared in the same year."""

_SUMMARY_EXAMPLE_GSM8K = """Example.
Question: A shop sells pens at $3 each and offers 2 free pens with every 10 bought. How much does it cost to get 24 pens?
Answers:
1. For every 12 pens you pay for 10, so 24 pens cost 20 * 3 = $60.
#### 60
2. 24 pens at $3 each cost 24 * 3 = $72, minus 2 free pens worth $6, so $66.
#### 66
3.
Uncertainty: I am unsure how to set up the equation for the free pens: whether every group of 12 pens costs the price of 10, or whether the free pens only reduce the price of the full count once."""


def _check(ds: str) -> None:
    if ds not in DATASETS:
        raise ValueError(f"unknown Alice dataset {ds!r} (known: {', '.join(DATASETS)})")


def cot_prompt(ds: str, question: str) -> str:
    if ORIGINAL.current is not None:
        return ORIGINAL.current.cot_prompt(ds, question)
    _check(ds)
    if ds == "gsm8k":
        raise ValueError("gsm8k: the teacher trains on the gold solutions (no CoT step)")
    return ARC_COT.format(question=question) if ds == "arc" else QA_COT.format(question=question)


def summary_prompt(ds: str, question: str, representatives: Sequence[str]) -> str:
    """The kept clusters' leaders in discovery order, numbered from 1, without sizes."""
    if ORIGINAL.current is not None:
        return ORIGINAL.current.summary_prompt(ds, question, representatives)
    _check(ds)
    if len(representatives) < 2:
        raise ValueError("a summary needs two or more clusters (one cluster: the answer is used as it is)")
    example = _SUMMARY_EXAMPLE_GSM8K if ds == "gsm8k" else _SUMMARY_EXAMPLE_QA
    listing = "\n".join(f"{i}. {r}" for i, r in enumerate(representatives, 1))
    return f"{_SUMMARY_RULES}\n\n{example}\n\nNow your turn.\nQuestion: {question}\nAnswers:\n{listing}\nUncertainty:"


_REVISION = {
    "qa": """Question: {question}

Your original answer: {own}

Another model's answer: {teacher}

That model's uncertainty about the question: {uncertainty}

Using the other model's answer and its uncertainty as references, give your final answer to the question with step-by-step reasoning. Always give an answer: never say that you do not know or are not sure. Do not mention the other model's answer or its uncertainty, and do not explain why you kept or changed your answer.""",
    "gsm8k": """Question: {question}

Your original answer: {own}

Another model's answer: {teacher}

That model's uncertainty about the question: {uncertainty}

Using the other model's answer and its uncertainty as references, update your original answer only if it needs it; if it is already right, restate it. Reason step by step and end with the numeric answer in the form "#### <answer>", for example "#### 15". Do not mention your original answer, the other model's answer or its uncertainty, and do not explain why you kept or changed your answer.""",
    "arc": """Question: {question}

Your original answer: {own}

Another model's answer: {teacher}

That model's uncertainty about the question: {uncertainty}

Using the other model's answer and its uncertainty as references, update your original answer only if it needs it; if it is already right, restate it. Reason step by step and end with one sentence of the form "My choice is X.", for example "My choice is A.". Do not mention your original answer, the other model's answer or its uncertainty, and do not explain why you kept or changed your answer.""",
}


def revision_prompt(ds: str, question: str, own: str, teacher: str, uncertainty: str) -> str:
    if ORIGINAL.current is not None:
        return ORIGINAL.current.revision_prompt(ds, question, own, teacher, uncertainty)
    _check(ds)
    kind = ds if ds in ("gsm8k", "arc") else "qa"
    return _REVISION[kind].format(question=question, own=own, teacher=teacher, uncertainty=uncertainty)
