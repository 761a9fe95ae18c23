"""OlympicArena's rule-based answer judge, written after the benchmark's public judging rules.

A response ends with ``The final answer is $\\boxed{ANSWER}$``. The judge takes the content of the
first ``\\boxed{...}`` (balanced braces), normalises it, and compares it with the gold answer under
each answer type's rule. As in the benchmark's own evaluation, a single-answer question is judged
by trying every single-answer rule in turn (the first that accepts wins); a question with several
answers (``type_sequence``) is judged in order (MPV) or in any order (MA).

Answer types and rules:
    SC   single choice: the option letter (``B``, ``(B)``, ``[B]``, ``B: text``, ``B. text``)
    MC   multiple choice: the set of option letters (``A, D``, ``AD``, ``A and D``, ``A;D``), the same
         set as gold (one missing or extra: no match); anything else in the answer: no match
    TF   true/false: ``True`` / ``False`` (case-insensitive; ``\\text{}`` removed)
    NV   numerical value: equal when |p - g| <= 1.01e-5 (the benchmark's absolute tolerance);
         scientific notation ``a \\times 10^{b}`` with the same exponent matches when the mantissas
         differ by at most 0.1 (the benchmark's rule); LaTeX values (``\\frac{1}{3}``, ``2^{5}``) via
         sympy, exactly when too large for a float (``2^{2024}``, ``2024!``); infinities equal only
         themselves. A unit after the number (``3.2 m/s``, ``5kg``) is set aside, and when both
         answers carry one the units must be equal; ``\\pi``, ``\\sqrt{2}`` after a number are
         factors, not units
    SET  numerical values in any order, same count (``{...}`` braces around the whole set removed)
    IN   intervals, unions with ``\\cup``: same bracket types, bounds equal as expressions
    EX   expression: right-hand side of ``=`` when one side is written ``v = ...`` (two equations
         go to EQ); equal, or sympy ``simplify(a - b) == 0`` (``\\frac{x}{x}`` is 1), or a constant
         difference within the tolerance
    EQ   equation: lhs - rhs of both equal, or one a non-zero integer multiple of the other
    TUP  tuple: element-wise numerical values
    MPV  several quantities, in order, each by its own type; MA: several answers, any order

Answers equal up to white space always match. Lists are never read as their first item (sympy's
LaTeX parser reads ``A, C`` as ``A``, so the benchmark's code accepts a multiple-choice answer with
options missing; here a rule for one item refuses a list).

``judge(pred, gold, type_sequence)`` compares an extracted answer with gold (a string, or a list
for several answers); ``agree(a, b, type_sequence)`` decides whether two extracted answers are the
same answer (b is taken as gold, then a; either way accepted). sympy can hang, so every call runs in
a worker process with a time limit (``judge_many`` / ``agree_many`` for many items at once; a
timed-out item counts as "no match").
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Sequence

from .boxed import boxed

ABS_TOL = 1e-5 * 1.01  # the benchmark's absolute tolerance (no relative one: 9999 is not 10000)
SINGLE_TYPES = ("SC", "MC", "TF", "NV", "SET", "IN", "EX", "EQ", "TUP")
DEFAULT_TIMEOUT = 5.0
LETTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

# ------------------------------------------------------------------ extraction and normalisation
_REPLACE = [("\\left", ""), ("\\right", ""), ("∶", ":"), ("，", ","), ("$", ""), ("\\approx", "="),
            ("\\simeq", "="), ("\\sim", "="), ("^\\prime", "'"), ("^{\\prime}", "'"), ("^\\circ", ""),
            ("^{\\circ}", ""), ("\\%", ""), ("%", ""), ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"),
            ("\\!", ""), ("\\,", " "), ("\\;", " "), ("\\quad", " ")]


def extract_boxed(text: str) -> str:
    """Content of the first ``\\boxed{...}`` (balanced braces), normalised; "" when there is none."""
    return normalize(boxed(text, last=False) or "")


def normalize(answer: str) -> str:
    for old, new in _REPLACE:
        answer = answer.replace(old, new)
    answer = re.sub(r"\\(?:mathrm|mathbf|textbf|text|mbox|operatorname)\{~?([^{}]*)\}", r"\1", answer)
    answer = re.sub(r"\\frac(\d)(\d)", r"\\frac{\1}{\2}", answer)
    answer = re.sub(r"\\sqrt(\w)", r"\\sqrt{\1}", answer)
    return answer.strip().strip("$").strip().rstrip(".").strip()


def split_top_level(expr: str, sep: str = ",") -> list[str]:
    """Split at commas outside brackets: ``f(x, y), 3`` -> ``['f(x, y)', '3']``."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(expr):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(expr[start:i].strip())
            start = i + 1
    tail = expr[start:].strip()
    if tail:
        parts.append(tail)
    return [p.strip("$").strip() for p in parts]


