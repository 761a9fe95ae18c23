"""Benchmark the OlympicArena judge against the benchmark's own rules, on the released stage I pairs.

    .venv/bin/python scripts/bench_judge.py [--upstream ../shared/upstream]

The "benchmark's rules" row is a straightforward re-implementation (written here from the
description of OlympicArena's code/judge.py: every rule tried in turn, each under a 5 s
``signal.alarm``, sympy's LaTeX parser re-run by every rule, one process). Both judges decide
whether the weak and the ICL boxed answers of every released kept question agree (2,034 pairs).
Prints items/s and how often the two judges agree with each other.
"""
from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOL = 1e-5 * 1.01


# ------------------------------------------------------------------ the benchmark's rules, plainly
def b_norm(s: str) -> str:
    for a, b in (("\\left", ""), ("\\right", ""), ("∶", ":"), ("，", ","), ("$", ""), ("\\approx", "="),
                 ("\\simeq", "="), ("\\sim", "="), ("^\\prime", "'"), ("^{\\prime}", "'"), ("^\\circ", ""), ("%", "")):
        s = s.replace(a, b)
    s = re.sub(r"\\(?:mathrm|mathbf)\{~?([^}]*)\}", r"\1", s)
    s = re.sub(r"(\\text\{)(.*?)(\})", r"\2", s)
    s = re.sub(r"(\\textbf\{)(.*?)(\})", r"\2", s)
    s = re.sub(r"(frac)([^{])(.)", r"frac{\2}{\3}", s)
    s = re.sub(r"(sqrt)([^{])", r"sqrt{\2}", s)
    return s.strip().strip("$").strip()


