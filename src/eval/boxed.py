"""The one reader of ``\\boxed{...}`` answers (balanced braces), for every benchmark and method that
uses them: MATH's training answers, OlympicArena's judge (the first box) and the Guiding study's
rule (the last box)."""
from __future__ import annotations


def boxed(text: str | None, last: bool = True) -> str | None:
    """The content of the last (or first) ``\\boxed{...}`` as written; None when there is none or
    its braces do not close."""
    text = text or ""
    start = text.rfind("\\boxed{") if last else text.find("\\boxed{")
    if start == -1:
        return None
    i, depth = start + len("\\boxed{"), 1
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j]
    return None
