"""Sizes chosen for GPUs that are not here, checked on the configs of the models a user would run:
the tensor-parallel size vLLM 0.32 accepts (src.engines.tensor_parallel_size, docs/gpu.md)."""
import json
import subprocess

import pytest

from src.engines import tensor_parallel_size
from tests.conftest import ROOT

# (model_type, heads, kv heads, intermediate, hidden) of the published configs
CONFIGS = {"Qwen2.5-1.5B": ("qwen2", 12, 2, 8960, 1536), "Qwen2.5-7B": ("qwen2", 28, 4, 18944, 3584),
           "Llama-2-70b": ("llama", 64, 8, 28672, 8192), "gemma-2b": ("gemma", 8, 1, 16384, 2048),
           "Llama-3-8B": ("llama", 32, 8, 14336, 4096)}


def config_dir(tmp_path, name):
    kind, heads, kv, inter, hidden = CONFIGS[name]
    d = tmp_path / name
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"model_type": kind, "num_attention_heads": heads, "num_key_value_heads": kv,
                                               "intermediate_size": inter, "hidden_size": hidden, "num_hidden_layers": 2,
                                               "vocab_size": 1000}))
    return d


@pytest.mark.parametrize("name,gpus,expected", [("Qwen2.5-1.5B", 8, 4), ("Qwen2.5-1.5B", 4, 4), ("Qwen2.5-1.5B", 3, 2),
                                                 ("Qwen2.5-7B", 8, 4), ("Llama-2-70b", 8, 8), ("gemma-2b", 8, 8),
                                                 ("Llama-3-8B", 8, 8), ("Qwen2.5-7B", 1, 1)])
def test_tensor_parallel_size_is_one_vllm_accepts(tmp_path, name, gpus, expected):
    _, heads, kv, inter, hidden = CONFIGS[name]
    tp = tensor_parallel_size(str(config_dir(tmp_path, name)), gpus)
    assert tp == expected
    assert heads % tp == 0 and (kv % tp == 0 or tp % kv == 0) and inter % tp == 0 and hidden % tp == 0


def test_the_run_scripts_use_it(tmp_path):
    out = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "src.engines", "tp", str(config_dir(tmp_path, "Qwen2.5-1.5B")), "8"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert out == "4"
    # the three methods' plans size every model they load by it
    from src.alice.plan import resolve as alice
    from src.guiding.plan import resolve as guiding
    from src.layout import resolve as w2sr
    qwen, gpus = str(tmp_path / "Qwen2.5-1.5B"), "0,1,2,3,4,5,6,7"  # written above
    w, errors = w2sr({"DATASET": "gsm8k", "WEAK_BASE": qwen, "STRONG_BASE": qwen, "GPUS": gpus})
    assert not errors and (w.settings.STRONG_TP, w.settings.WEAK_TP) == ("4", "1")
    a, errors = alice({"DATASET": "gsm8k", "SOURCE": "hub", "TEACHER_BASE": qwen, "STUDENT_BASE": qwen, "SUMMARISER": qwen,
                       "GPUS": gpus})
    assert not errors and (a.settings.TEACHER_TP, a.settings.STUDENT_TP, a.settings.SUMMARISER_TP, a.settings.MID_TP) == ("4", "4", "4", "")
    g, errors = guiding({"STUDENT_BASE": qwen, "TEACHER_DIR": qwen, "PAIRS": "p", "BENCHES": "math500=hub", "BASELINES": "",
                         "GPUS": gpus})
    assert not errors and (g.settings.STUDENT_TP, g.teacher_tp, g.judge_tp) == ("4", "4", "4")
