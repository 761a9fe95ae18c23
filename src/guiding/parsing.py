"""The Guiding study's filters and the parsers of its LLM outputs, each with the original's defect
fixed and, where results depend on it, a flag that reproduces the original.

    task_rejected(task, solution, original=False)   step 0: keywords, multi-part markers, non-English
    subtask_count(bert_length)                      2, 3 or None (skip) from the solution's length
    parse_decomposition(text, k, original=False)    [(problem, solution)] * k, or None (rejected)
    parse_check_conditions / parse_steps_count / parse_variant_check   the three checks, validated
    parse_judgement(text)                           1, 0, or None (N/A, or not a judgement)
    parse_final_answer(text), parse_paraphrase(text), clean_sample(text, original=False)
"""
from __future__ import annotations

import re

KEYWORDS = ("figure", "skematic", "diagram", "image", "plot", "picture", "http", "url", "[asy]", "[/asy]", "tickleng")
MULTI_PART = ("Ⅱ", "II", "(II)", "2. ", "(2) ")
NON_ENGLISH = set("éèêëàùîïôûçäöüßáâãíóõú")
FAILED = ("", "Invalid Request: Prompt was filtered")  # what the original's API wrapper returns for a failed call


def failed_text(text: str | None) -> bool:
    """A call's text that is really a failure: none, empty, or the original's failure marker (such
    texts are in files the original wrote); never to be used as a solution."""
    return text is None or text.strip() in FAILED


def task_rejected(task: str, solution: str, original: bool = False) -> str | None:
    """Why a pool task is rejected, or None. Multi-part markers are matched case-sensitively on the
    task (the original lower-cases first, so ``Ⅱ``, ``II`` and ``(II)`` never match: ``original=True``)."""
    low_t, low_s = task.lower(), solution.lower()
    for k in KEYWORDS:
        if k in low_t or k in low_s:
            return f"keyword {k!r}"
    haystack = low_t if original else task
    for m in MULTI_PART:
        if m in haystack:
            return f"multi-part marker {m!r}"
    if NON_ENGLISH & set(task + solution):
        return "non-English letters"
    return None


BANDS = ((401, 1000, 2), (1001, 1600, 3))  # (lowest, highest length, sub-tasks): the original's


def subtask_count(bert_length: int, bands=BANDS) -> int | None:
    """≤ 400 or > 1600 bert-base-uncased tokens: skipped; 401-1000: 2 sub-tasks; 1001-1600: 3
    (``bands``: other (low, high, k) bands)."""
    for low, high, k in bands:
        if low <= bert_length <= high:
            return k
    return None


def parse_bands(text: str) -> tuple:
    """``"401-1000:2 1001-1600:3"`` -> ((401, 1000, 2), (1001, 1600, 3)); overlapping bands are an error."""
    bands = []
    for part in text.split():
        m = re.fullmatch(r"(\d+)-(\d+):([23])", part)
        if not m or int(m.group(1)) > int(m.group(2)):
            raise ValueError(f"length band {part!r}: write LOW-HIGH:K with LOW <= HIGH and K 2 or 3")
        bands.append(tuple(int(g) for g in m.groups()))
    bands.sort()
    for a, b in zip(bands, bands[1:]):
        if b[0] <= a[1]:
            raise ValueError(f"length bands {a[0]}-{a[1]} and {b[0]}-{b[1]} overlap")
    if not bands:
        raise ValueError("no length band given")
    return tuple(bands)


NOISE = "#.*: \n"  # the characters the original strips from both ends of every parsed text


def _original_decomposition(text: str) -> list[tuple[str, str]] | None:
    """The original's parser (its ``s1_res_match``), rule for rule: as many items as the text has
    ``### Item`` (any number, not k); item i is the text between the first ``### Item i`` and the
    first ``### Item i+1``; ``New problem i``/``New solution i`` all lower case or ``New Problem i``/
    ``New Solution i`` both capitalised (mixed: rejected); the problem runs to the first ``New solution
    i``, the solution from there to a second one if any; empty texts are kept; ``### End`` stays (the
    original looks for ``### Sign of End`` and discards its replace); every piece stripped of
    ``#.*: \n`` at both ends. No item at all: None here (the original returns two empty lists)."""
    n = text.count("### Item")
    items = []
    for i in range(1, n + 1):
        first, second = f"### Item {i}", f"### Item {i + 1}"
        if first not in text or (i < n and second not in text):
            return None
        chunk = text.split(first)[1] if i == n else text.split(first)[1].split(second)[0]
        chunk = chunk.strip(NOISE)
        for problem_sign, solution_sign in ((f"New problem {i}", f"New solution {i}"), (f"New Problem {i}", f"New Solution {i}")):
            if problem_sign in chunk and solution_sign in chunk:
                problem = chunk.split(problem_sign)[1].split(solution_sign)[0]
                items.append((problem.strip(NOISE), chunk.split(solution_sign)[1].strip(NOISE)))
                break
        else:
            return None
    return items or None


