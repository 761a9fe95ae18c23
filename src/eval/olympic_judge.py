"""OlympicArena's rule-based answer judge, written after the benchmark's public judging rules.

A response ends with ``The final answer is $\\boxed{ANSWER}$``. The judge takes the content of the
first ``\\boxed{...}`` (balanced braces), normalises it, and compares it with the gold answer under
each answer type's rule. As in the benchmark's own evaluation, a single-answer question is judged
by trying every single-answer rule in turn (the first that accepts wins); a question with several
answers (``type_sequence``) is judged in order (MPV) or in any order (MA).

Answer types and rules:
    SC   single choice: the option letter (``B``, ``(B)``, ``[B]``, ``B: text``, ``B. text``)
    MC   multiple choice: the set of option letters, same number of options (one missing: no match)
    TF   true/false: ``True`` / ``False`` (case-insensitive; ``\\text{}`` removed)
    NV   numerical value: equal when |p - g| <= 1.01e-5 (the benchmark's absolute tolerance) or
         |p - g| <= REL_TOL * |g| (relative, 1e-4); units after the number are stripped; scientific
         notation ``a \\times 10^{b}`` with the same exponent matches when the mantissas differ by
         at most 0.1 (the benchmark's rule); LaTeX values (``\\frac{1}{3}``, ``2^{5}``) via sympy
    SET  numerical values in any order, same count
    IN   intervals, unions with ``\\cup``: same bracket types, bounds equal as expressions
    EX   expression: right-hand side of ``=`` when one side is written ``v = ...`` (two equations
         go to EQ); equal, or sympy ``simplify(a - b) == 0``; one side with free symbols and the
         other without: no match
    EQ   equation: lhs - rhs of both equal, or one a non-zero integer multiple of the other
    TUP  tuple: element-wise numerical values
    MPV  several quantities, in order, each by its own type; MA: several answers, any order

Answers equal up to white space always match. Lists are never read as their first item (sympy's
LaTeX parser reads ``A, C`` as ``A``, so the benchmark's code accepts a multiple-choice answer with
options missing; here a rule for one item refuses a list).

``judge(pred, gold, type_sequence)`` compares an extracted answer with gold (a string, or a list
for several answers); ``agree(a, b, type_sequence)`` decides whether two extracted answers are the
same answer (b is taken as gold, then a; either way accepted). sympy can hang, so callers run these
in worker processes with a time limit (``judge_many`` / ``agree_many``; a timed-out item counts as
"no match").
"""
from __future__ import annotations

import re
from typing import Sequence

REL_TOL = 1e-4
ABS_TOL = 1e-5 * 1.01
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
    start = text.find("\\boxed{")
    if start == -1:
        return ""
    i = start + len("\\boxed{")
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return normalize(text[i:j])
    return ""


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


def _parse_latex(text: str):
    from sympy.parsing.latex import parse_latex
    return parse_latex(text)


def _sci(s: str) -> tuple[float, int] | None:
    """(mantissa, exponent) when written in scientific notation."""
    s = s.replace(" ", "")
    m = _SCI.match(s) or _E.match(s)
    return (float(m.group(1)), int(m.group(2))) if m else None


def _strip_unit(s: str) -> str:
    """``3.2 m/s`` -> ``3.2``; ``5 \\times 10^{3} kg`` -> ``5 \\times 10^{3}``."""
    m = _LEAD.match(s.strip())
    if not m or not m.group(3):
        return s
    unit = m.group(3)
    # a unit after a space ("3.2 m/s") or a word of two letters or more ("5kg"); "2x" is not a unit
    if (m.group(2) and re.match(r"^[A-Za-zµμΩ°\\~]", unit)) or re.match(r"^[A-Za-zµμΩ°]{2,}", unit):
        return m.group(1)
    return s


