"""Step 3: the judge's verdicts on the weak teacher's samples (src/guiding/teacher.py wrote them).

    python -m src.guiding.judge --samples DIR/samples.jsonl --out DIR [--extract] MODEL
    MODEL: --base_url URL --model NAME (an endpoint) or --model_dir DIR (in process); see src/llm_client.py

    DIR/judged.jsonl     samples.jsonl's rows + {judgements: [1|0|null] * k, judge_why: [why null|null] * k,
                         answers?: [text|null] * k}
    DIR/judged.stats.json  verdicts, why a reply gave none, the model and every setting; DIR/llm_cache.jsonl every call

Each sample's final result is judged against the unit's reference; 1 and 0 are used, N/A and other
replies are null with the reason (src/guiding/parsing.py, ``read_judgement``); ``--extract`` also
asks for each sample's final answer.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter

from ..cli import run_cli
from ..jsonio import read_jsonl
from ..llm_client import Request, write_step
from . import prompts
from .parsing import read_final_answer, read_judgement


def judge(client, rows: list[dict], temperature: float, max_tokens: int, extract: bool) -> list[dict]:
    places = [(n, j) for n, r in enumerate(rows) for j, s in enumerate(r["samples"]) if s]
    reqs = [Request(prompts.judge(rows[n]["task"], rows[n]["reference"], rows[n]["samples"][j]),
                    temperature=temperature, max_tokens=max_tokens) for n, j in places]
    if extract:
        reqs += [Request(prompts.extract_answer(rows[n]["task"], rows[n]["samples"][j]),
                         temperature=temperature, max_tokens=max_tokens) for n, j in places]
    res = client.run(reqs)
    out = [{**r, "judgements": [None] * len(r["samples"]), "judge_why": [None] * len(r["samples"]),
            **({"answers": [None] * len(r["samples"])} if extract else {})} for r in rows]
    for m, (n, j) in enumerate(places):
        out[n]["judgements"][j], out[n]["judge_why"][j] = read_judgement(res[m].text) if res[m].ok else (None, res[m].error)
        if extract:
            a = res[len(places) + m]
            out[n]["answers"][j] = read_final_answer(a.text)[0] if a.ok else None
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.guiding.judge", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", required=True)
    ap.add_argument("--out", required=True)
    prompts.add_model_args(ap)
    ap.add_argument("--extract", action="store_true", help="also extract each sample's final answer")
    ap.add_argument("--temperature", type=float, default=0.7, help="the original's API default")
    ap.add_argument("--max_tokens", type=int, default=1024)
    args = ap.parse_args(argv)

    def go():
        out, client = prompts.step_client(args)
        rows = judge(client, read_jsonl(args.samples, required=("ori_id", "sub_idx", "task", "reference", "samples"),
                                        allow_empty=True), args.temperature, args.max_tokens, args.extract)
        counts = {"verdicts": dict(Counter(str(v) for r in rows for v in r["judgements"])),
                  "unjudged_why": dict(Counter(w for r in rows for w in r["judge_why"] if w)),
                  "units_with_a_correct_sample": sum(1 in r["judgements"] for r in rows), "units": len(rows)}
        settings = {k: v for k, v in vars(args).items() if k != "base_url"}
        path = write_step(out, "judged", rows, counts, client, settings)
        print(f"[judge] verdicts {counts['verdicts']} (None: N/A, invalid or no sample) -> {path}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
