"""The benchmark registry, provenance records (no stale reuse), the original's demonstration
procedure and named sets, MATH padding, OlympicArena train_2 without answers, and the context check."""
import json
import os
import random

import pytest

from src import benchmarks, provenance
from src.construct_training_data import construct_weak_icl_data
from src.construct_training_data import main as construct_main
from src.inference import main as infer_main
from src.jsonio import read_jsonl, write_jsonl
from src.prompts import build_demonstrations, select_demo_ids
from tests.conftest import LF, WEAK_RESULTS

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def infer(*args):
    return infer_main([str(a) for a in ("--backend", "hf", "--dtype", "float32", "--quiet", *args)])


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "q.jsonl"
    write_jsonl(path, [{"question": f"What is {i} plus {i + 1}?", "answer": str(2 * i + 1)} for i in range(6)])
    return path


# ------------------------------------------------------------------ the registry

def test_a_new_benchmark_is_one_registry_entry(tmp_path, tiny_model, questions):
    """Registered once, it runs through inference (its stop strings, budget, prompt style, storage),
    grading (its answer key) and stage I construction (its judge)."""
    toy = benchmarks.register(benchmarks.Benchmark(name="toy", answer_key="RESULT:", stop=("\n\n",), max_tokens=5,
                                                   strip_responses=False, description="a test benchmark"))
    try:
        out = tmp_path / "toy/output.jsonl"
        assert infer("--benchmark", "toy", "--model_dir", tiny_model, "--data_file", questions,
                     "--output_file_name", out) == 0
        record = provenance.read(out)["made_by"]
        assert record["benchmark"] == "toy" and record["decoding"]["stop"] == ["\n\n"]
        assert record["decoding"]["max_tokens"] == 5 and record["store"] == "raw"
        # grading with the toy key: a handmade response with the key is read and compared
        rows = toy.grade([{"response": "so RESULT: 7"}, {"response": "#### 7"}], [{"answer": "7"}, {"answer": "7"}])
        assert [r["result"] for r in rows] == [True, False]
        metrics = json.loads((tmp_path / "toy/metrics.json").read_text())
        assert metrics["benchmark"] == "toy" and metrics["count"] == 6
        weak = tmp_path / "toy/results.jsonl"
        assert construct_main(["weak-icl", "--benchmark", "toy", "--weak", str(weak), "--icl", str(weak),
                               "--output", str(tmp_path / "toy_hybrid.json")]) == 0
    finally:
        benchmarks._REGISTRY.pop("toy")


def test_registry_owns_every_benchmark_setting():
    """What inference decodes with, for every benchmark, is what its entry says, and changing the entry
    (re-registering it) changes what inference does: no setting has a second home."""
    from dataclasses import replace
    from src.inference import parse_args
    for name in benchmarks.names():
        b = benchmarks.get(name)
        args = parse_args(["--benchmark", name])
        assert (args.answer_key, args.max_tokens, args.prompt_style, args.stop_eos) == (
            b.answer_key, b.max_tokens, b.prompt_style, b.stop_eos), name
        assert (args.temperature, args.top_p, args.top_k) == (b.temperature, b.top_p, b.top_k), name
        assert args.stop == (() if b.prompt_style == "chat" else b.stop), name
        assert args.bench.judge_ is benchmarks.JUDGES[b.judge], name
    gsm8k = benchmarks.get("gsm8k")
    try:
        benchmarks.register(replace(gsm8k, max_tokens=7, stop=("STOP",), answer_key="ANSWER:"))
        args = parse_args(["--dev_set", "gsm8k_train_2"])
        assert (args.max_tokens, args.stop, args.answer_key) == (7, ("STOP",), "ANSWER:")
        assert parse_args(["--dev_set", "gsm8k", "--max_tokens", "9"]).max_tokens == 9  # a flag still wins
    finally:
        benchmarks.register(gsm8k)
    guiding = parse_args(["--benchmark", "guiding_sat"])  # the Guiding study's sampling, from its entries
    assert (guiding.temperature, guiding.top_p, guiding.top_k) == (0.6, 0.9, 50)
    try:
        benchmarks.register(replace(gsm8k, temperature=0.7, top_k=20))
        args = parse_args(["--dev_set", "gsm8k", "--top_k", "5"])
        assert (args.temperature, args.top_p, args.top_k) == (0.7, 1.0, 5)
    finally:
        benchmarks.register(gsm8k)
    g, o = benchmarks.get("gsm8k"), benchmarks.get("olympicarena")
    assert o.store(" x. ") == " x. " and g.store(" x. ") == "x"
    assert benchmarks.for_dev_set("gsm8k_train_2").name == "gsm8k" and benchmarks.for_dev_set("math").name == "math"
    with pytest.raises(ValueError, match="unknown benchmark"):
        benchmarks.get("nope")
    with pytest.raises(ValueError, match="unknown judge"):
        benchmarks.Benchmark(name="bad", judge="nope")


