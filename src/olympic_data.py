"""OlympicArena data: the benchmark's ``test`` split is train_2, its ``val`` split is the test set.

    python -m src.olympic_data --hub                      # GAIR/OlympicArena from the Hugging Face hub
    python -m src.olympic_data --from DIR                 # a local copy laid out like the hub repository

As the original: subjects Math, Physics, Chemistry, Biology, Geography, Astronomy (no CS); English
only; answer types CODE and OT removed. There is no train_1: the weak model is used as it is.
A local copy has one folder per subject holding ``test`` and ``val`` files in the hub's layout
(``Math/test-00000-of-00001.parquet``) or as JSON lines (``Math/test.jsonl``).

Writes under ``--out`` (default ``data/``):

    test/olympicarena_train_2.jsonl, test/olympicarena.jsonl
        {id, question, answer, answer_type, type_sequence, unit, subject, modality, source}

``question`` is the benchmark's ready prompt (competition preamble, answer-type instruction asking
for ``The final answer is $\\boxed{ANSWER}$``) with its problem header ``\\n\\nproblem:\\n``
replaced by ``\\n\\nQuestion: ``; inference appends ``\\n\\nAnswer:`` (``--prompt_style olympic``).
``answer`` is the list of gold answers; ``type_sequence`` the answer types of a multi-answer question.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .jsonio import DataError, read_jsonl_numbered, write_jsonl

HUB_NAME = "GAIR/OlympicArena"
SUBJECTS = ("Math", "Physics", "Chemistry", "Biology", "Geography", "Astronomy")
DROPPED_TYPES = ("CODE", "OT")
SPLITS = {"train_2": "test", "test": "val"}  # our role -> the benchmark's split
PROBLEM_HEADER, QUESTION_HEADER = "\n\nproblem:\n", "\n\nQuestion: "
REQUIRED = ("id", "prompt", "answer", "answer_type", "language")


def load_local(root: Path, subject: str, split: str) -> list[tuple[str, dict]]:
    """(where, row) pairs of one subject and split from a local copy."""
    folder = root / subject
    jsonl = folder / f"{split}.jsonl"
    if jsonl.is_file():
        return [(f"{jsonl}:{n}", row) for n, row in read_jsonl_numbered(jsonl)]
    parquet = sorted(folder.glob(f"{split}-*.parquet")) + sorted(folder.glob(f"{split}/*.parquet"))
    if not parquet:
        raise FileNotFoundError(f"{folder}: no {split}.jsonl or {split}-*.parquet (a local copy needs one folder "
                                f"per subject: {', '.join(SUBJECTS)})")
    import pyarrow.parquet as pq
    rows = []
    for f in parquet:
        for n, row in enumerate(pq.read_table(f).to_pylist()):
            rows.append((f"{f}: row {n}", row))
    return rows


def load_hub(subject: str, split: str) -> list[tuple[str, dict]]:
    from datasets import load_dataset
    ds = load_dataset(HUB_NAME, subject, split=split)
    return [(f"{HUB_NAME}/{subject}/{split}: row {n}", dict(row)) for n, row in enumerate(ds)]


def convert(rows: list[tuple[str, dict]], need_answer: bool = True) -> tuple[list[dict], dict]:
    """Filter (English; no CODE/OT) and convert; returns (rows, counts of what was dropped).

    The benchmark withholds the answers of its ``test`` split, which is train_2 here: train_2 rows
    need no answer (the method uses its questions only; grading on it reports "no gold")."""
    out, dropped = [], {"language": 0, "answer_type": 0, "no_problem_header": 0}
    for where, row in rows:
        missing = [f for f in REQUIRED if row.get(f) in (None, "") and (need_answer or f != "answer")]
        if missing:
            raise DataError(f"{where}: field '{missing[0]}' is missing or empty")
        if row["language"] != "EN":
            dropped["language"] += 1
            continue
        if row["answer_type"] in DROPPED_TYPES:
            dropped["answer_type"] += 1
            continue
        answer = row.get("answer")
        if isinstance(answer, str):
            answer = [answer] if answer else None
        if not need_answer and answer == []:
            answer = None  # train_2: an empty list, "", null or no field all mean "no gold"
        if answer is not None or need_answer:
            if not isinstance(answer, list) or not answer or not all(isinstance(a, str) for a in answer):
                raise DataError(f"{where}: field 'answer' must be a non-empty list of strings")
        if PROBLEM_HEADER not in row["prompt"]:
            dropped["no_problem_header"] += 1  # kept, as the original: its replace() leaves the prompt as is
        out.append({
            "id": row["id"],
            "question": row["prompt"].replace(PROBLEM_HEADER, QUESTION_HEADER),
            "answer": answer,
            "answer_type": row["answer_type"],
            "type_sequence": row.get("type_sequence") or None,
            "unit": row.get("unit"),
            "subject": row.get("subject"),
            "modality": row.get("modality"),
            "source": "OlympicArena",
        })
    return out, dropped


def prepare(out: Path, source: Path | None = None) -> dict[str, int]:
    counts = {}
    for role, split in SPLITS.items():
        rows = []
        for subject in SUBJECTS:
            raw = load_local(source, subject, split) if source else load_hub(subject, split)
            converted, dropped = convert(raw, need_answer=role == "test")
            print(f"[data] olympicarena {split} {subject}: {len(converted)} kept of {len(raw)} "
                  f"(not English {dropped['language']}, CODE/OT {dropped['answer_type']})")
            rows += converted
        name = "olympicarena.jsonl" if role == "test" else "olympicarena_train_2.jsonl"
        write_jsonl(out / "test" / name, rows)
        counts[role] = len(rows)
        print(f"[data] olympicarena {role} (benchmark split {split}): {len(rows)} questions -> {out / 'test' / name}")
    return counts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.olympic_data", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--hub", action="store_true", help=f"download {HUB_NAME}")
    src.add_argument("--from", dest="source", help="a local copy (one folder per subject)")
    ap.add_argument("--out", default="data")
    args = ap.parse_args(argv)
    from .cli import run_cli
    return run_cli(lambda: prepare(Path(args.out), Path(args.source) if args.source else None))


if __name__ == "__main__":
    sys.exit(main())
