"""Command line: grade a results file.

    python -m src.eval outputs/.../output.jsonl --benchmark gsm8k --dev_set gsm8k [--mode exact|sympy|math_verify]
    python -m src.eval PRED --benchmark math --gold_file data/test/math.jsonl
    python -m src.eval PRED --benchmark olympicarena --dev_set olympicarena     # OlympicArena's rule-based judge
The original's flags keep working (``--answer_key '####'``, ``--judge olympic``); they override the
benchmark's own settings.
"""
import argparse
import sys

from ..benchmarks import for_dev_set, names, resolve
from ..cli import run_cli
from .evaluation import gold_path, grade_file
from .grader import DEFAULT_TIMEOUT, MODES


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.eval", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pred_file", help="JSONL rows {id, prompt, response}; results.jsonl and metrics.json go beside it")
    ap.add_argument("--benchmark", choices=names(), default=None, help="default: from --dev_set, else gsm8k")
    ap.add_argument("--dev_set", help="gold = data/test/<dev_set>.jsonl")
    ap.add_argument("--gold_file", help="gold file (eval format: source, question, solution, answer, tag)")
    ap.add_argument("--answer_key", default=None, help="override the benchmark's key ('####' GSM8K, 'The answer is:' MATH)")
    ap.add_argument("--mode", default=None, choices=MODES + ("olympic",), help="comparison mode (default: the benchmark's)")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per item (symbolic modes)")
    ap.add_argument("--workers", type=int, default=None, help="processes for symbolic modes (default: all cores)")
    ap.add_argument("--judge", default=None, choices=("minerva", "olympic"), help="override the benchmark's judge")
    args = ap.parse_args(argv)
    if not args.gold_file and not args.dev_set:
        ap.error("give --dev_set or --gold_file")
    return run_cli(lambda: grade_file(args.pred_file, args.gold_file or gold_path(args.dev_set), None,
                                      args.mode, args.timeout, args.workers,
                                      benchmark=resolve(args.benchmark or for_dev_set(args.dev_set),
                                                        args.answer_key, args.judge)))


if __name__ == "__main__":
    sys.exit(main())