# ------------------------------------------------------------------ numbers and sympy
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_SCI = re.compile(rf"^({_NUM})\s*(?:\\times|\\cdot|×|\*)\s*10\s*\^\s*\{{?\s*([-+]?\d+)\s*\}}?$")
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")  # 1,000 is a number, not a list
_E = re.compile(rf"^({_NUM})[eE]([-+]?\d+)$")
_LEAD = re.compile(rf"^({_NUM}(?:[eE][-+]?\d+)?(?:\s*(?:\\times|\\cdot|×)\s*10\s*\^\s*\{{?\s*[-+]?\d+\s*\}}?)?)(\s*)(.*)$")


@lru_cache(maxsize=1 << 16)
def _parsed(text: str):
    """(expression, None) or (None, the error): every rule reads the same strings, so parse each once."""
    from sympy.parsing.latex import parse_latex
    try:
        return parse_latex(text), None
    except Exception as err:  # noqa: BLE001 - kept and re-raised for every caller
        return None, err


def _parse_latex(text: str):
    expr, err = _parsed(text)
    if err is not None:
        raise err
    return expr


def _sci(s: str) -> tuple[float, int] | None:
    """(mantissa, exponent) when written in scientific notation."""
    s = s.replace(" ", "")
    m = _SCI.match(s) or _E.match(s)
    return (float(m.group(1)), int(m.group(2))) if m else None


# a unit: letters (and µ, Ω, °, digits, /, ^, braces after the first letter), or a LaTeX unit symbol;
# never a LaTeX command such as \\pi, \\sqrt, \\frac (a factor, not a unit)
_UNIT = re.compile(r"^(?:[A-Za-zµμΩ°Å]|\\(?:Omega|mu|circ|AA|ohm)\b)[A-Za-z0-9µμΩ°Å/^{}\-\s*.·\\]*$")


def _split_unit(s: str) -> tuple[str, str]:
    """(number, unit): ``3.2 m/s`` -> (``3.2``, ``m/s``); ``5kg`` -> (``5``, ``kg``); no unit: (s, "")."""
    m = _LEAD.match(s.strip())
    if not m or not m.group(3):
        return s, ""
    unit = m.group(3).strip()
    # after a space any unit-like text; without a space a word of two letters or more ("2x" is not a unit)
    if _UNIT.match(unit) and (m.group(2) or re.match(r"^[A-Za-zµμΩ°]{2,}", unit)):
        return m.group(1), re.sub(r"\s+|\\cdot|\\,|~|·|\*", "", unit)  # "kg\cdot m^2" = "kg m^2"
    return s, ""


def _strip_unit(s: str) -> str:
    return _split_unit(s)[0]


@lru_cache(maxsize=1 << 16)
def _value(s: str) -> float | None:
    """A finite or infinite float; None when not a number, or a number too large for a float (such
    values are compared exactly, as expressions)."""
    s = s.strip().replace(",", "") if _THOUSANDS.fullmatch(s.strip()) else s.strip()
    try:
        f = float(s)
        return f if math.isfinite(f) or s.lower().lstrip("+-") in ("inf", "infinity") else None
    except ValueError:
        pass
    sci = _sci(s)
    if sci:
        try:
            return sci[0] * 10.0 ** sci[1]
        except OverflowError:
            return None
    try:
        v = _parse_latex(s)
        if getattr(v, "free_symbols", None):
            return None
        x = v.evalf()
        if x.is_infinite:
            return float(x)
        f = float(x)
        return f if math.isfinite(f) else None
    except Exception:  # noqa: BLE001 - not a number
        return None


def _single(s: str) -> bool:
    """One item, not a list: no comma outside brackets (a thousands separator is not a list)."""
    return len(split_top_level(s)) <= 1 or bool(_THOUSANDS.fullmatch(s.strip()))


def _close(p: float, g: float) -> bool:
    if not (math.isfinite(p) and math.isfinite(g)):
        return p == g  # an infinity equals only itself
    return abs(p - g) <= ABS_TOL


def judge_nv(pred: str, gold: str) -> bool:
    if pred == gold:
        return True
    if not (_single(pred) and _single(gold)):
        return False
    (pred, pu), (gold, gu) = _split_unit(pred), _split_unit(gold)
    if pu and gu and pu != gu:
        return False  # 5 kg is not 5 g
    if pred == gold:
        return True
    sp, sg = _sci(pred), _sci(gold)
    if sp and sg and sp[1] == sg[1] and abs(sp[0] - sg[0]) <= 0.1 * 1.01:
        return True
    p, g = _value(pred), _value(gold)
    if p is None or g is None:
        return False
    if _close(p, g):
        return True
    if (sp is None) != (sg is None):  # one side in scientific notation: compare at its precision
        other = p if sg else g
        s = sg or sp
        exp = int(f"{other:.2e}".split("e")[1])
        return exp == s[1] and abs(float(f"{other:.2e}".split("e")[0]) - s[0]) <= 0.1 * 1.01
    return False