# ------------------------------------------------------------------ provenance: no stale reuse

def test_a_rerun_with_another_setting_or_model_regenerates(tmp_path, tiny_model, questions, capsys):
    out = tmp_path / "o/output.jsonl"
    base = ("--model_dir", tiny_model, "--data_file", questions, "--output_file_name", out, "--max_tokens", "6", "--no_eval")
    assert infer(*base) == 0
    first = out.read_bytes()
    capsys.readouterr()
    assert infer(*base) == 0
    assert "already generated" in capsys.readouterr().out and out.read_bytes() == first
    # another decoding setting: regenerated, and the record says why
    assert infer(*base[:-3], "--max_tokens", "3", "--no_eval") == 0
    assert "made by another model or setting (decoding)" in capsys.readouterr().out
    assert provenance.read(out)["made_by"]["decoding"]["max_tokens"] == 3
    # another model in the same folder (retrained): regenerated
    from src.models import make_tiny_model
    other = make_tiny_model(tmp_path / "other", seed=1)
    assert infer("--model_dir", other, *base[2:-3], "--max_tokens", "3", "--no_eval") == 0
    assert "(model)" in capsys.readouterr().out


def test_a_changed_adapter_regenerates(tmp_path, tiny_model, questions, capsys):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    adapter = tmp_path / "adapter"

    def save(seed):
        torch.manual_seed(seed)
        m = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model), LoraConfig(r=8, target_modules=["q_proj"], init_lora_weights=False))
        m.save_pretrained(adapter)

    save(0)
    out = tmp_path / "a/output.jsonl"
    args = ("--model_dir", tiny_model, "--data_file", questions, "--adapter", adapter, "--output_file_name", out,
            "--max_tokens", "4", "--no_eval")
    assert infer(*args) == 0
    fp = provenance.read(out)["made_by"]["adapter"]
    save(1)  # retrained in the same folder
    capsys.readouterr()
    assert infer(*args) == 0
    assert "(adapter)" in capsys.readouterr().out
    assert provenance.read(out)["made_by"]["adapter"] == provenance.fingerprint(adapter) != fp


def test_prompts_longer_than_the_context_are_refused_before_loading(tmp_path, tiny_model, questions, capsys):
    long = tmp_path / "long.jsonl"
    write_jsonl(long, [{"question": "seven " * 50, "answer": "1"}, {"question": "short", "answer": "1"}])
    assert infer("--model_dir", tiny_model, "--data_file", long, "--output_file_name", tmp_path / "l/output.jsonl",
                 "--max_tokens", "8", "--max_model_len", "64") == 1
    err = capsys.readouterr().err
    assert "the longest prompt has" in err and "context 64" in err and "1 of 2 prompts too long" in err
    assert not (tmp_path / "l/output.jsonl").exists()


def test_truncated_answers_are_counted(tmp_path, tiny_model, questions):
    out = tmp_path / "t/output.jsonl"
    assert infer("--model_dir", tiny_model, "--data_file", questions, "--output_file_name", out, "--max_tokens", "3",
                 "--stop", "NEVER") == 0
    rows = read_jsonl(out)
    assert {r["finish_reason"] for r in rows} <= {"stop", "length"}
    metrics = json.loads((tmp_path / "t/metrics.json").read_text())
    assert metrics["truncated"] == sum(r["finish_reason"] == "length" for r in rows) > 0


