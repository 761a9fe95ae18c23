"""Inference: prompts, input checks, resume, seeded sampling; real engines on the small models (slow)."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from src.inference import main
from src.jsonio import read_jsonl, write_jsonl
from src.prompts import build_demonstrations
from tests.conftest import ROOT, WEAK_RESULTS

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PY = sys.executable


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "questions.jsonl"
    write_jsonl(path, [{"question": f"What is {i} plus {i + 1}?", "answer": str(2 * i + 1)} for i in range(12)])
    return path


def run_cli(*args):
    return main([str(a) for a in args])


def test_original_llama2_demonstrations(upstream):
    """The original Llama2-7b GSM8K demonstrations are the weak answers to train_2 questions 2619, 456, 102, 3037."""
    block = build_demonstrations(WEAK_RESULTS, [2619, 456, 102, 3037])
    demos = block.split("\n\n")[:-1]
    assert len(demos) == 4 and block.endswith("#### 44\n\n")
    assert demos[0].startswith("Question: Greg has his own dog walking business. He charges $20 per dog")
    assert "\nAnswer: Greg earns $20 + $1 x 10 minutes = $21 for walking the first dog." in demos[0]
    assert demos[0].endswith("#### 77") and demos[1].endswith("#### 122") and demos[2].endswith("#### 2")
    assert "The average weight of the men is 190/8 = 24 pounds." in demos[3]


def test_bad_inputs_fail_before_the_model_loads(tmp_path, questions, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok"}\n{"answer": "1"}\n')
    out = tmp_path / "o/output.jsonl"
    assert run_cli("--model_dir", tmp_path / "no-such-model", "--data_file", bad, "--output_file_name", out) == 1
    assert f"{bad}:2: field 'question' is missing or empty" in capsys.readouterr().err
    assert run_cli("--model_dir", tmp_path, "--data_file", questions, "--output_file_name", out) == 1
    assert "not a model folder (no config.json)" in capsys.readouterr().err
    assert run_cli("--model_dir", ROOT, "--data_file", questions, "--template", "nope", "--output_file_name", out) == 1


def test_few_shot_errors(tmp_path, questions, tiny_model, capsys):
    out = tmp_path / "o/output.jsonl"
    weak = tmp_path / "weak.jsonl"
    write_jsonl(weak, [{"id": i, "prompt": f"Question: q{i}\nAnswer:", "response": f"a{i}"} for i in range(3)])
    assert run_cli("--model_dir", tiny_model, "--data_file", questions, "--prompt_type", "few-shot",
                   "--template", "nope", "--demos_from", weak, "--output_file_name", out) == 1
    assert "unknown template 'nope'" in capsys.readouterr().err
    assert run_cli("--model_dir", tiny_model, "--data_file", questions, "--prompt_type", "few-shot",
                   "--template", "icl", "--demos_from", weak, "--demo_ids", "0", "7", "--output_file_name", out) == 1
    assert "no row with id 7" in capsys.readouterr().err
    assert run_cli("--model_dir", tiny_model, "--data_file", questions, "--prompt_type", "few-shot",
                   "--template", "icl", "--output_file_name", out) == 1
    assert "needs --demos_from" in capsys.readouterr().err
    assert not out.exists()


def test_few_shot_prompt_and_grading(tmp_path, questions, tiny_model):
    weak = tmp_path / "weak.jsonl"
    write_jsonl(weak, [{"id": i, "prompt": f"Question: q{i}\nAnswer:", "response": f"a{i}\n#### {i}"} for i in range(3)])
    out = tmp_path / "icl/output.jsonl"
    assert run_cli("--backend", "hf", "--model_dir", tiny_model, "--data_file", questions, "--prompt_type", "few-shot",
                   "--template", "icl", "--demos_from", weak, "--demo_ids", "2", "0", "--max_tokens", "8",
                   "--limit", "3", "--output_file_name", out, "--quiet") == 0
    rows = read_jsonl(tmp_path / "icl/results.jsonl")
    assert [r["id"] for r in rows] == [0, 1, 2] and {"pred", "gold", "result"} <= set(rows[0])
    assert rows[1]["prompt"] == "Question: q2\nAnswer: a2\n#### 2\n\nQuestion: q0\nAnswer: a0\n#### 0\n\nQuestion: What is 1 plus 2?\nAnswer:"
    assert json.loads((tmp_path / "icl/metrics.json").read_text())["count"] == 3


def cli_args(model, data, out, *extra):
    return [PY, "-m", "src.inference", "--backend", "hf", "--model_dir", str(model), "--data_file", str(data),
            "--output_file_name", str(out), "--max_tokens", "24", "--flush_every", "0", "--batch_size", "1",
            "--no_eval", "--quiet", *extra]


def test_resume_after_kill_equals_uninterrupted_run(tmp_path, questions, tiny_model):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    full = tmp_path / "full/output.jsonl"
    subprocess.run(cli_args(tiny_model, questions, full), check=True, cwd=ROOT, env=env)
    part = tmp_path / "part/output.jsonl"
    proc = subprocess.Popen(cli_args(tiny_model, questions, part), cwd=ROOT, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and (not part.exists() or part.read_text().count("\n") < 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = part.read_text().count("\n")
    assert 3 <= n_before < 12, "the run should have been killed midway"
    with open(part, "a") as f:  # a crash in the middle of a write leaves a partial line
        f.write('{"id": 99, "prompt": "cut o')
    subprocess.run(cli_args(tiny_model, questions, part), check=True, cwd=ROOT, env=env)
    assert part.read_bytes() == full.read_bytes()


def test_sampling_is_seeded(tmp_path, questions, tiny_model):
    args = ["--temperature", "1.0", "--limit", "4", "--seeds", "0", "1"]
    a, b = tmp_path / "a/output.jsonl", tmp_path / "b/output.jsonl"
    for out in (a, b):
        assert run_cli(*cli_args(tiny_model, questions, out, *args)[3:]) == 0
    for s in ("seed0", "seed1"):
        assert (a.parent / s / "output.jsonl").read_bytes() == (b.parent / s / "output.jsonl").read_bytes()
    r0 = [r["response"] for r in read_jsonl(a.parent / "seed0/output.jsonl")]
    r1 = [r["response"] for r in read_jsonl(a.parent / "seed1/output.jsonl")]
    assert r0 != r1


@pytest.mark.slow
def test_two_replicas_over_shares_write_the_rows_of_one(tmp_path, questions, taught_model):
    """--data_parallel 2: two vLLM processes, each answering every other question left into its own part
    file, merged into the rows one process writes (one CPU thread per engine in both); a run stopped
    with answers still in parts resumes from them; the record says how many replicas made the file."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def infer(out, *extra):
        cmd = [PY, "-m", "src.inference", "--model_dir", str(taught_model), "--data_file", str(questions),
               "--output_file_name", str(out), "--max_tokens", "16", "--no_eval", "--quiet", *extra]
        subprocess.run(cmd, check=True, cwd=ROOT, env=env)

    one, two = tmp_path / "one/output.jsonl", tmp_path / "two/output.jsonl"
    infer(one)
    infer(two, "--data_parallel", "2")
    assert two.read_bytes() == one.read_bytes() and not list(two.parent.glob("*.part*"))
    meta = json.loads((two.parent / "output.meta.json").read_text())["made_by"]
    assert meta["replicas"] == 2 and meta["threads"] == 1
    # stopped after replica 1 wrote three answers and before they were merged: they are kept
    rows = read_jsonl(two)
    resumed = tmp_path / "resumed/output.jsonl"
    resumed.parent.mkdir()
    (resumed.parent / "output.meta.json").write_text((two.parent / "output.meta.json").read_text())
    write_jsonl(resumed.parent / "output.jsonl.part1", [rows[k] for k in (1, 3, 5)])
    infer(resumed, "--data_parallel", "2")
    assert resumed.read_text() == one.read_text()
    # one process on the same file: another setting (no replicas), so it is made again
    infer(two)
    assert "replicas" not in json.loads((two.parent / "output.meta.json").read_text())["made_by"]