# ------------------------------------------------------------------ the rules
def _letter(s: str) -> str | None:
    s = s.strip().strip("[]()").strip()
    if len(s) == 1 and s in LETTERS:
        return s
    m = re.match(r"^\(?([A-Z])\)?\s*[:.)]", s)
    return m.group(1) if m else None


def judge_sc(pred: str, gold: str) -> bool:
    return pred == gold or (_letter(pred) is not None and _letter(pred) == _letter(gold))


def _as_list(gold) -> list[str]:
    return list(gold) if isinstance(gold, (list, tuple)) else split_top_level(gold)


def _letters(pred: str) -> list[str] | None:
    """The option letters of a multiple-choice answer; None when it holds anything else."""
    pred = pred.strip()
    if pred.startswith("[") and pred.endswith("]"):
        pred = pred[1:-1]
    out = []
    for item in re.split(r"[,;]", pred):
        item = item.strip()
        if not item:
            continue
        if _letter(item):
            out.append(_letter(item))
        elif re.fullmatch(r"[A-Z]{2,}", item):
            out += list(item)  # "AC"
        elif re.fullmatch(r"\(?[A-Z]\)?(?:\s*(?:and|&|\s)\s*\(?[A-Z]\)?)+", item):
            out += re.findall(r"[A-Z]", item)  # "A and D", "A D"
        else:
            return None
    return out


def judge_mc(pred: str, gold) -> bool:
    letters = _letters(pred)
    golds = [_letter(g) or g for g in _as_list(gold)]
    if len(golds) == 1 and re.fullmatch(r"[A-Z]{2,}", golds[0]):
        golds = list(golds[0])
    return bool(letters) and sorted(letters) == sorted(golds)


def judge_tf(pred: str, gold: str) -> bool:
    p, g = pred.strip().lower(), gold.strip().lower()
    return p in ("true", "false") and p == g


def _unbrace(s: str) -> str:
    s = s.strip()
    for a, b in (("\\{", "\\}"), ("{", "}")):
        if s.startswith(a) and s.endswith(b):
            return s[len(a):-len(b)]
    return s


def judge_set(pred: str, gold) -> bool:
    items, golds = split_top_level(_unbrace(pred)), _as_list(gold)
    if len(items) != len(golds):
        return False
    for g in golds:
        hit = next((i for i in items if judge_nv(i, g)), None)
        if hit is None:
            return False
        items.remove(hit)
    return True


def _intervals(text: str) -> list[tuple[str, str, str]] | None:
    out = []
    for part in text.split("\\cup"):
        part = part.strip()
        if len(part) < 2 or part[0] not in "([" or part[-1] not in ")]":
            return None
        bounds = split_top_level(part[1:-1])
        if len(bounds) != 2:
            return None
        out.append((part[0] + part[-1], bounds[0], bounds[1]))
    return out


def judge_in(pred: str, gold: str) -> bool:
    a, b = _intervals(pred), _intervals(gold)
    if not a or not b or len(a) != len(b):
        return False
    b = list(b)
    for kind, lo, hi in a:
        hit = next((x for x in b if x[0] == kind and judge_ex(lo, x[1]) and judge_ex(hi, x[2])), None)
        if hit is None:
            return False
        b.remove(hit)
    return True


def judge_ex(pred: str, gold: str) -> bool:
    import sympy
    if not (_single(pred) and _single(gold)):
        return False  # sympy's LaTeX parser would read "A, C" as "A"
    if "=" in pred and "=" in gold:
        return False  # two equations: the EQ rule
    pred, gold = (s.split("=")[-1].strip() if "=" in s else s.strip() for s in (pred, gold))
    if pred == gold:
        return True
    a, b = sympy.sympify(_parse_latex(pred)), sympy.sympify(_parse_latex(gold))
    if a == b:
        return True
    if not a.free_symbols and not b.free_symbols:
        fa, fb = _value(pred), _value(gold)
        if fa is not None and fb is not None:
            return _close(fa, fb)
    diff = sympy.simplify(a - b)
    if diff == 0:
        return True
    if diff.free_symbols:
        return False  # x is not 5
    value = diff.evalf()
    return bool(value.is_finite and abs(float(value)) <= ABS_TOL)


def judge_eq(pred: str, gold: str) -> bool:
    import sympy

    def side_difference(eq: str):
        if eq.count("=") != 1 or not _single(eq):
            raise ValueError("not an equation")
        lhs, rhs = eq.split("=")
        return sympy.simplify(_parse_latex(lhs) - _parse_latex(rhs))

    a, b = side_difference(pred), side_difference(gold)
    if sympy.simplify(a - b) == 0:
        return True
    for ratio in (sympy.simplify(a / b), sympy.simplify(b / a)):
        if ratio.is_Integer and ratio != 0:
            return True
    return False


