"""Stage I + stage II adapters combined into one adapter give the same model as applying both."""
import json

import pytest

from src.combine_adapters import combine, main

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def random_adapter(base, out, seed, targets=TARGETS, **kw):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, init_lora_weights=False, target_modules=targets, **kw))
    peft_model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from src.models import make_tiny_model
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def test_combined_adapter_equals_both_applied(tmp_path, tiny):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    a1, a2 = random_adapter(tiny, tmp_path / "a1", 1), random_adapter(tiny, tmp_path / "a2", 2, use_rslora=True)
    cfg = combine(a1, a2, tmp_path / "both")
    assert cfg["r"] == 16 and cfg["lora_alpha"] == 16 and not cfg["use_rslora"]
    ids = torch.arange(1, 40).unsqueeze(0)

    def logits(*adapters):
        model = AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.float32)
        for a in adapters:  # LLaMA-Factory's create_new_adapter: merge the first, train the next on top
            model = PeftModel.from_pretrained(model, a).merge_and_unload()
        with torch.no_grad():
            return model(ids).logits

    stacked, combined, base = logits(a1, a2), logits(tmp_path / "both"), logits()
    assert torch.allclose(stacked, combined, atol=1e-5)
    assert not torch.allclose(stacked, logits(a1), atol=1e-3) and not torch.allclose(stacked, base, atol=1e-3)


def test_combine_errors(tmp_path, tiny, capsys):
    a1 = random_adapter(tiny, tmp_path / "a1", 1)
    a3 = random_adapter(tiny, tmp_path / "a3", 3, targets=["q_proj", "v_proj"])
    assert main([str(a1), str(a3), str(tmp_path / "x")]) == 1
    assert "adapt different modules" in capsys.readouterr().err
    assert main([str(a1), str(tmp_path), str(tmp_path / "x")]) == 1
    assert "no adapter_config.json" in capsys.readouterr().err
    cfg = json.loads((a1 / "adapter_config.json").read_text())
    (a3 / "adapter_config.json").write_text(json.dumps(dict(cfg, rank_pattern={"q_proj": 4})))
    assert main([str(a1), str(a3), str(tmp_path / "x")]) == 1
    assert "'rank_pattern' is set" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
