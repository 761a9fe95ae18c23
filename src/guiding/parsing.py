"""The Guiding study's filters and the parsers of its LLM outputs, each with the original's defect
fixed and, where results depend on it, a flag that reproduces the original.

    task_rejected(task, solution, original=False)   step 0: keywords, multi-part markers, non-English
    subtask_count(bert_length)                      2, 3 or None (skip) from the solution's length
    read_decomposition(text, k)                     ([(problem, solution)] * k, None) or (None, why rejected)
    read_check_conditions / read_steps_count / read_variant_check   the three checks, validated
    read_judgement(text)                            1 or 0, or why not (N/A, no marker, another value)
    read_final_answer(text)                         the answer, or why not
    parse_*(text)                                   the value of read_* alone (None: rejected);
                                                    parse_decomposition(text, k, original=True): the original's parser
    read_paraphrase(text), parse_paraphrase(text, original=False), clean_sample(text, original=False)
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


_MARK = r"[ \t]*(?:[#*`>]+[ \t]*)*"         # what models put before a marker: '### ', '**', '`', '> '
_TAIL = r"[ \t]*[*`]*[ \t]*:?[ \t]*[*`]*"   # and after it: '**:', ':**', '`'
_ITEM = re.compile(rf"(?m)^{_MARK}Item[ \t]*(\d+){_TAIL}")
_END = re.compile(rf"(?m)^{_MARK}End\b")


def _piece(text: str) -> str:
    """A problem or solution without the layout around it: blank lines, a leftover ``**`` or ``:``
    of its marker, a ``---`` rule or a lone ``#`` line at its end."""
    text = re.sub(r"^[\s:]+", "", text)
    text = re.sub(r"(\s*\n\s*(-{3,}|#+|\*{3,}))+\s*$", "", text).strip()
    if text.count("**") % 2:  # a bold marker's orphaned half
        text = re.sub(r"^\*\*\s*|\s*\*\*$", "", text, count=1)
    return text.strip()


def read_decomposition(text: str | None, k: int) -> tuple[list[tuple[str, str]] | None, str | None]:
    """``Item i`` headers (``### Item i:``, ``**Item i:**``, ...), each with ``New problem i:`` and
    ``New solution i:`` (any case, bold or not); exactly items 1..k, each with a problem and a
    solution, or a rejection with its reason. ``End`` (a header line) and what follows are cut."""
    if failed_text(text):
        return None, "failed call"
    body = _END.split(text)[0]
    heads = list(_ITEM.finditer(body))
    if not heads:
        return None, "no Item headers"
    numbers = [int(h.group(1)) for h in heads]
    if numbers != list(range(1, len(numbers) + 1)):
        return None, f"items numbered {numbers[:6]}"
    if len(heads) != k:
        return None, f"{len(heads)} items, not {k}"
    items = []
    for i, (h, nxt) in enumerate(zip(heads, heads[1:] + [None]), 1):
        chunk = body[h.end(): nxt.start() if nxt else len(body)]
        m = re.search(rf"New[ \t]+problem[ \t]*{i}{_TAIL}(.*?){_MARK}New[ \t]+solution[ \t]*{i}{_TAIL}(.*)",
                      chunk, flags=re.S | re.I | re.M)
        if not m:
            return None, f"item {i}: no 'New problem {i}' and 'New solution {i}'"
        problem, solution = _piece(m.group(1)), _piece(m.group(2))
        if not problem or not solution:
            return None, f"item {i}: empty {'problem' if not problem else 'solution'}"
        items.append((problem, solution))
    return items, None


def parse_decomposition(text: str | None, k: int, original: bool = False) -> list[tuple[str, str]] | None:
    """The items of ``read_decomposition`` or None. ``original=True``: the original's parser
    (``_original_decomposition``: any number of items, its case rule, empty texts kept, ``### End``
    left in the last solution)."""
    if original:
        return None if failed_text(text) else _original_decomposition(text)
    return read_decomposition(text, k)[0]


# ------------------------------------------------------------------ the model-output parsers
# Each reader returns (value, None) or (None, reason): the steps count every rejection by its reason.
# What real models write around the markers is accepted (Qwen2.5-Coder-1.5B-Instruct, docs/guiding.md):
# bold or backticked markers and values (``**Conclusion:** 1``, ``Conclusion: `1```), a sentence
# before the marker, ``Judgment`` for ``Judgement``, ``**Item 1:**`` headers, ``4 steps``.

def _plain(text: str) -> str:
    """The text without bold markers and backticks (only the short replies are read this way)."""
    return re.sub(r"\*\*|__|`", "", text)


def _one(values: list[str], marker: str) -> tuple[str | None, str | None]:
    if not values:
        return None, f"no {marker}"
    if len(set(values)) > 1:
        return None, f"contradictory {marker}s"
    return values[0], None


