"""`bash run_alice.sh` with no models given, end to end on the small real models (vLLM + LLaMA-Factory
on CPU): SmolLM2-135M-Instruct teaches Qwen2.5-Coder-0.5B-Instruct on generated GSM8K-format problems.
Every stage of the demo recipe, on a third of its questions, 4 samples instead of 6, and only the
zero-shot baseline (the W2SG and base baselines' stages, trainings and evaluations run in
tests/test_alice_pipeline.py on the tiny model; the whole demo takes about 20 minutes here, the suite's
budget is 45). Slow; CI runs it."""
import json
import os
import subprocess
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
MODELS = [ROOT / ".cache/models/smollm2-135m/.w2s-ready", ROOT / ".cache/models/qwen2.5-coder-0.5b/.w2s-ready"]
STAGES = ["data", "teacher_data", "teacher_sft", "sampling", "alice_data", "student_sft", "baselines", "evaluate", "report"]


@pytest.mark.skipif(not all(m.exists() for m in MODELS), reason="small models not fetched (bash scripts/setup.sh models)")
def test_alice_demo_runs_every_stage_and_reports(tmp_path):
    run = tmp_path / "alice_demo"
    # as a user runs it: no models given, every core (the test suite itself runs with one thread)
    env = {k: v for k, v in os.environ.items()
           if k not in ("TEACHER_BASE", "STUDENT_BASE", "SUMMARISER", "DEMO", "RECIPE", "OMP_NUM_THREADS")}
    env.update(RUN=str(run), DEMO_SIZES="16 16 16", N_SAMPLES="4", BASELINES="zero_shot")
    t0 = time.time()
    proc = subprocess.run(["bash", "run_alice.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    print(f"Alice demo: {(time.time() - t0) / 60:.1f} minutes")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert sorted(p.name for p in (run / ".done").iterdir()) == sorted(STAGES)
    report = json.loads((run / "report.json").read_text())
    assert set(report["models"]) == {"teacher", "zero_shot", "alice"}
    for name, m in report["models"].items():
        assert m["questions"] == 16, name
        lo, hi = m["strict_interval"]
        assert lo <= m["strict"] <= hi, name
    steps = report["steps"]["alice"]
    c = steps["clusters"]
    assert c["questions"] == 16 and c["dropped"] + c["one_cluster"] + c["several_clusters"] == 16
    assert steps["items"]["original"] + steps["items"]["new"] == 16 - c["dropped"] - sum(
        v for k, v in steps["statements"].items() if k in ("empty", "rambling", "mentions"))
    text = (run / "report.md").read_text()
    for label in ("Alice", "zero-shot", "dropped", "revision"):
        assert label in text, label
    assert (run / "clusters.png").stat().st_size > 0
