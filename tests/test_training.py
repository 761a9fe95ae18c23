"""Training with LLaMA-Factory (in .venv-train) on a tiny random model: SFT, DPO, ORPO, export."""
import json
import math
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from src import registry
from src.jsonio import write_json
from tests.conftest import ROOT

TRAIN_PY = Path(os.environ.get("W2S_TRAIN_VENV", ROOT / ".venv-train")) / "bin" / "python"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
FAST = ["per_device_train_batch_size=4", "gradient_accumulation_steps=1", "logging_steps=1", "num_train_epochs=1"]

pytestmark = pytest.mark.skipif(not TRAIN_PY.exists(), reason=f"no training environment at {TRAIN_PY} (bash scripts/setup.sh train)")


def train(*args, check=True):
    proc = subprocess.run(["bash", str(ROOT / "scripts/train.sh"), *map(str, args)], cwd=ROOT, env=ENV,
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"train.sh {args[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def in_train_env(code: str) -> str:
    proc = subprocess.run([str(TRAIN_PY), "-c", textwrap.dedent(code)], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A tiny random model and a registry with an SFT set and a preference set."""
    from src.models import make_tiny_model
    tmp = tmp_path_factory.mktemp("train")
    model = make_tiny_model(tmp / "tiny")
    lf = tmp / "lf"
    rows = [{"id": i, "content": f"Question: What is {i} plus 1?\nAnswer:", "output": f"{i} + 1 = {i + 1}\n#### {i + 1}"}
            for i in range(16)]
    write_json(lf / "sft.json", rows)
    registry.register(lf, "toy_sft", lf / "sft.json", "sft")
    write_json(lf / "pairs.json", [{"id": r["id"], "instruction": r["content"], "input": "", "chosen": r["output"],
                                    "rejected": f"{r['id']} + 1 = {r['id'] + 2}\n#### {r['id'] + 2}"} for r in rows])
    registry.register(lf, "toy_pairs", lf / "pairs.json", "pairs")
    ENV["DATASET_DIR"] = str(lf)
    sft = tmp / "sft"
    train("stage1_sft", "toy_sft", model, sft, *FAST)
    return {"tmp": tmp, "model": model, "lf": lf, "sft": sft}


def test_sft_writes_an_adapter(setup):
    cfg = json.loads((setup["sft"] / "adapter_config.json").read_text())
    assert cfg["r"] == 8 and cfg["lora_alpha"] == 16 and cfg["lora_dropout"] == 0.0
    assert set(cfg["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    assert (setup["sft"] / "adapter_model.safetensors").is_file()


def training_example(setup, model, template: str, index: int = 3, system: str | None = None) -> dict:
    """input_ids and labels of one toy SFT row as LLaMA-Factory builds them with ``template``
    (registered by scripts/train.py, as in training; ``system``: model_chat's chat_system)."""
    out = in_train_env(f"""
        import json, sys
        sys.path.insert(0, "scripts")
        from train import register_model_chat, register_vanilla
        register_vanilla()
        if "{template}" == "model_chat":
            register_model_chat("{model}", {system!r})
        from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
        from llamafactory.hparams import get_train_args
        from llamafactory.model import load_tokenizer
        args = dict(stage="sft", do_train=True, model_name_or_path="{model}", dataset="toy_sft",
                    dataset_dir="{setup['lf']}", template="{template}", output_dir="{setup['tmp']}/unused",
                    finetuning_type="lora", cutoff_len=512, overwrite_cache=True, report_to="none")
        model_args, data_args, training_args, finetuning_args, _ = get_train_args(args)
        tm = load_tokenizer(model_args)
        template = get_template_and_fix_tokenizer(tm["tokenizer"], data_args)
        ex = get_dataset(template, model_args, data_args, training_args, stage="sft", **tm)["train_dataset"][{index}]
        print(json.dumps(dict(ids=ex["input_ids"], labels=ex["labels"])))
    """)
    return json.loads(out)


@pytest.mark.parametrize("template", ["vanilla", "vanilla_bos"])
def test_vanilla_template_ids_and_labels(setup, template):
    """Prompt text, response text, EOS; no BOS from the template (vanilla_bos: the tokenizer's BOS
    first, as at inference); prompt tokens masked in the labels."""
    from transformers import AutoTokenizer
    model = setup["model"]
    if template == "vanilla_bos":  # needs a tokenizer that adds a BOS: Gemma's
        from src.models import model_path
        try:
            model = model_path("gemma3-270m")
        except FileNotFoundError as err:
            pytest.skip(str(err))
    got = training_example(setup, model, template)
    tok = AutoTokenizer.from_pretrained(model)
    row = json.loads((setup["lf"] / "sft.json").read_text())[3]
    p = tok.encode(row["content"], add_special_tokens=False)
    r = tok.encode(row["output"], add_special_tokens=False)
    b = [tok.bos_token_id] if template == "vanilla_bos" else []
    assert got["ids"] == b + p + r + [tok.eos_token_id]
    assert got["labels"] == [-100] * len(b + p) + r + [tok.eos_token_id]
    assert (tok("x").input_ids[0] == tok.bos_token_id) == (template == "vanilla_bos")   # as at inference


def test_training_template_follows_the_tokenizer(setup):
    """auto: vanilla_bos where the tokenizer puts BOS first at inference (Gemma), vanilla where it does
    not (the tiny model, Qwen); a template that contradicts the tokenizer stops training with the fix."""
    import importlib.util
    from src.jsonio import DataError
    from src.models import model_path
    spec = importlib.util.spec_from_file_location("w2s_train", ROOT / "scripts/train.py")
    train_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_py)
    try:
        gemma = model_path("gemma3-270m")
    except FileNotFoundError as err:
        pytest.skip(str(err))
    for model, right in ((gemma, "vanilla_bos"), (setup["model"], "vanilla")):
        config = {"model_name_or_path": str(model), "template": "auto"}
        assert "[train] template " + right in train_py.resolve_template(config) and config["template"] == right
        wrong = "vanilla" if right == "vanilla_bos" else "vanilla_bos"
        with pytest.raises(DataError, match=f"template={wrong} contradicts the tokenizer of .* use template={right}"):
            train_py.resolve_template({"model_name_or_path": str(model), "template": wrong})
    assert train_py.resolve_template({"model_name_or_path": str(gemma), "template": "model_chat"}) is None
    # the paper's main recipe (Gemma-2b weak model) therefore trains with BOS, as it infers
    proc = train("weak_sft", "toy_sft", gemma, setup["tmp"] / "gemma_wrong", *FAST, "template=vanilla", "max_steps=1", check=False)
    assert proc.returncode != 0 and "use template=vanilla_bos" in proc.stderr


def test_every_config_states_an_effective_batch_and_overrides_are_explicit():
    """The GSM8K/MATH/OlympicArena, Alice and Guiding configs give sequences per optimizer step, so
    more GPUs or nodes mean fewer accumulation steps, not a larger batch at the same learning rate;
    an explicit accumulation override replaces it; both at once is an error."""
    import importlib.util
    from src.jsonio import DataError
    spec = importlib.util.spec_from_file_location("w2s_train", ROOT / "scripts/train.py")
    train_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_py)
    for name in ("sft_lora", "sft_full", "stage2_dpo", "stage2_orpo", "alice_sft", "guiding_sft"):
        path = str(ROOT / f"scripts/configs/{name}.yaml")
        _, config = train_py.parse([path])
        assert "gradient_accumulation_steps" not in config and config["effective_batch_size"] > 0, name
        for world in (1, 2, 4, 8):
            micro = config["per_device_train_batch_size"]
            if config["effective_batch_size"] % (micro * world):
                continue
            c = dict(config)
            assert f"effective batch {config['effective_batch_size']} = {micro} per device x {world} processes" in \
                train_py.effective_batch(c, world)
            assert c["gradient_accumulation_steps"] * micro * world == config["effective_batch_size"]
    _, config = train_py.parse([str(ROOT / "scripts/configs/sft_lora.yaml"), "gradient_accumulation_steps=3"])
    assert config["gradient_accumulation_steps"] == 3 and "effective_batch_size" not in config
    with pytest.raises(DataError, match="not both"):
        train_py.parse([str(ROOT / "scripts/configs/sft_lora.yaml"), "gradient_accumulation_steps=3", "effective_batch_size=8"])
    with pytest.raises(DataError, match="not a multiple of per_device_train_batch_size=4 x 3 processes"):
        train_py.effective_batch({"effective_batch_size": 32, "per_device_train_batch_size": 4}, 3)


def test_dpo_starts_at_ln2_from_the_sft_adapter(setup):
    out = setup["tmp"] / "dpo"
    train("dpo", "toy_pairs", setup["model"], out, setup["sft"], *FAST)
    first = json.loads((out / "trainer_log.jsonl").read_text().splitlines()[0])
    assert first["loss"] == pytest.approx(math.log(2), abs=1e-4)


def test_orpo_runs(setup):
    out = setup["tmp"] / "orpo"
    train("orpo", "toy_pairs", setup["model"], out, setup["sft"], *FAST)
    losses = [json.loads(l)["loss"] for l in (out / "trainer_log.jsonl").read_text().splitlines() if '"loss"' in l]
    assert losses and all(math.isfinite(x) for x in losses) and (out / "adapter_model.safetensors").is_file()


def test_export_merges_adapters_in_order(setup):
    """Merged model logits == base + SFT adapter (merged) + DPO adapter applied with peft."""
    dpo = setup["tmp"] / "dpo_for_export"
    train("dpo", "toy_pairs", setup["model"], dpo, setup["sft"], *FAST, "learning_rate=0.05")
    merged = setup["tmp"] / "merged"
    train("export", "-", setup["model"], merged, f"{setup['sft']},{dpo}")
    out = in_train_env(f"""
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM
        ids = torch.tensor([[5, 17, 42, 99, 7, 3]])
        base = AutoModelForCausalLM.from_pretrained("{setup['model']}", torch_dtype=torch.float32)
        stacked = PeftModel.from_pretrained(base, "{setup['sft']}").merge_and_unload()
        stacked = PeftModel.from_pretrained(stacked, "{dpo}")
        plain = AutoModelForCausalLM.from_pretrained("{setup['model']}", torch_dtype=torch.float32)
        m = AutoModelForCausalLM.from_pretrained("{merged}", torch_dtype=torch.float32)
        with torch.no_grad():
            a, b, c = stacked(ids).logits, m(ids).logits, plain(ids).logits
        print((a - b).abs().max().item(), (a - c).abs().max().item())
    """)
    diff_merged, diff_base = map(float, out.split())
    assert diff_merged < 1e-4 < diff_base


def test_a_step_trained_before_is_skipped_and_a_changed_one_trained_again(setup, tmp_path):
    """Each step leaves a record (OUT/training.meta.json: what trained it, the code's version); the same
    step again is skipped, a changed one (settings, data, adapter of an export) loses its old output and
    runs again."""
    out, merged = tmp_path / "sft", tmp_path / "merged"
    train("stage1_sft", "toy_sft", setup["model"], out, *FAST)
    record = json.loads((out / "training.meta.json").read_text())
    made = record["made_by"]
    assert set(made) >= {"settings", "model", "data", "code", "libraries", "processes", "threads"}
    assert made["data"]["toy_sft"] and made["processes"] == 1 and made["threads"] == 1 and "output_dir" not in made["settings"]
    assert record["paths"]["model"] == str(setup["model"]) and "llamafactory" in made["libraries"]
    weights = (out / "adapter_model.safetensors").stat().st_mtime_ns
    again = train("stage1_sft", "toy_sft", setup["model"], out, *FAST)
    assert f"{out}: trained before on the same data, base model and settings (skipped)" in again.stdout
    assert (out / "adapter_model.safetensors").stat().st_mtime_ns == weights
    train("export", "-", setup["model"], merged, out)
    assert "(skipped)" in train("export", "-", setup["model"], merged, out).stdout  # the same adapter: merged once
    (out / "stale.txt").write_text("from the earlier step")
    changed = train("stage1_sft", "toy_sft", setup["model"], out, *FAST, "learning_rate=0.05")
    assert f"{out}: its settings changed since it was trained: training again" in changed.stdout
    assert not (out / "stale.txt").exists() and not (tmp_path / "sft.replaced").exists()  # set aside, then removed
    assert json.loads((out / "training.meta.json").read_text())["made_by"]["settings"]["learning_rate"] == 0.05
    merged_again = train("export", "-", setup["model"], merged, out)
    assert f"{merged}: its adapters changed since it was trained: training again" in merged_again.stdout


@pytest.mark.parametrize("case", ["unknown_dataset", "missing_file", "v05_pairs", "bad_adapter"])
def test_bad_inputs_are_one_line_errors(setup, case):
    lf, tmp = setup["lf"], setup["tmp"]
    if case == "unknown_dataset":
        args, expect = ("stage1_sft", "nope", setup["model"], tmp / "x"), "no dataset named 'nope'"
    elif case == "missing_file":
        registry.register(lf, "gone", lf / "gone.json", "sft")
        args, expect = ("stage1_sft", "gone", setup["model"], tmp / "x"), "gone.json, which does not exist"
    elif case == "v05_pairs":
        write_json(lf / "old.json", [{"id": 0, "instruction": "q", "input": "", "output": ["a", "b"]}])
        registry.register(lf, "old_pairs", lf / "old.json", "pairs")
        args, expect = ("dpo", "old_pairs", setup["model"], tmp / "x", setup["sft"]), "convert-pairs --input"
    else:
        (tmp / "empty_adapter").mkdir(exist_ok=True)
        args, expect = ("dpo", "toy_pairs", setup["model"], tmp / "x", tmp / "empty_adapter"), "not a LoRA adapter folder"
    proc = train(*args, check=False)
    assert proc.returncode == 1
    err = proc.stderr.strip()
    assert err.startswith("error: ") and "\n" not in err and expect in err


def test_stage2_from_the_merged_mplus(setup):
    """The pipeline's stage II: M_plus (base + stage I adapter) merged once, a fresh LoRA trained on it
    with no adapter handling (so ZeRO-3 cannot change what is trained): DPO starts at ln 2 (the
    reference is M_plus), and the combined adapter on the base equals merged M_plus + the new adapter."""
    tmp = setup["tmp"]
    merged = tmp / "mplus_merged"
    train("export", "-", setup["model"], merged, setup["sft"])
    dpo = tmp / "dpo_on_merged"
    train("dpo", "toy_pairs", merged, dpo, *FAST, "learning_rate=0.05")
    first = json.loads((dpo / "trainer_log.jsonl").read_text().splitlines()[0])
    assert first["loss"] == pytest.approx(math.log(2), abs=1e-4)
    combined = tmp / "combined"
    subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "src.combine_adapters", str(setup["sft"]), str(dpo), str(combined)],
                   cwd=ROOT, check=True, capture_output=True)
    out = in_train_env(f"""
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM
        ids = torch.tensor([[5, 17, 42, 99, 7, 3]])
        load = lambda p: AutoModelForCausalLM.from_pretrained(p, torch_dtype=torch.float32)
        a = PeftModel.from_pretrained(load("{merged}"), "{dpo}")
        b = PeftModel.from_pretrained(load("{setup['model']}"), "{combined}")
        with torch.no_grad():
            la, lb, lm = a(ids).logits, b(ids).logits, load("{merged}")(ids).logits
        print((la - lb).abs().max().item(), (la - lm).abs().max().item())
    """)
    diff_combined, diff_trained = map(float, out.split())
    assert diff_combined < 1e-4 < diff_trained


