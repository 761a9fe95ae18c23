"""run_guiding.sh end to end on a tiny chat model: the pipeline steps in process (vLLM), the error-rate
sets, stage 1, an ER grid with a combination and the 4-Epochs baseline (transformers backend for
evaluation, seconds per step), a run killed during the grid that resumes without retraining what
finished, and a rerun that skips everything."""
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from src.jsonio import read_jsonl
from tests.conftest import ROOT

TRAIN_PY = Path(os.environ.get("W2S_TRAIN_VENV", ROOT / ".venv-train")) / "bin" / "python"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not TRAIN_PY.exists(), reason=f"no training environment at {TRAIN_PY}")]
ARGS = "num_train_epochs=1 per_device_train_batch_size=4 gradient_accumulation_steps=1 learning_rate=1.0e-5 warmup_ratio=0 logging_steps=1 cutoff_len=256"
STAGES = ["data", "pipeline", "sets", "eval_data", "stage1", "train", "evaluate", "llm_judge", "report"]
RUNS = ["hard_er0", "hard_er100", "sub_er0", "sub_er100", "combo_100_0", "hard_er50_4epochs"]


@pytest.fixture(scope="module")
def chat_tiny(tmp_path_factory):
    from src.models import make_tiny_model
    from tests.tiny_teacher import teach_chat
    model = make_tiny_model(tmp_path_factory.mktemp("guiding_tiny") / "model")
    teach_chat(model, steps=60)
    return model


def env_for(run, model):
    return {**os.environ, "DEMO": "1", "TEACHER_DIR": str(model), "STUDENT_BASE": str(model), "RUN": str(run),
            "DEMO_SIZES": "6 8 6", "K": "2", "LLM_MAX_TOKENS": "12", "LLM_MAX_MODEL_LEN": "2048", "MAX_TOKENS": "12", "COUNTER": str(model),
            "HINT_COUNTER": str(model), "ERS": "0 100", "COMBOS": "100,0", "BASELINES": "epochs4", "FINETUNE": "full",
            "TRAIN_ARGS": ARGS, "STAGE1_ARGS": ARGS, "INFER_ARGS": "--backend hf --dtype float32", "OMP_NUM_THREADS": "1"}