def _value(s: str) -> float | None:
    s = s.strip().replace(",", "") if _THOUSANDS.fullmatch(s.strip()) else s.strip()
    try:
        return float(s)
    except ValueError:
        pass
    sci = _sci(s)
    if sci:
        return sci[0] * 10.0 ** sci[1]
    try:
        v = _parse_latex(s)
        if getattr(v, "free_symbols", None):
            return None
        return float(v.evalf())
    except Exception:  # noqa: BLE001 - not a number
        return None


def _single(s: str) -> bool:
    """One item, not a list: no comma outside brackets (a thousands separator is not a list)."""
    return len(split_top_level(s)) <= 1 or bool(_THOUSANDS.fullmatch(s.strip()))


def _close(p: float, g: float) -> bool:
    return abs(p - g) <= ABS_TOL or abs(p - g) <= REL_TOL * abs(g)


def judge_nv(pred: str, gold: str) -> bool:
    if pred == gold:
        return True
    if not (_single(pred) and _single(gold)):
        return False
    pred, gold = _strip_unit(pred), _strip_unit(gold)
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


def judge_mc(pred: str, gold) -> bool:
    pred = pred.strip()
    if pred.startswith("[") and pred.endswith("]"):
        pred = pred[1:-1]
    items = split_top_level(pred)
    if len(items) == 1 and re.fullmatch(r"[A-Z]{2,}", items[0]):
        items = list(items[0])  # "AC"
    golds = [_letter(g) or g for g in _as_list(gold)]
    letters = [_letter(i) or next((c for c in i if c in LETTERS), None) for i in items]
    return len(letters) == len(golds) and None not in letters and sorted(letters) == sorted(golds)


def judge_tf(pred: str, gold: str) -> bool:
    p, g = pred.strip().lower(), gold.strip().lower()
    return p in ("true", "false") and p == g


def judge_set(pred: str, gold) -> bool:
    items, golds = split_top_level(pred.strip("{}")), _as_list(gold)
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
    sa, sb = bool(a.free_symbols), bool(b.free_symbols)
    if sa != sb:
        return False
    if not sa:
        return _close(float(a.evalf()), float(b.evalf()))
    diff = sympy.simplify(a - b)
    if diff == 0:
        return True
    value = diff.evalf()
    return bool(value.is_number and abs(value) < 1e-5)


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
def judge(pred: str, gold, type_sequence: Sequence[str] | None = None) -> bool:
    """An extracted, normalised answer against gold (a string, or a list of several answers)."""
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


def agree(a: str, b: str, type_sequence: Sequence[str] | None = None) -> bool:
    """Whether two extracted answers are the same answer (either taken as gold)."""
    if not a or not b:
        return False
    if a == b:
        return True
    multi = bool(type_sequence and len(type_sequence) > 1)
    gold = (lambda s: split_top_level(s)) if multi else (lambda s: s)  # noqa: E731
    return judge(a, gold(b), type_sequence) or judge(b, gold(a), type_sequence)


def judge_many(items: Sequence[tuple], timeout: float = DEFAULT_TIMEOUT, workers: int = 2) -> tuple[list[bool], int]:
    """``judge(pred, gold, type_sequence)`` for each item, each within ``timeout`` s; (results, timeouts)."""
    return _many(judge, items, timeout, workers)


def agree_many(items: Sequence[tuple], timeout: float = DEFAULT_TIMEOUT, workers: int = 2) -> tuple[list[bool], int]:
    """``agree(a, b, type_sequence)`` for each item, each within ``timeout`` s; (results, timeouts)."""
    return _many(agree, items, timeout, workers)


def _many(fn, items, timeout, workers):
    from .timelimit import run_with_time_limit
    results: list[bool | None] = [None] * len(items)
    slow = []
    for i, (a, b, ts) in enumerate(items):  # answers that are equal as text need no worker
        if not a:
            results[i] = False
        elif fn is agree and a == b or fn is judge and isinstance(b, str) and a == normalize(b):
            results[i] = True
        else:
            slow.append(i)
    done, timeouts = run_with_time_limit([tuple(items[i]) for i in slow], fn, timeout, workers)
    for i, r in zip(slow, done):
        results[i] = r
    return results, timeouts  # type: ignore[return-value]
