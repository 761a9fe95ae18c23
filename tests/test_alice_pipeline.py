"""run_alice.sh end to end on a tiny chat-taught model (transformers backend, seconds per step):
every stage including cascade Alice and all four baselines, a run killed in the middle that
resumes, and a rerun that skips everything. The demo on the small real models: tests/test_demo.py."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from src.jsonio import read_json_list, read_jsonl
from tests.conftest import ROOT

TRAIN_PY = Path(os.environ.get("W2S_TRAIN_VENV", ROOT / ".venv-train")) / "bin" / "python"
pytestmark = pytest.mark.skipif(not TRAIN_PY.exists(), reason=f"no training environment at {TRAIN_PY}")
ARGS = ("num_train_epochs=1 per_device_train_batch_size=4 effective_batch_size=4 learning_rate=1.0e-5 warmup_steps=0 "
        "logging_steps=1 cutoff_len=256")
STAGES = ["data", "teacher_data", "teacher_sft", "sampling", "alice_data", "student_sft", "cascade", "baselines",
          "evaluate", "report"]


@pytest.fixture(scope="module")
def chat_tiny(tmp_path_factory):
    from src.models import make_tiny_model
    from tests.tiny_teacher import teach_chat
    model = make_tiny_model(tmp_path_factory.mktemp("chat_tiny") / "model")
    teach_chat(model)
    return model


def env_for(run, model, **extra):
    env = {**os.environ, "DEMO": "1", "TEACHER_BASE": str(model), "STUDENT_BASE": str(model), "MID_BASE": str(model),
           "SUMMARISER": str(model), "RUN": str(run), "DEMO_SIZES": "16 16 8", "N_SAMPLES": "4", "MAX_TOKENS": "12",
           "CASCADE": "1", "BASELINES": "w2sg_cot w2sg_qa base zero_shot", "FINETUNE": "full", "TEACHER_FINETUNE": "full",
           "TRAIN_ARGS": ARGS, "TEACHER_TRAIN_ARGS": ARGS, "INFER_ARGS": "--backend hf --dtype float32",
           "OMP_NUM_THREADS": "1"}
    env.update(extra)
    return env


def run_script(env):
    proc = subprocess.run(["bash", "run_alice.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"run_alice.sh failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def killed_then_resumed(tmp_path_factory, chat_tiny):
    """The run is killed while the student trains (inside student_sft), then run again to the end."""
    run = tmp_path_factory.mktemp("alice_runs") / "gsm8k"
    env = env_for(run, chat_tiny)
    proc = subprocess.Popen(["bash", "run_alice.sh"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    log = run / "logs/student_sft.log"
    deadline = time.time() + 600
    while time.time() < deadline and not (log.is_file() and "effective batch" in log.read_text()):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(p.name for p in (run / ".done").iterdir())
    return run, done, run_script(env)


def test_every_stage_runs_after_a_kill(killed_then_resumed):
    run, done_before, out = killed_then_resumed
    assert done_before == sorted(STAGES[:5]), done_before  # killed inside student_sft
    assert "alice_data             done before (skipped)" in out
    assert sorted(p.name for p in (run / ".done").iterdir()) == sorted(STAGES)
    assert "FAILED" not in out


def test_files_are_joined_by_id_and_complete(killed_then_resumed):
    run, _, _ = killed_then_resumed
    transfer = read_jsonl(run / "data/transfer.jsonl")
    ids = [r["id"] for r in transfer]
    assert ids == list(range(16, 32))  # positions in the train split, not in the file
    for k in range(4):  # one answer per question per seed, every answer carrying its question's id
        rows = read_jsonl(run / f"steps/sampling/teacher/seed{k}/output.jsonl")
        assert sorted(r["row_id"] for r in rows) == ids
    clusters = read_jsonl(run / "steps/alice/clusters.jsonl")
    assert [c["id"] for c in clusters] == ids
    train = read_jsonl(run / "steps/alice/student_train.jsonl")
    assert len({r["id"] for r in train}) == len(train)  # no duplicates from the interrupted run
    kept = [c["id"] for c in clusters if not c["dropped"]]
    assert {r["id"] for r in train} <= set(kept)
    labels = [r["label"] for r in train]
    assert labels == sorted(labels, key=lambda x: x != "original")  # every original item, then the new ones
    stats = json.loads((run / "steps/alice/student_train.stats.json").read_text())
    assert stats["original"] + stats["new"] == len(train)
    lf = read_json_list(run / "data/llama_factory/alice.json")
    assert [r["id"] for r in lf] == [r["id"] for r in train]


def test_cascade_halves_are_disjoint_by_id(killed_then_resumed):
    run, _, _ = killed_then_resumed
    mid = {r["id"] for r in read_jsonl(run / "data/transfer_mid.jsonl")}
    strong = {r["id"] for r in read_jsonl(run / "data/transfer_strong.jsonl")}
    assert mid and strong and not mid & strong and mid | strong == set(range(16, 32))
    assert {c["id"] for c in read_jsonl(run / "steps/cascade_mid/clusters.jsonl")} == mid
    assert {c["id"] for c in read_jsonl(run / "steps/cascade_strong/clusters.jsonl")} == strong
    for k in range(4):  # the trained mid model samples the second half
        rows = read_jsonl(run / f"steps/cascade_mid/samples/seed{k}/output.jsonl")
        assert {r["row_id"] for r in rows} == strong
    assert (run / "models/cascade/model.safetensors").is_file()


def test_report_scores_every_model(killed_then_resumed):
    run, _, _ = killed_then_resumed
    report = json.loads((run / "report.json").read_text())
    assert set(report["models"]) == {"teacher", "zero_shot", "weak_base", "strong_base", "w2sg_qa", "w2sg_cot",
                                     "alice", "cascade"}
    for name, m in report["models"].items():
        assert m["questions"] == 8, name
        assert 0 <= m["strict"] <= 1 and m["counted"] <= 8
    assert set(report["steps"]) == {"alice", "cascade_mid", "cascade_strong"}
    # the keep rates agree with the step's own files: every clustered question kept or dropped, every
    # several-cluster question summarised, every statement counted by kind
    kept = {r["step"]: r for r in report["steps"]["alice"]["keep_rates"]}
    clusters = report["steps"]["alice"]["clusters"]
    assert kept["questions kept by clustering"]["outputs"] == clusters["questions"]
    assert kept["questions with several clusters (to the summariser)"]["kept"] == clusters["several_clusters"]
    assert kept["uncertainty statements that pass the checks"]["outputs"] == sum(report["steps"]["alice"]["statements"].values())
    samples = kept["teacher samples with a marker answer"]
    assert samples["kept"] + sum(samples["why"].values()) == samples["outputs"] > 0
    text = (run / "report.md").read_text()
    for label in ("Alice", "cascade Alice", "W2SG, qa teacher", "PGR", "dropped", "original", "revision"):
        assert label in text, label
    assert (run / "clusters.png").stat().st_size > 0


def test_a_second_run_skips_every_stage(killed_then_resumed, chat_tiny):
    run, _, _ = killed_then_resumed
    out = run_script(env_for(run, chat_tiny))
    for s in STAGES:
        assert f"{s:22s} done before (skipped)" in out, s
