"""The real-GSM8K reproduction (`make repro-gsm8k`, scripts/recipes/repro_gsm8k.env): its settings,
its seeded subsets of the release, and its data stage through the real run script. No test fetches
the 1.5B model: the run here points both models at the tiny test model and stops after the data."""
import subprocess

import pytest

from src.jsonio import read_json_list, read_jsonl
from src.prepare_data import main as prepare_main
from tests.conftest import ROOT, UPSTREAM

RECIPE = ROOT / "scripts/recipes/repro_gsm8k.env"


def recipe_settings(gpu: bool, **env) -> dict:
    """The recipe's settings as run_gsm8k.sh sees them after sourcing it (no model fetched: the
    models are given)."""
    names = ("WEAK_BASE STRONG_BASE DATA_SOURCE DATA_SUBSET DATA_SEED MAX_TOKENS N_SAMPLES ITER2 PREF "
             "MERGE_ADAPTERS TRAIN_ARGS STRONG_TRAIN_ARGS PREF_ARGS INFER_ARGS RUN").split()
    script = (f"ROOT={ROOT}; PY=false; has_gpu() {{ return {0 if gpu else 1}; }}; source {RECIPE}; "
              + "; ".join(f'echo "{n}=${{{n}}}"' for n in names))
    out = subprocess.run(["bash", "-c", script], env={"PATH": "/usr/bin:/bin", "WEAK_BASE": "/m/weak",
                                                      "STRONG_BASE": "/m/strong", **env},
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def test_recipe_settings_are_the_documented_ones():
    s = recipe_settings(gpu=False, W2S_UPSTREAM=str(UPSTREAM))
    train_1, train_2, test = map(int, s["DATA_SUBSET"].split())
    assert test >= 200, "the intervals need at least 200 test questions"
    assert (train_1, train_2) == (256, 96) and s["DATA_SEED"] == "0"
    assert s["N_SAMPLES"] == "10" and s["ITER2"] == "1" and s["PREF"] == "dpo orpo"  # the paper's stages
    assert s["MERGE_ADAPTERS"] == "1" and s["MAX_TOKENS"] == "320"
    for key in ("TRAIN_ARGS", "STRONG_TRAIN_ARGS", "PREF_ARGS"):
        assert "per_device_train_batch_size=1 effective_batch_size=8" in s[key], key
        assert "bf16=true use_cpu=true" in s[key], key  # bf16 on the CPU
    assert "num_train_epochs=2" in s["TRAIN_ARGS"] and "num_train_epochs=1" in s["STRONG_TRAIN_ARGS"]
    # given models are used as they are; the run has its own folder
    assert (s["WEAK_BASE"], s["STRONG_BASE"]) == ("/m/weak", "/m/strong")
    assert s["RUN"] == f"{ROOT}/runs/repro_gsm8k"
    # on GPUs the trainer's own precision handling (train.sh adds bf16 there), not the CPU flag
    assert "use_cpu" not in recipe_settings(gpu=True)["TRAIN_ARGS"]


def test_recipe_data_source_follows_the_local_copy(tmp_path):
    assert recipe_settings(gpu=False, W2S_UPSTREAM=str(tmp_path / "none"))["DATA_SOURCE"] == "--hub"
    (tmp_path / "copy/data/raw/gsm8k").mkdir(parents=True)
    assert recipe_settings(gpu=False, W2S_UPSTREAM=str(tmp_path / "copy"))["DATA_SOURCE"] == f"--from {tmp_path}/copy"


def test_subsets_are_seeded_samples_in_source_order(tmp_path):
    if not (UPSTREAM / "data/raw/gsm8k/test.jsonl").is_file():
        pytest.skip(f"released upstream files not found at {UPSTREAM} (set W2S_UPSTREAM)")
    args = ["--from", str(UPSTREAM), "--datasets", "gsm8k", "--subset", "20", "10", "30"]
    assert prepare_main(args + ["--out", str(tmp_path / "a")]) == 0
    assert prepare_main(args + ["--out", str(tmp_path / "b")]) == 0
    assert prepare_main(args + ["--subset_seed", "1", "--out", str(tmp_path / "c")]) == 0
    full = read_jsonl(UPSTREAM / "data/raw/gsm8k/test.jsonl")
    a = read_jsonl(tmp_path / "a/raw/gsm8k/test.jsonl")
    assert len(a) == 30 and a == read_jsonl(tmp_path / "b/raw/gsm8k/test.jsonl")
    assert a != read_jsonl(tmp_path / "c/raw/gsm8k/test.jsonl")
    ids = [r["id"] for r in a]
    assert ids == sorted(ids) and all(full[i]["question"] == r["question"] for i, r in zip(ids, a))
    assert len(read_json_list(tmp_path / "a/llama_factory/gsm8k/gsm8k_train_1.json")) == 20
    assert len(read_jsonl(tmp_path / "a/test/gsm8k_train_2.jsonl")) == 10
    assert prepare_main(["--from", str(UPSTREAM), "--datasets", "gsm8k", "--subset", "20", "10", "5000",
                         "--out", str(tmp_path / "d")]) != 0  # more than the split has: an error


def test_the_run_script_builds_the_recipes_data(tmp_path, tiny_model):
    if not (UPSTREAM / "data/raw/gsm8k/test.jsonl").is_file():
        pytest.skip(f"released upstream files not found at {UPSTREAM} (set W2S_UPSTREAM)")
    import os
    run = tmp_path / "run"
    env = {**os.environ, "RECIPE": "repro_gsm8k", "RUN": str(run), "STAGES": "data", "W2S_UPSTREAM": str(UPSTREAM),
           "WEAK_BASE": str(tiny_model), "STRONG_BASE": str(tiny_model)}
    proc = subprocess.run(["bash", "run_gsm8k.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert len(read_jsonl(run / "data/test/gsm8k.jsonl")) == 200
    assert len(read_jsonl(run / "data/test/gsm8k_train_2.jsonl")) == 96
    assert len(read_json_list(run / "data/llama_factory/gsm8k/gsm8k_train_1.json")) == 256
    config = (run / "config.env").read_text()
    assert "DATA_SUBSET=256\\ 96\\ 200\n" in config and "MERGE_ADAPTERS=1\n" in config  # shell-quoted
