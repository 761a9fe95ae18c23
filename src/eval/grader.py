"""The grader: extract a response's final answer, normalise it, compare it with another answer.

Used for accuracy against gold and, in the method itself, to decide whether two models agree
(stage I) and which sampled answers form the majority (stage II). docs/method.md, "Final-answer
extraction and comparison":

1. cut the response at its first 'Question'; strip white space;
2. pred = capture of the last match of ``<answer_key> (.*)$`` (no multiline flag);
3. if empty, fall back to the first number after the last 'The answer is ';
4. drop a trailing '</s>';
5. normalise pred and gold (normalize.py);
6. compare, by one of the MODES:

``exact``        string equality after normalisation. The default: it reproduces every released
                 ``pred``/``result`` (the original's symbolic check was inert, its LaTeX parser absent).
``sympy``        the original's intended check: parse both with sympy's LaTeX parser and test
                 ``simplify(a - b) == 0``, falling back to string equality when either fails to parse.
                 Each item has a time limit (sympy can hang); a timed-out item counts as not equal.
``math_verify``  the ``math-verify`` package's equivalence checker (numeric and symbolic), with
                 string equality after normalisation as a first check.
"""
from __future__ import annotations

import logging
import os
import re
from functools import lru_cache
from typing import Sequence

from .normalize import normalize_final_answer
from .timelimit import run_with_time_limit

logging.getLogger("math_verify").setLevel(logging.ERROR)  # it warns when we do the time limit ourselves

MODES = ("exact", "sympy", "math_verify")
DEFAULT_TIMEOUT = 5.0  # seconds per item, symbolic modes

_CLEANSE = re.compile(r"The answer is (.*)$")
_NUMBER = re.compile(r"-?\d+\.?\d*")
_INTEGER = re.compile(r"-?\d+")


@lru_cache(maxsize=64)
def _key_pattern(answer_key: str) -> re.Pattern:
    return re.compile(re.escape(answer_key) + " (.*)$")


def answer_cleansing(pred_str: str) -> str:
    """Fallback extraction: the first number after the last 'The answer is ', without commas."""
    found = _CLEANSE.findall(pred_str)
    text = found[-1].replace(",", "") if found else ""
    numbers = _NUMBER.findall(text)
    pred = numbers[0] if numbers else ""
    if pred.endswith("."):
        pred = pred[:-1]
    return pred


def extract_answer(response: str, answer_key: str) -> str:
    """The raw (not yet normalised) final answer of a response; '' when there is none."""
    if "Question" in response:
        response = response.split("Question")[0]
    response = response.strip()
    found = _key_pattern(answer_key).findall(response)
    pred = found[-1] if found else ""
    if pred == "":
        pred = answer_cleansing(response)
    if "</s>" in pred:
        pred = pred[:-4]
    return pred


def extract_pred(response: str, answer_key: str) -> str:
    """Extracted and normalised final answer: the ``pred`` field of a results row."""
    return normalize_final_answer(extract_answer(response, answer_key))


# ---------------------------------------------------------------------------------------------
# Comparison of two normalised answers
# ---------------------------------------------------------------------------------------------

def _parse_latex(text: str):
    from sympy.parsing.latex import parse_latex
    return parse_latex(text)


def sympy_equal(gold: str, pred: str) -> bool:
    """The original's check, without a time limit: parse both, simplify(a - b) == 0, else string equality."""
    import sympy
    try:
        a = _parse_latex(gold)
        b = _parse_latex(pred)
    except Exception:  # noqa: BLE001 - the original falls back to string equality on any failure
        return gold == pred
    try:
        return bool(sympy.simplify(a - b) == 0)
    except Exception:  # noqa: BLE001
        return False


def _sympy_fast(gold: str, pred: str) -> bool | None:
    """Cheap cases whose sympy outcome is known without parsing; None when sympy must decide."""
    if _INTEGER.fullmatch(gold) and _INTEGER.fullmatch(pred):
        return int(gold) == int(pred)
    return None


def math_verify_equal(gold: str, pred: str) -> bool:
    if gold == pred:
        return True
    from math_verify import parse, verify
    g = parse("$" + gold + "$", parsing_timeout=None)
    p = parse("$" + pred + "$", parsing_timeout=None)
    if not g or not p:
        return False
    return bool(verify(g, p, timeout_seconds=None))


def _checker(mode: str):
    if mode == "sympy":
        return sympy_equal
    if mode == "math_verify":
        return math_verify_equal
    raise ValueError(f"unknown grading mode {mode!r}; choose one of {', '.join(MODES)}")


def _fast(gold: str, pred: str, mode: str) -> bool | None:
    """The outcome when it is known without a symbolic check."""
    if mode == "sympy":
        return _sympy_fast(gold, pred)
    if mode == "math_verify" and gold == pred:
        return True
    return None


def compare_many(pairs: Sequence[tuple[str, str]], mode: str = "exact", timeout: float = DEFAULT_TIMEOUT,
                 workers: int | None = None, stats: dict | None = None) -> list[bool]:
    """Compare (gold, pred) pairs of normalised answers. Symbolic modes check each distinct pair once,
    in ``workers`` processes (default: all cores), each within ``timeout`` seconds (else not equal)."""
    if mode == "exact":
        return [g == p for g, p in pairs]
    check = _checker(mode)
    if mode == "sympy":
        check_sympy_parser()
    decided: dict[tuple[str, str], bool] = {}
    todo = []
    for pair in dict.fromkeys(pairs):
        fast = _fast(*pair, mode)
        if fast is None:
            todo.append(pair)
        else:
            decided[pair] = fast
    results, timeouts = run_with_time_limit(todo, check, timeout, workers or os.cpu_count() or 1)
    decided.update(zip(todo, results))
    if stats is not None:
        stats["timeouts"] = stats.get("timeouts", 0) + timeouts
        stats["symbolic_checks"] = stats.get("symbolic_checks", 0) + len(todo)
    return [decided[pair] for pair in pairs]


def check_sympy_parser() -> None:
    """The ``sympy`` mode needs sympy's LaTeX parser (ANTLR runtime 4.11); fail early and clearly."""
    try:
        _parse_latex("1+1")
    except Exception as err:  # noqa: BLE001
        first = str(err).splitlines()[0] if str(err) else ""
        raise RuntimeError(f"grading mode 'sympy' needs sympy's LaTeX parser, which failed to load "
                           f"({type(err).__name__}: {first}); install antlr4-python3-runtime==4.11.*") from None


def equivalent(gold: str, pred: str, mode: str = "exact", timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Are two normalised answers the same, by ``mode``? Symbolic modes obey ``timeout`` (seconds)."""
    if mode not in MODES:
        raise ValueError(f"unknown grading mode {mode!r}; choose one of {', '.join(MODES)}")
    return compare_many([(gold, pred)], mode, timeout, workers=1)[0]


def test_answer(pred_str: str, ans_str: str, answer_key: str, mode: str = "exact",
                timeout: float = DEFAULT_TIMEOUT) -> tuple[bool, str, str]:
    """Grade one response against a gold answer: ``(result, pred, gold)`` as in the original."""
    pred = extract_pred(pred_str, answer_key)
    gold = normalize_final_answer(ans_str)
    return equivalent(gold, pred, mode, timeout), pred, gold


test_answer.__test__ = False  # not a pytest test, despite its (original) name
