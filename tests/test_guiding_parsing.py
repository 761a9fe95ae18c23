"""The Guiding study's filters and parsers on handmade outputs: good, malformed, truncated, extra
text, and the original's known failure cases (with the flag that reproduces them)."""
from src.guiding.parsing import (clean_sample, parse_check_conditions, parse_decomposition, parse_final_answer,
                                 parse_judgement, parse_paraphrase, parse_steps_count, parse_variant_check,
                                 read_check_conditions, read_decomposition, read_judgement, read_paraphrase, read_steps_count,
                                 subtask_count, task_rejected)

GOOD = """### Item 1:
New problem 1: Compute 2+3.
New solution 1: 2+3 = \\boxed{5}.
### Item 2:
New Problem 2: Compute 5*4.
New Solution 2: 5*4 = \\boxed{20}.
### End"""


def test_filters():
    assert task_rejected("See the figure below.", "x") == "keyword 'figure'"
    assert task_rejected("Find x.", "Visit http://a.b") == "keyword 'http'"
    assert task_rejected("Part (II): find y.", "y = 2") == "multi-part marker 'II'"
    assert task_rejected("Part (II): find y.", "y = 2", original=True) is None      # the original's miss
    assert task_rejected("Find ii and the value.", "ok") is None                     # case-sensitive
    assert task_rejected("(2) Then find z.", "z") == "multi-part marker '(2) '"
    assert task_rejected("Résumé of x?", "1") == "non-English letters"
    assert task_rejected("Find x.", "x = 1") is None
    assert [subtask_count(n) for n in (400, 401, 1000, 1001, 1600, 1601)] == [None, 2, 2, 3, 3, None]


def test_decomposition_parser():
    items = parse_decomposition(GOOD, 2)
    assert items == [("Compute 2+3.", "2+3 = \\boxed{5}."), ("Compute 5*4.", "5*4 = \\boxed{20}.")]
    # the original leaves "### End" in the last solution, and strips "#.*: \n" from both ends of every piece
    assert parse_decomposition(GOOD, 2, original=True) == [("Compute 2+3", "2+3 = \\boxed{5}"),
                                                           ("Compute 5*4", "5*4 = \\boxed{20}.\n### End")]
    assert parse_decomposition(GOOD, 3) is None                                      # wrong count
    assert parse_decomposition(GOOD.split("### Item 2")[0], 2) is None               # truncated
    assert parse_decomposition(GOOD.replace("New solution 1:", "Answer:"), 2) is None  # malformed
    assert parse_decomposition("Sure! Here you go.\n" + GOOD + "\nHope this helps.", 2) == items  # extra text
    assert parse_decomposition("", 2) is None and parse_decomposition("Invalid Request: Prompt was filtered", 2) is None


def test_checks_and_judgements():
    assert parse_check_conditions("Conclusion: 1.") == 1
    assert parse_check_conditions("Conclusion: 0. Reason: uses r from the original.") == 0
    assert parse_check_conditions("Yes, it is fine.") is None
    assert parse_steps_count("Steps count: 4.") == 4 and parse_steps_count("Steps count: 0.") is None
    assert parse_steps_count("There are 4 steps.") == 4                              # no "Steps count" line
    assert parse_variant_check("Conclusion: 0") == 0 and parse_variant_check("Conclusion: 2") is None
    assert parse_judgement("reasoning...\n### Judgement: 1") == 1
    assert parse_judgement("### Judgement: 0.") == 0
    assert parse_judgement("### Judgement: N/A") is None and parse_judgement("") is None
    assert parse_final_answer("### Final answer: 3/4") == "3/4"
    assert parse_final_answer("### Final answer: Unknown") is None and parse_final_answer("no marker") is None
    assert parse_paraphrase("### Paraphrased version: Find x.") == "Find x."
    assert parse_paraphrase("Sure.\n**Paraphrased version:** Find x.") == "Find x."     # what real models write
    assert parse_paraphrase("### Paraphrased version:\n") is None
    assert parse_paraphrase("Find x.") is None
    assert parse_paraphrase("Find x.", original=True) == ""                         # the original stores ""
    assert parse_paraphrase("### Paraphrased version: Find x.", original=True) == "Find x"


