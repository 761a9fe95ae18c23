"""The Guiding study's filters and parsers on handmade outputs: good, malformed, truncated, extra
text, and the original's known failure cases (with the flag that reproduces them)."""
from src.guiding.parsing import (clean_sample, parse_check_conditions, parse_decomposition, parse_final_answer,
                                 parse_judgement, parse_paraphrase, parse_steps_count, parse_variant_check,
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
    # the original leaves "### End" in the last solution
    assert parse_decomposition(GOOD, 2, original=True)[1][1].endswith("### End")
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
    assert parse_steps_count("There are 4 steps.") is None
    assert parse_variant_check("Conclusion: 0") == 0 and parse_variant_check("Conclusion: 2") is None
    assert parse_judgement("reasoning...\n### Judgement: 1") == 1
    assert parse_judgement("### Judgement: 0.") == 0
    assert parse_judgement("### Judgement: N/A") is None and parse_judgement("") is None
    assert parse_final_answer("### Final answer: 3/4") == "3/4"
    assert parse_final_answer("### Final answer: Unknown") is None and parse_final_answer("no marker") is None
    assert parse_paraphrase("### Paraphrased version: Find x.") == "Find x."
    assert parse_paraphrase("Find x.") is None


def test_sample_cleaning():
    text = "### Solution: The Solution set is {1, 2}."
    assert clean_sample(text) == "The Solution set is {1, 2}."
    assert clean_sample(text, original=True) == "### : The  set is {1, 2}."   # every "Solution" deleted
