"""The run scripts end to end on a tiny taught model (transformers backend, seconds per stage):
every stage of run_gsm8k.sh, a killed run that resumes to the same files, and run_olympic.sh on a
local copy of OlympicArena. The demo on the small real models is tests/test_demo.py (slow)."""
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from src.jsonio import read_json_list, read_jsonl
from tests.conftest import ROOT

TRAIN_PY = Path(os.environ.get("W2S_TRAIN_VENV", ROOT / ".venv-train")) / "bin" / "python"
pytestmark = pytest.mark.skipif(not TRAIN_PY.exists(), reason=f"no training environment at {TRAIN_PY}")
ARGS = "num_train_epochs=1 per_device_train_batch_size=4 gradient_accumulation_steps=1 learning_rate=1.0e-5 logging_steps=1 cutoff_len=256"


@pytest.fixture(scope="module")
def tiny(taught_model):
    return taught_model


def env_for(run, tiny, **extra):
    env = {**os.environ, "DEMO": "1", "WEAK_BASE": str(tiny), "STRONG_BASE": str(tiny), "RUN": str(run),
           "DEMO_SIZES": "16 16 8", "MAX_TOKENS": "12", "N_SAMPLES": "5", "STRONG_TEMPLATE": "vanilla",
           "INFER_ARGS": "--backend hf --dtype float32 --chunk_size 4", "TRAIN_ARGS": ARGS, "STRONG_TRAIN_ARGS": ARGS,
           "PREF_ARGS": ARGS, "ITER2": "1", "PREF": "dpo orpo",  # every stage (the demo recipe skips these two)
           "OMP_NUM_THREADS": "1"}
    env.update(extra)
    return env


