"""The grader: extraction, normalisation, comparison modes, and fidelity to the released results."""
import json
import time

import pytest

from src.eval import equivalent, extract_answer, get_results, grade_file, normalize_final_answer, test_answer
from src.jsonio import DataError, read_jsonl, write_jsonl
from tests.conftest import WEAK_RESULTS


def test_released_weak_results_reproduced_exactly(upstream, tmp_path):
    """Grading the released Llama2-7b responses reproduces every pred and result, accuracy 41.37 %."""
    released = read_jsonl(WEAK_RESULTS)
    pred_file = tmp_path / "output.jsonl"
    write_jsonl(pred_file, [{"id": r["id"], "prompt": r["prompt"], "response": r["response"]} for r in released])
    metrics = grade_file(pred_file, upstream / "data/test/gsm8k_train_2.jsonl", "####")
    graded = read_jsonl(tmp_path / "results.jsonl")
    assert len(graded) == 7000
    mismatches = [g["id"] for g, r in zip(graded, released)
                  if (g["pred"], g["gold"], g["result"]) != (r["pred"], r["gold"], r["result"])]
    assert mismatches == []
    assert round(metrics["accuracy"] * 100, 2) == 41.37
    assert json.loads((tmp_path / "metrics.json").read_text())["acc"] == metrics["acc"]


def test_get_results_original_entry_point(upstream, tmp_path, monkeypatch):
    """get_results(pred_file, dev_set, answer_key) reads data/test/<dev_set>.jsonl from the working dir."""
    (tmp_path / "data/test").mkdir(parents=True)
    (tmp_path / "data/test/tiny.jsonl").write_text(json.dumps({"answer": "72"}) + "\n" + json.dumps({"answer": "5"}) + "\n")
    write_jsonl(tmp_path / "out/output.jsonl", [{"id": 0, "prompt": "", "response": "so 72\n#### 72"},
                                                {"id": 1, "prompt": "", "response": "The answer is 6."}])
    monkeypatch.chdir(tmp_path)
    metrics = get_results("out/output.jsonl", "tiny", "####")
    rows = read_jsonl(tmp_path / "out/results.jsonl")
    assert [r["result"] for r in rows] == [True, False] and rows[1]["pred"] == "6"
    assert metrics["accuracy"] == 0.5 and metrics["count"] == 2


@pytest.mark.parametrize("response,key,expected", [
    ("5 + 3 = 8\n#### 8", "####", "8"),
    ("#### 8\nQuestion: next one\n#### 9", "####", "8"),          # cut at 'Question'
    ("#### 4\nmore text", "####", ""),                             # key not on the last line: no match...
    ("The answer is 1,234.", "####", "1234"),                      # ...fallback: first number, commas removed
    ("so $x=\\frac{1}{2}$. The answer is: \\frac{1}{2}", "The answer is:", "\\frac{1}{2}"),
    ("#### 12</s>", "####", "12"),
    ("no answer here", "####", ""),
])
def test_extract_answer(response, key, expected):
    assert extract_answer(response, key) == expected


@pytest.mark.parametrize("raw,norm", [
    ("\\boxed{42}", "42"), ("$\\frac12$", "\\frac{1}{2}"), ("\\sqrt2", "\\sqrt{2}"), ("1,000", "1000"),
    ("3.00", "3"), ("3.0", "3"), ("50%", "50"), ("B", "b"), ("x = 5", "5"), ("10 dollars", "10"),
    ("\\text{(C)}", "(C)"), ("0.50", "0.50"),
])
def test_normalize(raw, norm):
    assert normalize_final_answer(raw) == norm


def test_modes():
    assert test_answer("#### 0.50", "0.5", "####") == (False, "0.50", "0.5")          # exact: as released
    assert test_answer("#### 0.50", "0.5", "####", mode="sympy")[0] is True          # the original's intent
    assert equivalent("\\frac{1}{2}", "0.5", "math_verify") is True
    assert equivalent("\\frac{1}{2}", "0.6", "math_verify") is False
    assert equivalent("12", "012", "sympy") is True and equivalent("12", "13", "sympy") is False
    with pytest.raises(ValueError, match="unknown grading mode"):
        equivalent("1", "1", "fuzzy")


def test_symbolic_mode_never_hangs():
    """A power tower sympy would compute forever (inside C code) is cut off at the time limit."""
    start = time.monotonic()
    assert equivalent("2^{2^{2^{2^{2^{2}}}}}", "1", "sympy", timeout=1.0) is False
    assert time.monotonic() - start < 10


def test_results_must_line_up_with_gold(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"answer": str(i)}) + "\n" for i in range(3)))
    short = tmp_path / "a/output.jsonl"
    write_jsonl(short, [{"id": 0, "response": "#### 0"}, {"id": 1, "response": "#### 1"}])
    with pytest.raises(DataError, match=r"has 2 rows but .*gold.jsonl has 3; first missing id 2"):
        grade_file(short, gold, "####")
    dup = tmp_path / "b/output.jsonl"
    write_jsonl(dup, [{"id": 0, "response": ""}, {"id": 0, "response": ""}, {"id": 1, "response": ""}])
    with pytest.raises(DataError, match="row 1: duplicate id 0"):
        grade_file(dup, gold, "####")
    bad = tmp_path / "c/output.jsonl"
    bad.parent.mkdir()
    bad.write_text('{"id": 0, "response": "#### 0"}\n{"id": 1, "response": \n')
    with pytest.raises(DataError, match=r"output.jsonl:2: not valid JSON"):
        grade_file(bad, gold, "####")
    missing = tmp_path / "d/output.jsonl"
    write_jsonl(missing, [{"id": 0}])
    with pytest.raises(DataError, match=r"output.jsonl:1: field 'response' is missing"):
        grade_file(missing, gold, "####")


def test_cli_error_is_one_line(tmp_path, capsys):
    from src.eval.__main__ import main
    bad = tmp_path / "output.jsonl"
    bad.write_text("not json\n")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"answer": "1"}) + "\n")
    assert main([str(bad), "--gold_file", str(gold)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"error: {bad}:1: not valid JSON")
