"""Benchmark LoRA SFT on the small real model (SmolLM2-135M) on CPU: tokens/s and peak memory.

    .venv/bin/python scripts/bench_training.py [--rows 128] [--model smollm2-135m]

Runs scripts/train.sh (LLaMA-Factory in .venv-train, the project's sft_lora.yaml with the vanilla
template) on GSM8K-format demo rows for one epoch and prints a table: rows, tokens trained
(prompt + response + EOS, as tokenised by the model), LLaMA-Factory's train_runtime, tokens/s,
and the training process's peak resident memory.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=128)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--out", default="/tmp/w2s_bench_training")
    args = ap.parse_args()

    from transformers import AutoTokenizer
    from src import registry
    from src.demo_data import make_demo_splits
    from src.jsonio import write_json
    from src.models import model_path
    from src.prepare_data import to_sft

    model = model_path(args.model)
    out = Path(args.out)
    rows = [to_sft("gsm8k", i, r) for i, r in enumerate(make_demo_splits(args.rows, 1, 1, seed=3)["train_1"])]
    write_json(out / "lf/sft.json", rows)
    registry.register(out / "lf", "bench_sft", out / "lf/sft.json", "sft")
    tok = AutoTokenizer.from_pretrained(model)
    tokens = sum(len(tok(r["content"] + r["output"], add_special_tokens=False)["input_ids"]) + 1 for r in rows)
    env = {**os.environ, "DATASET_DIR": str(out / "lf"), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    t0 = time.perf_counter()
    subprocess.run(["bash", str(ROOT / "scripts/train.sh"), "stage1_sft", "bench_sft", str(model), str(out / "adapter"),
                    "num_train_epochs=1", f"per_device_train_batch_size={args.batch}", "gradient_accumulation_steps=1",
                    "cutoff_len=512", "logging_steps=5"], check=True, env=env, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    runtime = json.loads((out / "adapter/train_results.json").read_text())["train_runtime"]
    print(f"\n## LoRA SFT, {args.model}, CPU ({env['OMP_NUM_THREADS']} threads), rank 8, batch {args.batch}, 1 epoch\n")
    print("| rows | tokens | train_runtime s | tokens/s | wall s (with start-up) | peak RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {len(rows)} | {tokens} | {runtime:.1f} | {tokens / runtime:.0f} | {wall:.0f} | {peak_mb:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
