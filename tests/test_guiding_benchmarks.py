"""The Guiding study's five evaluation benchmarks: each loader on a small local copy in the hub's (or
the release's) layout, the converter's output parser on good and bad outputs, the answer rule, and
the registry units' chat prompt with its empty system turn."""
import json

import pytest

from src import benchmarks
from src.eval.boxed import boxed
from src.eval.judges import grade_guiding as grade
from src.guiding.benchmarks import load, main, parse_converted
from src.jsonio import DataError, read_jsonl, write_jsonl


def test_math500_and_olympic_loaders(tmp_path):
    write_jsonl(tmp_path / "math500.jsonl", [
        {"problem": "Compute $1+1$.", "solution": "It is $\\boxed{2}$.", "answer": "2", "subject": "Algebra", "level": 1},
        {"problem": "Find $x$.", "solution": "So $x = \\boxed{\\frac{1}{2}}$.", "subject": "Algebra", "level": 2}])
    rows = load("math500", tmp_path / "math500.jsonl")
    assert [(r["id"], r["answer"], r["needs"]) for r in rows] == [(0, "2", ""), (1, "\\frac{1}{2}", "")]
    assert rows[0]["ground_truth"] == "It is $\\boxed{2}$."
    import datasets
    d = datasets.DatasetDict({"val": datasets.Dataset.from_list([
        {"id": "Math_1", "problem": "Find n.", "solution": "n = 3", "answer": ["3"], "figure_urls": None, "language": "EN"},
        {"id": "Math_2", "problem": "See the figure.", "solution": "", "answer": ["1"], "figure_urls": ["u"], "language": "EN"},
        {"id": "Math_3", "problem": "Find a, b.", "solution": "1 and 2", "answer": ["1", "2"], "figure_urls": None, "language": "EN"}])})
    d.save_to_disk(str(tmp_path / "olympic"))
    rows = load("olympic", tmp_path / "olympic")
    assert [(r["question"], r["answer"]) for r in rows] == [("Find n.", "3"), ("Find a, b.", "1, 2")]


def test_jee_sat_gaokao_loaders(tmp_path):
    (tmp_path / "dataset.json").write_text(json.dumps([
        {"description": "JEE Adv 2016 Paper 1", "index": 1, "subject": "math", "type": "MCQ", "question": "Which is 2? (A) 1 (B) 2", "gold": "B"},
        {"description": "JEE Adv 2016 Paper 1", "index": 2, "subject": "phy", "type": "Integer", "question": "g?", "gold": "10"},
        {"description": "JEE Adv 2016 Paper 1", "index": 3, "subject": "math", "type": "Integer", "question": "How many?", "gold": "4"},
        {"description": "JEE Adv 2016 Paper 1", "index": 4, "subject": "math", "type": "MCQ", "question": "Let f. Then\n\n(A) f is odd", "gold": "A"}]))
    rows = load("jee", tmp_path / "dataset.json")
    # math only, "Then\n\n(A)" skipped; every row through the converter, multiple choice or not (as the original)
    assert [(r["answer"], r["needs"]) for r in rows] == [("B", "convert"), ("4", "convert")]
    write_jsonl(tmp_path / "sat-math.jsonl", [
        {"passage": None, "question": "If 2x = 6, what is x?", "options": ["(A)2", "(B)3", "(C)4", "(D)6"], "label": "B",
         "answer": None, "other": {"solution": "x = 3"}}])
    [sat] = load("sat", tmp_path / "sat-math.jsonl")
    assert sat["answer"] == "3" and sat["needs"] == "convert" and "Options:" in sat["question"] and sat["ground_truth"] == "x = 3"
    write_jsonl(tmp_path / "bad-sat.jsonl", [{"question": "Q", "options": ["(A)1"], "label": "C"}])
    with pytest.raises(DataError, match="bad-sat.jsonl:1: label 'C' names no single option"):
        load("sat", tmp_path / "bad-sat.jsonl")
    write_jsonl(tmp_path / "gaokao-mathcloze.jsonl", [{"passage": None, "question": "已知 x+1=3，则 x=____", "options": None,
                                                       "label": None, "answer": "2", "other": None}])
    [g] = load("gaokao", tmp_path / "gaokao-mathcloze.jsonl")
    assert g["answer"] == "2" and g["needs"] == "translate"
    write_jsonl(tmp_path / "empty-answer.jsonl", [{"question": "Q", "answer": ""}])
    with pytest.raises(DataError, match="empty-answer.jsonl:1: missing or empty 'answer'"):
        load("gaokao", tmp_path / "empty-answer.jsonl")
    # the command line: rows that need no conversion become the evaluation file without a model
    assert main(["load", "--name", "math500", "--source", str(tmp_path / "dataset.json"), "--out", str(tmp_path / "o")]) == 1
    write_jsonl(tmp_path / "m.jsonl", [{"problem": "P", "solution": "\\boxed{1}"}])
    assert main(["load", "--name", "math500", "--source", str(tmp_path / "m.jsonl"), "--out", str(tmp_path / "o")]) == 0
    assert main(["convert", "--rows", str(tmp_path / "o/math500.jsonl"), "--out", str(tmp_path / "o")]) == 0
    assert read_jsonl(tmp_path / "o/math500.eval.jsonl") == [{"id": 0, "question": "P", "answer": "1", "ground_truth": "\\boxed{1}"}]


