"""Step 0: the hard-task pool, filtered, with the number of sub-tasks each task is split into.

    python -m src.guiding.pool --input POOL.jsonl [POOL2.jsonl ...] --out DIR
        [--counter bert-base-uncased] [--bands "401-1000:2 1001-1600:3"] [--original]

Input rows, the released pools' layout: ``{ori_id, source?, question, "positive answer",
token_len_pos_ans?}``. The length is counted with ``--counter`` (a tokenizer name or folder, the
original's bert-base-uncased); without it every row must carry ``token_len_pos_ans``.

Writes ``DIR/pool.jsonl`` rows ``{ori_id, source, task, solution, length, k}`` (k = 2 or 3 sub-tasks)
and ``DIR/pool.stats.json`` (rows read, kept, rejected by reason, the counter and bands used).
A task is rejected for a keyword, a multi-part marker (matched case-sensitively; ``--original``
lower-cases first, as the original, so that ``II`` never matches), non-English letters, or a length
outside the bands.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from ..cli import run_cli
from ..jsonio import DataError, read_jsonl_numbered, write_json, write_jsonl
from .counters import counter
from .parsing import BANDS, parse_bands, subtask_count, task_rejected


def filter_pool(rows: list[tuple[str, int, dict]], count=None, bands=BANDS, original: bool = False):
    """rows: (file, line, row). -> (kept rows, Counter of rejection reasons)."""
    kept, why, seen = [], Counter(), {}
    for path, lineno, r in rows:
        where = f"{path}:{lineno}"
        for field in ("ori_id", "question", "positive answer"):
            if not isinstance(r.get(field), (str, int)) or r.get(field) in ("", None):
                raise DataError(f"{where}: missing or empty {field!r}")
        if r["ori_id"] in seen:
            raise DataError(f"{where}: ori_id {r['ori_id']!r} again (first at {seen[r['ori_id']]})")
        seen[r["ori_id"]] = where
        task, solution = str(r["question"]), str(r["positive answer"])
        reason = task_rejected(task, solution, original)
        if reason:
            why[reason.split(" '")[0]] += 1
            continue
        if count is not None:
            length = count(solution)
        elif isinstance(r.get("token_len_pos_ans"), int):
            length = r["token_len_pos_ans"]
        else:
            raise DataError(f"{where}: no token_len_pos_ans; give --counter to count the solution's length")
        k = subtask_count(length, bands)
        if k is None:
            why["length outside the bands"] += 1
            continue
        kept.append({"ori_id": r["ori_id"], "source": r.get("source", Path(path).stem), "task": task,
                     "solution": solution, "length": length, "k": k})
    return kept, why


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.guiding.pool", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", required=True, nargs="+")
    ap.add_argument("--out", required=True, help="the step's folder")
    ap.add_argument("--counter", default=None, help="tokenizer that counts the solution's length (bert-base-uncased)")
    ap.add_argument("--bands", default="401-1000:2 1001-1600:3")
    ap.add_argument("--original", action="store_true", help="the original's lower-cased multi-part marker match")
    args = ap.parse_args(argv)

    def go():
        bands = parse_bands(args.bands)
        rows = [(p, n, r) for p in args.input for n, r in read_jsonl_numbered(p)]
        kept, why = filter_pool(rows, counter(args.counter) if args.counter else None, bands, args.original)
        out = write_jsonl(Path(args.out) / "pool.jsonl", kept)
        stats = {"read": len(rows), "kept": len(kept), "rejected": dict(why), "by_k": dict(Counter(r["k"] for r in kept)),
                 "counter": args.counter or "token_len_pos_ans (as given)", "bands": [list(b) for b in bands],
                 "original_marker_match": args.original}
        write_json(out.with_suffix(".stats.json"), stats, indent=2)
        print(f"[pool] {len(rows)} tasks read, {len(kept)} kept ({stats['by_k']} by sub-task count), "
              f"rejected {dict(why)} -> {out}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
