"""--original_prompts for Alice: the CoT, summariser and revision prompts in the original's own
wording, read with ast from a checkout of the original (../shared/upstream-alice/original here)."""
import ast

import pytest

from src.alice import prompts
from src.alice.original_prompts import OriginalPrompts
from tests.conftest import ROOT

CHECKOUT = ROOT.parent / "shared" / "upstream-alice" / "original"
pytestmark = pytest.mark.skipif(not (CHECKOUT / "cot/cot_generate_filter.py").is_file(),
                                reason=f"the original Alice code is not at {CHECKOUT} (../shared/upstream-alice/original)")


def strings(rel):
    """Every string constant of one of the original's files."""
    tree = ast.parse((CHECKOUT / rel).read_text(encoding="utf-8"))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


@pytest.fixture
def original():
    prompts.use_original(CHECKOUT)
    yield
    prompts.use_original(None)


def test_cot_prompts_are_the_originals(original):
    cot = strings("cot/cot_generate_filter.py")
    arc = prompts.cot_prompt("arc", "Which is a metal? A. wood B. iron")
    assert arc.endswith("Which is a metal? A. wood B. iron") and arc[:-len("Which is a metal? A. wood B. iron")] in cot
    qa = prompts.cot_prompt("hotpotqa", "  Who wrote Hamlet? ")
    assert qa.startswith("Who wrote Hamlet?\n") and qa[len("Who wrote Hamlet?"):] in cot  # question.strip() + the text


def test_summary_and_revision_prompts_are_the_originals(original):
    unc = strings("W2SG_pipeline/ours/new_weak_to_strong_uncertainty.py")
    gsm = prompts.summary_prompt("gsm8k", "How many?", ["a #### 1", "b #### 2"])
    template = next(s for s in unc if s.count("{}") == 2 and gsm.startswith(s.split("{}")[0]))
    assert gsm == template.format("How many?", "1. a #### 1\n2. b #### 2\n")
    final = strings("W2SG_pipeline/ours/new_weak_to_strong_final.py")
    rev = prompts.revision_prompt("arc", "Q?", "my answer", "teacher answer", "it is unsure")
    assert any(rev == s.format("Q?", "my answer", "teacher answer", "it is unsure") for s in final if s.count("{}") == 4)
    assert prompts.revision_prompt("triviaqa", "Q?", "a", "b", "c") != rev  # each dataset its own template


def test_project_wording_without_the_setting(original):
    prompts.use_original(None)
    assert prompts.cot_prompt("arc", "Q?") not in strings("cot/cot_generate_filter.py")


def test_a_wrong_checkout_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkout of the original Alice code"):
        OriginalPrompts(tmp_path)
