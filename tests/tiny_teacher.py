"""A tiny random model taught, in seconds, to answer in the GSM8K format with a peaked but not
certain final answer (``#### 5`` about 85 % of the time, else ``#### 7``; after an OlympicArena-style
prompt ``The final answer is $\\boxed{5}$``), so that every stage of the pipeline has data: weak and few-shot answers agree, samples vote with high confidence, and
some samples disagree (preference pairs)."""
import random


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
            return (f"You are participating in an international Math competition.\n\nQuestion: {q}\n\n"
                    f"You can solve it step by step.\n\nAnswer: The final answer is $\\boxed{{{n}}}$")
        return f"Question: {q}\nAnswer: #### {n}"

    def text():
        shots, olympic = rng.choice([0, 0, 4]), rng.random() < 0.4  # zero-shot and 4-shot prompts
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
