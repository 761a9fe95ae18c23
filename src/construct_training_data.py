"""Build the method's training sets from graded results files (docs/method.md, stage I and stage II).

    construct_full_weak_data        every weak answer on train_2 -> SFT data (the "full weak FT" baseline)
    construct_weak_icl_data         stage I: keep questions where weak pred == strong ICL pred
                                    -> ``*_weak.json``, ``*_icl.json``, ``*_hybrid.json``
    construct_majority_voting_data  stage II: vote over N sampled answers per question
    construct_paired_data_gsm8k     stage II pairs, one per question
    construct_paired_data_math      stage II pairs, up to three per question (MATH, OlympicArena)
    convert_pairs                   original v0.5 pairs -> current LLaMA-Factory preference rows

Input rows are joined by ``id`` and checked (same ids in every file, no duplicates, required
fields present); a mismatch stops with the file and the first offending row. Outputs are written
atomically. The signatures are the original's; new behaviour only comes through keyword arguments
whose defaults keep the original behaviour.

Row formats
    results.jsonl   {id, prompt, response, pred, gold, result}            (inference + grader)
    SFT json        [{id, content, output}]                                 (LLaMA-Factory, indent 4)
    majority jsonl  {id, prompt, gold, confidence, pos_responses, neg_responses}
                    each response {response, pred, result}
    pairs (v0.5)    [{id, instruction, input: "", output: [chosen, rejected]}]
    pairs (current) [{id, instruction, input: "", chosen, rejected}]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path
from typing import Callable, Sequence

from . import benchmarks
from .benchmarks import Agreement
from .cli import run_cli
from .jsonio import DataError, read_json_list, read_jsonl, write_json, write_jsonl

RESULT_FIELDS = ("id", "prompt", "response", "pred")
SameAnswer = Callable[[str, str], bool]
# agreement by a judge, by name (OlympicArena's rule-based judge); the benchmark registry owns them
JUDGES: dict[str, Agreement] = {name: j.agreement for name, j in benchmarks.JUDGES.items() if j.agreement}


def _agreements(same_answer: Agreement | None, items: list[tuple[str, str, dict]]) -> list[bool]:
    """Equal preds agree; an empty pred agrees with nothing else; the rest go to the judge in one batch."""
    out: list[bool | None] = [a == b if (a == b or a == "" or b == "" or same_answer is None) else None
                              for a, b, _ in items]
    ask = [i for i, r in enumerate(out) if r is None]
    for i, r in zip(ask, same_answer([items[i] for i in ask]) if ask else []):
        out[i] = bool(r)
    return out  # type: ignore[return-value]


def _log(msg: str) -> None:
    print(msg, flush=True)


def _rate(num: int, den: int) -> str:
    return f"{num / den:.4f}" if den else "n/a"


def _by_id(rows: Sequence[dict], path) -> dict:
    out = {}
    for i, row in enumerate(rows):
        if row["id"] in out:
            raise DataError(f"{path}: row {i}: duplicate id {row['id']!r}")
        out[row["id"]] = row
    return out


def _check_aligned(files: Sequence[tuple[str | os.PathLike, Sequence[dict]]]) -> None:
    """All files must hold the same ids in the same order (the original zips them by position)."""
    (ref_path, ref_rows), *others = files
    for path, rows in others:
        _by_id(rows, path)
        if len(rows) != len(ref_rows):
            n = min(len(rows), len(ref_rows))
            raise DataError(f"{path}: has {len(rows)} rows but {ref_path} has {len(ref_rows)} "
                            f"(first unmatched row {n})")
        for i, (a, b) in enumerate(zip(ref_rows, rows)):
            if a["id"] != b["id"]:
                raise DataError(f"{path}: row {i}: id {b['id']!r} does not match id {a['id']!r} "
                                f"in row {i} of {ref_path}")
    _by_id(ref_rows, ref_path)


def _result(row: dict):
    return row.get("result")


# ---------------------------------------------------------------------------------------------
# Full weak data
# ---------------------------------------------------------------------------------------------

def construct_full_weak_data(input_filename, output_filename):
    """Every weak answer as SFT data: ``{id, content: prompt, output: response}``."""
    data = read_jsonl(input_filename, required=("id", "prompt", "response"))
    _by_id(data, input_filename)
    new_data = [{"id": r["id"], "content": r["prompt"], "output": r["response"]} for r in data]
    graded = [r for r in data if r.get("result") is not None]
    _log(f"[full-weak] {len(new_data)} rows; weak accuracy against gold "
         f"{_rate(sum(bool(r['result']) for r in graded), len(graded))}")
    write_json(output_filename, new_data)
    _log(f"[full-weak] saved to {output_filename}")
    return new_data


# ---------------------------------------------------------------------------------------------
# Stage I: final-answer consistency between the weak model and the strong model's ICL answers
# ---------------------------------------------------------------------------------------------

def _sibling(output_filename, suffix: str) -> str:
    name = str(output_filename)
    if not name.endswith("_hybrid.json"):
        raise ValueError(f"{output_filename}: the stage I output name must end with '_hybrid.json' "
                         "(the _weak.json and _icl.json files are written beside it)")
    return name[: -len("_hybrid.json")] + suffix


def construct_weak_icl_data(weak_filename, icl_filename, output_filename, *, keep_empty: bool = False,
                            same_answer: Agreement | None = None, pad_to: int | None = None, pad_seed: int = 42):
    """Stage I data: questions where the weak and the ICL final answers agree.

    Writes ``output_filename`` (``*_hybrid.json``: weak row then ICL row per kept question, in
    question order) and, beside it, ``*_weak.json`` and ``*_icl.json``. The prompt of both rows is
    the weak (zero-shot) prompt.

    keep_empty   also keep questions where both preds are empty. The original code skips them;
                 its released GSM8K Llama2-7b iter1 files contain 8 such questions (``True``
                 reproduces that).
    same_answer  how two preds are compared, batched (default: string equality of the normalised
                 preds; OlympicArena passes its rule-based judge, ``JUDGES["olympic"]``).
    pad_to       the original's MATH training sets: after the strictly consistent questions, append
                 inconsistent ones (both preds non-empty, in a ``random.Random(pad_seed)`` shuffle)
                 until ``pad_to`` questions (Gemma-2b 1,000, Mistral-7b 2,000). The strict sets are
                 then also written as ``*_wo_aug.json``. As in the released files, each appended
                 question gives its weak row to ``_weak`` and its ICL row to ``_icl``; ``_hybrid`` is
                 the strict hybrid, then every appended weak row, then every appended ICL row. The
                 original's shuffle seed is not known (no code was released for it).
    """
    weak = read_jsonl(weak_filename, required=RESULT_FIELDS)
    icl = read_jsonl(icl_filename, required=RESULT_FIELDS)
    _check_aligned([(weak_filename, weak), (icl_filename, icl)])
    agree = _agreements(same_answer, [(w["pred"], c["pred"], w) for w, c in zip(weak, icl)])

    hybrid, weak_rows, icl_rows = [], [], []
    weak_correct = icl_correct = both_empty = 0
    for w, c, same in zip(weak, icl, agree):
        if w["pred"] == "" and not (keep_empty and c["pred"] == ""):
            continue
        if not same:
            continue
        both_empty += w["pred"] == ""
        weak_correct += bool(_result(w))
        icl_correct += bool(_result(c))
        row_w = {"id": w["id"], "content": w["prompt"], "output": w["response"]}
        row_c = {"id": w["id"], "content": w["prompt"], "output": c["response"]}
        hybrid += [row_w, row_c]
        weak_rows.append(row_w)
        icl_rows.append(row_c)

    kept = len(weak_rows)
    has_gold = all(r.get("result") is not None for r in weak)
    _log(f"[stage I] kept {kept} of {len(weak)} questions ({_rate(kept, len(weak))})"
         + (f", {both_empty} with empty answers on both sides" if keep_empty else ""))
    if has_gold:
        _log(f"[stage I] accuracy of kept answers against gold: weak {_rate(weak_correct, kept)}, "
             f"ICL {_rate(icl_correct, kept)}; weak accuracy on all questions {_rate(sum(bool(_result(r)) for r in weak), len(weak))}")
    weak_out, icl_out = _sibling(output_filename, "_weak.json"), _sibling(output_filename, "_icl.json")
    if pad_to is not None:
        for path, rows in ((output_filename, hybrid), (weak_out, weak_rows), (icl_out, icl_rows)):
            write_json(str(path)[:-len(".json")] + "_wo_aug.json", rows)
        kept_ids = {r["id"] for r in weak_rows}
        candidates = [(w, c) for w, c in zip(weak, icl) if w["id"] not in kept_ids and w["pred"] != "" and c["pred"] != ""]
        random.Random(pad_seed).shuffle(candidates)
        extra = candidates[:max(0, pad_to - kept)]
        pad_weak = [{"id": w["id"], "content": w["prompt"], "output": w["response"]} for w, _ in extra]
        pad_icl = [{"id": w["id"], "content": w["prompt"], "output": c["response"]} for w, c in extra]
        hybrid, weak_rows, icl_rows = hybrid + pad_weak + pad_icl, weak_rows + pad_weak, icl_rows + pad_icl
        _log(f"[stage I] padded to {len(weak_rows)} questions with {len(extra)} inconsistent ones "
             f"(seed {pad_seed}; {len(candidates)} candidates); strict sets in *_wo_aug.json")
    write_json(output_filename, hybrid)
    write_json(weak_out, weak_rows)
    write_json(icl_out, icl_rows)
    _log(f"[stage I] saved {output_filename} ({len(hybrid)} rows), {weak_out}, {icl_out}")
    return {"kept": kept, "total": len(weak), "weak_correct": weak_correct, "icl_correct": icl_correct,
            "both_empty": both_empty, "has_gold": has_gold}


# ---------------------------------------------------------------------------------------------
# Stage II: majority voting over sampled answers
# ---------------------------------------------------------------------------------------------

def group_answers(preds: Sequence[str], same_answer: SameAnswer | None = None) -> list[list[int]]:
    """Group sample indices by answer, groups in order of first appearance.

    Default: equal preds. With ``same_answer`` (e.g. a judge), a pred joins the first group whose
    representative (its first member) it matches, so the result is deterministic.
    """
    groups: list[list[int]] = []
    if same_answer is None:
        index: dict[str, int] = {}
        for i, p in enumerate(preds):
            if p not in index:
                index[p] = len(groups)
                groups.append([])
            groups[index[p]].append(i)
        return groups
    for i, p in enumerate(preds):
        for g in groups:
            rep = preds[g[0]]
            if p == rep or (p != "" and rep != "" and same_answer(rep, p)):
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def majority_vote(samples: Sequence[dict], same_answer: SameAnswer | None = None) -> dict:
    """Confidence = size of the largest group / N (ties: the group seen first); positives = its members."""
    groups = group_answers([s["pred"] for s in samples], same_answer)
    top = max(groups, key=len)  # max() keeps the first of equal sizes
    members = set(top)
    resp = lambda s: {"response": s["response"], "pred": s["pred"], "result": _result(s)}  # noqa: E731
    return {
        "confidence": len(top) / len(samples),
        "pos_responses": [resp(s) for i, s in enumerate(samples) if i in members],
        "neg_responses": [resp(s) for i, s in enumerate(samples) if i not in members],
    }


def sample_files(data_dir, seed_start: int = 0, seed_end: int = 10) -> list[Path]:
    files = [Path(data_dir) / f"seed{seed}" / "results.jsonl" for seed in range(seed_start, seed_end)]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise DataError(f"{missing[0]}: file not found ({len(missing)} of {len(files)} sample files missing)")
    return files


def construct_majority_voting_data(data_dir, seed_start=0, seed_end=10, *, output_filename=None,
                                   same_answer: Agreement | None = None):
    """Vote over ``data_dir/seed{k}/results.jsonl``; write ``data_dir/majority_voting_results.jsonl``.
    With a judge (``same_answer``), every pair of distinct answers to a question is judged once, in
    one batch, and samples are grouped by first-seen representative."""
    files = sample_files(data_dir, seed_start, seed_end)
    runs = [read_jsonl(f, required=RESULT_FIELDS) for f in files]
    _check_aligned(list(zip(files, runs)))
    questions = list(zip(*runs))
    table: dict[tuple[int, str, str], bool] = {}
    if same_answer is not None:
        items, keys = [], []
        for q, samples in enumerate(questions):
            distinct = list(dict.fromkeys(s["pred"] for s in samples if s["pred"] != ""))
            for i, a in enumerate(distinct):
                for b in distinct[i + 1:]:
                    items.append((a, b, samples[0]))
                    keys.append((q, a, b))
        for key, same in zip(keys, _agreements(same_answer, items)):
            table[key] = table[(key[0], key[2], key[1])] = same
    new_data = []
    for q, samples in enumerate(questions):
        first = samples[0]
        judged = (lambda a, b, q=q: table[(q, a, b)]) if same_answer is not None else None  # noqa: E731
        new_data.append({"id": first["id"], "prompt": first["prompt"], "gold": first.get("gold"),
                         **majority_vote(samples, judged)})
    output_filename = output_filename or os.path.join(data_dir, "majority_voting_results.jsonl")
    write_jsonl(output_filename, new_data)
    conf = [d["confidence"] for d in new_data]
    _log(f"[majority] {len(new_data)} questions, {len(files)} samples each; mean confidence "
         f"{sum(conf) / len(conf):.3f}; >=0.6: {sum(c >= 0.6 for c in conf)}, >=0.8: {sum(c >= 0.8 for c in conf)}")
    graded = [d for d in new_data if d["pos_responses"][0]["result"] is not None]
    if graded:
        _log(f"[majority] majority answer correct: {_rate(sum(bool(d['pos_responses'][0]['result']) for d in graded), len(graded))}")
    _log(f"[majority] saved to {output_filename}")
    return new_data


# ---------------------------------------------------------------------------------------------
# Stage II: preference pairs against the weak answers
# ---------------------------------------------------------------------------------------------

def _pair(weak_row: dict, chosen: str, rejected: str, fmt: str) -> dict:
    if fmt == "v0.5":
        return {"id": weak_row["id"], "instruction": weak_row["content"], "input": "", "output": [chosen, rejected]}
    return {"id": weak_row["id"], "instruction": weak_row["content"], "input": "", "chosen": chosen, "rejected": rejected}


def _construct_pairs(weak_filename, weak_llamafactory_filename, majority_voting_filename, output_filename,
                     confidence, max_pairs: int, seed: int, min_confidence: float, fmt: str,
                     same_answer: Agreement | None = None):
    if fmt not in ("v0.5", "current"):
        raise ValueError(f"unknown pairs format {fmt!r}: 'v0.5' (original) or 'current' (LLaMA-Factory >= 0.9)")
    weak = read_jsonl(weak_filename, required=RESULT_FIELDS)
    weak_lf = read_json_list(weak_llamafactory_filename, required=("id", "content", "output"))
    votes = read_jsonl(majority_voting_filename, required=("id", "confidence", "pos_responses", "neg_responses"))
    _check_aligned([(weak_filename, weak), (weak_llamafactory_filename, weak_lf), (majority_voting_filename, votes)])
    for i, (w, lf) in enumerate(zip(weak, weak_lf)):
        if w["response"] != lf["output"]:
            raise DataError(f"{weak_llamafactory_filename}: row {i} (id {w['id']!r}): 'output' differs from the "
                            f"'response' in {weak_filename}; build it from that file with construct_full_weak_data")

    # Random-call order is part of the method's output: one rng.sample call per question in question
    # order, exactly where the original calls random.sample after random.seed(42), so the same inputs
    # give the original's pairs. tests/test_construct.py pins it with a golden file; do not reorder.
    rng = random.Random(seed)
    pairs = []
    weak_pos = weak_neg = chosen_correct = chosen_graded = 0

    def count(result):
        nonlocal chosen_correct, chosen_graded
        if result is not None:
            chosen_graded += 1
            chosen_correct += bool(result)

    weak_agrees = _agreements(same_answer, [(w["pred"], v["pos_responses"][0]["pred"], w)
                                            if v["confidence"] >= min_confidence else ("", "-", w)
                                            for w, v in zip(weak, votes)])
    for w, lf, v, agrees in zip(weak, weak_lf, votes, weak_agrees):
        if v["confidence"] < min_confidence:
            continue
        majority_pred = v["pos_responses"][0]["pred"]
        if majority_pred == "":
            continue
        if agrees:
            # The weak answer agrees with the confident majority: it is chosen, minority answers are rejected.
            if not v["neg_responses"]:
                continue  # every sample agrees: nothing to contrast
            negs = v["neg_responses"]
            picked = rng.sample(negs, 1) if max_pairs == 1 else (rng.sample(negs, max_pairs) if len(negs) > max_pairs else negs)
            for neg in picked:
                pairs.append(_pair(lf, lf["output"], neg["response"], fmt))
                weak_pos += 1
                count(_result(w))
        elif v["confidence"] >= confidence:
            # The strong model confidently disagrees with the weak answer: a majority answer is chosen.
            first = rng.sample(v["pos_responses"], 1)[0]
            pairs.append(_pair(lf, first["response"], lf["output"], fmt))
            weak_neg += 1
            count(first["result"])
            taken = 1
            for pos in v["pos_responses"]:
                if taken >= max_pairs:
                    break
                if pos["response"] != first["response"]:
                    pairs.append(_pair(lf, pos["response"], lf["output"], fmt))
                    weak_neg += 1
                    count(pos["result"])
                    taken += 1

    write_json(output_filename, pairs)
    _log(f"[pairs] {len(pairs)} pairs from {len(weak)} questions: weak answer chosen {weak_pos}, "
         f"weak answer rejected {weak_neg}; chosen answer correct {_rate(chosen_correct, chosen_graded)}")
    _log(f"[pairs] saved to {output_filename}")
    return {"pairs": len(pairs), "weak_chosen": weak_pos, "weak_rejected": weak_neg,
            "chosen_correct": chosen_correct, "chosen_graded": chosen_graded}


def construct_paired_data_gsm8k(weak_filename, weak_llamafactory_filename, majority_voting_filename, output_filename,
                                confidence=0.8, *, seed: int = 42, min_confidence: float = 0.6, fmt: str = "v0.5",
                                same_answer: Agreement | None = None):
    """Stage II pairs, GSM8K rule: one pair per question (docs/method.md, stage II step 3)."""
    return _construct_pairs(weak_filename, weak_llamafactory_filename, majority_voting_filename, output_filename,
                            confidence, 1, seed, min_confidence, fmt, same_answer)


def construct_paired_data_math(weak_filename, weak_llamafactory_filename, majority_voting_filename, output_filename,
                               confidence=0.8, *, seed: int = 42, min_confidence: float = 0.6, fmt: str = "v0.5",
                               max_pairs: int = 3, same_answer: Agreement | None = None):
    """Stage II pairs, MATH / OlympicArena rule: up to ``max_pairs`` (3) pairs per question.

    Weak answer chosen: up to three distinct random rejected samples. Weak answer rejected: one
    random majority sample, then further majority samples in order whose text differs from it.
    """
    return _construct_pairs(weak_filename, weak_llamafactory_filename, majority_voting_filename, output_filename,
                            confidence, max_pairs, seed, min_confidence, fmt, same_answer)


def convert_pairs(input_filename, output_filename):
    """Original v0.5 pairs ``output: [chosen, rejected]`` -> current ``chosen`` / ``rejected`` columns."""
    rows = read_json_list(input_filename, required=("instruction",))
    out = []
    for i, r in enumerate(rows):
        if "chosen" in r and "rejected" in r:
            out.append(r)
            continue
        pair = r.get("output")
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            raise DataError(f"{input_filename}: row {i}: expected 'output': [chosen, rejected] (two strings)")
        new = {k: v for k, v in r.items() if k != "output"}
        new.setdefault("input", "")
        new["chosen"], new["rejected"] = pair
        out.append(new)
    write_json(output_filename, out)
    _log(f"[pairs] converted {len(out)} pairs to the current LLaMA-Factory format: {output_filename}")
    return out


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.construct_training_data", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def judged(p):
        p.add_argument("--benchmark", choices=benchmarks.names(), default=None,
                       help="agreement by the benchmark's judge (and, for pairs, its pairs rule)")
        p.add_argument("--judge", choices=tuple(JUDGES), default=None, help="agreement by a judge (default: equal preds)")

    p = sub.add_parser("full-weak", help="every weak answer as SFT data")
    p.add_argument("--weak", required=True, help="weak results.jsonl")
    p.add_argument("--output", required=True)
    p = sub.add_parser("weak-icl", help="stage I consistency data (_weak, _icl, _hybrid)")
    p.add_argument("--weak", required=True, help="weak results.jsonl")
    p.add_argument("--icl", required=True, help="strong few-shot (ICL) results.jsonl")
    p.add_argument("--output", required=True, help="..._hybrid.json; _weak.json and _icl.json go beside it")
    p.add_argument("--keep_empty", action="store_true", help="also keep questions with empty preds on both sides "
                   "(the released GSM8K Llama2-7b iter1 files have 8)")
    p.add_argument("--pad_to", type=int, default=None, help="MATH: pad with inconsistent questions up to N (original: "
                   "Gemma-2b 1000, Mistral-7b 2000); strict sets go to *_wo_aug.json")
    p.add_argument("--pad_seed", type=int, default=42)
    judged(p)
    p = sub.add_parser("majority", help="majority voting over seed*/results.jsonl")
    p.add_argument("--data_dir", required=True)
    p.add_argument("--seed_start", type=int, default=0)
    p.add_argument("--seed_end", type=int, default=10)
    p.add_argument("--output", default=None, help="default: <data_dir>/majority_voting_results.jsonl")
    judged(p)
    for name, rule in (("pairs", "the benchmark's rule (--benchmark)"), ("pairs-gsm8k", "one pair per question"),
                       ("pairs-math", "up to three pairs per question")):
        p = sub.add_parser(name, help=f"stage II preference pairs, {rule}")
        p.add_argument("--weak", required=True, help="weak results.jsonl")
        p.add_argument("--weak_lf", required=True, help="full-weak SFT json built from the same weak results")
        p.add_argument("--majority", required=True, help="majority_voting_results.jsonl")
        p.add_argument("--output", required=True)
        p.add_argument("--confidence", type=float, default=0.8)
        p.add_argument("--min_confidence", type=float, default=0.6)
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--format", dest="fmt", default="v0.5", choices=("v0.5", "current"))
        judged(p)
    p = sub.add_parser("convert-pairs", help="v0.5 pairs -> current LLaMA-Factory preference rows")
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    args = ap.parse_args(argv)

    def agreement():
        if args.judge:
            return JUDGES[args.judge]
        return benchmarks.get(args.benchmark).agreement if args.benchmark else None

    def go():
        if args.cmd == "full-weak":
            construct_full_weak_data(args.weak, args.output)
        elif args.cmd == "weak-icl":
            construct_weak_icl_data(args.weak, args.icl, args.output, keep_empty=args.keep_empty,
                                    same_answer=agreement(), pad_to=args.pad_to, pad_seed=args.pad_seed)
        elif args.cmd == "majority":
            construct_majority_voting_data(args.data_dir, args.seed_start, args.seed_end, output_filename=args.output,
                                           same_answer=agreement())
        elif args.cmd in ("pairs", "pairs-gsm8k", "pairs-math"):
            if args.cmd == "pairs" and not args.benchmark:
                raise ValueError("pairs needs --benchmark (or use pairs-gsm8k / pairs-math)")
            max_pairs = {"pairs-gsm8k": 1, "pairs-math": 3}.get(args.cmd) or benchmarks.get(args.benchmark).pairs_per_question
            _construct_pairs(args.weak, args.weak_lf, args.majority, args.output, args.confidence, max_pairs,
                             args.seed, args.min_confidence, args.fmt, agreement())
        elif args.cmd == "convert-pairs":
            convert_pairs(args.input, args.output)
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
