"""A seeded run repeats: two runs of the demo's first stages (generated data, weak LoRA SFT of
SmolLM2-135M, vLLM inference on train_2 and test) with the same settings on one machine write the
same adapter and the same answers, byte for byte (docs/demo.md: what may still differ across
machines)."""
import hashlib
import os
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
WEAK = ROOT / ".cache/models/smollm2-135m"


def run_stages(run):
    env = {k: v for k, v in os.environ.items() if k not in ("WEAK_BASE", "WEAK_MODEL", "STRONG_BASE", "DEMO")}
    env.update(RUN=str(run), DEMO_SIZES="16 16 8", MAX_TOKENS="48", STAGES="data weak_sft weak_inference",
               THREADS="2")
    proc = subprocess.run(["bash", "run_gsm8k.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(not (WEAK / ".w2s-ready").exists(), reason="small models not fetched (bash scripts/setup.sh models)")
def test_two_seeded_runs_write_the_same_rows(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run_stages(a)
    run_stages(b)
    assert digest(a / "models/weak_sft/adapter_model.safetensors") == digest(b / "models/weak_sft/adapter_model.safetensors")
    for name in ("weak_train2", "weak_test"):
        rows_a = (a / f"outputs/{name}/output.jsonl").read_text()
        assert rows_a.count("\n") == (16 if name == "weak_train2" else 8)
        assert rows_a == (b / f"outputs/{name}/output.jsonl").read_text(), name
    # the thread count is a recorded setting of the run and of every answer file
    assert "THREADS=2\n" in (a / "config.env").read_text()
    assert '"threads": 2' in (a / "outputs/weak_test/output.meta.json").read_text()
