"""Data preparation: the release's files are reproduced byte for byte; bad input names file and line."""
import json

import pytest

from src import registry
from src.jsonio import DataError
from src.eval.boxed import boxed
from src.prepare_data import main, seeded_split


def test_from_release_reproduces_released_files(upstream, tmp_path, capsys):
    assert main(["--from", str(upstream), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "math: no train_1 split in this source" in out and "gsm8k: train_1 7000, train_2 7000, test 1319" in out
    for rel in ("llama_factory/gsm8k/gsm8k_train_1.json", "llama_factory/gsm8k/gsm8k_train_2.json",
                "test/gsm8k_train_2.jsonl", "test/gsm8k.jsonl", "test/math.jsonl"):
        assert (tmp_path / rel).read_bytes() == (upstream / "data" / rel).read_bytes(), rel
    info = json.loads((tmp_path / "llama_factory/dataset_info.json").read_text())
    assert info["gsm8k_1"] == {"file_name": "gsm8k/gsm8k_train_1.json", "columns": {"prompt": "content", "response": "output"}}
    assert registry.resolve(tmp_path / "llama_factory", "gsm8k_2") == tmp_path / "llama_factory/gsm8k/gsm8k_train_2.json"


def test_malformed_line_is_one_line_error(tmp_path, capsys):
    raw = tmp_path / "src/raw/gsm8k"
    raw.mkdir(parents=True)
    good = json.dumps({"question": "q", "answer": "a\n#### 1"})
    (raw / "train_1.jsonl").write_text(good + "\n" + json.dumps({"question": "q", "answer": "no final line"}) + "\n")
    assert main(["--from", str(tmp_path / "src"), "--out", str(tmp_path / "out"), "--datasets", "gsm8k"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {raw / 'train_1.jsonl'}:2: the solution has no final line '#### N'"
    (raw / "train_1.jsonl").write_text(good + "\n{oops\n")
    assert main(["--from", str(tmp_path / "src"), "--out", str(tmp_path / "out"), "--datasets", "gsm8k"]) == 1
    assert "train_1.jsonl:2: not valid JSON" in capsys.readouterr().err


def test_registry_errors(tmp_path):
    registry.register(tmp_path, "a", tmp_path / "a.json", "sft")
    with pytest.raises(DataError, match=r"no dataset named 'b' \(registered: a\)"):
        registry.resolve(tmp_path, "b")
    with pytest.raises(DataError, match="points to .*a.json, which does not exist"):
        registry.resolve(tmp_path, "a")


def test_seeded_split_and_boxed():
    rows = [{"i": i} for i in range(11)]
    a1, a2 = seeded_split(rows, 42)
    b1, b2 = seeded_split(rows, 42)
    assert (a1, a2) == (b1, b2) and len(a1) == 5 and len(a2) == 6
    assert sorted(r["i"] for r in a1 + a2) == list(range(11))
    assert seeded_split(rows, 1) != (a1, a2)
    assert boxed(r"so \boxed{1} then \boxed{\frac{1}{2}}.") == r"\frac{1}{2}" and boxed("none") is None
    assert boxed(r"\boxed{1} then \boxed{2}", last=False) == "1" and boxed(r"\boxed{unclosed") is None


def test_demo_problems_read_as_english():
    from src.demo_data import make_problems
    text = " ".join(r["question"] for r in make_problems(300, seed=1))
    assert "boxes" in text and "shelves" in text
    assert "boxs" not in text and "shelfs" not in text