def test_converter_outputs_are_parsed_strictly():
    good = "### New Question: If 2x = 6, what is x?\n### New Solution/Answer: 3"
    assert parse_converted(good) == ("If 2x = 6, what is x?", "3")
    assert parse_converted("None") == "no markers"
    assert parse_converted("### New Question: Which of the following is true?\n### New Solution/Answer: x") == "statement options or 'none'"
    assert parse_converted(None) == "failed call"
    assert parse_converted("### New Question: \n### New Solution/Answer: 3") == "empty question or answer"
    # the original's strip at both ends: markdown, colons and a trailing period go; up to a second marker
    assert parse_converted("### New Question: **If 2x = 24, what is x?**\n### New Solution/Answer: 12.") == ("If 2x = 24, what is x?", "12")
    assert parse_converted("### New Question: Q?\n### New Solution/Answer: .5\n### New Solution/Answer: 7")[1] == ".5"
    # a translation may say "following" and is kept (the drop words are the MCQ converter's)
    assert parse_converted("### New Question: Find the following sum: 1+1?\n### New Solution/Answer: 2", drop_words=False)[1] == "2"


def test_answer_rule_last_boxed_normalised_and_symbolic():
    assert boxed("a \\boxed{1} then \\boxed{ \\frac{1}{2} } end") == " \\frac{1}{2} " and boxed("no box") is None
    rows = [{"response": r} for r in ("so \\boxed{0.5}", "so \\boxed{\\dfrac12}", "the answer is 2", "\\boxed{3}", "\\boxed{x}")]
    golds = [{"answer": "\\frac{1}{2}"}] * 2 + [{"answer": "2"}, {"answer": "3"}, {"answer": ""}]
    out = grade(rows, golds, mode="sympy", workers=1)
    assert [r["result"] for r in out] == [True, True, False, True, None]  # no boxed answer: wrong; no gold: not graded
    # a gold or a boxed answer ending a sentence ("12.") is graded as 12, both ways, in every mode
    for mode in ("sympy", "exact", "math_verify"):
        both = grade([{"response": "\\boxed{12}"}, {"response": "\\boxed{12.}"}, {"response": "\\boxed{1.2}"}],
                     [{"answer": "12."}, {"answer": "12"}, {"answer": "12"}], mode=mode, workers=1)
        assert [r["result"] for r in both] == [True, True, False], mode
    exact = grade([{"response": "\\boxed{0.5}"}, {"response": "\\boxed{\\frac12}"}], golds[:2], mode="exact", workers=1)
    assert [r["result"] for r in exact] == [False, True]  # strings after normalisation only


def test_registry_units_use_an_empty_system_turn(tiny_model):
    from transformers import AutoTokenizer

    from src.prompts import chat_prompts
    for name in benchmarks.names():
        if name.startswith("guiding_"):
            b = benchmarks.get(name)
            assert (b.system, b.max_tokens, b.prompt_style, b.judge) == ("", 1680, "chat", "guiding")
    tok = AutoTokenizer.from_pretrained(tiny_model)
    tok.chat_template = ("{% for m in messages %}<|{{ m.role }}|>{{ m.content }}</s>{% endfor %}"
                         "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    [p] = chat_prompts(tok, ["Q?"], benchmarks.get("guiding_math500").system)
    assert p == "<|system|></s><|user|>Q?</s><|assistant|>"
    assert chat_prompts(tok, ["Q?"])[0] == "<|user|>Q?</s><|assistant|>"
