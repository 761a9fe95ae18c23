"""A tiny random model taught, in seconds, to answer in the GSM8K format with a peaked but not
certain final answer (``#### 5`` about 85 % of the time, else ``#### 7``; after an OlympicArena-style
prompt ``The final answer is $\\boxed{5}$``), so that every stage of the pipeline has data: weak and few-shot answers agree, samples vote with high confidence, and
some samples disagree (preference pairs)."""
import random

# an OlympicArena-style prompt (the benchmark's shape, problem header "\n\nproblem:\n")
OLYMPIC_PROMPT = ("You are participating in an international {subject} competition.\n\nproblem:\n{problem}"
                  "\n\nYou can solve it step by step.\nPlease end your response with: \"The final answer is "
                  "$\\boxed{{ANSWER}}$\", where ANSWER is the numerical value.")


def teach(model_dir, steps: int = 300, seed: int = 0) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from src.demo_data import make_problems

    torch.manual_seed(seed)
    rng = random.Random(seed)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    questions = [r["question"] for r in make_problems(200, seed=seed + 1)]

    def block(q, olympic):
        n = 5 if rng.random() < 0.85 else 7
        if olympic:
            prompt = OLYMPIC_PROMPT.format(subject="Math", problem=q).replace("\n\nproblem:\n", "\n\nQuestion: ")
            return f"{prompt}\n\nAnswer: The final answer is $\\boxed{{{n}}}$"
        return f"Question: {q}\nAnswer: #### {n}"

    def text():
        shots, olympic = rng.choice([0, 0, 4]), rng.random() < 0.5  # zero-shot and 4-shot prompts
        return "\n\n".join(block(rng.choice(questions), olympic) for _ in range(shots + 1)) + tok.eos_token

    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        enc = tok([text() for _ in range(8)], return_tensors="pt", padding=True)
        labels = enc.input_ids.masked_fill(enc.attention_mask == 0, -100)
        loss = model(**enc, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.save_pretrained(model_dir, safe_serialization=True)


CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m.role }}|>{{ m.content }}</s>{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def teach_chat(model_dir, steps: int = 150, seed: int = 0) -> None:
    """The tiny model with a chat template, taught to answer any user turn in GSM8K's form:
    ``#### 5`` about 70 % of the time, else ``#### 7`` (Alice's pipeline then has questions with one
    cluster and with several)."""
    import json
    from pathlib import Path

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from src.demo_data import make_problems

    cfg_path = Path(model_dir) / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["chat_template"] = CHAT_TEMPLATE
    cfg_path.write_text(json.dumps(cfg, indent=2))
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    questions = [r["question"] for r in make_problems(200, seed=seed + 1)]

    def text():
        n = 5 if rng.random() < 0.7 else 7
        return f"<|user|>{rng.choice(questions)}</s><|assistant|>#### {n}</s>"

    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        enc = tok([text() for _ in range(8)], return_tensors="pt", padding=True)
        loss = model(**enc, labels=enc.input_ids.masked_fill(enc.attention_mask == 0, -100)).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.save_pretrained(model_dir, safe_serialization=True)
