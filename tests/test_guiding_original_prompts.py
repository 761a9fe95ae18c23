"""--original_prompts: every Guiding prompt in the original's own wording, read from a checkout of the
original (../shared/upstream-guiding here), never from this project. Skips when it is absent."""
import json

import pytest

from src.guiding import prompts
from src.guiding.original_prompts import KEYS, OriginalPrompts
from tests.conftest import ROOT

CHECKOUT = ROOT.parent / "shared" / "upstream-guiding"
pytestmark = pytest.mark.skipif(not (CHECKOUT / "const/prompt_template.json").is_file(),
                                reason=f"the original Guiding code is not at {CHECKOUT} (../shared/upstream-guiding)")


@pytest.fixture
def original():
    prompts.use_original(CHECKOUT)
    yield json.loads((CHECKOUT / "const/prompt_template.json").read_text(encoding="utf-8"))
    prompts.use_original(None)


def test_each_prompt_is_the_originals_text_then_its_input(original):
    cases = {"decompose2": prompts.decompose("P?", "S.", 2), "decompose3": prompts.decompose("P?", "S.", 3),
             "check_conditions": prompts.check_conditions("P?", "S."), "count_steps": prompts.count_steps("S."),
             "check_variant": prompts.check_variant("A?", "B?"), "judge": prompts.judge("P?", "R.", "S."),
             "extract_answer": prompts.extract_answer("P?", "S."), "solve": prompts.solve("P?", 100),
             "paraphrase": prompts.paraphrase("task", "P?")}
    for name, messages in cases.items():
        [m] = messages
        assert m["role"] == "user" and m["content"].startswith(original[KEYS[name]]), name
        assert "P?" in m["content"] or "S." in m["content"] or "A?" in m["content"], name
    # the released callers' own layouts, evaluated from their source
    assert prompts.paraphrase("solution", "x = 2")[0]["content"] == original["paraphrase_0926"] + "\n### Solution: \nx = 2"
    solve = prompts.solve("Find x.", 100)[0]["content"]
    assert solve.startswith(original["multi_sampling_gen_ans_0909"] + "\n### Problem: \nFind x.Note that")
    assert solve.endswith("more than 150 and NOT be less than 50")


def test_style_transfer_is_the_originals_two_messages(original):
    source = (CHECKOUT / "pipeline/style_transfer.py").read_text(encoding="utf-8")
    system, user = prompts.style_transfer("P?", "the reference", 50)
    assert system["role"] == "system" and json.dumps(system["content"])[1:-1] in source
    assert user["role"] == "user" and user["content"].startswith("Problem: \nP?\n\nReference Info:\nthe reference\n\n")
    assert user["content"].endswith("in range of 40 to 60)")


def test_project_wording_again_without_the_setting(original):
    prompts.use_original(None)
    assert not prompts.solve("P?", 100)[0]["content"].startswith(original["multi_sampling_gen_ans_0909"])


def test_a_wrong_checkout_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkout of the original"):
        OriginalPrompts(tmp_path)
    (tmp_path / "const").mkdir()
    (tmp_path / "const/prompt_template.json").write_text(json.dumps({"paraphrase_0926": "x"}))
    with pytest.raises(ValueError, match="no prompt under decompose_2sub_0825"):
        OriginalPrompts(tmp_path)
