"""How much a competing process slows this project's CPU steps, with OpenMP threads that spin while
they wait (the libgomp default) and with threads that sleep (OMP_WAIT_POLICY=PASSIVE, the default of
scripts/pipeline.sh on CPU). Prints a table.

    .venv/bin/python scripts/bench_contention.py [--rows 32] [--competitor torch|python]

Workloads, each run as the pipeline runs it (a fresh process, OMP_NUM_THREADS = all cores):
  train: LoRA SFT of SmolLM2-135M (scripts/train.sh, LLaMA-Factory), one epoch on --rows demo rows;
  infer: greedy vLLM inference of SmolLM2-135M (src.inference) on --rows demo questions.
Competitor (started before, killed after each busy run): ``torch``, another PyTorch job with as many
threads as cores and the default (spinning) wait policy, as a second experiment on the same
machine would be; ``python``, one busy Python loop.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable
COMPETITORS = {
    "torch": "import torch\nx = torch.randn(512, 512)\nwhile True:\n    for _ in range(50): x = torch.tanh(x @ x)\n",
    "python": "while True:\n    pass\n",
}


def prepare(out: Path, rows: int) -> dict:
    from src import registry
    from src.demo_data import make_demo_splits
    from src.jsonio import write_json, write_jsonl
    from src.prepare_data import to_sft
    split = make_demo_splits(rows, rows, 1, seed=3)
    write_json(out / "lf/sft.json", [to_sft("gsm8k", i, r) for i, r in enumerate(split["train_1"])])
    registry.register(out / "lf", "bench_sft", out / "lf/sft.json", "sft")
    write_jsonl(out / "questions.jsonl", [{"id": r["id"], "question": r["question"],
                                          "answer": r["answer"].split("#### ")[-1]} for r in split["train_2"]])
    return {"lf": out / "lf", "questions": out / "questions.jsonl"}


def command(workload: str, model: str, out: Path, files: dict) -> list[str]:
    if workload == "train":
        return ["bash", str(ROOT / "scripts/train.sh"), "stage1_sft", "bench_sft", model, str(out / "adapter"),
                "num_train_epochs=1", "per_device_train_batch_size=8", "gradient_accumulation_steps=1", "cutoff_len=256"]
    return [PY, "-m", "src.inference", "--model_dir", model, "--data_file", str(files["questions"]),
            "--output_file_name", str(out / "infer/output.jsonl"), "--max_tokens", "96", "--quiet", "--overwrite"]


def timed(cmd: list[str], env: dict, competitor: str | None) -> float:
    comp = None
    if competitor:
        comp = subprocess.Popen([PY, "-c", COMPETITORS[competitor]], env={**os.environ, "OMP_NUM_THREADS": str(os.cpu_count())},
                                start_new_session=True)
        time.sleep(2)
    try:
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0
    finally:
        if comp:
            os.killpg(comp.pid, signal.SIGKILL)
            comp.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=32)
    ap.add_argument("--competitor", choices=sorted(COMPETITORS), default="torch")
    ap.add_argument("--workloads", nargs="+", choices=("train", "infer"), default=("train", "infer"))
    ap.add_argument("--out", default="/tmp/w2s_bench_contention")
    args = ap.parse_args()
    from src.models import model_path
    model = str(model_path("smollm2-135m"))
    out = Path(args.out)
    files = prepare(out, args.rows)
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    base.update(OMP_NUM_THREADS=str(os.cpu_count()), DATASET_DIR=str(files["lf"]), HF_HUB_OFFLINE="1")
    policies = {"spin (libgomp default)": {}, "PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
                "GOMP_SPINCOUNT=10000": {"GOMP_SPINCOUNT": "10000"}}
    table = []
    for workload in args.workloads:
        cmd = command(workload, model, out, files)
        times = {}
        for policy, extra in policies.items():
            env = {**base, **extra}
            times[policy] = (timed(cmd, env, None), timed(cmd, env, args.competitor))
            print(f"[bench] {workload} {policy}: quiet {times[policy][0]:.1f} s, busy {times[policy][1]:.1f} s", flush=True)
        fastest_quiet = min(q for q, _ in times.values())
        for policy, (quiet, busy) in times.items():
            table.append((workload, policy, quiet, busy, busy / quiet, busy / fastest_quiet))
    print(f"\n## A competing process ({args.competitor}) on {os.cpu_count()} cores, {args.rows} rows, SmolLM2-135M\n")
    print("| workload | OpenMP wait | quiet s | busy s | busy / quiet | busy / fastest quiet |")
    print("|---|---|---:|---:|---:|---:|")
    for w, p, q, b, r1, r2 in table:
        print(f"| {w} | {p} | {q:.1f} | {b:.1f} | {r1:.2f}x | {r2:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