def _conclusion(text: str | None) -> tuple[int | None, str | None]:
    """``Conclusion: 0`` or ``1`` anywhere (bold or not; another digit is rejected); the same digit
    when restated. A ``Conclusion:``
    heading followed by prose or a formula, or a ``\\boxed{}`` answer instead of the marker, is
    rejected with that reason: the value is not read from it (measured: a model that reasons
    "A is not a variant of B" then boxes 0, the code for "a variant")."""
    if failed_text(text):
        return None, "failed call"
    plain = _plain(text)
    value, why = _one(re.findall(r"Conclusion\s*:\s*(\d+)\b", plain), "Conclusion")
    if why == "no Conclusion":
        if re.search(r"Conclusion\s*:", plain):
            return None, "Conclusion: without a value after it"
        if re.search(r"\\boxed\{\s*\d+\s*\}", plain):
            return None, "no Conclusion (a \\boxed{} answer instead)"
    if why:
        return None, why
    return (int(value), None) if value in ("0", "1") else (None, f"Conclusion {value[:20]!r}")


def read_check_conditions(text: str | None) -> tuple[int | None, str | None]:
    """Check 1: ``Conclusion: 1.`` (the sub-solution uses only the sub-problem's conditions) or
    ``Conclusion: 0. Reason: ...``."""
    return _conclusion(text)


def read_variant_check(text: str | None) -> tuple[int | None, str | None]:
    """Check 3: ``Conclusion: 0`` (a variable-value variant of the full problem) or ``1``; the
    original format's ``2`` and anything else are rejections (counted as invalid, not as a pass)."""
    return _conclusion(text)


def read_steps_count(text: str | None) -> tuple[int | None, str | None]:
    """Check 2: ``Steps count: <int>.`` (or, with no such line, one ``<int> steps``); a count below 1
    is rejected."""
    if failed_text(text):
        return None, "failed call"
    plain = _plain(text)
    found = re.findall(r"Steps?\s+count\s*:\s*(\d+)", plain, flags=re.I) or re.findall(r"\b(\d+)\s+steps\b", plain, flags=re.I)
    value, why = _one(found, "Steps count")
    if why:
        return None, why
    return (int(value), None) if int(value) > 0 else (None, "count below 1")


def read_judgement(text: str | None) -> tuple[int | None, str | None]:
    """``### Judgement: 1`` / ``0`` (the last one when the judge restates it; ``Judgment`` too);
    ``N/A``, a failed call or another value: rejected."""
    if failed_text(text):
        return None, "failed call"
    found = re.findall(r"Judge?ment\s*:\s*([^\s.,;]+)", _plain(text), flags=re.I)
    if not found:
        return None, "no Judgement (a \\boxed{} answer instead)" if re.search(r"\\boxed\{", text) else "no Judgement"
    value = found[-1]
    if value.upper() == "N/A":
        return None, "N/A"
    return (int(value), None) if value in ("0", "1") else (None, f"Judgement {value[:20]!r}")


def read_final_answer(text: str | None) -> tuple[str | None, str | None]:
    """``### Final answer: X`` (bold or not); ``Unknown`` or nothing after the marker: rejected."""
    if failed_text(text):
        return None, "failed call"
    m = re.search(r"Final answer\s*:\s*(.*)", _plain(text), flags=re.S | re.I)
    if not m:
        return None, "no Final answer"
    ans = m.group(1).strip()
    if not ans:
        return None, "empty answer"
    return (None, "Unknown") if ans.lower().startswith("unknown") else (ans, None)


def value_only(reader):
    """``parse_x(text)``: the value of ``read_x(text)`` (None when rejected)."""
    def parse(text):
        return reader(text)[0]
    parse.__name__ = reader.__name__.replace("read_", "parse_")
    parse.__doc__ = reader.__doc__
    return parse


parse_check_conditions = value_only(read_check_conditions)
parse_variant_check = value_only(read_variant_check)
parse_steps_count = value_only(read_steps_count)
parse_judgement = value_only(read_judgement)
parse_final_answer = value_only(read_final_answer)


def read_paraphrase(text: str | None) -> tuple[str | None, str | None]:
    """The text after ``Paraphrased version`` (with or without ``###``/``**`` and the colon), up to a
    second one, stripped of markdown at both ends; rejected when the marker is missing or nothing
    follows it."""
    if failed_text(text):
        return None, "failed call"
    m = re.search(r"Paraphrased version\**\s*:?\**", text)
    if not m:
        return None, "no 'Paraphrased version'"
    got = re.sub(r"^[\s#*:]+|[\s#*]+$", "", text[m.end():].split("Paraphrased version")[0])
    return (got, None) if got else (None, "nothing after the marker")


def parse_paraphrase(text: str | None, original: bool = False) -> str | None:
    """The value of ``read_paraphrase``. ``original=True``: the original's rule, which stores an empty
    string for a missing marker (it would enter the training set) and strips ``#.*: \n`` at both ends."""
    if original:
        text = text or ""
        return text.split("Paraphrased version")[1].strip(NOISE) if "Paraphrased version" in text else ""
    return read_paraphrase(text)[0]


def clean_sample(text: str, original: bool = False) -> str:
    """A teacher sample: only a leading ``### Solution:`` header is removed (the original deletes
    every ``Solution`` in the text and strips ``#.*: \n`` at both ends: ``original=True``); the header
    may be bold (``**Solution:**``)."""
    if original:
        return text.replace("Solution", "").strip(NOISE)
    return re.sub(r"^\s*(?:(?:#+|\*\*)\s*Solution\b\s*(?:\*\*)?\s*:?\s*(?:\*\*)?|Solution\s*:(?:\*\*)?)", "", text, count=1).strip()
