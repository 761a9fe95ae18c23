"""The Guiding study's five evaluation benchmarks: loaders, the MCQ-to-open-ended conversion and the
Chinese-to-English translation step (their answer rule is the ``guiding`` judge of src/eval/judges.py).

    python -m src.guiding.benchmarks load --name math500 --source FILE_OR_FOLDER --out DIR
        -> DIR/<name>.jsonl  {id, question, answer, ground_truth, needs}   (needs: "" | convert | translate)
    python -m src.guiding.benchmarks convert --rows DIR/<name>.jsonl --out DIR MODEL [--temperature 0.7]
        -> DIR/<name>.eval.jsonl {id, question, answer, ground_truth}  the evaluation file; rows the
           converter drops (statement options, "none", no markers, a failed call) are counted

| name    | n (paper) | source (local copy in the hub's or the release's layout)                                   |
|---------|-----------|--------------------------------------------------------------------------------------------|
| math500 | 500       | HuggingFaceH4/MATH-500 test (problem, solution, answer); a JSONL of those rows              |
| olympic | 213       | GAIR/OlympicArena Math val (problem, solution, answer, figure_urls); items without figures |
| jee     | 163       | JEEBench dataset.json / daman1209arora/jeebench test (subject, type, question, gold); math |
| sat     | 220       | AGIEval sat-math.jsonl (question, options, label, other.solution)                          |
| gaokao  | 118       | AGIEval gaokao-mathcloze.jsonl (question, answer), in Chinese                               |

``answer`` is what the response's final answer is compared with: MATH-500's ``answer`` (else the last
boxed value of its solution), OlympicArena's answers joined by ", ", JEEBench's ``gold`` (a letter or
letters for MCQs until converted to the option's content), SAT's option content by its label,
Gaokao's ``answer``. ``ground_truth`` is the original's (the full solution where it used one).
every JEEBench math row (as the original: a question that is not multiple choice comes back unchanged) and SAT's questions are converted (``needs: convert``), Gaokao is translated
(``needs: translate``); the others are evaluated as loaded. The original skips JEEBench questions
whose options follow "Then" (``Then\\n\\n(A)``); so does the loader.

The rule (``src.eval.judges.grade_guiding``): the prediction is the content of the response's last ``\\boxed{}``; both sides
are normalised as in Minerva (``src/eval/normalize.py``) and compared as strings, then symbolically
(``sympy``, the default) or with math-verify; no boxed answer is wrong. The paper does not publish
its scorer; this is this project's, documented in docs/guiding.md.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from ..cli import run_cli
from ..eval.boxed import boxed
from ..jsonio import DataError, read_jsonl, read_jsonl_numbered, write_json, write_jsonl

NAMES = ("math500", "olympic", "jee", "sat", "gaokao")
HUB = {"math500": ("HuggingFaceH4/MATH-500", None, "test"), "olympic": ("GAIR/OlympicArena", "Math", "val"),
       "jee": ("daman1209arora/jeebench", None, "test")}
DROP_WORDS = ("none", "statement", "following")  # the original drops converter outputs containing these


def _read(source: str | Path, name: str) -> list[tuple[str, dict]]:
    """(where, row) from a JSONL file, a JSON list, a datasets.save_to_disk folder, or the hub ("hub")."""
    if str(source) == "hub":
        if name not in HUB:
            raise ValueError(f"{name}: no hub source; give its file (AGIEval's {name} JSONL)")
        import datasets
        repo, config, split = HUB[name]
        return [(f"{repo}[{k}]", dict(r)) for k, r in enumerate(datasets.load_dataset(repo, config, split=split))]
    path = Path(source)
    if path.is_dir():
        import datasets
        d = datasets.load_from_disk(str(path))
        split = HUB.get(name, (None, None, "test"))[2]
        if isinstance(d, datasets.DatasetDict):
            if split not in d:
                raise ValueError(f"{path}: no {split!r} split (has {', '.join(d)})")
            d = d[split]
        return [(f"{path}[{k}]", dict(r)) for k, r in enumerate(d)]
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise DataError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from None
        if not isinstance(data, list):
            raise DataError(f"{path}: expected a JSON list of rows")
        return [(f"{path}[{k}]", r) for k, r in enumerate(data)]
    return [(f"{path}:{n}", r) for n, r in read_jsonl_numbered(path)]


def _need(row: dict, where: str, *fields: str) -> None:
    for f in fields:
        if row.get(f) in (None, ""):
            raise DataError(f"{where}: missing or empty {f!r}")


def load(name: str, source) -> list[dict]:
    if name not in NAMES:
        raise ValueError(f"unknown Guiding benchmark {name!r} ({', '.join(NAMES)})")
    out = []
    for where, r in _read(source, name):
        if name == "math500":
            _need(r, where, "problem", "solution")
            answer = r.get("answer") or (boxed(r["solution"]) or "").strip()
            if not answer:
                raise DataError(f"{where}: no 'answer' and no boxed answer in the solution")
            row = {"question": r["problem"], "answer": answer, "ground_truth": r["solution"], "needs": ""}
        elif name == "olympic":
            _need(r, where, "problem", "answer")
            if r.get("figure_urls"):
                continue
            answers = r["answer"] if isinstance(r["answer"], list) else [r["answer"]]
            row = {"question": r["problem"], "answer": ", ".join(map(str, answers)),
                   "ground_truth": r.get("solution") or "", "needs": ""}
        elif name == "jee":
            _need(r, where, "subject", "question", "gold")
            if r["subject"] != "math":
                continue
            if "Then\n\n(A)" in r["question"] or "Then\n\nA" in r["question"]:
                continue
            # every math row goes through the converter, as the original's (it repeats a question that
            # is not multiple choice, and its drop words apply to all)
            row = {"question": r["question"], "answer": str(r["gold"]), "ground_truth": str(r["gold"]),
                   "needs": "convert"}
        elif name == "sat":
            _need(r, where, "question", "options", "label")
            options, label = r["options"], str(r["label"]).strip()
            pick = [o for o in options if re.match(rf"\(?{re.escape(label)}\)", o.strip())]
            if len(pick) != 1:
                raise DataError(f"{where}: label {label!r} names no single option of {options!r}")
            content = re.sub(r"^\(?[A-E]\)\s*", "", pick[0].strip())
            row = {"question": r["question"] + "\nOptions: \n" + str(options), "answer": content,
                   "ground_truth": (r.get("other") or {}).get("solution") or content, "needs": "convert"}
        else:  # gaokao
            _need(r, where, "question", "answer")
            row = {"question": r["question"], "answer": str(r["answer"]), "ground_truth": str(r["answer"]),
                   "needs": "translate"}
        out.append({"id": len(out), **row})
    if not out:
        raise DataError(f"{source}: no {name} rows")
    return out


# ---------------------------------------------------------------- conversion (LLM)
def convert_prompt(question: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": (
        "Below is a math problem with its answer. If it is a multiple-choice question, remove the options and "
        "rewrite it as an **open-ended** question ending in '?'. If it is not (for example a fill-in-the-blank "
        "question), repeat the question and the answer unchanged. For a multiple-choice question whose options "
        "are statements (such as 'the area of triangle XYZ is 6\\sqrt6'), output just 'None'. If the answer is "
        "only an option letter such as 'A' or letters such as 'BC', replace it with the content of those "
        "options.\nOutput format:\n### New Question: <the converted question>\n### New Solution/Answer: "
        "<the content of the correct option(s)>\nThe input:\n"
        f"### Question:\n{question}\n### Solution/Answer:\n{answer}")}]


def translate_prompt(question: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": (
        "Below is a math question and its answer in Chinese. Translate both into English without changing their "
        "content or meaning.\nOutput format:\n### New Question: <the translated question>\n"
        "### New Solution/Answer: <the translated answer>\nThe input:\n"
        f"### Question:\n{question}\n### Solution/Answer:\n{answer}")}]


def strip_converted(text: str) -> str:
    """The original's ``strip("#.*: \\n")`` of a converted question or answer (so ``12.`` becomes
    ``12``), except that a leading period stays (the original turns ``.5`` into ``5``)."""
    return text.lstrip("#*: \n").rstrip("#.*: \n")


def parse_converted(text: str | None, drop_words: bool = True) -> tuple[str, str] | str:
    """-> (question, answer), or why the row is dropped. As the original: the question is the text
    between the markers, the answer the text after ``New Solution/Answer`` up to a second one, both
    stripped of markdown and of trailing periods (``### New Solution/Answer: 12.`` gives ``12``).
    Unlike it, an empty question or answer drops the row (it cannot be graded)."""
    if not text:
        return "failed call"
    if "New Question" not in text or "New Solution/Answer" not in text:
        return "no markers"
    if drop_words and any(w in text.lower() for w in DROP_WORDS):
        return "statement options or 'none'"
    q = text.split("New Question", 1)[1].split("New Solution/Answer", 1)[0]
    a = text.split("New Solution/Answer")[1]
    q, a = strip_converted(q), strip_converted(a)
    return (q, a) if q and a else "empty question or answer"


def convert(client, rows: list[dict], temperature: float, max_tokens: int) -> tuple[list[dict], Counter]:
    from ..llm_client import Request
    todo = [r for r in rows if r["needs"]]
    reqs = [Request((convert_prompt if r["needs"] == "convert" else translate_prompt)(r["question"], r["answer"]),
                    temperature=temperature, max_tokens=max_tokens) for r in todo]
    res = dict(zip((r["id"] for r in todo), client.run(reqs)))
    out, why = [], Counter()
    for r in rows:
        base = {k: r[k] for k in ("id", "question", "answer", "ground_truth")}
        if not r["needs"]:
            out.append(base)
            continue
        got = parse_converted(res[r["id"]].text if res[r["id"]].ok else None, drop_words=r["needs"] == "convert")
        if isinstance(got, str):
            why[got] += 1
            continue
        out.append({**base, "question": got[0], "answer": got[1], "original_question": r["question"]})
    return out, why


def main(argv=None) -> int:
    from ..llm_client import client_from_args
    from . import prompts
    ap = argparse.ArgumentParser(prog="python -m src.guiding.benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    lo = sub.add_parser("load")
    lo.add_argument("--name", required=True, choices=NAMES)
    lo.add_argument("--source", required=True, help="a local file or folder in the hub's layout, or 'hub'")
    lo.add_argument("--out", required=True)
    lo.add_argument("--limit", type=int, default=None)
    co = sub.add_parser("convert")
    co.add_argument("--rows", required=True)
    co.add_argument("--out", required=True)
    co.add_argument("--temperature", type=float, default=0.7)
    co.add_argument("--max_tokens", type=int, default=2048)
    prompts.add_model_args(co)  # --original_prompts accepted as by every step; the converter's prompts are this project's
    args = ap.parse_args(argv)

    def go():
        if args.cmd == "load":
            rows = load(args.name, args.source)[:args.limit]
            path = write_jsonl(Path(args.out) / f"{args.name}.jsonl", rows)
            print(f"[benchmarks] {args.name}: {len(rows)} rows ({dict(Counter(r['needs'] or 'as loaded' for r in rows))}) -> {path}")
            return
        rows = read_jsonl(args.rows, required=("id", "question", "answer", "ground_truth", "needs"))
        name = Path(args.rows).stem
        if any(r["needs"] for r in rows):
            client = client_from_args(args, Path(args.out) / "llm_cache.jsonl")
            out, why = convert(client, rows, args.temperature, args.max_tokens)
            model = client.model
        else:
            out, why, model = [{k: r[k] for k in ("id", "question", "answer", "ground_truth")} for r in rows], Counter(), None
        path = write_jsonl(Path(args.out) / f"{name}.eval.jsonl", out)
        write_json(path.with_suffix("").with_suffix(".stats.json"), {"rows": len(rows), "kept": len(out), "dropped": dict(why),
                                                                     "model": model, "temperature": args.temperature}, indent=2)
        print(f"[benchmarks] {name}: {len(out)} of {len(rows)} rows kept, dropped {dict(why)} -> {path}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
