import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = Path(os.environ.get("W2S_UPSTREAM", ROOT.parent / "shared" / "upstream"))
WEAK_RESULTS = UPSTREAM / "outputs/gsm8k_train_2/zero_shot/llama2_7b_gsm8k_1/zero-shot/direct/results.jsonl"
LF = UPSTREAM / "data/llama_factory"


@pytest.fixture
def upstream() -> Path:
    """The original release (../shared/upstream); tests that compare against it skip without it."""
    if not WEAK_RESULTS.is_file():
        pytest.skip(f"released upstream files not found at {UPSTREAM} (set W2S_UPSTREAM)")
    return UPSTREAM


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random Llama (seconds to load and run in every engine; its answers are gibberish)."""
    from src.models import make_tiny_model
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def taught_model(tmp_path_factory) -> Path:
    """The tiny model taught to answer in the GSM8K / OlympicArena formats (tests/tiny_teacher.py)."""
    from src.models import make_tiny_model
    from tests.tiny_teacher import teach
    model = make_tiny_model(tmp_path_factory.mktemp("taught") / "model")
    teach(model, steps=200)
    return model