def run_script(env):
    proc = subprocess.run(["bash", "run_guiding.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"run_guiding.sh failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def killed_then_resumed(tmp_path_factory, chat_tiny):
    """Killed once the grid's second training starts, then run again to the end."""
    run = tmp_path_factory.mktemp("guiding_runs") / "demo"
    env = env_for(run, chat_tiny)
    proc = subprocess.Popen(["bash", "run_guiding.sh"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    log = run / "logs/train.log"
    deadline = time.time() + 900
    while time.time() < deadline and not (log.is_file() and "training 2/" in log.read_text()):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(p.name for p in (run / ".done").iterdir())
    return run, done, run_script(env)


def test_every_stage_runs_after_a_kill(killed_then_resumed):
    run, done_before, out = killed_then_resumed
    assert done_before == sorted(STAGES[:5]), done_before  # killed inside train
    assert sorted(p.name for p in (run / ".done").iterdir()) == sorted(STAGES)
    log = (run / "logs/train.log").read_text()
    assert "hard_er0: trained before on the same data, base model and settings (skipped)" in log  # not trained twice
    for r in RUNS:  # every model carries the record of what trained it
        record = json.loads((run / "models" / r / "training.meta.json").read_text())
        assert record["made_by"]["model"] and record["made_by"]["data"], r
    record = json.loads((run / "models/hard_er50_4epochs/training.meta.json").read_text())
    assert record["made_by"]["settings"]["num_train_epochs"] == 2  # twice TRAIN_ARGS' 1
    assert json.loads((run / "config.json").read_text())["runs"] == RUNS  # the run's plan, as the report read it


def test_pipeline_steps_counted_and_sets_exact(killed_then_resumed):
    run, _, _ = killed_then_resumed
    p = run / "steps/pipeline"
    pool = json.loads((p / "pool/pool.stats.json").read_text())
    assert pool["read"] == 6 and pool["kept"] + sum(pool["rejected"].values()) == 6
    dec = json.loads((p / "decompose/decompose.stats.json").read_text())
    assert sum(dec["decomposition"].values()) == pool["kept"]
    samples = read_jsonl(p / "teacher/samples.jsonl")
    assert len(samples) == pool["kept"] and all(len(r["samples"]) == 2 for r in samples)  # SAMPLE_ALL: every task
    assert all(len(r["judgements"]) == 2 for r in read_jsonl(p / "judge/judged.jsonl"))
    # the generated pairs (6 tasks, 2 sub-tasks each) make the sets: exact sizes and error counts
    hard100 = read_jsonl(run / "steps/sets/hard_er100.jsonl")
    assert len(hard100) == 6 and all(r["wrong"] for r in hard100)
    combo = read_jsonl(run / "steps/sets/combo_100_0.jsonl")
    assert len(combo) == 18 and sum(r["wrong"] for r in combo) == 6
    info = json.loads((run / "data/llama_factory/dataset_info.json").read_text())
    assert {"guiding_base_set", "guiding_hard_er0", "guiding_sub_er100", "guiding_combo_100_0"} <= set(info)


def test_report_has_every_model_and_the_plot(killed_then_resumed):
    run, _, _ = killed_then_resumed
    report = json.loads((run / "report.json").read_text())
    assert set(report["scores"]) == {"start", *RUNS}
    for name, by_bench in report["scores"].items():
        assert by_bench["math500"]["graded"] == 6, name
    # the pipeline's keep rates agree with its steps' files, every rejection counted by its reason
    kept = {r["step"]: r for r in report["keep_rates"]}
    assert kept["pool filter (tasks)"]["outputs"] == 6
    dec = report["steps"]["decompose"]
    assert kept["decomposition (tasks)"]["kept"] == dec["decomposition"].get("ok", 0)
    assert all(r["kept"] + sum(r["why"].values()) == r["outputs"] for s, r in kept.items() if not s.startswith("units with")), kept
    text = (run / "report.md").read_text()
    for label in ("hard 0", "sub 100", "(100,0)", "hard 50, 4 epochs", "Table 2", "| decomposition (tasks) |", "Training sets"):
        assert label in text, label
    assert (run / "er_accuracy.png").stat().st_size > 0


def test_a_second_run_skips_every_stage(killed_then_resumed, chat_tiny):
    run, _, _ = killed_then_resumed
    out = run_script(env_for(run, chat_tiny))
    assert out.count("done before (skipped)") == len(STAGES)


def test_a_plan_over_a_finished_run_changes_nothing(killed_then_resumed, chat_tiny):
    """PLAN=1 prints every stage of a finished run (the training steps with their resolved configs)
    and leaves every file as it was: a changed training record would retrain the grid."""
    import hashlib
    run, _, _ = killed_then_resumed

    def state():
        return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(run.rglob("*")) if f.is_file()}
    before = state()
    out = run_script({**env_for(run, chat_tiny), "PLAN": "1", "FORCE": "1"})
    assert "== train" in out and "gradient_accumulation_steps=1, learning_rate=1e-05" in out
    assert state() == before


def test_a_run_whose_data_changed_is_trained_again(killed_then_resumed, chat_tiny):
    """An unfinished train stage resumed after one set's file changed: that run is trained again, the others (same data, base and settings) are not; its record holds the new data hash."""
    run, _, _ = killed_then_resumed
    data = run / "data/llama_factory/guiding_hard_er100.json"
    rows = json.loads(data.read_text())
    data.write_text(json.dumps(rows[:-1]))
    record = lambda: json.loads((run / "models/hard_er100/training.meta.json").read_text())["made_by"]  # noqa: E731
    before = record()
    (run / ".done/train").unlink()
    run_script(env_for(run, chat_tiny))
    log = (run / "logs/train.log").read_text().split("training 1/")[-1]
    assert "hard_er100: its data changed since it was trained: training again" in log
    for r in RUNS:
        if r != "hard_er100":
            assert f"{r}: trained before on the same data" in log, r
    after = record()
    assert after["data"] != before["data"] and {k: v for k, v in after.items() if k != "data"} == \
        {k: v for k, v in before.items() if k != "data"}


def test_changed_settings_stop_a_finished_run(killed_then_resumed, chat_tiny):
    """A rerun with another setting would reuse the finished stages: it stops and names the setting
    (a setting that changes no output, such as API_RPM, may change)."""
    run, _, _ = killed_then_resumed
    proc = subprocess.run(["bash", "run_guiding.sh"], cwd=ROOT, env={**env_for(run, chat_tiny), "SEED": "7", "API_RPM": "5"},
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "settings changed since the last run" in proc.stderr and "SEED" in proc.stderr
    assert "API_RPM" not in proc.stderr.split("settings changed")[1].split("(earlier")[0]
    assert "SEED=42" in (run / "config.env").read_text()  # the record of the finished run is kept
    out = run_script({**env_for(run, chat_tiny), "API_RPM": "5"})
    assert out.count("done before (skipped)") == len(STAGES)
    # a record from an older version, without a setting this one knows, is not a change either
    config = run / "config.env"
    config.write_text("".join(line for line in config.read_text().splitlines(keepends=True) if not line.startswith("SAMPLE_ALL=")))
    assert run_script(env_for(run, chat_tiny)).count("done before (skipped)") == len(STAGES)


def test_force_redoes_the_pipeline_from_its_cached_calls(killed_then_resumed, chat_tiny, tmp_path):
    """FORCE=1 redoes the pipeline steps and keeps their caches (no call sent again); with PAIRS only
    (no pipeline folder), redoing the stage is a no-op, not a silent stop."""
    run, _, _ = killed_then_resumed
    run_script({**env_for(run, chat_tiny), "FORCE": "1", "STAGES": "data pipeline"})
    log = (run / "logs/pipeline.log").read_text().split("[pool]")[-1]  # this run's part
    sent = [int(n) for n in re.findall(r"(\d+) to send", log)]
    assert sent and not any(sent), sent  # every call of every step from the cache
    pairs_only = {**env_for(tmp_path / "pairs_only", chat_tiny), "POOL": "", "FORCE": "1", "STAGES": "data pipeline"}
    assert "no POOL: the pairs come from" in run_script(pairs_only) + (tmp_path / "pairs_only/logs/pipeline.log").read_text()


def test_bad_settings_stop_before_any_stage(tmp_path, chat_tiny):
    for extra, message in ((("ERS", "5"), "ERS holds"), (("COMBOS", "50"), "COMBOS holds"), (("COMBOS", "50,120"), "COMBOS holds"),
                           (("JUDGE_URL", "http://127.0.0.1:9/v1"), "JUDGE_URL needs JUDGE_MODEL"),
                           (("JUDGE_MODEL", "gpt-4o"), "JUDGE_MODEL names a model of JUDGE_URL"),
                           (("TEACHER_TT", "1"), "unknown setting TEACHER_TT"), (("BENCHES", "mmlu=x"), "BENCHES holds"),
                           (("EVAL_JUDGE", "yes"), "EVAL_JUDGE is 0 or 1")):
        env = {**env_for(tmp_path / "bad", chat_tiny), extra[0]: extra[1]}
        proc = subprocess.run(["bash", "run_guiding.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
        assert proc.returncode != 0 and message in proc.stderr, (extra, proc.stderr[-500:])
        assert not (tmp_path / "bad" / ".done").exists()


def test_llm_judge_added_to_a_finished_run(killed_then_resumed, chat_tiny):
    """EVAL_JUDGE=1 on a finished run stops until told to redo the llm_judge stage; then the judge (in
    process, on vLLM) grades every response of every model once, the report shows it, and a redo sends
    no call again. (Last in this file: it leaves the run's record with EVAL_JUDGE=1.)"""
    run, _, _ = killed_then_resumed
    env = {**env_for(run, chat_tiny), "EVAL_JUDGE": "1"}
    proc = subprocess.run(["bash", "run_guiding.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 2 and "settings changed since the last run" in proc.stderr and "EVAL_JUDGE" in proc.stderr
    out = run_script({**env, "REDO": "llm_judge"})
    assert out.count("done before (skipped)") == STAGES.index("llm_judge")  # the stages before it
    for name in ("start", *RUNS):
        rows = read_jsonl(run / "outputs" / name / "math500/llm_results.jsonl")
        assert len(rows) == 6 and all(r["llm_result"] is not None or r["llm_error"] for r in rows), name
        stats = json.loads((run / "outputs" / name / "math500/llm_results.stats.json").read_text())
        assert stats["questions"] == 6 and stats["judged"] + stats["unjudged"] == 6 and stats["model"].startswith(str(chat_tiny))
    assert "## LLM judge (" in (run / "report.md").read_text()
    log = (run / "logs/llm_judge.log").read_text()
    assert f"{6 * (1 + len(RUNS))} requests: 0 from the cache" in log
    assert "[eval_judge] calls sent 0," in run_script({**env, "REDO": "llm_judge"})  # the redo: all from the cache


def test_serve_runs_the_pipeline_through_a_local_server_and_stops_it(tmp_path, chat_tiny):
    """SERVE=1: the in-process teacher is served by a local `vllm serve` (src/serve.py) for the stage
    that calls it; every step's calls go through it under the folder's name and fingerprint, and the
    server is gone when the stage ends."""
    from src.provenance import fingerprint
    run = tmp_path / "served"
    env = {**env_for(run, chat_tiny), "SERVE": "1", "STAGES": "data pipeline", "INFER_ARGS": ""}
    out = run_script(env)
    log = (run / "logs/pipeline.log").read_text()
    assert "[guiding] serving model at http://127.0.0.1:" in log, log[-2000:]
    stats = json.loads((run / "steps/pipeline/decompose/decompose.stats.json").read_text())
    assert stats["model"] == f"model@{fingerprint(chat_tiny)}" and stats["calls"]["sent"] > 0
    assert not list(run.glob(".serve_*.pid")), "the server's pid file outlived the stage"
    pid = int(re.search(r"serving model at \S+ \(pid (\d+)", log).group(1))
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the server's process group is gone
    assert "pipeline" in out