def test_format_variants_real_models_write():
    """What Qwen2.5-Coder-1.5B-Instruct and its like write around the markers is read; what breaks
    the format is rejected with its reason."""
    bold = GOOD.replace("### Item 1:", "**Item 1:**").replace("New problem 1:", "**New problem 1:**") \
        .replace("New solution 1:", "**New solution 1:**").replace("### Item 2:", "### **Item 2**").replace("### End", "**End**")
    assert read_decomposition(bold, 2) == (parse_decomposition(GOOD, 2), None)
    spaced = GOOD.replace("New solution 1: ", "\n---\nNew solution 1:\n").replace("### End", "---\n### End")
    assert read_decomposition(spaced, 2)[0] == parse_decomposition(GOOD, 2)
    assert read_decomposition("no items here", 2) == (None, "no Item headers")
    assert read_decomposition(GOOD, 3) == (None, "2 items, not 3")
    assert read_decomposition(GOOD.replace("Item 2", "Item 3"), 2) == (None, "items numbered [1, 3]")
    assert read_decomposition(GOOD.replace("New solution 1:", "Answer:"), 2) == (None, "item 1: no 'New problem 1' and 'New solution 1'")
    assert read_decomposition(GOOD.replace("Compute 5*4.", ""), 2) == (None, "item 2: empty problem")
    assert read_decomposition(None, 2) == (None, "failed call")
    # the checks: bold, backticks, a sentence first, restated alike; contradictions and other values rejected
    assert read_check_conditions("The solution only uses given values.\n**Conclusion:** 1.") == (1, None)
    assert read_check_conditions("`Conclusion: 0. Reason: uses r.`") == (0, None)
    assert read_check_conditions("Conclusion: 1.\n...\nConclusion: 0.") == (None, "contradictory Conclusions")
    assert read_check_conditions("It is fine.") == (None, "no Conclusion")
    assert read_check_conditions("Conclusion: yes") == (None, "Conclusion: without a value after it")
    assert read_check_conditions("Conclusion: 2.") == (None, "Conclusion '2'")
    # what Qwen2.5-Coder-1.5B-Instruct wrote: prose, then a boxed code that contradicts it; or a heading
    assert read_check_conditions("...so A is not a variant of B.\n\nThe conclusion is:\n\\[\n\\boxed{0}\n\\]") \
        == (None, "no Conclusion (a \\boxed{} answer instead)")
    assert read_check_conditions("### Conclusion:\n\\[\n\\boxed{0}\n\\]") == (None, "Conclusion: without a value after it")
    assert read_check_conditions("### Conclusion:\nSince they are identical, Conclusion: 0.") == (0, None)
    assert parse_variant_check("Conclusion: **1**") == 1 and parse_variant_check("Conclusion: 2") is None
    assert read_steps_count("**Steps count:** 5.") == (5, None) and read_steps_count("`Steps count: 3.`") == (3, None)
    assert read_steps_count("Step 1 ... Step 2 ... 2 steps in all.") == (2, None)
    assert read_steps_count("3 steps, or 4 steps") == (None, "contradictory Steps counts")
    assert read_steps_count("Steps count: 0.") == (None, "count below 1")
    assert read_steps_count("many") == (None, "no Steps count")
    # the judge: Judgment too, bold, the last verdict when restated; N/A and other values by reason
    assert read_judgement("...\n**Judgment: 1**") == (1, None)
    assert read_judgement("### Judgement: 0\n...on reflection\n### Judgement: 1") == (1, None)
    assert read_judgement("### Judgement: N/A") == (None, "N/A")
    assert read_judgement("### Judgement: correct") == (None, "Judgement 'correct'")
    assert read_judgement("The answer is right.") == (None, "no Judgement")
    assert read_judgement("...matches the reference.\n\nTherefore, the final answer is:\n\\[\n\\boxed{1}\n\\]") \
        == (None, "no Judgement (a \\boxed{} answer instead)")
    assert read_check_conditions("(Conclusion: 1)") == (1, None)  # what the model wrote to the original's wording
    assert parse_final_answer("**Final answer:** 3/4") == "3/4"
    assert read_paraphrase("**Paraphrased version:**\nFind x.") == ("Find x.", None)
    assert read_paraphrase("Find x.") == (None, "no 'Paraphrased version'")
    assert read_paraphrase("### Paraphrased version: **") == (None, "nothing after the marker")
    assert clean_sample("**Solution:**\nx = 1") == "x = 1" and clean_sample("Solution set: {1}") == "Solution set: {1}"


