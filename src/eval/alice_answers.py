"""Each Alice dataset's answer rules, as the original applies them, plus the stricter variants.

Datasets: ``gsm8k`` (``#### N``), ``arc`` (``My choice is X.``; gold ``X. text``), ``hotpotqa`` and
``triviaqa`` (free text). One function per rule:

    final_answer(ds, response, rule)  the marker's text (GSM8K/ARC) or None when the marker is missing
    cot_keep(ds, response, gold)    step 0's filter of the teacher's CoT training data
    score(ds, response, gold, style)  the original's evaluation rule, exactly: True / False / None (not counted)
    score_strict(ds, response, gold, style)  failures count as wrong; the last marker; GSM8K compares numbers

``style`` is ``cot`` (Alice and the cot baseline: ARC reads ``My choice is``) or ``qa`` (the qa
baseline and "base" models: ARC reads the whole response).
"""
from __future__ import annotations

import re
from fractions import Fraction

DATASETS = ("gsm8k", "arc", "hotpotqa", "triviaqa")
ARC_MARKER = "My choice is "
GSM8K_MARKER = "#### "


def _check(ds: str) -> None:
    if ds not in DATASETS:
        raise ValueError(f"unknown Alice dataset {ds!r} (known: {', '.join(DATASETS)})")


RULES = ("original", "last")


def final_answer(ds: str, response: str, rule: str = "original") -> str | None:
    """The marker's answer, stripped: ``original`` (the original's ``split(marker)[1]``) is the text
    between the first marker and a second one, if any; ``last`` the text after the last marker.
    Markers: GSM8K ``#### ``, ARC ``My choice is `` (its trailing period included). None without the
    marker. QA datasets have no marker: the whole response."""
    _check(ds)
    if rule not in RULES:
        raise ValueError(f"answer rule is one of {RULES}, not {rule!r}")
    if ds in ("hotpotqa", "triviaqa"):
        return response
    marker = GSM8K_MARKER if ds == "gsm8k" else ARC_MARKER
    if marker not in response:
        return None
    parts = response.split(marker)
    return (parts[1] if rule == "original" else parts[-1]).strip()


def same_answer(ds: str, a: str, b: str) -> bool:
    """Clustering's "same answer" for the marker datasets (QA datasets compare embeddings instead:
    src.alice.cluster.embedding_same)."""
    if ds in ("hotpotqa", "triviaqa"):
        raise ValueError(f"{ds}: answers are compared by embeddings, not by a marker")
    fa, fb = final_answer(ds, a), final_answer(ds, b)
    return fa is not None and fb is not None and fa == fb


def arc_gold(gold: str) -> tuple[str, str]:
    """``"A. dry palms"`` -> ("A", "dry palms"); labels may be numbers ("1. ...")."""
    letter, sep, text = gold.partition(". ")
    if not sep or not letter:
        raise ValueError(f"ARC gold {gold!r} is not 'X. text'")
    return letter, text


def cot_keep(ds: str, response: str, gold: str) -> bool:
    """Step 0, the original's filter: keep the untuned teacher's CoT for a first-half question when it
    reaches the gold. QA: the lower-cased gold (TriviaQA: ``answer.value``) is a substring of the
    lower-cased response. ARC: the text after the first ``My choice is `` up to the first ``.``,
    lower-cased, contains one of the pieces of the lower-cased gold split on ``. `` (the letter, or a
    sentence of the option text); responses without the marker are dropped. GSM8K has no step 0."""
    _check(ds)
    if ds == "gsm8k":
        raise ValueError("gsm8k: the teacher trains on the gold solutions (no CoT step)")
    if ds in ("hotpotqa", "triviaqa"):
        return gold.lower() in response.lower()
    if ARC_MARKER not in response:
        return False
    choice = response.split(ARC_MARKER)[1].split(".")[0].lower()
    return any(piece in choice for piece in gold.lower().split(". "))


def _arc_correct(pred: list[str], gold: str) -> bool:
    # for some position i, gold piece i (split on ". ") is a case-insensitive substring of prediction
    # piece i, both stripped
    return any(g.lower().strip() in p.lower().strip() for g, p in zip(gold.split(". "), pred))


def score(ds: str, response: str, gold, style: str = "cot") -> bool | None:
    """The original's evaluation rule, exactly; None = not counted (left out of the denominator).
    GSM8K: counted only with ``####``; the text between the first ``####`` and a second one,
    stripped, equals the gold's (the same rule) as a string. HotpotQA: the lower-cased gold in the
    lower-cased response. TriviaQA: any lower-cased normalised alias in the lower-cased response
    (``gold`` is the alias list). ARC: gold split on ``. ``; prediction: cot style, the text between
    the first ``My choice is`` and a second one, stripped, split on ``.``, pieces of white space
    dropped (not counted without the marker); qa style, the whole response split on ``.``, nothing
    dropped; correct when for some position i gold piece i is in prediction piece i (both stripped,
    case-insensitive)."""
    _check(ds)
    if style not in ("cot", "qa"):
        raise ValueError(f"style is 'cot' or 'qa', not {style!r}")
    if ds == "gsm8k":
        if "####" not in response:
            return None
        return response.split("####")[1].strip() == _gsm8k_gold(gold)
    if ds == "hotpotqa":
        return gold.lower() in response.lower()
    if ds == "triviaqa":
        return any(a.lower() in response.lower() for a in gold)
    if style == "cot":
        if "My choice is" not in response:
            return None
        pred = [p for p in response.split("My choice is")[1].strip().split(".") if p.strip()]
    else:
        pred = response.split(".")
    return _arc_correct(pred, gold)


def _gsm8k_gold(gold: str) -> str:
    return gold.split("####")[1].strip() if "####" in gold else gold.strip()


def _number(text: str) -> Fraction | None:
    text = text.strip().rstrip(".").replace(",", "").replace("$", "").strip()
    m = re.fullmatch(r"-?\d+(?:\.\d+)?(?:/\d+)?", text)
    if not m:
        return None
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


def score_strict(ds: str, response: str, gold, style: str = "cot") -> bool:
    """The stricter variant reported beside the original: every response counts (no marker =
    wrong); the answer is the one after the *last* marker (a model that states its answer twice is
    read at its final word); GSM8K compares numbers (``1,000`` = ``1000`` = ``1000.0``; non-numbers
    as strings); ARC's prediction pieces of white space are dropped in both styles."""
    _check(ds)
    if ds == "gsm8k":
        if "####" not in response:
            return False
        pred, want = response.split("####")[-1].strip(), _gsm8k_gold(gold)
        a, b = _number(pred), _number(want)
        return a == b if a is not None and b is not None else pred == want
    if ds == "arc":
        if style == "cot" and "My choice is" not in response:
            return False
        text = response.split("My choice is")[-1] if style == "cot" else response
        return _arc_correct([p for p in text.split(".") if p.strip()], gold)
    return bool(score(ds, response, gold, style))