# ------------------------------------------------------------------ demonstrations

def test_original_procedure_on_the_released_gemma_file(upstream):
    """random.seed(42), shuffle, the first 4 with '####': the original's gsm8k_my_gemma_2b_icl ids."""
    from src.prompts import load_answers
    rows = load_answers(LF / "gsm8k/train_gsm8k_gemma_2b_full_weak.json")
    assert select_demo_ids(rows, 4) == [3401, 173, 354, 6272]
    block = build_demonstrations(LF / "gsm8k/train_gsm8k_gemma_2b_full_weak.json")
    assert block == build_demonstrations(LF / "gsm8k/train_gsm8k_gemma_2b_full_weak.json",
                                         benchmarks.get("gsm8k").templates["gsm8k_my_gemma_2b_icl"])
    assert block.count("Question: ") == 4 and block.endswith("\n\n")


def test_named_sets_build_from_the_released_results(upstream):
    """Every GSM8K named set whose weak model's answers are released (Llama2-7b) builds its text from them."""
    g = benchmarks.get("gsm8k")
    rows = {r["id"]: r for r in read_jsonl(WEAK_RESULTS)}
    for name in ("gsm8k_my_llama2_7b_icl", "gsm8k_my_gemma_2b_icl1"):
        ids = g.templates[name]
        block = build_demonstrations(WEAK_RESULTS, ids)
        assert block == "".join(f"{rows[i]['prompt']} {rows[i]['response']}\n\n" for i in ids)
    # the original's hard-coded Llama2-7b text ends its four answers with 77, 122, 2 and 44, in this order
    import re
    block = build_demonstrations(WEAK_RESULTS, g.templates["gsm8k_my_llama2_7b_icl"])
    assert re.findall(r"#### (\S+)\n\n", block) == ["77", "122", "2", "44"]


def test_olympic_demonstrations_and_the_original_defect(tmp_path):
    o = benchmarks.get("olympicarena")
    weak = tmp_path / "weak.jsonl"
    ids = o.templates["olympic_llama3_8b_instruct_icl"]
    write_jsonl(weak, [{"id": k, "qid": q, "prompt": f"P{q}\n\nAnswer:", "response": f" A{q}."} for k, q in enumerate(ids)])
    block = build_demonstrations(weak, list(ids), benchmark=o)
    assert block == "".join(f"P{q}\n\nAnswer:  A{q}.\n\n\n" for q in ids)  # raw answers, three newlines
    bugged = build_demonstrations(weak, list(ids), benchmark=o, same_question=True)
    assert bugged == "".join(f"PBiology_16\n\nAnswer:  A{q}.\n\n\n" for q in ids)


def test_demo_filters(tmp_path):
    rows = [{"id": i, "prompt": "Q\nAnswer:", "response": f"r {'#### 1' if i % 2 else ''}", "pred": "1" if i % 2 else "",
             "result": i % 4 == 1} for i in range(20)]
    rng = random.Random(42)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    assert select_demo_ids(rows, 4) == [r["id"] for r in shuffled if "####" in r["response"]][:4]
    assert select_demo_ids(rows, 2, demo_filter="original_correct") == [r["id"] for r in shuffled if r["result"]][:2]
    assert all(i % 2 for i in select_demo_ids(rows, 4, seed=0, demo_filter="has_answer"))
    with pytest.raises(ValueError, match="only 5 demonstration candidates"):
        select_demo_ids(rows, 6, demo_filter="original_correct")


# ------------------------------------------------------------------ MATH padding

def results(preds, prefix):
    return [{"id": i, "prompt": f"Question: q{i}\nAnswer:", "response": f"{prefix}{i}:{p}", "pred": p,
             "result": p == "1"} for i, p in enumerate(preds)]


