"""Step 3 of Alice: check the summariser's uncertainty statement before a student sees it.

The original uses the summariser's raw output verbatim, ``N/A`` and extra text included. Here every
statement is classified, counted in the step's log, and only ``ok`` statements (or, with
``keep_invalid``, the cleaned text of the others) reach the proactive step:

    ok          one to three sentences, none of the forbidden mentions
    na          ``N/A`` (the summariser saw no inconsistency): the teacher's answer is used as it is
    empty       nothing after cleaning
    rambling    more than ``max_sentences`` sentences or ``max_chars`` characters
    mentions    names the responses / several answers, which the prompt forbids
    example     about the prompt's worked example instead of the question: two or more of the
                example question's content words that the question does not have (measured: a 1.5B
                summariser writes about the example's "free pens" for a question about chickens)

Cleaning strips white space, a leading ``Uncertainty:`` label (bold or not) and surrounding quotes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .data import answers_by_id, require_answers

FORBIDDEN = re.compile(r"\b(my|the|these|those|other|both|all|several|multiple|different)\s+(responses|answers)\b|\bresponse\s*\d",
                       re.IGNORECASE)
KINDS = ("ok", "na", "empty", "rambling", "mentions", "example")
# words too common to tell the worked example's question from another one
GENERIC = frozenset("what which that this with have each every much many does from into than then there their they "
                    "total more less after before when will would should could also only both some many".split())


@dataclass(frozen=True)
class Statement:
    text: str    # cleaned
    kind: str    # one of KINDS


def clean(raw: str) -> str:
    text = raw.strip()
    text = re.sub(r"^\s*(\*\*)?uncertainty\s*:\s*(\*\*)?\s*", "", text, flags=re.IGNORECASE)
    return text.strip().strip('"\u201c\u201d').strip()


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in GENERIC}


def copies_example(statement: str, question: str, prompt: str) -> bool:
    """The statement holds two or more content words of the prompt's worked example (its first
    ``Question:``) that the real question does not."""
    m = re.search(r"Question:\s*(.+)", prompt or "")
    return bool(m) and len(_words(statement) & (_words(m.group(1)) - _words(question))) >= 2


def check(raw: str, max_sentences: int = 3, max_chars: int = 600, question: str = "", prompt: str = "") -> Statement:
    """``question`` and ``prompt`` (the summariser's whole prompt): for the worked-example check."""
    text = clean(raw)
    if not text:
        return Statement(text, "empty")
    if re.fullmatch(r"n\s*/?\s*a\.?", text, flags=re.IGNORECASE):
        return Statement(text, "na")
    if len(sentences(text)) > max_sentences or len(text) > max_chars or "\n\n" in text:
        return Statement(text, "rambling")
    if FORBIDDEN.search(text):
        return Statement(text, "mentions")
    if copies_example(text, question, prompt):
        return Statement(text, "example")
    return Statement(text, "ok")


# ---------------------------------------------------------------------------- the step's command line
USAGE = """Step 3 of Alice: the summariser's requests, then its checked statements.

    python -m src.alice.uncertainty requests --dataset gsm8k --clusters clusters.jsonl --out DIR
        -> DIR/summary_requests.jsonl {id, question: the summary prompt} (questions with 2+ clusters)
           DIR/originals.jsonl {id, question, answer, label: "original"} (questions with one cluster)
    (the summariser: python -m src.inference --prompt_style chat --data_file DIR/summary_requests.jsonl ...)
    python -m src.alice.uncertainty collect --clusters clusters.jsonl --summaries SUMMARY_OUTPUT --out DIR
        -> DIR/uncertainty.jsonl {id, question, final_response, uncertainty, kind}, DIR/uncertainty.stats.json

Statements of kind ``na`` make the question an "original" item (the summariser saw no conflict);
``empty``, ``rambling`` and ``mentions`` are left out of the proactive step and counted, unless
``--keep_invalid`` (the original's behaviour: every raw statement is used).
"""


def make_requests(dataset: str, clusters: list[dict]) -> tuple[list[dict], list[dict]]:
    from .prompts import summary_prompt
    requests, originals = [], []
    for r in clusters:
        if r["dropped"]:
            continue
        if len(r["clusters"]) == 1:
            originals.append({"id": r["id"], "question": r["question"], "answer": r["final_response"], "label": "original"})
        else:
            requests.append({"id": r["id"], "question": summary_prompt(dataset, r["question"], [c["response"] for c in r["clusters"]])})
    return requests, originals


def collect(clusters: list[dict], summaries: list[dict], keep_invalid: bool = False) -> tuple[list[dict], list[dict], dict]:
    """-> (uncertainty rows for the proactive step, extra originals from N/A statements, counts)."""
    by_id = answers_by_id(summaries, "summaries")
    several = [r for r in clusters if not r["dropped"] and len(r["clusters"]) >= 2]
    require_answers([r["id"] for r in several], by_id, "summaries")
    rows, originals, kinds = [], [], {k: 0 for k in KINDS}
    prompts = {s["row_id"]: s.get("prompt", "") for s in summaries}  # the summariser's whole prompt, for the example check
    for r in several:
        st = check(by_id[r["id"]], question=r["question"], prompt=prompts.get(r["id"], ""))
        kinds[st.kind] += 1
        if st.kind == "na" and not keep_invalid:
            originals.append({"id": r["id"], "question": r["question"], "answer": r["final_response"], "label": "original"})
        elif st.kind == "ok" or keep_invalid:
            text = by_id[r["id"]] if keep_invalid else st.text
            rows.append({"id": r["id"], "question": r["question"], "final_response": r["final_response"],
                         "uncertainty": text, "kind": st.kind})
    return rows, originals, kinds


def main(argv=None) -> int:
    import argparse
    from pathlib import Path

    from ..cli import run_cli
    from ..jsonio import read_jsonl, write_json, write_jsonl
    from . import prompts
    from ..eval.alice_answers import DATASETS
    ap = argparse.ArgumentParser(prog="python -m src.alice.uncertainty", description=USAGE,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("requests")
    p.add_argument("--dataset", required=True, choices=DATASETS)
    p.add_argument("--clusters", required=True)
    p.add_argument("--out", required=True)
    prompts.add_prompt_args(p)
    p = sub.add_parser("collect")
    p.add_argument("--clusters", required=True)
    p.add_argument("--summaries", required=True, help="the summariser's output.jsonl (src.inference)")
    p.add_argument("--out", required=True)
    p.add_argument("--keep_invalid", action="store_true", help="use every raw statement, as the original")
    args = ap.parse_args(argv)

    def go():
        prompts.configure(args)
        out = Path(args.out)
        clusters = read_jsonl(args.clusters, required=("id", "question", "clusters", "final_response", "dropped"))
        if args.cmd == "requests":
            requests, originals = make_requests(args.dataset, clusters)
            write_jsonl(out / "summary_requests.jsonl", requests)
            write_jsonl(out / "originals.jsonl", originals)
            print(f"[uncertainty] {len(requests)} questions to summarise, {len(originals)} with one cluster "
                  f"(original items) -> {out}")
        else:
            rows, extra, kinds = collect(clusters, read_jsonl(args.summaries, required=("response",), allow_empty=True), args.keep_invalid)
            write_jsonl(out / "uncertainty.jsonl", rows)
            write_jsonl(out / "na_originals.jsonl", extra)
            write_json(out / "uncertainty.stats.json", kinds, indent=2)
            print(f"[uncertainty] statements: {kinds}; {len(rows)} go to the student, {len(extra)} N/A become original items")
    return run_cli(go)


if __name__ == "__main__":
    import sys
    sys.exit(main())
