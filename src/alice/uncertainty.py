"""Step 3 of Alice: check the summariser's uncertainty statement before a student sees it.

The original uses the summariser's raw output verbatim, ``N/A`` and extra text included. Here every
statement is classified, counted in the step's log, and only ``ok`` statements (or, with
``keep_invalid``, the cleaned text of the others) reach the proactive step:

    ok          one to three sentences, none of the forbidden mentions
    na          ``N/A`` (the summariser saw no inconsistency): the teacher's answer is used as it is
    empty       nothing after cleaning
    rambling    more than ``max_sentences`` sentences or ``max_chars`` characters
    mentions    names the responses / several answers, which the prompt forbids

Cleaning strips white space, a leading ``Uncertainty:`` label and surrounding quotes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

FORBIDDEN = re.compile(r"\b(my|the|these|those|other|both|all|several|multiple|different)\s+(responses|answers)\b|\bresponse\s*\d",
                       re.IGNORECASE)
KINDS = ("ok", "na", "empty", "rambling", "mentions")


@dataclass(frozen=True)
class Statement:
    text: str    # cleaned
    kind: str    # one of KINDS


def clean(raw: str) -> str:
    text = raw.strip()
    text = re.sub(r"^\s*uncertainty\s*:\s*", "", text, flags=re.IGNORECASE)
    return text.strip().strip('"\u201c\u201d').strip()


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def check(raw: str, max_sentences: int = 3, max_chars: int = 600) -> Statement:
    text = clean(raw)
    if not text:
        return Statement(text, "empty")
    if re.fullmatch(r"n\s*/?\s*a\.?", text, flags=re.IGNORECASE):
        return Statement(text, "na")
    if len(sentences(text)) > max_sentences or len(text) > max_chars or "\n\n" in text:
        return Statement(text, "rambling")
    if FORBIDDEN.search(text):
        return Statement(text, "mentions")
    return Statement(text, "ok")