def test_two_cpu_processes_train_one_adapter(setup):
    """The distributed path without CUDA: torchrun with 2 processes (gloo) for LoRA SFT and DPO; one
    adapter is saved and it loads."""
    tmp = setup["tmp"]
    for stage, data, base, out, extra in (("stage1_sft", "toy_sft", setup["model"], tmp / "sft_2proc", ()),
                                          ("dpo", "toy_pairs", setup["model"], tmp / "dpo_2proc", (setup["sft"],))):
        proc = subprocess.run(["bash", str(ROOT / "scripts/train.sh"), stage, data, str(base), str(out),
                               *map(str, extra), *FAST], cwd=ROOT, env={**ENV, "NPROC": "2"}, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-3000:]
        log = proc.stdout + proc.stderr
        assert "world size: 2" in log and "distributed training: True" in log, log[-2000:]
        assert sorted(p.name for p in out.glob("adapter_model*")) == ["adapter_model.safetensors"]
        loaded = in_train_env(f"""
            from peft import PeftModel
            from transformers import AutoModelForCausalLM
            m = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained("{setup['model']}"), "{out}")
            print(sum(p.numel() for n, p in m.named_parameters() if "lora_" in n))
        """)
        assert int(loaded) > 0


def test_node_0_starts_the_other_nodes_of_a_step(setup, tmp_path):
    """NNODES=2 with HOSTS: node 0 starts the same step on the host of HOSTS through REMOTE_SHELL (here
    a stand-in for ssh that runs the command on this machine) and its own part; the two "nodes" (one
    gloo process each) meet at MASTER_ADDR:MASTER_PORT and train one adapter."""
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    shell = tmp_path / "fake_ssh"
    shell.write_text('#!/usr/bin/env bash\n# HOST COMMAND: what ssh does, on this machine\necho "host $1" >&2\nexec bash -c "$2"\n')
    shell.chmod(0o755)
    hosts = tmp_path / "hosts"
    hosts.write_text("# node 1\nlocalhost\n")
    out = tmp_path / "sft_2nodes"
    env = {**ENV, "NNODES": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "HOSTS": str(hosts),
           "REMOTE_SHELL": str(shell), "DATASET_DIR": str(setup["tmp"] / "lf")}
    proc = subprocess.run(["bash", str(ROOT / "scripts/train.sh"), "stage1_sft", "toy_sft", str(setup["model"]), str(out),
                           *FAST], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    node1 = (tmp_path / "sft_2nodes.node1.log").read_text()
    assert "host localhost" in node1 and "NODE_RANK=1" in proc.stderr
    log = proc.stdout + proc.stderr + node1
    assert "world size: 2" in log and "distributed training: True" in log, log[-2000:]
    assert (out / "adapter_model.safetensors").is_file()
    # a hostfile that lists too few hosts stops the step before anything starts
    hosts.write_text("\n")
    proc = subprocess.run(["bash", str(ROOT / "scripts/train.sh"), "stage1_sft", "toy_sft", str(setup["model"]),
                           str(tmp_path / "x"), *FAST], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 2 and "HOSTS lists 0 host(s); NNODES=2 needs 1" in proc.stderr


def test_zero3_refuses_a_new_adapter_on_an_adapter(setup):
    """LLaMA-Factory ignores create_new_adapter under ZeRO-3 (model/adapter.py): refused before any load."""
    ds = ROOT / "scripts/configs/ds_z3_config.json"
    proc = train("dpo", "toy_pairs", setup["model"], setup["tmp"] / "x", setup["sft"], f"deepspeed={ds}", check=False)
    assert proc.returncode == 1 and "not honoured under DeepSpeed ZeRO-3" in proc.stderr


def test_stage2_continue_keeps_training_the_stage1_adapter(setup):
    """STAGE2_START=continue (the original's LLaMA-Factory 0.5): the stage I adapter itself trains on
    (its weights are the starting point), instead of a new adapter that starts at zero."""
    from safetensors.torch import load_file
    out = setup["tmp"] / "dpo_continue"
    train("dpo", "toy_pairs", setup["model"], out, setup["sft"], "create_new_adapter=false", *FAST)
    cfg = json.loads((out / "adapter_config.json").read_text())
    assert cfg["r"] == 8  # one adapter of the base model, the stage I adapter's size
    sft, cont = load_file(setup["sft"] / "adapter_model.safetensors"), load_file(out / "adapter_model.safetensors")
    b = [k for k in sft if "lora_B" in k]
    assert b and set(b) <= set(cont)
    scale = max(sft[k].abs().max().item() for k in b)
    moved = max((cont[k] - sft[k]).abs().max().item() for k in b)
    assert scale > 0 and moved < 0.5 * scale  # near the stage I weights, not a fresh (zero) lora_B


@pytest.mark.parametrize("system", [None, ""])
def test_model_chat_template_formats_as_chat_inference(setup, system):
    """template=model_chat (the model's own chat template) gives the same prompt tokens as
    src.inference --prompt_style chat, then the answer and the turn's end; only those are labelled.
    With chat_system "" (the Guiding recipe) the prompt is the guiding_* benchmarks' (an empty
    system turn), not the template's default system text."""
    from transformers import AutoTokenizer
    from src.models import model_path
    from src.prompts import chat_prompts
    try:
        qwen = model_path("qwen2.5-coder-0.5b")
    except FileNotFoundError as err:
        pytest.skip(str(err))
    row = json.loads((setup["lf"] / "sft.json").read_text())[3]
    tok = AutoTokenizer.from_pretrained(qwen)
    want_prompt = tok(chat_prompts(tok, [row["content"]], system=system)[0])["input_ids"]
    want_answer = tok(row["output"] + "<|im_end|>\n", add_special_tokens=False)["input_ids"]
    got = training_example(setup, qwen, "model_chat", system=system)
    assert got["ids"] == want_prompt + want_answer
    assert got["labels"] == [-100] * len(want_prompt) + want_answer
    if system == "":  # the benchmark's prompt, which the guiding recipe trains on
        from src.benchmarks import get
        assert get("guiding_math500").system == "" and "You are Qwen" not in tok.decode(got["ids"])
        assert yaml.safe_load((ROOT / "scripts/configs/guiding_sft.yaml").read_text())["chat_system"] == ""


def test_alice_full_sft_on_two_cpu_processes_with_a_fixed_effective_batch(setup):
    """Alice's recipe (full-parameter SFT, scripts/configs/alice_sft.yaml) on torchrun with 2 gloo
    processes: the accumulation steps make the fixed effective batch and are logged; one full model is
    saved. A batch that the processes cannot make is refused before any load."""
    out = setup["tmp"] / "alice_full"
    proc = subprocess.run(["bash", str(ROOT / "scripts/train.sh"), "alice_sft", "toy_sft", str(setup["model"]), str(out),
                           "template=vanilla", "effective_batch_size=4", "num_train_epochs=1", "warmup_steps=0",
                           "logging_steps=1", "learning_rate=1e-5"],
                          cwd=ROOT, env={**ENV, "NPROC": "2"}, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert "effective batch 4 = 1 per device x 2 processes x 2 accumulation steps" in log
    assert log.count("[train] effective batch") == 1  # logged by rank 0 only
    assert (out / "model.safetensors").is_file() and not list(out.glob("adapter_*"))
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["max_steps"] == 4  # 16 rows / 4 per optimizer step: the scheduler counts optimizer steps
    bad = train("alice_sft", "toy_sft", setup["model"], setup["tmp"] / "bad", "template=vanilla",
                "effective_batch_size=6", "per_device_train_batch_size=4", check=False)
    assert bad.returncode == 1 and "effective_batch_size=6 is not a multiple" in bad.stderr