def test_math_padding_has_the_released_structure(tmp_path):
    """The strict set first (also written as *_wo_aug), then only inconsistent questions with two
    non-empty answers; hybrid = strict hybrid + appended weak rows + appended ICL rows."""
    weak_p = ["1", "2", "3", "", "5", "6", "7", "8"]
    icl_p = ["1", "9", "3", "4", "", "0", "7", "1"]
    write_jsonl(tmp_path / "w.jsonl", results(weak_p, "w"))
    write_jsonl(tmp_path / "c.jsonl", results(icl_p, "c"))
    construct_weak_icl_data(tmp_path / "w.jsonl", tmp_path / "c.jsonl", tmp_path / "m_hybrid.json", pad_to=5, pad_seed=3)
    load = lambda n: json.loads((tmp_path / n).read_text())  # noqa: E731
    strict_w, padded_w = load("m_weak_wo_aug.json"), load("m_weak.json")
    assert [r["id"] for r in strict_w] == [0, 2, 6] and padded_w[:3] == strict_w and len(padded_w) == 5
    added = [r["id"] for r in padded_w[3:]]
    assert set(added) <= {1, 5, 7}  # inconsistent, both answers non-empty (3 and 4 have an empty side)
    assert load("m_hybrid.json") == load("m_hybrid_wo_aug.json") + padded_w[3:] + load("m_icl.json")[3:]
    assert [r["output"] for r in load("m_icl.json")[3:]] == [f"c{i}:{icl_p[i]}" for i in added]


def test_released_math_files_have_that_structure(upstream):
    for model in ("gemma_2b", "mistral_7b"):
        d = LF / "math"
        strict = json.loads((d / f"train_math_{model}_iter1_hybrid_wo_aug.json").read_text())
        full = json.loads((d / f"train_math_{model}_iter1_hybrid.json").read_text())
        weak = json.loads((d / f"train_math_{model}_iter1_weak.json").read_text())
        icl = json.loads((d / f"train_math_{model}_iter1_icl.json").read_text())
        n = len(strict) // 2
        strip = lambda rows: [{k: r[k] for k in ("id", "content", "output")} for r in rows]  # noqa: E731
        assert strip(full[:2 * n]) == strip(strict)
        assert strip(full[2 * n:]) == strip(weak[n:]) + strip(icl[n:])


# ------------------------------------------------------------------ OlympicArena train_2 without answers

def test_olympic_train_2_needs_no_answers(tmp_path):
    from src.olympic_data import SUBJECTS, prepare
    from tests.test_olympic import raw_row
    for s in SUBJECTS:
        (tmp_path / "copy" / s).mkdir(parents=True)
        # every way a release says "no answer": null, an empty list, an empty string, no field
        no_gold = [raw_row(0, s, answer=None), raw_row(1, s, answer=[]), raw_row(2, s, answer="")]
        no_gold.append({k: v for k, v in raw_row(3, s).items() if k != "answer"})
        write_jsonl(tmp_path / "copy" / s / "test.jsonl", no_gold)
        write_jsonl(tmp_path / "copy" / s / "val.jsonl", [raw_row(i, s) for i in range(2)])
    counts = prepare(tmp_path / "out", tmp_path / "copy")
    assert counts == {"train_2": 24, "test": 12}
    train2 = read_jsonl(tmp_path / "out/test/olympicarena_train_2.jsonl")
    assert all(r["answer"] is None for r in train2)
    # the test split still needs its answers
    write_jsonl(tmp_path / "copy/Math/val.jsonl", [raw_row(0, "Math", answer=None)])
    from src.jsonio import DataError
    with pytest.raises(DataError, match="field 'answer'"):
        prepare(tmp_path / "out2", tmp_path / "copy")


def test_fingerprints_follow_content_not_copies(tmp_path, tiny_model):
    """A copied model (new modification times) is the same model; changed weights are another; a hub
    id that is not cached is fingerprinted by its name."""
    import shutil
    import time
    copy = tmp_path / "copy"
    time.sleep(0.01)
    shutil.copytree(tiny_model, copy)
    assert provenance.fingerprint(copy) == provenance.fingerprint(tiny_model)
    weights = next(copy.glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF  # one byte of the last tensor
    weights.write_bytes(bytes(data))
    assert provenance.fingerprint(copy) != provenance.fingerprint(tiny_model)
    assert provenance.fingerprint("org/not-cached-model").startswith("id:")