def judge_tup(pred: str, gold: str) -> bool:
    a, b = split_top_level(pred.strip().strip("()")), split_top_level(gold.strip().strip("()"))
    return len(a) == len(b) and all(judge_nv(x, y) or _safe(judge_ex, x, y) for x, y in zip(a, b))


RULES = {"SC": judge_sc, "MC": judge_mc, "TF": judge_tf, "NV": judge_nv, "SET": judge_set, "IN": judge_in,
         "EX": judge_ex, "EQ": judge_eq, "TUP": judge_tup}


def _safe(rule, pred, gold) -> bool:
    try:
        return bool(rule(pred, gold))
    except Exception:  # noqa: BLE001 - an answer a rule cannot read does not match under it
        return False


def judge_mpv(pred: str, gold, type_sequence: Sequence[str]) -> bool:
    items, golds = [normalize(i) for i in split_top_level(pred)], [normalize(g) for g in _as_list(gold)]
    if len(items) != len(golds) or len(type_sequence) < len(golds):
        return False
    return all(_safe(RULES[t], p, g) for p, g, t in zip(items, golds, type_sequence))


def judge_ma(pred: str, gold, type_sequence: Sequence[str]) -> bool:
    items, golds = [normalize(i) for i in split_top_level(pred)], [normalize(g) for g in _as_list(gold)]
    if len(items) != len(golds) or len(type_sequence) < len(golds):
        return False
    used = [False] * len(items)
    for g, t in zip(golds, type_sequence):
        j = next((j for j, p in enumerate(items) if not used[j] and _safe(RULES[t], p, g)), None)
        if j is None:
            return False
        used[j] = True
    return True


# ------------------------------------------------------------------ entry points
def _judge(pred: str, gold, type_sequence: Sequence[str] | None = None) -> bool:
    if not pred:
        return False
    if isinstance(gold, (list, tuple)):
        gold = [normalize(g) for g in gold]
        if len(gold) == 1:
            gold = gold[0]
    else:
        gold = normalize(gold)
    if isinstance(gold, str) and re.sub(r"\s+", "", pred) == re.sub(r"\s+", "", gold):
        return True  # white space is not significant in LaTeX
    if type_sequence and len(type_sequence) > 1:
        return judge_mpv(pred, gold, type_sequence) or judge_ma(pred, gold, type_sequence)
    return any(_safe(RULES[t], pred, gold) for t in SINGLE_TYPES)


def _agree(a: str, b: str, type_sequence: Sequence[str] | None = None) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    multi = bool(type_sequence and len(type_sequence) > 1)
    gold = (lambda s: split_top_level(s)) if multi else (lambda s: s)  # noqa: E731
    return _judge(a, gold(b), type_sequence) or _judge(b, gold(a), type_sequence)


def judge(pred: str, gold, type_sequence: Sequence[str] | None = None, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """An extracted, normalised answer against gold (a string, or a list of several answers), within
    ``timeout`` seconds (past it: no match)."""
    return judge_many([(pred, gold, type_sequence)], timeout, 1)[0][0]


def agree(a: str, b: str, type_sequence: Sequence[str] | None = None, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Whether two extracted answers are the same answer (either taken as gold), within ``timeout`` s."""
    return agree_many([(a, b, type_sequence)], timeout, 1)[0][0]


def judge_many(items: Sequence[tuple], timeout: float = DEFAULT_TIMEOUT, workers: int = 2) -> tuple[list[bool], int]:
    """``judge(pred, gold, type_sequence)`` for each item, each within ``timeout`` s; (results, timeouts)."""
    return _many(_judge, items, timeout, workers)


def agree_many(items: Sequence[tuple], timeout: float = DEFAULT_TIMEOUT, workers: int = 2) -> tuple[list[bool], int]:
    """``agree(a, b, type_sequence)`` for each item, each within ``timeout`` s; (results, timeouts)."""
    return _many(_agree, items, timeout, workers)


def _many(fn, items, timeout, workers):
    from .timelimit import run_with_time_limit
    results: list[bool | None] = [None] * len(items)
    slow = []
    for i, (a, b, ts) in enumerate(items):  # answers that are equal as text need no worker
        if not a:
            results[i] = False
        elif fn is _agree and a == b or fn is _judge and isinstance(b, str) and a == normalize(b):
            results[i] = True
        else:
            slow.append(i)
    done, timeouts = run_with_time_limit([tuple(items[i]) for i in slow], fn, timeout, workers)
    for i, r in zip(slow, done):
        results[i] = r
    return results, timeouts  # type: ignore[return-value]
