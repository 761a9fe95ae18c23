"""Command line: grade a results file.

    python -m src.eval outputs/.../output.jsonl --dev_set gsm8k --answer_key '####' [--mode exact|sympy|math_verify]
    python -m src.eval PRED --gold_file data/test/gsm8k_train_2.jsonl --answer_key '####'
    python -m src.eval PRED --dev_set olympicarena --judge olympic     # OlympicArena's rule-based judge
"""
import argparse
import sys

from ..jsonio import DataError
from .evaluation import gold_path, grade_file
from .grader import DEFAULT_TIMEOUT, MODES


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.eval", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pred_file", help="JSONL rows {id, prompt, response}; results.jsonl and metrics.json go beside it")
    ap.add_argument("--dev_set", help="gold = data/test/<dev_set>.jsonl")
    ap.add_argument("--gold_file", help="gold file (eval format: source, question, solution, answer, tag)")
    ap.add_argument("--answer_key", default="####", help="'####' for GSM8K, 'The answer is:' for MATH")
    ap.add_argument("--mode", default="exact", choices=MODES)
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per item (symbolic modes)")
    ap.add_argument("--workers", type=int, default=None, help="processes for symbolic modes (default: all cores)")
    ap.add_argument("--judge", default=None, choices=("olympic",), help="OlympicArena's judge (boxed answers, answer types)")
    args = ap.parse_args(argv)
    if not args.gold_file and not args.dev_set:
        ap.error("give --dev_set or --gold_file")
    try:
        grade_file(args.pred_file, args.gold_file or gold_path(args.dev_set), args.answer_key,
                   args.mode, args.timeout, args.workers, judge=args.judge)
    except (DataError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