def parse_decomposition(text: str, k: int, original: bool = False) -> list[tuple[str, str]] | None:
    """``### Item i:`` blocks with ``New problem i:`` and ``New solution i:`` (``New Problem`` /
    ``New Solution`` accepted); exactly k complete items, or None. ``### End`` and what follows
    are cut. ``original=True``: the original's parser (``_original_decomposition``: any number of
    items, its case rule, empty texts kept, ``### End`` left in the last solution)."""
    if failed_text(text):
        return None
    if original:
        return _original_decomposition(text)
    body = re.split(r"#+\s*End\b", text)[0]
    chunks = re.split(r"#+\s*Item\s*\d+\s*:?", body)[1:]
    if len(chunks) != k:
        return None
    items = []
    for i, chunk in enumerate(chunks, 1):
        m = re.search(rf"New [Pp]roblem {i}\s*:?(.*?)New [Ss]olution {i}\s*:?(.*)", chunk, flags=re.S)
        if not m:
            return None
        problem, solution = m.group(1).strip(), m.group(2).strip()
        if not problem or not solution:
            return None
        items.append((problem, solution))
    return items


def parse_check_conditions(text: str) -> int | None:
    """Check 1: ``Conclusion: 1.`` (the sub-solution uses only the sub-problem's conditions) or
    ``Conclusion: 0. Reason: ...``; anything else None."""
    m = re.match(r"\s*Conclusion:\s*([01])\b", text or "")
    return int(m.group(1)) if m else None


def parse_steps_count(text: str) -> int | None:
    """Check 2: ``Steps count: <int>.``; a non-positive count or another format is None."""
    m = re.fullmatch(r"\s*Steps count:\s*(\d+)\s*\.?\s*", text or "")
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


def parse_variant_check(text: str) -> int | None:
    """Check 3: ``Conclusion: 0`` (a variable-value variant of the full problem) or ``1``; the
    format's ``2`` and anything else are None (counted as invalid, not as a pass)."""
    m = re.match(r"\s*Conclusion:\s*(\d+)\b", text or "")
    return int(m.group(1)) if m and m.group(1) in ("0", "1") else None


def parse_judgement(text: str) -> int | None:
    """``### Judgement: 1`` / ``0``; N/A, a failed call or another format: None (not used)."""
    m = re.search(r"#+\s*Judgement:\s*(\S+)", text or "")
    if not m:
        return None
    v = m.group(1).strip(".*")
    return int(v) if v in ("0", "1") else None


def parse_final_answer(text: str) -> str | None:
    """``### Final answer: X``; ``Unknown``, empty or missing: None."""
    m = re.search(r"#+\s*Final answer:\s*(.+)", text or "", flags=re.S)
    if not m:
        return None
    ans = m.group(1).strip()
    return None if not ans or ans.lower().startswith("unknown") else ans


def parse_paraphrase(text: str, original: bool = False) -> str | None:
    """The text after ``Paraphrased version`` (with or without ``###``/``**`` and the colon), up to a
    second one, stripped of markdown at both ends; None when the marker is missing or nothing follows
    it. ``original=True``: the original's rule, which stores an empty string for a missing marker (it
    would enter the training set) and strips ``#.*: \n`` at both ends."""
    text = text or ""
    if original:
        return text.split("Paraphrased version")[1].strip(NOISE) if "Paraphrased version" in text else ""
    m = re.search(r"Paraphrased version\**\s*:?\**", text)
    if not m:
        return None
    got = text[m.end():].split("Paraphrased version")[0]
    return re.sub(r"^[\s#*:]+|[\s#*]+$", "", got) or None


def clean_sample(text: str, original: bool = False) -> str:
    """A teacher sample: only a leading ``### Solution:`` header is removed (the original deletes
    every ``Solution`` in the text and strips ``#.*: \n`` at both ends: ``original=True``)."""
    if original:
        return text.replace("Solution", "").strip(NOISE)
    return re.sub(r"^\s*#*\s*Solution\s*:?", "", text, count=1).strip()
