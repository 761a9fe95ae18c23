"""Where the real-GSM8K reproduction's time goes, and what its settings save (docs/repro_gsm8k.md).

    .venv/bin/python scripts/bench_repro.py [--model qwen2.5-coder-0.5b] [--rows 32] [--questions 32]

On real GSM8K train_1 rows (../shared/upstream, or W2S_UPSTREAM) and one model:
1. LoRA SFT, one epoch on --rows gold rows (scripts/train.sh, the recipe's LoRA): micro-batch 8 in
   fp32 (the config's way), micro-batch 8 in bf16, micro-batch 1 in bf16 with 8 accumulation steps
   (the recipe's); seconds per row and the ratio to the first.
2. Greedy inference on --questions test questions (320 tokens, every request in flight) through the
   adapter trained in 1 (vLLM LoRA) and through the same adapter merged into the model first
   (``MERGE_ADAPTERS=1``: export + a load of the merged model, both counted); tokens/s and the ratio.
Everything runs in this process's order on the same machine; nothing else should run beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def run(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--rows", type=int, default=32)
    ap.add_argument("--questions", type=int, default=32)
    ap.add_argument("--out", default="/tmp/w2s_bench_repro")
    args = ap.parse_args()

    from src import registry
    from src.jsonio import read_jsonl, write_json, write_jsonl
    from src.models import model_path
    from src.prepare_data import from_release, to_eval, to_sft

    upstream = Path(os.environ.get("W2S_UPSTREAM", ROOT.parent / "shared" / "upstream"))
    splits = from_release(upstream, "gsm8k")
    model, out = str(model_path(args.model)), Path(args.out)
    write_json(out / "lf/sft.json", [to_sft("gsm8k", i, r) for i, r in enumerate(splits["train_1"][:args.rows])])
    registry.register(out / "lf", "bench_sft", out / "lf/sft.json", "sft")
    write_jsonl(out / "test.jsonl", [to_eval("gsm8k", r, "GSM8K") for r in splits["test"][:args.questions]])
    env = {**os.environ, "DATASET_DIR": str(out / "lf"), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"),
           "OMP_WAIT_POLICY": "PASSIVE"}
    common = ["num_train_epochs=1", "cutoff_len=768", "logging_steps=1", "learning_rate=5.0e-4", "warmup_ratio=0"]
    ways = [("micro-batch 8, fp32 (the config's)", ["per_device_train_batch_size=8", "gradient_accumulation_steps=1"]),
            ("micro-batch 8, bf16", ["per_device_train_batch_size=8", "gradient_accumulation_steps=1", "bf16=true", "use_cpu=true"]),
            ("micro-batch 1 x 8, bf16 (the recipe's)", ["per_device_train_batch_size=1", "gradient_accumulation_steps=8",
                                                        "bf16=true", "use_cpu=true"])]
    train_rows = []
    for name, extra in ways:
        adapter = out / "adapter"
        run(["bash", "scripts/train.sh", "stage1_sft", "bench_sft", model, str(adapter), *common, *extra], env)
        runtime = json.loads((adapter / "train_results.json").read_text())["train_runtime"]
        train_rows.append((name, runtime / args.rows))

    infer = [".venv/bin/python", "-m", "src.inference", "--benchmark", "gsm8k", "--max_tokens", "320",
             "--max_model_len", "4096", "--quiet", "--overwrite"]
    t_lora = run(infer + ["--model_dir", model, "--job", str(out / "lora/output.jsonl"), str(out / "test.jsonl"), str(adapter)], env)
    t_export = run(["bash", "scripts/train.sh", "export", "-", model, str(out / "merged"), str(adapter)], env)
    t_merged = run(infer + ["--model_dir", str(out / "merged"), "--job", str(out / "merged_out/output.jsonl"),
                            str(out / "test.jsonl"), "-"], env)
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model)
    tokens = {k: sum(len(tok(r["response"])["input_ids"]) for r in read_jsonl(out / k / "output.jsonl")) for k in ("lora", "merged_out")}

    print(f"\n## {args.model}, {env['OMP_NUM_THREADS']} threads, real GSM8K\n")
    print(f"LoRA SFT, {args.rows} train_1 gold rows, one epoch:\n")
    print("| way | s per row | speed-up |\n|---|---:|---:|")
    for name, per_row in train_rows:
        print(f"| {name} | {per_row:.2f} | {train_rows[0][1] / per_row:.2f}x |")
    print(f"\nGreedy inference, {args.questions} test questions, 320 tokens, wall time with the engine start:\n")
    print("| way | s | tokens | tokens/s | speed-up |\n|---|---:|---:|---:|---:|")
    print(f"| through the adapter (vLLM LoRA) | {t_lora:.0f} | {tokens['lora']} | {tokens['lora'] / t_lora:.1f} | 1.00x |")
    total = t_export + t_merged
    print(f"| merged first (export {t_export:.0f} s + inference {t_merged:.0f} s) | {total:.0f} | {tokens['merged_out']} | "
          f"{tokens['merged_out'] / total:.1f} | {t_lora / total:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
