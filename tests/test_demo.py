"""The README's first command, end to end on the small real models (vLLM + LLaMA-Factory on CPU):
SmolLM2-135M-Instruct supervises Qwen2.5-Coder-0.5B-Instruct on the generated GSM8K-format data.
Slow (about 9 minutes on 2 cores); CI runs it."""
import json
import os
import subprocess
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
MODELS = [ROOT / ".cache/models/smollm2-135m/.w2s-ready", ROOT / ".cache/models/qwen2.5-coder-0.5b/.w2s-ready"]
from src.layout import STAGES  # noqa: E402


@pytest.mark.skipif(not all(m.exists() for m in MODELS), reason="small models not fetched (bash scripts/setup.sh models)")
def test_demo_runs_every_stage_and_reports(tmp_path):
    run = tmp_path / "gsm8k_demo"
    # as a user runs it: no models given, every core (the test suite itself runs with one thread)
    env = {k: v for k, v in os.environ.items()
           if k not in ("WEAK_BASE", "WEAK_MODEL", "STRONG_BASE", "DEMO", "OMP_NUM_THREADS")}
    env["RUN"] = str(run)
    env["DEMO_SIZES"] = "48 32 24"  # the README's demo: "48 48 40"; fewer train_2 questions and test questions for the suite's time
    t0 = time.time()
    proc = subprocess.run(["bash", "run_gsm8k.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    minutes = (time.time() - t0) / 60
    print(f"demo: {minutes:.1f} minutes")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    # every stage of the demo recipe ran (its second stage I round and ORPO are in `make repro-small`)
    ran = sorted(p.name for p in (run / ".done").iterdir())
    assert ran == sorted(s for s in STAGES if s != "stage1_iter2")
    for name in ("weak_test", "strong_icl_test", "eval_ceiling", "eval_full_weak", "eval_iter1_hybrid", "eval_dpo"):
        metrics = json.loads((run / "outputs" / name / "metrics.json").read_text())
        assert metrics["count"] == 24, name
    report = (run / "report.md").read_text()
    for label in ("weak floor", "strong ceiling", "full weak fine-tuning", "stage I, iter1", "DPO", "PGR",
                  "95 % interval", "Against full weak fine-tuning", "pass@"):
        assert label in report, label
    summary = json.loads((run / "report.json").read_text())["models"]
    assert summary["eval_iter1_hybrid"]["accuracy_ci"][0] <= summary["eval_iter1_hybrid"]["accuracy"]
    # a second run finds every stage done
    again = subprocess.run(["bash", "run_gsm8k.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and again.stdout.count("done before (skipped)") == len(ran)
