"""Benchmark inference on the small real model (SmolLM2-135M), one run, printing a table.

    .venv/bin/python scripts/bench_inference.py [--questions 64] [--samples 10] [--max_tokens 128]

1. Throughput: vLLM vs transformers (batch 32) on the same greedy prompts, tokens/s.
2. Sampling N answers for each question: one engine load with one request per (question, seed)
   (this project) vs one process and one model load per seed (the original's loop).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=64)
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--max_tokens", type=int, default=128)
    ap.add_argument("--out", default="/tmp/w2s_bench_inference")
    args = ap.parse_args()

    from transformers import AutoTokenizer
    from src.demo_data import make_demo_splits
    from src.engines import Decoding, EngineConfig, load_engine
    from src.jsonio import read_jsonl, write_jsonl
    from src.models import model_path
    from src.prompts import get_prompts

    model = str(model_path("smollm2-135m"))
    rows = make_demo_splits(seed=1)["train_2"][: args.questions]
    data = Path(args.out) / "questions.jsonl"
    write_jsonl(data, [{"question": r["question"], "answer": r["answer"].split("#### ")[-1]} for r in rows])
    prompts = get_prompts([r["question"] for r in rows])
    tok = AutoTokenizer.from_pretrained(model)
    # no stop strings here, so that both engines generate the full max_tokens budget
    dec = Decoding(temperature=0.0, max_tokens=args.max_tokens, stop=())

    table = []
    for backend in ("vllm", "hf"):
        cfg = EngineConfig(model, batch_size=32, max_num_batched_tokens=8192)
        t0 = time.perf_counter()
        engine = load_engine(backend, cfg, dec)
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        texts = engine.generate([(p, 0) for p in prompts])
        gen = time.perf_counter() - t0
        ntok = sum(len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts)
        table.append((backend, load, gen, ntok / gen))
        del engine
    print(f"\n## Greedy throughput, {len(prompts)} prompts, {args.max_tokens} new tokens (bf16, 2 CPU cores)\n")
    print("| engine | load s | generate s | tokens/s | vs transformers |\n|---|---:|---:|---:|---:|")
    hf_tps = table[1][3]
    for name, load, gen, tps in table:
        print(f"| {name} | {load:.0f} | {gen:.1f} | {tps:.0f} | {tps / hf_tps:.1f}x |")

    base = [sys.executable, "-m", "src.inference", "--model_dir", model, "--data_file", str(data), "--temperature", "1.0",
            "--max_tokens", str(args.max_tokens), "--no_eval", "--quiet", "--overwrite"]
    t0 = time.perf_counter()
    subprocess.run(base + ["--num_samples", str(args.samples), "--output_file_name", f"{args.out}/one/output.jsonl"],
                   check=True, cwd=ROOT, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    for seed in range(args.samples):  # the original: one process and one model load per seed
        subprocess.run(base + ["--seed", str(seed), "--output_file_name", f"{args.out}/per_seed/seed{seed}/output.jsonl"],
                       check=True, cwd=ROOT, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    per = time.perf_counter() - t0
    n = sum(len(read_jsonl(Path(args.out) / "one" / f"seed{s}" / "output.jsonl")) for s in range(args.samples))
    print(f"\n## Sampling {args.samples} answers for each of {len(prompts)} questions (vLLM, T=1.0, {args.max_tokens} max tokens)\n")
    print("| way | wall s | answers | vs per-seed loads |\n|---|---:|---:|---:|")
    print(f"| one load, one request per (question, seed) | {one:.0f} | {n} | {per / one:.1f}x |")
    print(f"| one process and load per seed (original) | {per:.0f} | {n} | 1.0x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
