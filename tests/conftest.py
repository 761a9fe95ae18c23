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
