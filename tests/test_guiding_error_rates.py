"""Controlled-error-rate sets: exact sizes, nesting across rates, seeded reproducibility, combined
sets; SWER pooled and per solution."""
import pytest

from src.guiding.error_rates import GRID, combined, main, sft_rows, swer
from src.jsonio import read_jsonl, write_jsonl


def pairs(n=37):
    u = lambda t: {"task": t, "pos_ans": f"right {t}", "neg_ans": f"wrong {t}"}
    return [{"ori_id": f"t{i}", "original": u(f"T{i}"), **{f"subtask_{k}": u(f"T{i}.{k}") for k in range(1, 2 + i % 2 + 1)}}
            for i in range(n)]


def wrong_ids(rows):
    return {(r["ori_id"], r["sub_idx"]) for r in rows if r["wrong"]}


@pytest.mark.parametrize("kind", ["hard", "sub"])
def test_sizes_exact_and_nested(kind):
    p = pairs()
    n = len(sft_rows(p, kind, 0))
    sets = [wrong_ids(sft_rows(p, kind, er, seed=3)) for er in GRID]
    assert [len(s) for s in sets] == [(er * n + 50) // 100 for er in GRID]
    assert sets[0] == set() and len(sets[-1]) == n
    assert all(a <= b for a, b in zip(sets, sets[1:]))       # wrong at 30 % -> wrong at 40 %


def test_seeded_reproducible_and_seed_dependent():
    p = pairs()
    assert sft_rows(p, "hard", 40, seed=1) == sft_rows(p, "hard", 40, seed=1)
    assert wrong_ids(sft_rows(p, "hard", 40, seed=1)) != wrong_ids(sft_rows(p, "hard", 40, seed=2))
    # the mask does not depend on the file order
    assert wrong_ids(sft_rows(p[::-1], "hard", 40, seed=1)) == wrong_ids(sft_rows(p, "hard", 40, seed=1))


def test_rows_use_the_masked_solution():
    rows = sft_rows(pairs(5), "sub", 50, seed=0)
    for r in rows:
        assert r["output"].startswith("wrong" if r["wrong"] else "right")
        assert r["output"].endswith(r["instruction"])
    assert {r["sub_idx"] for r in rows} == {1, 2, 3}


def test_combined_and_cli(tmp_path, capsys):
    p = pairs(10)
    rows = combined(p, 50, 10, seed=0)
    hard = [r for r in rows if r["sub_idx"] == 0]
    sub = [r for r in rows if r["sub_idx"] > 0]
    assert len(hard) == 10 and sum(r["wrong"] for r in hard) == 5
    assert sum(r["wrong"] for r in sub) == (10 * len(sub) + 50) // 100
    write_jsonl(tmp_path / "pairs.jsonl", p)
    assert main(["grid", "--pairs", str(tmp_path / "pairs.jsonl"), "--out", str(tmp_path / "sets")]) == 0
    assert len(list((tmp_path / "sets").glob("*.jsonl"))) == 22
    assert sum(r["wrong"] for r in read_jsonl(tmp_path / "sets/hard_er30.jsonl")) == 3
    bad = p[:2] + [{"ori_id": "x", "original": {"task": "T", "pos_ans": None, "neg_ans": "n"}}]
    write_jsonl(tmp_path / "bad.jsonl", bad)
    assert main(["build", "--pairs", str(tmp_path / "bad.jsonl"), "--er_hard", "10", "--out", str(tmp_path / "o.jsonl")]) == 1
    assert "bad.jsonl:3: original.pos_ans is missing or not text" in capsys.readouterr().err


def test_failed_call_texts_in_pairs_are_left_out(tmp_path, capsys):
    """The original's files hold failed calls as "" or "Invalid Request: Prompt was filtered": such a
    unit never becomes a training target (a failed full task drops its task), and the count is logged."""
    p = pairs(4)
    p[1]["original"]["neg_ans"] = "Invalid Request: Prompt was filtered"
    p[2]["subtask_1"]["pos_ans"] = "  "
    write_jsonl(tmp_path / "pairs.jsonl", p)
    assert main(["build", "--pairs", str(tmp_path / "pairs.jsonl"), "--er_hard", "100", "--er_sub", "100",
                 "--out", str(tmp_path / "o.jsonl")]) == 0
    assert "left out 1 tasks and 1 sub-tasks" in capsys.readouterr().out
    rows = read_jsonl(tmp_path / "o.jsonl")
    assert {r["ori_id"] for r in rows} == {"t0", "t2", "t3"}
    assert ("t2", 1) not in {(r["ori_id"], r["sub_idx"]) for r in rows} and ("t2", 2) in {(r["ori_id"], r["sub_idx"]) for r in rows}
    assert not any(r["output"].strip() in ("", "Invalid Request: Prompt was filtered") for r in rows)


def test_sft_rows_reject_a_rate_above_100():
    p = pairs(3)
    with pytest.raises(ValueError):
        sft_rows(p, "hard", 110)


def test_swer_pooled_and_per_solution():
    # GPT-4o-mini's example in the paper: 1 wrong step of 11; another solution 6 of 9
    a = [{"steps": [True] * 10 + [False]}, {"steps": [True] * 3 + [False] * 6}]
    s = swer(a)
    assert s["pooled"] == pytest.approx(7 / 20) and s["per_solution_mean"] == pytest.approx((1 / 11 + 6 / 9) / 2)