# ------------------------------------------------------------------ real engines, small real model

@pytest.fixture(scope="session")
def smollm():
    from src.models import model_path
    try:
        return model_path("smollm2-135m")
    except FileNotFoundError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def gsm8k_questions(tmp_path_factory):
    path = tmp_path_factory.mktemp("q") / "gsm8k.jsonl"
    from src.demo_data import make_demo_splits
    write_jsonl(path, [{"question": r["question"], "answer": r["answer"].split("#### ")[-1]}
                       for r in make_demo_splits(seed=0)["test"][:8]])
    return path


def make_random_adapter(base, out, seed):
    """A LoRA adapter with random (non-zero) weights on the seven target modules."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    cfg = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, init_lora_weights=False,
                     target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    peft_model = get_peft_model(model, cfg)
    with torch.no_grad():
        for n, p in peft_model.named_parameters():
            if "lora_" in n:
                p.mul_(0.3)
    peft_model.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def random_adapters(smollm, tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    return [make_random_adapter(smollm, root / f"lora{k}", seed=k) for k in (0, 1)]


@pytest.mark.slow
def test_vllm_and_transformers_greedy_rows_identical(tmp_path, smollm, gsm8k_questions, random_adapters):
    """Same prompts, greedy, float32: the base model and two LoRA adapters evaluated in ONE vLLM load
    (--job) write the same rows as transformers evaluating each model on its own."""
    common = ["--dtype", "float32", "--model_dir", str(smollm), "--max_tokens", "48", "--quiet"]
    models = {"base": [], "lora0": ["--adapter", str(random_adapters[0])], "lora1": ["--adapter", str(random_adapters[1])]}
    jobs = []
    for name, extra in models.items():
        jobs += ["--job", str(tmp_path / "vllm" / name / "output.jsonl"), str(gsm8k_questions), extra[1] if extra else "-"]
        assert main(["--backend", "hf", *common, "--data_file", str(gsm8k_questions),
                     "--output_file_name", str(tmp_path / "hf" / name / "output.jsonl"), *extra]) == 0
    assert main(["--backend", "vllm", *common, *jobs]) == 0
    outs = {}
    for name in models:
        outs[name] = read_jsonl(tmp_path / "vllm" / name / "output.jsonl")
        assert outs[name] == read_jsonl(tmp_path / "hf" / name / "output.jsonl"), name
        assert all("Question" not in r["response"] and "Answer" not in r["response"] for r in outs[name])
        assert (tmp_path / "vllm" / name / "metrics.json").is_file()
    assert outs["base"] != outs["lora0"] != outs["lora1"]  # each adapter changes the answers


@pytest.mark.slow
def test_vllm_sampling_per_request_seeds(tmp_path, smollm, gsm8k_questions):
    """N samples in one load; in float32 a sample depends on its seed only, not on what else is in the
    batch (in bf16 the batch shape changes the numerics, so samples are reproducible only run for run)."""
    common = ["--dtype", "float32", "--model_dir", str(smollm), "--data_file", str(gsm8k_questions), "--temperature", "1.0",
              "--max_tokens", "48", "--quiet", "--no_eval"]
    assert main([*common, "--seeds", "0", "1", "2", "--output_file_name", str(tmp_path / "a/output.jsonl")]) == 0
    assert main([*common, "--seeds", "2", "--output_file_name", str(tmp_path / "b/output.jsonl")]) == 0
    seed = {k: read_jsonl(tmp_path / f"a/seed{k}/output.jsonl") for k in range(3)}
    assert read_jsonl(tmp_path / "b/seed2/output.jsonl") == seed[2]
    assert seed[0] != seed[1] != seed[2]


def test_chat_prompts_write_bos_once():
    """One user message in the model's template; a Gemma template writes <bos> and its tokenizer adds
    one too, so the prompt text drops the template's; Qwen's adds none and keeps its system turn."""
    from transformers import AutoTokenizer
    from src.models import model_path
    from src.prompts import chat_prompts
    try:
        gemma, qwen = model_path("gemma3-270m"), model_path("qwen2.5-coder-0.5b")
    except FileNotFoundError as err:
        pytest.skip(str(err))
    tok = AutoTokenizer.from_pretrained(gemma)  # the base model: Gemma's instruct template set here
    tok.chat_template = ("{{ bos_token }}{% for m in messages %}<start_of_turn>user\n{{ m.content }}<end_of_turn>\n"
                         "{% endfor %}<start_of_turn>model\n")
    [p] = chat_prompts(tok, ["What is 2 plus 3?"])
    ids = tok(p)["input_ids"]
    assert ids.count(tok.bos_token_id) == 1 and ids[0] == tok.bos_token_id
    assert p.startswith("<start_of_turn>user\nWhat is 2 plus 3?") and p.endswith("<start_of_turn>model")
    tok = AutoTokenizer.from_pretrained(qwen)
    [p] = chat_prompts(tok, ["Hi"])
    assert p.startswith("<|im_start|>system\n") and p.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")


def test_chat_style_runs_and_rejects_demonstrations(tmp_path, questions, tiny_model, capsys):
    import shutil
    model = tmp_path / "chat_model"
    shutil.copytree(tiny_model, model)
    cfg = json.loads((model / "tokenizer_config.json").read_text())
    cfg["chat_template"] = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}</s>{% endfor %}<|assistant|>"
    (model / "tokenizer_config.json").write_text(json.dumps(cfg))
    out = tmp_path / "chat/output.jsonl"
    assert run_cli("--backend", "hf", "--model_dir", model, "--data_file", questions, "--prompt_style", "chat",
                   "--max_tokens", "4", "--limit", "2", "--output_file_name", out, "--no_eval", "--quiet") == 0
    rows = read_jsonl(out)
    assert rows[1]["prompt"] == "<|user|>What is 1 plus 2?</s><|assistant|>"
    assert json.loads((out.parent / "output.meta.json").read_text())["made_by"]["decoding"]["stop"] == []
    assert run_cli("--backend", "hf", "--model_dir", model, "--data_file", questions, "--prompt_style", "chat",
                   "--prompt_type", "few-shot", "--output_file_name", tmp_path / "x/output.jsonl") != 0
    assert "takes no demonstrations" in capsys.readouterr().err


def test_chat_generation_stops_at_the_templates_turn_end(tmp_path, questions, tiny_model):
    """A base model given an instruct template (Llama-3-8B with Llama-3-Instruct's: EOS <|end_of_text|>,
    turns end with <|eot_id|>) stops at the turn end too: here the tiny model's template ends turns
    with <pad> while its EOS is </s>. Qwen's turn end is its EOS: nothing to add."""
    import shutil
    from transformers import AutoTokenizer
    from src.models import model_path
    from src.prompts import chat_turn_end_ids
    model = tmp_path / "chat_model"
    shutil.copytree(tiny_model, model)
    cfg = json.loads((model / "tokenizer_config.json").read_text())
    cfg["chat_template"] = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}<pad>{% endfor %}<|assistant|>"
    (model / "tokenizer_config.json").write_text(json.dumps(cfg))
    tok = AutoTokenizer.from_pretrained(model)
    assert chat_turn_end_ids(tok) == [tok.pad_token_id] and tok.eos_token == "</s>"
    out = tmp_path / "chat/output.jsonl"
    assert run_cli("--backend", "hf", "--model_dir", model, "--data_file", questions, "--prompt_style", "chat",
                   "--max_tokens", "4", "--limit", "2", "--output_file_name", out, "--no_eval", "--quiet") == 0
    decoding = json.loads((out.parent / "output.meta.json").read_text())["made_by"]["decoding"]
    assert decoding["stop_token_ids"] == [tok.pad_token_id]
    try:
        qwen = AutoTokenizer.from_pretrained(model_path("qwen2.5-coder-0.5b"))
    except FileNotFoundError:
        return
    assert chat_turn_end_ids(qwen) == []  # <|im_end|> is its EOS


def test_answers_carry_the_question_rows_own_id(tmp_path, tiny_model):
    data = tmp_path / "q.jsonl"
    write_jsonl(data, [{"id": f"q{k}", "question": f"What is {k} plus 1?"} for k in (5, 2, 9)])
    out = tmp_path / "o/output.jsonl"
    assert run_cli("--backend", "hf", "--model_dir", tiny_model, "--data_file", data, "--max_tokens", "3",
                   "--output_file_name", out, "--no_eval", "--quiet") == 0
    assert [(r["id"], r["row_id"]) for r in read_jsonl(out)] == [(0, "q5"), (1, "q2"), (2, "q9")]
    # rows without ids (or with repeated ones) get none
    write_jsonl(data, [{"question": "a?"}, {"question": "b?"}])
    assert run_cli("--backend", "hf", "--model_dir", tiny_model, "--data_file", data, "--max_tokens", "3",
                   "--output_file_name", tmp_path / "p/output.jsonl", "--no_eval", "--quiet") == 0
    assert all("row_id" not in r for r in read_jsonl(tmp_path / "p/output.jsonl"))
