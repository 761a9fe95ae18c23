"""The pieces of scripts/gpu_check.sh, each run in the environment that owns it.

    .venv/bin/python scripts/gpu_check.py adapter MODEL OUT            # a random LoRA adapter of MODEL (main env)
    .venv/bin/python scripts/gpu_check.py vllm MODEL ADAPTER TP        # mixed base + LoRA batch == each alone == transformers
    PY scripts/gpu_check.py tokenize MODEL [MODEL ...]                 # token ids of one prompt per model (either env)
    .venv-train/bin/python scripts/gpu_check.py merged BASE MERGED A1,A2   # exported model == base + adapters (peft)
    scripts/gpu_check.py toy-data DIR                                  # a tiny SFT set and preference set, registered
    .venv/bin/python scripts/gpu_check.py sampling MODEL               # bf16 greedy against float32; seeded sampling; tokens/s
    .venv/bin/python scripts/gpu_check.py chat MODEL                   # chat inference stops at the template's turn end
    .venv/bin/python scripts/gpu_check.py same-files A B               # two answer files hold the same rows
    .venv-train/bin/python scripts/gpu_check.py saved MODEL_DIR DTYPE  # a trained model loads, in DTYPE, with finite logits

Each prints one JSON line; ``ok`` says whether the check passed.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
PROMPTS = [f"Question: Ava has {n} boxes with {n + 3} pencils in each box. How many pencils does she have?\nAnswer:"
           for n in range(2, 10)]


def adapter(model: str, out: str) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    torch.manual_seed(0)
    m = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    cfg = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(m, cfg).save_pretrained(out)
    return {"ok": True, "adapter": out}


def vllm_check(model: str, lora: str, tp: int) -> dict:
    from src.engines import Decoding, EngineConfig, load_engine
    dec = Decoding(temperature=0.0, max_tokens=24, stop=("Question",))
    cfg = EngineConfig(model, adapters=(lora,), tensor_parallel_size=tp, dtype="float32")
    engine = load_engine("vllm", cfg, dec)
    mixed_requests = [(p, 0, lora if i % 2 else None) for i, p in enumerate(PROMPTS)]
    mixed = engine.generate(mixed_requests)
    alone = [engine.generate([r])[0] for r in mixed_requests]
    del engine
    hf = load_engine("hf", EngineConfig(model, adapters=(lora,), dtype="float32", batch_size=1), dec)
    reference = hf.generate(mixed_requests)
    return {"ok": mixed == alone == reference, "tp": tp, "mixed_equals_alone": mixed == alone,
            "equals_transformers": mixed == reference,
            "first_differences": [(i, a, b) for i, (a, b) in enumerate(zip(mixed, reference)) if a != b][:2]}


def tokenize(models: list[str]) -> dict:
    from transformers import AutoTokenizer
    prompt = PROMPTS[0] + " She has 10 pencils.\n#### 10"
    return {"ok": True, "ids": {m: AutoTokenizer.from_pretrained(m)(prompt)["input_ids"] for m in models}}


def merged(base: str, merged_dir: str, adapters: str) -> dict:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    ids = torch.tensor([[5, 17, 42, 99, 7, 3]])
    load = lambda p: AutoModelForCausalLM.from_pretrained(p, dtype=torch.float32)  # noqa: E731
    stacked = load(base)
    names = adapters.split(",")
    for a in names[:-1]:
        stacked = PeftModel.from_pretrained(stacked, a).merge_and_unload()
    stacked = PeftModel.from_pretrained(stacked, names[-1])
    with torch.no_grad():
        diff = (stacked(ids).logits - load(merged_dir)(ids).logits).abs().max().item()
    return {"ok": diff < 5e-2, "max_logit_difference": diff}  # the export is written in bf16 on GPUs (float32 on CPU)


def toy_data(folder: str) -> dict:
    from src import registry
    from src.jsonio import write_json, write_jsonl
    lf = Path(folder)
    rows = [{"id": i, "content": f"Question: What is {i} plus 1?\nAnswer:", "output": f"{i} + 1 = {i + 1}\n#### {i + 1}"}
            for i in range(32)]
    write_json(lf / "sft.json", rows)
    registry.register(lf, "check_sft", lf / "sft.json", "sft")
    write_json(lf / "pairs.json", [{"id": r["id"], "instruction": r["content"], "input": "", "chosen": r["output"],
                                    "rejected": f"{r['id']} + 1 = {r['id'] + 2}\n#### {r['id'] + 2}"} for r in rows])
    registry.register(lf, "check_pairs", lf / "pairs.json", "pairs")
    write_jsonl(lf / "questions.jsonl", [{"question": r["content"].removeprefix("Question: ").removesuffix("\nAnswer:"),
                                          "answer": str(r["id"] + 1)} for r in rows[:16]])
    return {"ok": True}


def _timed(engine, requests) -> tuple[list[str], float]:
    import time
    t0 = time.perf_counter()
    out = engine.generate(requests)
    return out, time.perf_counter() - t0


def _tokens(model: str, texts: list[str]) -> int:
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model)
    return sum(len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts)


def sampling(model: str) -> dict:
    """vLLM in the model's own dtype (bf16: the attention kernels a run uses) answers greedily as
    transformers in float32 does on most prompts; a seeded sample is the same twice and differs with the seed; tokens/s of each."""
    from src.engines import Decoding, EngineConfig, load_engine
    greedy = Decoding(temperature=0.0, max_tokens=32, stop=("Question",))
    engine = load_engine("vllm", EngineConfig(model, dtype="auto"), greedy)
    native, secs = _timed(engine, [(p, 0) for p in PROMPTS])
    engine.dec = Decoding(temperature=1.0, top_p=1.0, max_tokens=32, stop=("Question",))
    seeded, s_secs = _timed(engine, [(p, seed) for p in PROMPTS[:4] for seed in (7, 7, 8)])
    del engine
    f32 = load_engine("hf", EngineConfig(model, dtype="float32", batch_size=1), greedy).generate([(p, 0) for p in PROMPTS])
    agree = sum(a.split()[:8] == b.split()[:8] for a, b in zip(native, f32))  # the first words: bf16 drifts later
    same_seed = all(seeded[3 * i] == seeded[3 * i + 1] for i in range(4))
    other_seed = any(seeded[3 * i] != seeded[3 * i + 2] for i in range(4))
    return {"ok": agree >= 6 and same_seed and other_seed, "greedy_tokens_per_s": round(_tokens(model, native) / secs, 1),
            "sampled_tokens_per_s": round(_tokens(model, seeded) / s_secs, 1), "same_seed_same_text": same_seed,
            "other_seed_other_text": other_seed, "bf16_agrees_with_float32": f"{agree}/8"}


def chat(model: str) -> dict:
    """Chat prompts in the model's template stop at its turn end (its generation config's EOS ids, or the
    template's end token): no answer runs into a next turn."""
    from transformers import AutoTokenizer
    from src.engines import Decoding, EngineConfig, load_engine
    from src.prompts import chat_prompts, chat_turn_end_ids
    tok = AutoTokenizer.from_pretrained(model)
    questions = [p.removeprefix("Question: ").removesuffix("\nAnswer:") + " Answer in one sentence." for p in PROMPTS[:4]]
    ends = chat_turn_end_ids(tok)
    dec = Decoding(temperature=0.0, max_tokens=96, stop=(), stop_token_ids=ends)
    engine = load_engine("vllm", EngineConfig(model), dec)
    out = list(engine.stream([(p, 0) for p in chat_prompts(tok, questions)]))
    texts, reasons = [t for _, t, _ in out], [r for _, _, r in out]
    leaked = [t for t in texts if any(m in t for m in ("<|im_start|>", "<|im_end|>", "<|eot_id|>", "<|start_header_id|>",
                                                          "<end_of_turn>", "<start_of_turn>"))]
    return {"ok": not leaked and reasons.count("stop") >= 3, "turn_end_ids": ends, "finish_reasons": reasons,
            "leaked_turns": len(leaked)}