def b_split(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        depth += ch in "([" and 1 or (ch in ")]" and -1 or 0)
        if ch == "," and depth == 0:
            out.append(cur.strip().strip("$").strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip().strip("$").strip())
    return out


def b_parse(s):
    from sympy.parsing.latex import parse_latex
    return parse_latex(s)


def b_is_sci(e) -> bool:
    from sympy import Mul, Pow
    return isinstance(e, Mul) and len(e.args) > 1 and isinstance(e.args[1], Pow) and e.args[1].args[0] == 10


def b_nv(p: str, g: str) -> bool:
    from sympy import N
    if p == g:
        return True
    try:
        return abs(float(p) - float(g)) <= TOL
    except ValueError:
        pass
    ep, eg = b_parse(p), b_parse(g)
    if abs(N(ep) - N(eg)) <= TOL:
        return True
    if b_is_sci(ep) != b_is_sci(eg):
        if b_is_sci(ep):
            m, e = f"{float(g):.2e}".split("e")
            eg = b_parse(f"{m}\\times 10^{{{int(e)}}}")
        else:
            m, e = f"{float(p):.2e}".split("e")
            ep = b_parse(f"{m}\\times 10^{{{int(e)}}}")
    if b_is_sci(ep) and b_is_sci(eg):
        return N(ep.args[1].args[1]) == N(eg.args[1].args[1]) and abs(N(ep.args[0]) - N(eg.args[0])) <= 0.1 * 1.01
    return N(ep) == N(eg)


def b_ex(p: str, g: str) -> bool:
    import sympy
    p, g = (s.split("=")[1] if "=" in s else s for s in (p, g))
    a, b = sympy.sympify(b_parse(p)), sympy.sympify(b_parse(g))
    if a == b:
        return True
    sa, sb = bool(a.free_symbols), bool(b.free_symbols)
    if sa != sb:
        return False
    if not sa:
        return abs(float(a.evalf()) - float(b.evalf())) <= TOL
    return bool(abs(sympy.simplify(a - b).evalf()) < 1e-5)


def b_eq(p: str, g: str) -> bool:
    import sympy

    def d(s):
        lhs, rhs = s.split("=")
        return sympy.simplify(b_parse(lhs) - b_parse(rhs))
    a, b = d(p), d(g)
    if sympy.simplify(a - b) == 0:
        return True
    return any(r.is_Integer and r != 0 for r in (sympy.simplify(a / b), sympy.simplify(b / a)))


def b_sc(p, g):
    if p == g:
        return True
    p = p.strip("[]")
    return len(p) > 1 and p[0].isupper() and p[1] == ":" and p[0] == g


def b_mc(p, g):
    items = b_split(p.strip("[]"))
    if len(items) != len(g):
        return False
    if all(len(i) == 1 and i.isupper() for i in items):
        return set(items) == set(g)
    return {next((c for c in i if c.isupper()), "") for i in items} == set(g)


def b_tf(p, g):
    return g in ("True", "False") and p in ("True", "False") and p == g


def b_set(p, g):
    items = b_split(p)
    if not isinstance(g, list) or len(items) != len(g):
        return False
    used = set()
    for x in g:
        j = next((j for j, i in enumerate(items) if j not in used and b_nv(i, x)), None)
        if j is None:
            return False
        used.add(j)
    return True


def b_in(p, g):
    def parts(s):
        return [((x.strip()[0] == "(", x.strip()[-1] == ")"), x.strip().strip("()[]").split(",")) for x in s.split("\\cup")]
    a, b = parts(p), parts(g)
    if len(a) != len(b):
        return False
    used = set()
    for kind, bounds in a:
        j = next((j for j, (k, bb) in enumerate(b) if j not in used and k == kind and b_ex(bounds[0], bb[0])
                  and b_ex(bounds[1], bb[1])), None)
        if j is None:
            return False
        used.add(j)
    return True


def b_tup(p, g):
    a, b = b_split(p.strip("()")), b_split(g.strip("()"))
    return len(a) == len(b) and all(b_nv(x, y) for x, y in zip(a, b))


RULES = [b_sc, b_mc, b_tf, b_nv, b_set, b_in, b_ex, b_eq, b_tup]


def _alarm(signum, frame):
    raise TimeoutError


def benchmark_judge(pred: str, gold) -> bool:
    """auto_judge for a single-answer question: every rule in turn, 5 s each."""
    if not pred:
        return False
    gold = b_norm(gold) if isinstance(gold, str) else gold
    for rule in RULES:
        signal.signal(signal.SIGALRM, _alarm)
        try:
            signal.alarm(5)
            if rule(pred, gold):
                return True
        except BaseException:  # noqa: BLE001 - the benchmark's bare except
            pass
        finally:
            signal.alarm(0)
    return False


# ------------------------------------------------------------------ the run
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", default=str(ROOT.parent / "shared/upstream"))
    args = ap.parse_args()
    from src.eval.olympic_judge import agree_many, extract_boxed
    base = Path(args.upstream) / "data/llama_factory/olympicarena/train_olympic_llama3-8b-instruct_"
    pairs = []
    for it in ("iter1", "iter2"):
        weak = json.loads(Path(f"{base}{it}_weak.json").read_text())
        icl = json.loads(Path(f"{base}{it}_icl.json").read_text())
        pairs += [(w["output"], c["output"]) for w, c in zip(weak, icl)]

    def boxed(text):  # the benchmark's extraction: the first balanced \boxed{}, else the whole text
        i = text.find("\\boxed{")
        if i < 0:
            return b_norm(text)
        depth, j = 1, i + len("\\boxed{")
        for k in range(j, len(text)):
            depth += {"{": 1, "}": -1}.get(text[k], 0)
            if depth == 0:
                return b_norm(text[j:k])
        return b_norm(text)

    t0 = time.perf_counter()
    theirs = [benchmark_judge(boxed(a), boxed(b)) for a, b in pairs]
    t_theirs = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours, timeouts = agree_many([(extract_boxed(a), extract_boxed(b), None) for a, b in pairs], timeout=5.0, workers=2)
    t_ours = time.perf_counter() - t0
    n = len(pairs)
    same = sum(a == b for a, b in zip(ours, theirs))
    print(f"\n## OlympicArena judge, {n} released stage I pairs (weak vs ICL boxed answers), 2 CPU cores\n")
    print("| judge | s | items/s | vs the benchmark's rules | agree |\n|---|---:|---:|---:|---:|")
    print(f"| the benchmark's rules (re-implemented, one process, 5 s alarm per rule) | {t_theirs:.1f} | {n / t_theirs:.0f} | 1.0x | {sum(theirs)} |")
    print(f"| this project (agree_many, 2 workers, 5 s per item) | {t_ours:.1f} | {n / t_ours:.0f} | {t_theirs / t_ours:.1f}x | {sum(ours)} |")
    print(f"\nsame verdict on {same} of {n} pairs; time-outs: {timeouts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
