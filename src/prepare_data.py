"""Data preparation: raw splits, evaluation files, LLaMA-Factory gold files and registry.

    python -m src.prepare_data --from ../shared/upstream        # a local copy laid out like the original release
    python -m src.prepare_data --url                            # the original release files, downloaded
    python -m src.prepare_data --hub [--seed 42]                # fresh seeded splits from the Hugging Face hub
    python -m src.prepare_data --demo                           # the small offline arithmetic set (src/demo_data.py)
    python -m src.prepare_data --from ../shared/upstream --datasets gsm8k --subset 400 200 200 --subset_seed 0
                                                                # seeded subsets of each split

Writes under ``--out`` (default ``data/``), for each dataset (gsm8k, math):

    raw/<ds>/{train_1,train_2,test}.jsonl   gsm8k {id, question, answer[, final_answer]}; math {id, problem, solution, answer, subject, level, unique_id}
    test/<ds>.jsonl, test/<ds>_train_2.jsonl evaluation format {source, question, solution, answer, tag}
    llama_factory/<ds>/<ds>_train_{1,2}.json gold SFT rows {id, content, output}
    llama_factory/dataset_info.json          registry (names <ds>_1, <ds>_2), current LLaMA-Factory format

Gold SFT targets as the original: GSM8K = solution without ``<<...>>`` calculator annotations;
MATH = ``solution + " The answer is: " + answer``. A split that the source lacks (the release has no
MATH training splits) is reported and skipped; the rest is still written.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import urllib.request
from pathlib import Path

from . import registry
from .eval.boxed import boxed
from .jsonio import DataError, read_jsonl_numbered, write_json, write_jsonl

direct_prompt = "Question: {}\nAnswer:"
DATASETS = ("gsm8k", "math")
SPLITS = ("train_1", "train_2", "test")
RELEASE_URL = "https://raw.githubusercontent.com/GAIR-NLP/weak-to-strong-reasoning/596a0b61166a91e9677e1940ae06ec4f84878cae/"
RELEASE_FILES = ("data/raw/gsm8k/train_1.jsonl", "data/raw/gsm8k/train_2.jsonl",
                 "data/test/gsm8k.jsonl", "data/test/math.jsonl")
_GSM8K_FINAL = re.compile("#### (.*)$")
_CALCULATOR = re.compile(r"<<.*?>>")


# ------------------------------------------------------------------ row conversion, with file:line errors

def gsm8k_row(row: dict, at: str, idx: int) -> dict:
    """A raw GSM8K row {id, question, answer}; accepts the eval format (question, solution) too."""
    solution = row.get("solution", row.get("answer"))
    for field, value in (("question", row.get("question")), ("answer", solution)):
        if not isinstance(value, str) or not value.strip():
            raise DataError(f"{at}: field '{field}' is missing or empty")
    if not _GSM8K_FINAL.findall(solution):
        raise DataError(f"{at}: the solution has no final line '#### N'")
    out = {"id": row.get("id", idx) if "solution" not in row else idx, "question": row["question"], "answer": solution}
    if "solution" in row and isinstance(row.get("answer"), str):
        out["final_answer"] = row["answer"]  # an eval-format source's own gold answer (kept as given)
    return out


def math_row(row: dict, at: str, idx: int) -> dict:
    """A raw MATH row; accepts the eval format (question, solution, answer, tag) too."""
    tag = row.get("tag") if isinstance(row.get("tag"), dict) else {}
    out = {"id": row.get("id", idx), "problem": row.get("problem", row.get("question")),
           "solution": row.get("solution"), "answer": row.get("answer"),
           "subject": row.get("subject", tag.get("subject")), "level": row.get("level", tag.get("level")),
           "unique_id": row.get("unique_id", tag.get("unique_id"))}
    for field in ("problem", "solution", "answer"):
        if not isinstance(out[field], str) or (field != "answer" and not out[field].strip()):
            raise DataError(f"{at}: field '{field}' is missing or not a string")
    return out


def to_eval(ds: str, row: dict, source: str) -> dict:
    if ds == "gsm8k":
        return {"source": source, "question": row["question"], "solution": row["answer"],
                "answer": row.get("final_answer", _GSM8K_FINAL.findall(row["answer"])[-1]), "tag": {}}
    return {"source": source, "question": row["problem"], "solution": row["solution"], "answer": row["answer"],
            "tag": {"subject": row["subject"], "level": row["level"], "unique_id": row["unique_id"]}}


def to_sft(ds: str, idx: int, row: dict) -> dict:
    if ds == "gsm8k":
        return {"id": idx, "content": direct_prompt.format(row["question"]), "output": _CALCULATOR.sub("", row["answer"])}
    return {"id": idx, "content": direct_prompt.format(row["problem"]),
            "output": row["solution"] + " The answer is: " + row["answer"]}


def load_split(ds: str, path: Path) -> list[dict]:
    convert = gsm8k_row if ds == "gsm8k" else math_row
    return [convert(row, f"{path}:{lineno}", i) for i, (lineno, row) in enumerate(read_jsonl_numbered(path))]


# ------------------------------------------------------------------ sources

def from_release(root: Path, ds: str) -> dict[str, list[dict] | None]:
    """Splits from a folder laid out like the original release (raw/<ds>/*.jsonl, test/<ds>.jsonl)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: folder not found")
    base = root / "data" if (root / "data").is_dir() else root
    out: dict[str, list[dict] | None] = {}
    for split in SPLITS:
        candidates = [base / "raw" / ds / f"{split}.jsonl"]
        if split == "test":
            candidates.append(base / "test" / f"{ds}.jsonl")
        path = next((p for p in candidates if p.is_file()), None)
        out[split] = load_split(ds, path) if path else None
    return out


def download_release(cache: Path) -> Path:
    """Fetch the original release's data files into ``cache`` (laid out like the release)."""
    for rel in RELEASE_FILES:
        dest = cache / rel
        if dest.is_file():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        print(f"[data] downloading {rel}")
        tmp = dest.with_suffix(".part")
        urllib.request.urlretrieve(RELEASE_URL + rel, tmp)
        tmp.replace(dest)
    return cache


def seeded_split(rows: list[dict], seed: int, n_train_1: int | None = None) -> tuple[list[dict], list[dict]]:
    """Shuffle with ``random.Random(seed)`` and cut in two (default: halves; train_1 gets the smaller half)."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    cut = len(rows) // 2 if n_train_1 is None else n_train_1
    return [rows[i] for i in order[:cut]], [rows[i] for i in order[cut:]]


def from_hub(ds: str, seed: int) -> dict[str, list[dict] | None]:
    """Fresh splits from the hub: GSM8K train halves (openai/gsm8k, main); MATH = the 12,000 problems
    outside MATH-500 (EleutherAI/hendrycks_math) in halves, MATH-500 (HuggingFaceH4/MATH-500) as test."""
    from datasets import load_dataset
    if ds == "gsm8k":
        d = load_dataset("openai/gsm8k", "main")
        train = [gsm8k_row(dict(r), f"openai/gsm8k train row {i}", i) for i, r in enumerate(d["train"])]
        test = [gsm8k_row(dict(r), f"openai/gsm8k test row {i}", i) for i, r in enumerate(d["test"])]
    else:
        test_rows = load_dataset("HuggingFaceH4/MATH-500", split="test")
        test = [math_row(dict(r), f"MATH-500 row {i}", i) for i, r in enumerate(test_rows)]
        held_out = {r["problem"] for r in test}
        train = []
        for subject in ("algebra", "counting_and_probability", "geometry", "intermediate_algebra",
                        "number_theory", "prealgebra", "precalculus"):
            d = load_dataset("EleutherAI/hendrycks_math", subject)
            for split in ("train", "test"):
                for r in d[split]:
                    if r["problem"] not in held_out:
                        train.append({"problem": r["problem"], "solution": r["solution"], "answer": boxed(r["solution"]) or "",
                                      "subject": r["type"], "level": r["level"], "unique_id": None})
        train = [math_row(r, f"hendrycks_math row {i}", i) for i, r in enumerate(train)]
    t1, t2 = seeded_split(train, seed)
    for i, r in enumerate(t1 + t2):
        r["id"] = i if i < len(t1) else i - len(t1)
    return {"train_1": t1, "train_2": t2, "test": test}


def take_subsets(splits: dict[str, list[dict] | None], sizes: tuple[int, int, int], seed: int) -> dict[str, list[dict] | None]:
    """A seeded sample of each split (train_1, train_2, test), in the source's order; each row keeps its
    source ``id``. One ``random.Random(seed)`` draws the three in turn, so a size change of one split
    moves the others too (the sizes are part of the run's settings)."""
    rng = random.Random(seed)
    out: dict[str, list[dict] | None] = {}
    for split, n in zip(SPLITS, sizes):
        rows = splits.get(split)
        if rows is None:
            out[split] = None
            continue
        if not 0 < n <= len(rows):
            raise DataError(f"--subset: {split} has {len(rows)} rows, asked for {n}")
        out[split] = [rows[i] for i in sorted(rng.sample(range(len(rows)), n))]
    return out


# ------------------------------------------------------------------ writing

def write_dataset(ds: str, splits: dict[str, list[dict] | None], out: Path, source_tag: str | None = None) -> dict:
    """Write raw, eval and LLaMA-Factory files for one dataset; returns row counts per split."""
    out = Path(out)
    tag = source_tag or ds.upper()
    lf_dir = out / "llama_factory"
    counts = {}
    for split in SPLITS:
        rows = splits.get(split)
        if rows is None:
            print(f"[data] {ds}: no {split} split in this source; skipped "
                  + ("(the original release has no MATH training splits: use --hub, or put raw/math/train_*.jsonl in the source)" if ds == "math" else ""))
            continue
        counts[split] = len(rows)
        write_jsonl(out / "raw" / ds / f"{split}.jsonl", rows)
        if split == "test":
            write_jsonl(out / "test" / f"{ds}.jsonl", [to_eval(ds, r, tag) for r in rows])
        else:
            if split == "train_2":
                write_jsonl(out / "test" / f"{ds}_train_2.jsonl", [to_eval(ds, r, f"{tag}_TRAIN_2") for r in rows])
            lf_file = lf_dir / ds / f"{ds}_{split}.json"
            write_json(lf_file, [to_sft(ds, i, r) for i, r in enumerate(rows)])
            registry.register(lf_dir, f"{ds}_{split[-1]}", lf_file, "sft")
    if not counts:
        raise DataError(f"{ds}: the source has none of the splits {', '.join(SPLITS)}")
    print(f"[data] {ds}: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" -> {out}")
    return counts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.prepare_data", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="from_dir", help="a folder laid out like the original release")
    src.add_argument("--url", action="store_true", help="download the original release's data files")
    src.add_argument("--hub", action="store_true", help="fresh seeded splits from the Hugging Face hub")
    src.add_argument("--demo", action="store_true", help="the small offline arithmetic set (GSM8K format)")
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS + ("olympicarena",),
                    help="olympicarena: built by src.olympic_data (--from a local copy in the hub layout, or --hub)")
    ap.add_argument("--demo_sizes", type=int, nargs=3, default=(96, 96, 48), metavar=("TRAIN_1", "TRAIN_2", "TEST"))
    ap.add_argument("--demo_levels", type=int, nargs="+", default=(1, 2, 3), help="steps per demo problem")
    ap.add_argument("--out", default="data", help="output folder (default: data)")
    ap.add_argument("--seed", type=int, default=42, help="seed of the --hub / --demo splits")
    ap.add_argument("--subset", type=int, nargs=3, metavar=("TRAIN_1", "TRAIN_2", "TEST"),
                    help="keep a seeded sample of this many rows of each split (gsm8k, math; seed --subset_seed)")
    ap.add_argument("--subset_seed", type=int, default=0, help="seed of --subset (default 0)")
    ap.add_argument("--cache", default=".cache/release", help="download folder for --url")
    args = ap.parse_args(argv)
    from .cli import run_cli

    def go():
        if args.demo:
            from .demo_data import make_demo_splits
            write_dataset("gsm8k", make_demo_splits(*args.demo_sizes, seed=args.seed, levels=args.demo_levels),
                          Path(args.out), source_tag="DEMO")
            return
        for ds in args.datasets:
            if ds == "olympicarena":
                from .olympic_data import prepare
                if args.url:
                    raise DataError("olympicarena has no release files: use --hub or --from a local copy")
                prepare(Path(args.out), None if args.hub else Path(args.from_dir))
                continue
            if args.hub:
                splits = from_hub(ds, args.seed)
            else:
                root = download_release(Path(args.cache)) if args.url else Path(args.from_dir)
                splits = from_release(root, ds)
            if args.subset:
                splits = take_subsets(splits, tuple(args.subset), args.subset_seed)
            write_dataset(ds, splits, Path(args.out))
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