def test_sample_cleaning():
    text = "### Solution: The Solution set is {1, 2}."
    assert clean_sample(text) == "The Solution set is {1, 2}."
    assert clean_sample(text, original=True) == "The  set is {1, 2}"   # every "Solution" deleted, "#.*: \n" stripped


# ------------------------------------------------------------------ against the original's own code
import ast  # noqa: E402
import logging  # noqa: E402

import pytest  # noqa: E402

from tests.conftest import ROOT  # noqa: E402

GUIDING_ORIGINAL = ROOT.parent / "shared" / "upstream-guiding"

# decomposition outputs the original and the project must read alike in original mode
DECOMPOSITIONS = [
    GOOD,
    GOOD.replace("### End", ""),
    "Here it is.\n" + GOOD + "\nHope this helps.",
    "### Item 1:\n**New problem 1:** Find x.\n**New solution 1:** x = 2.\n### Item 2:\nNew problem 2: B\nNew solution 2: C",
    "### Item 1:\nNew problem 1: A\nNew Solution 1: B\n### Item 2:\nNew problem 2: C\nNew solution 2: D",   # mixed case
    "### Item 1:\nNew problem 1:\nNew solution 1: B\n### Item 2:\nNew problem 2: C\nNew solution 2: D",    # empty problem
    "### Item 1:\nNew problem 1: A\nNew solution 1: B (see New solution 1) C\n### Item 2:\nNew problem 2: C\nNew solution 2: D",
    "### Item 1:\nNew problem 1: A\nNew solution 1: B\n### Item 2:\nNew problem 2: C\nNew solution 2: D\n"
    "### Item 3:\nNew problem 3: E\nNew solution 3: F",                                                   # three items
    "###Item 1:\nNew problem 1: A\nNew solution 1: B",                                                    # no space
    "### Item 1:\nNew problem 1: A\nNew solution 1: B\n### Item 3:\nNew problem 3: C\nNew solution 3: D",  # a gap
    "No items at all.",
]


def original_function(relpath: str, name: str, **namespace):
    """One function of the original, taken from its source with ast and run as it is."""
    path = GUIDING_ORIGINAL / relpath
    if not path.is_file():
        pytest.skip(f"the original Guiding code is not at {GUIDING_ORIGINAL} (../shared/upstream-guiding)")
    tree = ast.parse(path.read_text())
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    scope = dict(namespace)
    exec(compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec"), scope)
    return scope[name]


def original_noise_chars():
    path = GUIDING_ORIGINAL / "pipeline/utils_async.py"
    if not path.is_file():
        pytest.skip(f"the original Guiding code is not at {GUIDING_ORIGINAL} (../shared/upstream-guiding)")
    tree = ast.parse(path.read_text())
    return next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                and any(getattr(t, "id", None) == "NOISE_CHARS" for t in n.targets))


@pytest.mark.parametrize("text", DECOMPOSITIONS)
def test_original_mode_decomposition_is_the_originals(text):
    s1_res_match = original_function("pipeline/utils_async.py", "s1_res_match", NOISE_CHARS=original_noise_chars())
    problems, solutions = s1_res_match(logging.getLogger("original"), text)
    theirs = None if problems is None or not problems else list(zip(problems, solutions))
    assert parse_decomposition(text, 2, original=True) == theirs


@pytest.mark.parametrize("text", ["### Solution: The Solution set is {1, 2}.", "Solution:\n x = 3.", "**Solution**: 4.",
                                  "Plain text #.", ""])
def test_original_mode_sample_cleaning_is_the_originals(text):
    noise = original_noise_chars()
    # multi_sampling.py: `if start_sign in sample: sample = sample.replace(start_sign, "")`, then strip(NOISE_CHARS)
    theirs = (text.replace("Solution", "") if "Solution" in text else text).strip(noise)
    assert clean_sample(text, original=True) == theirs


@pytest.mark.parametrize("text", ["### Paraphrased version: Find x.", "**Paraphrased version:** Find x.", "Find x.",
                                  "Paraphrased version: A. Paraphrased version: B", ""])
def test_original_mode_paraphrase_is_the_originals(text):
    noise = original_noise_chars()
    # paraphrase.py: `new_task = raw_output.split(sign)[1].strip(NOISE_CHARS)` if the sign is in it, else ""
    sign = "Paraphrased version"
    theirs = text.split(sign)[1].strip(noise) if sign in text else ""
    assert parse_paraphrase(text, original=True) == theirs
