"""Where a finished (or running) Weak-to-Strong run's time went, read from its own logs and outputs.

    .venv/bin/python scripts/profile_run.py RUN [--tokenizer DIR]

Per stage (logs/status.log, logs/<stage>.log): wall time, vLLM engine loads, generation (answers,
seconds, new tokens, tokens/s), training (LLaMA-Factory's train_runtime), and the rest (merging
adapters, grading, data, process start-up). Per answer file (outputs/*/output.jsonl and the M_plus
samples): answers cut at max_tokens and the share of new tokens written after the first complete
final-answer line (``#### N`` for GSM8K: what a stop after the answer would have saved).
Tokens are counted with --tokenizer (default: the run's STRONG_BASE from config.env).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

DONE = re.compile(r"^\[[\d:]+\] (\S+)\s+done in (\d+)s")
LOAD = re.compile(r"^\[inference\] vllm engine loaded in (\d+)s: (\S+)")
GEN = re.compile(r"^\[inference\] (\d+) answers in (\d+)s -> (.+)$")
TRAIN = re.compile(r"'train_runtime': ([\d.]+)")
# the first final-answer line: "#### " then the answer, up to the end of the line or the next "####"
FINAL = {"####": re.compile(r"####[ \t]*[^\n#]*"), "The answer is:": re.compile(r"The answer is:[^\n]*")}


def stage_times(run: Path) -> dict[str, int]:
    times = {}
    for line in (run / "logs/status.log").read_text().splitlines():
        m = DONE.match(line)
        if m:
            times[m.group(1)] = int(m.group(2))  # the last completed attempt
    return times


def log_parts(log: Path) -> dict:
    parts = defaultdict(float)
    parts["gen_files"] = []
    if not log.exists():
        return parts
    load = 0
    for line in log.read_text(errors="replace").splitlines():
        if m := LOAD.match(line):
            load = int(m.group(1))
            parts["loads"] += 1
            parts["load_s"] += load
        elif line.startswith("[inference] resuming:"):
            parts["resumed"] = 1  # the answer files hold earlier attempts' answers too: no tokens/s
        elif m := GEN.match(line):
            parts["answers"] += int(m.group(1))
            parts["gen_s"] += int(m.group(2)) - load  # counted from the engine's start
            listed = m.group(3)
            files = [f.strip() for f in listed.removesuffix(" ...").split(",")]
            if listed.endswith(" ..."):  # more than two answer files: every sibling of the listed ones
                files = [str(f) for f in sorted(Path(files[0]).parent.parent.glob("*/output.jsonl"))]
            parts["gen_files"] += files
        elif m := TRAIN.search(line):
            parts["trainings"] += 1
            parts["train_s"] += float(m.group(1))
    return parts


def answer_files(run: Path) -> list[Path]:
    return sorted(run.glob("outputs/*/output.jsonl")) + sorted(run.glob("outputs/mplus_samples/seed*/output.jsonl"))


def token_profile(path: Path, tok, key: str) -> dict:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    final = FINAL.get(key)
    new = past = cut = 0
    for r in rows:
        text = r["response"]
        n = len(tok.encode(text, add_special_tokens=False))
        new += n
        cut += r.get("finish_reason") == "length"
        m = final.search(text) if final else None
        if m and text[m.end():].strip():
            past += len(tok.encode(text[m.end():], add_special_tokens=False))
    return {"answers": len(rows), "tokens": new, "past_answer": past, "cut": cut}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=Path)
    ap.add_argument("--tokenizer", default=None, help="a model folder whose tokenizer counts the tokens")
    args = ap.parse_args(argv)
    run = args.run
    for need in ("config.env", "logs/status.log"):
        if not (run / need).exists():
            sys.exit(f"profile_run: {run / need} is missing: not a run folder of run_*.sh")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from src import benchmarks
    from src.provenance import run_settings
    cfg = run_settings(run)
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(args.tokenizer or cfg["STRONG_BASE"])
    key = benchmarks.get(cfg.get("DATASET", "gsm8k")).answer_key

    tokens = {str(p): token_profile(p, tok, key) for p in answer_files(run)}
    print(f"## {run.name}: time per stage (seconds)\n")
    print("| stage | wall | engine loads | generation | answers | new tokens | tokens/s | training | rest |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    total = defaultdict(float)
    for stage, wall in stage_times(run).items():
        p = log_parts(run / "logs" / f"{stage}.log")
        new = sum(tokens[f]["tokens"] for f in p["gen_files"] if f in tokens)
        rest = wall - p["load_s"] - p["gen_s"] - p["train_s"]
        tps = "resumed" if p["resumed"] else f"{new / p['gen_s']:.0f}" if p["gen_s"] and new else ""
        print(f"| {stage} | {wall} | {p['load_s']:.0f} ({p['loads']:.0f}) | {p['gen_s']:.0f} | {p['answers']:.0f} | "
              f"{new or ''} | {tps} | {p['train_s']:.0f} ({p['trainings']:.0f}) | {rest:.0f} |")
        for k, v in (("wall", wall), ("load", p["load_s"]), ("gen", p["gen_s"]), ("train", p["train_s"])):
            total[k] += v
    print(f"| all | {total['wall']:.0f} | {total['load']:.0f} | {total['gen']:.0f} | | | | {total['train']:.0f} | "
          f"{total['wall'] - total['load'] - total['gen'] - total['train']:.0f} |")
    print("\n(a stage killed and resumed counts only its last attempt; `rest` = merging adapters, grading, data, start-up)")

    print(f"\n## new tokens after the first complete final-answer line ({key!r})\n")
    print("| answers | rows | cut at max_tokens | new tokens | after the answer | share |")
    print("|---|---:|---:|---:|---:|---:|")
    for f, t in tokens.items():
        share = t["past_answer"] / t["tokens"] if t["tokens"] else 0
        print(f"| {Path(f).parent.relative_to(run / 'outputs')} | {t['answers']} | {t['cut']} | {t['tokens']} | "
              f"{t['past_answer']} | {share:.0%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
