"""The pieces of scripts/gpu_check.sh, each run in the environment that owns it.

    .venv/bin/python scripts/gpu_check.py adapter MODEL OUT            # a random LoRA adapter of MODEL (main env)
    .venv/bin/python scripts/gpu_check.py vllm MODEL ADAPTER TP        # mixed base + LoRA batch == each alone == transformers
    PY scripts/gpu_check.py tokenize MODEL [MODEL ...]                 # token ids of one prompt per model (either env)
    .venv-train/bin/python scripts/gpu_check.py merged BASE MERGED A1,A2   # exported model == base + adapters (peft)
    scripts/gpu_check.py toy-data DIR                                  # a tiny SFT set and preference set, registered

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
    from src.jsonio import write_json
    lf = Path(folder)
    rows = [{"id": i, "content": f"Question: What is {i} plus 1?\nAnswer:", "output": f"{i} + 1 = {i + 1}\n#### {i + 1}"}
            for i in range(32)]
    write_json(lf / "sft.json", rows)
    registry.register(lf, "check_sft", lf / "sft.json", "sft")
    write_json(lf / "pairs.json", [{"id": r["id"], "instruction": r["content"], "input": "", "chosen": r["output"],
                                    "rejected": f"{r['id']} + 1 = {r['id'] + 2}\n#### {r['id'] + 2}"} for r in rows])
    registry.register(lf, "check_pairs", lf / "pairs.json", "pairs")
    return {"ok": True}


def main(argv: list[str]) -> int:
    cmd, *rest = argv
    result = {"adapter": lambda: adapter(*rest), "vllm": lambda: vllm_check(rest[0], rest[1], int(rest[2])),
              "tokenize": lambda: tokenize(rest), "merged": lambda: merged(*rest),
              "toy-data": lambda: toy_data(*rest)}[cmd]()
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
