"""PLAN=1: every recipe's stages printed with their resolved settings, nothing run or written; the
paper's main recipe (Gemma-2b weak model) trains with the BOS its inference adds, at the config's
effective batch on any number of GPUs."""
import os
import subprocess

import pytest

from tests.conftest import ROOT

MODELS = ROOT / ".cache/models"
RECIPES = sorted(p.stem for p in (ROOT / "scripts/recipes").glob("*.env"))


def script_of(recipe: str) -> str:
    for prefix, script in (("alice", "run_alice.sh"), ("guiding", "run_guiding.sh"), ("math", "run_math.sh"),
                           ("olympic", "run_olympic.sh")):
        if recipe.startswith(prefix):
            return script
    return "run_gsm8k.sh"


def plan(recipe: str, tmp_path, **env) -> str:
    run = tmp_path / "run"
    full = {**os.environ, "PLAN": "1", "RECIPE": recipe, "RUN": str(run), **env}
    proc = subprocess.run(["bash", script_of(recipe)], cwd=ROOT, env=full, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not run.exists(), "PLAN=1 wrote into the run folder"
    return proc.stdout


@pytest.mark.skipif(not (MODELS / "gemma3-270m/.w2s-ready").exists(), reason="small models not fetched (bash scripts/setup.sh models)")
@pytest.mark.parametrize("recipe", [r for r in RECIPES if r != "gsm8k_gemma-2b_llama2-70b"])  # that one: below
def test_every_recipe_plans_without_running(recipe, tmp_path):
    local = {"WEAK_BASE": str(MODELS / "gemma3-270m"), "WEAK_MODEL": str(MODELS / "smollm2-135m"),
             "STRONG_BASE": str(MODELS / "qwen2.5-coder-0.5b")}
    env = {} if "demo" in recipe or recipe.startswith("repro") else local
    if recipe.startswith("olympic"):
        env.pop("WEAK_BASE")
    if recipe == "guiding_demo":  # its teacher in process, planned for a GPU
        env.update(GPUS="0", GPU_MEMORY_UTILIZATION="0.5")
    out = plan(recipe, tmp_path, **env)
    assert "== " in out and "\n  $ " in out and "== report" in out, out[-2000:]
    assert "error" not in out.lower(), out[-2000:]
    if recipe == "guiding_demo":
        # every model call of the in-process teacher gets a tensor-parallel size and the memory share
        calls = [l for l in out.splitlines() if "--model_dir" in l and "src.guiding." in l]
        assert calls and all("--tensor_parallel_size 1 --gpu_memory_utilization 0.5" in c for c in calls), calls[:2]


@pytest.mark.skipif(not (MODELS / "gemma3-270m/.w2s-ready").exists(), reason="small models not fetched (bash scripts/setup.sh models)")
def test_the_gemma_recipe_trains_with_bos_at_the_configs_effective_batch(tmp_path):
    out = plan("gsm8k_gemma-2b_llama2-70b", tmp_path, WEAK_BASE=str(MODELS / "gemma3-270m"),
               STRONG_BASE=str(MODELS / "qwen2.5-coder-0.5b"), GPUS="0,1,2,3,4,5,6,7")
    weak = out.split("== weak_sft", 1)[1].split("== ", 1)[0]
    assert "template vanilla_bos (BOS first" in weak and "8 process(es) per node" in weak
    assert "effective batch 32 = 4 per device x 8 processes x 1 accumulation steps" in weak
    strong = out.split("== stage1_iter1", 1)[1].split("== ", 1)[0]
    assert "template vanilla (no BOS" in strong  # Qwen adds none
    assert "--tensor_parallel_size 2" in out.split("== strong_icl", 1)[1].split("== ", 1)[0]  # 14 heads, 2 KV heads
    dpo = out.split("== preference", 1)[1]
    assert "effective batch 16 = 2 per device x 8 processes x 1 accumulation steps" in dpo
    four = plan("gsm8k_gemma-2b_llama2-70b", tmp_path, WEAK_BASE=str(MODELS / "gemma3-270m"),
                STRONG_BASE=str(MODELS / "qwen2.5-coder-0.5b"), GPUS="0,1,2,3", STAGES="weak_sft")
    assert "effective batch 32 = 4 per device x 4 processes x 2 accumulation steps" in four


@pytest.mark.parametrize("env,offline", [({}, "1"), ({"DATA_SOURCE": "--hub"}, "0"),
                                          ({"WEAK_BASE": "google/gemma-2b"}, "0"),
                                          ({"WEAK_BASE": "google/gemma-2b", "HF_HUB_OFFLINE": "1"}, "1")])
def test_the_hub_is_offline_unless_an_input_is_on_it(tmp_path, env, offline):
    base = {"RECIPE": "gsm8k_gemma-2b_llama2-70b", "WEAK_BASE": str(MODELS / "gemma3-270m"),
            "STRONG_BASE": str(MODELS / "qwen2.5-coder-0.5b"), "STAGES": "data"}
    clean = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    run = tmp_path / "run"
    proc = subprocess.run(["bash", "run_gsm8k.sh"], cwd=ROOT, env={**clean, **base, **env, "PLAN": "1", "RUN": str(run)},
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[0].endswith(f"HF_HUB_OFFLINE={offline})")


def test_lora_stages_take_their_lora_settings_from_one_config(tmp_path):
    """alice_sft_lora and guiding_sft_lora: scripts/configs/lora.yaml merged over the stage's config;
    the full-parameter stages stay full; a missing extra config is an error naming it."""
    base = ROOT / ".cache/models/smollm2-135m"

    def plan(stage):
        proc = subprocess.run(["bash", "scripts/train.sh", stage, "d", str(base), str(tmp_path / stage)], cwd=ROOT,
                              env={**os.environ, "PLAN": "1"}, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    for stage in ("alice_sft_lora", "guiding_sft_lora"):
        out = plan(stage)
        assert "finetuning_type=lora" in out and "lora_rank=8" in out, stage
    assert "finetuning_type=full" in plan("alice_sft") and "lora_rank" not in plan("guiding_sft")
    proc = subprocess.run([str(ROOT / ".venv/bin/python"), "scripts/train.py", "--plan", "scripts/configs/alice_sft.yaml",
                           "scripts/configs/nope.yaml", "model_name_or_path=m"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0 and "nope.yaml: config file not found" in proc.stdout + proc.stderr


def test_serve_plans_a_local_server_per_stage_that_calls_the_teacher(tmp_path):
    """SERVE=1: each stage that calls the in-process teacher starts one local server (src/serve.py)
    and its steps call it as an endpoint; the plan writes nothing."""
    out = plan("guiding_demo", tmp_path, SERVE="1")
    pipeline = out.split("== pipeline")[1].split("\n== ")[0]
    assert pipeline.count("-m src.serve start --model_dir") == 1
    decompose = next(line for line in pipeline.splitlines() if "src.guiding.decompose" in line)
    assert "--base_url http://127.0.0.1:PORT/v1" in decompose and "--model_dir" not in decompose