def run_script(script, env):
    proc = subprocess.run(["bash", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def gsm8k_run(tmp_path_factory, tiny):
    run = tmp_path_factory.mktemp("runs") / "gsm8k"
    out = run_script("run_gsm8k.sh", env_for(run, tiny))
    return run, out


from src.layout import STAGES as LAYOUT

STAGES = list(LAYOUT)


def test_every_stage_runs_and_reports(gsm8k_run):
    run, out = gsm8k_run
    assert sorted(p.name for p in (run / ".done").iterdir()) == sorted(STAGES)
    # each stage ran to its end once, in the layout's order
    finished = re.findall(r"^\[[\d:]+\] (\S+) +done in \d+s$", out, flags=re.M)
    assert finished == STAGES and "FAILED" not in out
    for name in ("weak_test", "strong_icl_test", "eval_ceiling", "eval_full_weak", "eval_iter1_hybrid",
                 "eval_iter2_hybrid", "eval_dpo", "eval_orpo"):
        metrics = json.loads((run / "outputs" / name / "metrics.json").read_text())
        assert metrics["count"] == 8, name
    assert len(read_json_list(run / "data/llama_factory/gsm8k/train_iter1_hybrid.json")) > 0
    assert len(read_json_list(run / "data/llama_factory/gsm8k/train_pairs.json")) > 0
    for k in range(5):
        assert len(read_jsonl(run / f"outputs/mplus_samples/seed{k}/results.jsonl")) == 16
    for loss in ("dpo", "orpo"):
        cfg = json.loads((run / f"models/{loss}_final/adapter_config.json").read_text())
        assert cfg["r"] == 16  # stage I + stage II adapters in one
    report = (run / "report.md").read_text()
    for label in ("weak floor", "strong ceiling", "full weak", "iter1", "iter2", "DPO", "ORPO", "PGR"):
        assert label in report, label
    assert (run / "accuracy.png").stat().st_size > 0 and (run / "config.env").is_file()


def test_a_second_run_skips_every_stage(gsm8k_run, tiny):
    run, _ = gsm8k_run
    before = {p: p.stat().st_mtime_ns for p in (run / "outputs").rglob("*.jsonl")}
    out = run_script("run_gsm8k.sh", env_for(run, tiny))
    assert out.count("done before (skipped)") == len(STAGES)
    assert before == {p: p.stat().st_mtime_ns for p in (run / "outputs").rglob("*.jsonl")}


def test_killed_run_resumes_to_the_same_files(gsm8k_run, tiny, tmp_path):
    """Kill the run inside weak SFT; the next run restarts that stage and writes what the
    uninterrupted run wrote."""
    full, _ = gsm8k_run
    run = tmp_path / "killed"
    env = env_for(run, tiny, STAGES="data weak_sft weak_inference")
    proc = subprocess.Popen(["bash", "run_gsm8k.sh"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    log = run / "logs/weak_sft.log"
    deadline = time.time() + 300
    while time.time() < deadline and not (log.is_file() and "trainable params" in log.read_text()):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (run / ".done/data").exists() and not (run / ".done/weak_sft").exists()
    out = run_script("run_gsm8k.sh", env)
    assert "data                   done before (skipped)" in out
    for f in ("outputs/weak_test/output.jsonl", "outputs/weak_train2/results.jsonl",
              "data/llama_factory/gsm8k/train_full_weak.json", "data/test/gsm8k_train_2.jsonl"):
        assert (run / f).read_bytes() == (full / f).read_bytes(), f


def test_run_olympic_on_a_local_copy(tmp_path, tiny):
    """run_olympic.sh: data from a local copy, no weak SFT, no ceiling; the judge grades and agrees."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from src.olympic_data import SUBJECTS
    from tests.test_olympic import raw_row
    copy = tmp_path / "OlympicArena"
    for s in SUBJECTS:
        for split, n in (("test", 3), ("val", 2)):
            (copy / s).mkdir(parents=True, exist_ok=True)
            # the benchmark withholds the answers of its test split (our train_2)
            rows = [raw_row(i, s, answer=["5"] if split == "val" else None) for i in range(n)]
            pq.write_table(pa.Table.from_pylist(rows), copy / s / f"{split}-00000-of-00001.parquet")
    run = tmp_path / "olympic"
    env = env_for(run, tiny, DEMO="0", WEAK_MODEL=str(tiny), WEAK_BASE="", OLYMPIC_SOURCE=str(copy), ITER2="0",
                  MAX_TOKENS="40")
    out = run_script("run_olympic.sh", env)
    assert "WEAK_MODEL given: no weak SFT" in (run / "logs/weak_sft.log").read_text()
    assert not (run / "models/ceiling").exists()
    train2 = read_jsonl(run / "outputs/weak_train2/results.jsonl")
    assert len(train2) == 18 and train2[0]["prompt"].endswith("\n\nAnswer:") and "Question: What is 0?" in train2[0]["prompt"]
    assert {"answer_type", "type_sequence", "pred", "result"} <= set(train2[0])
    assert all(r["result"] is None for r in train2)  # no gold on train_2: not graded, not "wrong"
    assert json.loads((run / "outputs/weak_train2/metrics.json").read_text())["accuracy"] is None
    assert json.loads((run / "outputs/weak_test/metrics.json").read_text())["accuracy"] is not None
    report = (run / "report.md").read_text()
    assert "report" in out and "no gold" in report and "olympic judge" in report


def test_redo_of_a_training_stage_reevaluates_it(gsm8k_run, tiny):
    """REDO=preference retrains DPO/ORPO, then every later stage runs again: the evaluation is
    regenerated for the new adapters (its record names their fingerprints), never reused."""
    from src import provenance
    run, _ = gsm8k_run
    before = json.loads((run / "outputs/eval_dpo/output.meta.json").read_text())["made_by"]["adapter"]
    iter1 = (run / "outputs/eval_iter1_hybrid/output.jsonl").stat().st_mtime_ns
    out = run_script("run_gsm8k.sh", env_for(run, tiny, REDO="preference",
                                                PREF_ARGS=ARGS.replace("learning_rate=1.0e-5", "learning_rate=1.0e-3")))
    for stage in ("preference", "evaluate", "report"):
        assert f"{stage}" in out and out.count("done before (skipped)") == len(STAGES) - 3
    after = json.loads((run / "outputs/eval_dpo/output.meta.json").read_text())["made_by"]["adapter"]
    assert after == provenance.fingerprint(run / "models/dpo_final") != before
    # the stage I adapters did not change: their answers are reused, not regenerated
    assert (run / "outputs/eval_iter1_hybrid/output.jsonl").stat().st_mtime_ns == iter1


def test_merged_adapters_give_the_adapters_answers(gsm8k_run, tiny, tmp_path):
    """MERGE_ADAPTERS=1: each adapter is merged into its base before inference (one load per adapter,
    the base model's runs in one load); the merged models answer as base + adapter do, and their
    copies are gone afterwards."""
    full, _ = gsm8k_run
    run = tmp_path / "merged"
    shutil.copytree(full, run)
    out = run_script("run_gsm8k.sh", env_for(run, tiny, MERGE_ADAPTERS="1", REDO="evaluate", STAGES="evaluate"))
    assert "evaluate" in out and "FAILED" not in out
    for name in ("eval_ceiling", "eval_full_weak", "eval_iter1_hybrid", "eval_iter2_hybrid", "eval_dpo", "eval_orpo"):
        record = json.loads((run / f"outputs/{name}/output.meta.json").read_text())
        assert "/models/merged/" in record["paths"]["model"] and record["made_by"]["adapter"] is None, name
        merged = [r["response"] for r in read_jsonl(run / f"outputs/{name}/output.jsonl")]
        assert merged == [r["response"] for r in read_jsonl(full / f"outputs/{name}/output.jsonl")], name
    assert not any((run / "models/merged").iterdir())


@pytest.mark.parametrize("extra,message", [({"WEAK_BASEE": "x"}, "unknown setting WEAK_BASEE"),
                                           ({"ITER2": "3"}, "ITER2 is 0 or 1, not '3'"),
                                           ({"DATA_SUBSET": "10 10"}, "DATA_SUBSET is three numbers"),
                                           ({"DATA_SUBSETS": "1 1 1"}, "unknown setting DATA_SUBSETS"),
                                           ({"REDO": "pair"}, "unknown stage 'pair'"),
                                           ({"PREF": "ppo"}, "PREF holds dpo and/or orpo"),
                                           ({"NNODES": "2"}, "NNODES=2 needs MASTER_ADDR")])
def test_bad_settings_stop_before_any_stage(tmp_path, tiny, extra, message):
    run = tmp_path / "bad"
    proc = subprocess.run(["bash", "run_gsm8k.sh"], cwd=ROOT, env=env_for(run, tiny, **extra), capture_output=True, text=True)
    assert proc.returncode == 2 and message in proc.stderr
    assert not (run / ".done").exists() or not any((run / ".done").iterdir())


def test_config_env_replays_the_run(gsm8k_run):
    """config.env holds every setting with shell quoting: sourcing it gives back the run's settings."""
    run, _ = gsm8k_run
    out = subprocess.run(["bash", "-c", f"set -a; source {run}/config.env; echo \"$TRAIN_ARGS|$RUN|$N_SAMPLES\""],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == f"{ARGS}|{run}|5"
