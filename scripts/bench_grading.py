"""Benchmark the grader on the 7,000 released Llama2-7b GSM8K train_2 responses.

    .venv/bin/python scripts/bench_grading.py [--upstream ../shared/upstream] [--rows N]

In one process it grades the same rows (a) with a straightforward re-implementation of the
original grading loop, once on its fallback path (LaTeX parser unavailable -> string equality,
how the released results were made) and once on its symbolic path (parse_latex + simplify, no
time limit), and (b) with this project's modes. It prints rows/s, the speed-up against the
matching original path, and whether the results are identical to it.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from src.eval import compare_many, extract_pred, normalize_final_answer  # noqa: E402
from src.eval.grader import sympy_equal  # noqa: E402

REL = "outputs/gsm8k_train_2/zero_shot/llama2_7b_gsm8k_1/zero-shot/direct/results.jsonl"


def original_loop(responses, golds, key, symbolic: bool):
    """The original per-row loop: extract, normalise, then check_sympy_equivalence."""
    from sympy.parsing.latex import parse_latex as real_parse
    import sympy

    def parse(s):
        if not symbolic:  # parser not installed: sympy raises ImportError on every call
            raise ImportError("LaTeX parsing requires the antlr4 Python package")
        return real_parse(s)

    out = []
    for response, gold in zip(responses, golds):
        pred_str = response.split("Question")[0] if "Question" in response else response
        pred_str = pred_str.strip()
        found = re.findall(f"{key} (.*)$", pred_str)
        pred = found[-1] if found else ""
        if pred == "":
            cand = re.findall("The answer is (.*)$", pred_str)
            nums = re.findall(r"-?\d+\.?\d*", cand[-1].replace(",", "") if cand else "")
            pred = nums[0] if nums else ""
            pred = pred[:-1] if pred.endswith(".") else pred
        if "</s>" in pred:
            pred = pred[:-4]
        p, g = normalize_final_answer(pred), normalize_final_answer(gold)
        try:
            a, b = parse(g), parse(p)
        except Exception:  # noqa: BLE001
            out.append(g == p)
            continue
        try:
            out.append(bool(sympy.simplify(a - b) == 0))
        except Exception:  # noqa: BLE001
            out.append(False)
    return out


def ours(responses, golds, key, mode):
    preds = [extract_pred(r, key) for r in responses]
    gold_n = [normalize_final_answer(g) for g in golds]
    return compare_many(list(zip(gold_n, preds)), mode=mode)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", default=str(Path(__file__).resolve().parents[2] / "shared" / "upstream"))
    ap.add_argument("--rows", type=int, default=None, help="grade only the first N rows")
    ap.add_argument("--repeat", type=int, default=3, help="repeats of the fast (string) paths; best is kept")
    args = ap.parse_args()
    up = Path(args.upstream)
    if not (up / REL).is_file():
        print(f"skipped: {up / REL} not found (point --upstream at the released files)")
        return 0
    rows = [json.loads(line) for line in open(up / REL)][: args.rows]
    gold_rows = [json.loads(line) for line in open(up / "data/test/gsm8k_train_2.jsonl")]
    responses = [r["response"] for r in rows]
    golds = [gold_rows[r["id"]]["answer"] for r in rows]
    released = [r["result"] for r in rows]
    n = len(rows)
    sympy_equal("1", "1")  # import sympy's parser once, outside the timings

    def best(fn):
        runs = [timed(fn) for _ in range(args.repeat)]
        return runs[0][0], min(t for _, t in runs)

    orig_fb, t_orig_fb = best(lambda: original_loop(responses, golds, "####", symbolic=False))
    exact, t_exact = best(lambda: ours(responses, golds, "####", "exact"))
    orig_sym, t_orig_sym = timed(lambda: original_loop(responses, golds, "####", symbolic=True))
    sym, t_sym = timed(lambda: ours(responses, golds, "####", "sympy"))
    mv, t_mv = timed(lambda: ours(responses, golds, "####", "math_verify"))

    print(f"Grading {n} released GSM8K train_2 responses (Llama2-7b), one process, best of {args.repeat} for string paths\n")
    print("| path | rows/s | vs original | same results as | changed vs released |")
    print("|---|---:|---:|---|---:|")
    def row(name, res, t, ref_t, ref_res, ref_name):
        same = "yes" if res == ref_res else f"NO ({sum(a != b for a, b in zip(res, ref_res))} differ)"
        ratio = f"{ref_t / t:.1f}x" if ref_t else "-"
        print(f"| {name} | {n / t:,.0f} | {ratio} | {ref_name}: {same} | {sum(a != b for a, b in zip(res, released))} |")
    row("original loop, fallback (string equality)", orig_fb, t_orig_fb, None, released, "released")
    row("ours, exact", exact, t_exact, t_orig_fb, orig_fb, "original fallback")
    row("original loop, symbolic (parse_latex + simplify)", orig_sym, t_orig_sym, None, orig_sym, "itself")
    row("ours, sympy (time limit, cache, workers)", sym, t_sym, t_orig_sym, orig_sym, "original symbolic")
    row("ours, math_verify", mv, t_mv, t_orig_sym, orig_sym, "original symbolic")
    return 0


if __name__ == "__main__":
    sys.exit(main())