def same_files(a: str, b: str) -> dict:
    from src.jsonio import read_jsonl
    ra, rb = ([(r.get("row_id", r.get("id")), r["response"]) for r in read_jsonl(p)] for p in (a, b))
    return {"ok": ra == rb and len(ra) > 0, "rows": len(ra), "differing": sum(x != y for x, y in zip(ra, rb))}


def saved(model_dir: str, dtype: str) -> dict:
    import torch
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(model_dir, dtype="auto")  # as saved
    with torch.no_grad():
        logits = m(torch.tensor([[5, 17, 42, 99]])).logits
    got = str(next(m.parameters()).dtype).removeprefix("torch.")
    return {"ok": bool(torch.isfinite(logits).all()) and got == dtype, "dtype": got}


def main(argv: list[str]) -> int:
    cmd, *rest = argv
    result = {"adapter": lambda: adapter(*rest), "vllm": lambda: vllm_check(rest[0], rest[1], int(rest[2])),
              "tokenize": lambda: tokenize(rest), "merged": lambda: merged(*rest),
              "toy-data": lambda: toy_data(*rest), "sampling": lambda: sampling(*rest), "chat": lambda: chat(*rest),
              "same-files": lambda: same_files(*rest), "saved": lambda: saved(*rest)}[cmd]()
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
