"""The GPU smoke test, rehearsed on CPU: every check it makes on GPUs, with one vLLM process and two
gloo training processes instead (slow: about 6 minutes)."""
import os
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_gpu_check_without_a_gpu_says_so():
    proc = subprocess.run(["bash", "scripts/gpu_check.sh"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PATH": "/usr/bin:/bin"})  # no nvidia-smi on this PATH
    assert proc.returncode == 0 and "no NVIDIA GPU" in proc.stdout


def test_gpu_check_rehearsal_on_cpu_passes_every_check():
    proc = subprocess.run(["bash", "scripts/gpu_check.sh", "--cpu"], cwd=ROOT, capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    rows = {l.split("|")[1].strip(): l.split("|")[2].strip()
            for l in proc.stdout.splitlines() if l.startswith("| ") and "| check |" not in l}
    # what the check proves on GPUs, each one passed here: the engine's LoRA batch agrees with
    # transformers, both training paths and the merge, DPO's reference, one tokenizer in both envs
    # the engine's bf16 kernels and seeded sampling, chat stops, replicas, ORPO, ZeRO-2 full SFT and its save
    for name in ("vLLM TP=1: mixed base+LoRA batch == alone == transformers", "export base + SFT (one process)",
                 "DPO first loss = ln 2 (reference = merged M_plus)", "exported model == base + adapters (peft)",
                 "vLLM bf16 greedy ~ float32; seeded sampling repeats (tok/s)", "chat inference stops at the template's turn end",
                 "data-parallel replicas (2) == one process", "ORPO on the merged model (CPU, gloo)",
                 "full SFT, Alice's recipe (CPU, gloo)", "the full SFT's saved model loads in float32",
                 "tensor-parallel size of qwen2.5-coder-0.5b on 1 GPU(s)"):
        assert rows.get(name) == "PASS", (name, rows)
    assert any(n.startswith("LoRA SFT") for n in rows) and any(n.startswith("same token ids") for n in rows)
    assert set(rows.values()) == {"PASS"}, rows
    assert "first loss 0.6931" in proc.stdout
    assert '"same_seed_same_text": true' in proc.stdout and "greedy_tokens_per_s" in proc.stdout
