"""The Guiding study's pipeline steps on handmade data: the pool filter and its length bands, the
units that are sampled, the checks' verdicts, pair formation (seeded, the style-transfer fallback,
the groups dropped) feeding the controlled-error-rate sets. The steps against a real served model
are in tests/test_llm_client.py (test_guiding_steps_against_the_server)."""
import json

import pytest

from src.guiding import error_rates, prompts
from src.guiding.decompose import verdict
from src.guiding.pairs import build, pick
from src.guiding.parsing import parse_bands, subtask_count
from src.guiding.pool import filter_pool
from src.guiding.pool import main as pool_main
from src.guiding.teacher import units
from src.jsonio import DataError, read_jsonl, write_jsonl


def pool_row(i, question="Find x if 2x + 3 = 11.", answer="2x = 8, so x = \\boxed{4}.", length=500, **kw):
    return {"ori_id": f"math_{i:06d}", "question": question, "positive answer": answer, "token_len_pos_ans": length, **kw}


def test_pool_filters_and_length_bands(tmp_path):
    rows = [pool_row(0), pool_row(1, length=1200), pool_row(2, length=400), pool_row(3, length=1601),
            pool_row(4, question="See the figure: find x."), pool_row(5, question="(II) Find x."),
            pool_row(6, answer="Soit x = 4, déjà."), pool_row(7, question="Part II: find x.")]
    write_jsonl(tmp_path / "pool.jsonl", rows)
    assert pool_main(["--input", str(tmp_path / "pool.jsonl"), "--out", str(tmp_path / "p")]) == 0
    kept = read_jsonl(tmp_path / "p/pool.jsonl")
    assert [(r["ori_id"], r["k"]) for r in kept] == [("math_000000", 2), ("math_000001", 3)]
    assert kept[0]["solution"] == rows[0]["positive answer"] and kept[0]["source"] == "pool"
    stats = json.loads((tmp_path / "p/pool.stats.json").read_text())
    assert stats["rejected"] == {"length outside the bands": 2, "keyword": 1, "multi-part marker": 2, "non-English letters": 1}
    # the original lower-cases before matching the markers: "II" and "(II)" never fire
    kept_orig, _ = filter_pool([("f", n, r) for n, r in enumerate(rows, 1)] + [("f", 9, pool_row(8, question="(2) Find x."))],
                               original=True)
    assert [r["ori_id"] for r in kept_orig] == ["math_000000", "math_000001", "math_000005", "math_000007"]
    # other bands (the demo's short solutions)
    kept_demo, _ = filter_pool([("f", 1, pool_row(9, length=40))], bands=parse_bands("1-60:2 61-200:3"))
    assert kept_demo[0]["k"] == 2


def test_pool_errors_name_the_file_line_and_field(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [pool_row(0), {"ori_id": "x", "question": "Q?"}])
    with pytest.raises(DataError, match=r"a.jsonl:2: missing or empty 'positive answer'"):
        filter_pool([(str(tmp_path / "a.jsonl"), n, r) for n, r in enumerate(read_jsonl(tmp_path / "a.jsonl"), 1)])
    with pytest.raises(DataError, match="again"):
        filter_pool([("f", 1, pool_row(0)), ("f", 2, pool_row(0))])
    with pytest.raises(DataError, match="f:1: no token_len_pos_ans; give --counter"):
        filter_pool([("f", 1, {k: v for k, v in pool_row(0).items() if k != "token_len_pos_ans"})])
    for bad in ("400-100:2", "1-10:4", "1-10:2 5-20:3", ""):
        with pytest.raises(ValueError):
            parse_bands(bad)
    assert subtask_count(401) == 2 and subtask_count(1600) == 3 and subtask_count(1601) is None


def test_sampled_units_are_full_tasks_with_kept_subtasks():
    pool = [{"ori_id": "a", "task": "A", "solution": "SA"}, {"ori_id": "b", "task": "B", "solution": "SB"}]
    subs = [{"ori_id": "a", "sub_idx": 2, "task": "A2", "solution": "SA2"}, {"ori_id": "a", "sub_idx": 1, "task": "A1", "solution": "SA1"}]
    assert [(u["ori_id"], u["sub_idx"], u["reference"]) for u in units(pool, subs)] == [("a", 0, "SA"), ("a", 1, "SA1"), ("a", 2, "SA2")]
    assert [(u["ori_id"], u["sub_idx"]) for u in units(pool, subs, all_tasks=True)][-1] == ("b", 0)
    with pytest.raises(DataError, match="no task in the pool"):
        units(pool, [{"ori_id": "z", "sub_idx": 1, "task": "Z", "solution": "S"}])


def test_check_verdicts_never_pass_an_invalid_output():
    ok = lambda v: (v, None)  # noqa: E731
    assert verdict(ok(1), ok(3), ok(1), 2) is None
    assert verdict((None, "no Conclusion"), ok(3), ok(1), 2) == "conditions check invalid: no Conclusion"
    assert verdict(ok(0), ok(3), ok(1), 2) == "uses conditions it does not state"
    assert verdict(ok(1), (None, "failed call"), ok(1), 2) == "steps check invalid: failed call"
    assert verdict(ok(1), ok(1), ok(1), 2) == "fewer than 2 steps"
    assert verdict(ok(1), ok(3), (None, "Conclusion '2'"), 2) == "variant check invalid: Conclusion '2'"
    assert verdict(ok(1), ok(3), ok(0), 2) == "a variable-value variant"


def test_prompts_carry_the_markers_the_parsers_read():
    d = prompts.decompose("P", "S", 3)[0]["content"]
    assert "### Item 3:" in d and "New problem 3:" in d and "New solution 3:" in d and d.rstrip().endswith("### End")
    assert "write 3 new" in d  # the original's 3-sub-task prompt said 2
    s = prompts.solve("Find x.", 100)[0]["content"]
    assert "Find x. (Write a solution of between 50 and 150 tokens.)" in s and s.endswith("### Solution:")
    assert "### Judgement: N/A" in prompts.judge("P", "R", "S")[0]["content"]
    assert "### Paraphrased version:" in prompts.paraphrase("task", "P")[0]["content"]
    with pytest.raises(ValueError):
        prompts.paraphrase("answer", "x")


def unit(ori, sub, samples, judgements, transfer=None):
    return {"ori_id": ori, "sub_idx": sub, "task": f"{ori}-{sub}", "samples": samples, "judgements": judgements,
            "transfer_ground_truth": transfer}


def test_pairs_seeded_with_the_fallback_and_dropped_groups():
    rows = [unit("a", 0, ["r1", "w1", "r2"], [1, 0, 1]), unit("a", 1, ["w", "w2", None], [0, 0, None], transfer="T1"),
            unit("a", 2, ["x", "y", "z"], [1, 1, None]),             # no incorrect sample: dropped
            unit("b", 0, ["w", "w", "w"], [0, 0, 0], transfer="T"),  # pos from the style transfer
            unit("b", 1, ["r", "w", None], [1, 0, None]),
            unit("c", 0, ["r", "w", "w"], [1, 0, 0]),                # no sub-task left: dropped
            unit("d", 1, ["r", "w", "w"], [1, 0, 0]),                # no full task: dropped
            unit("e", 0, ["w", None, None], [0, None, None])]        # no correct solution at all
    pairs, why = build(rows, seed=0)
    assert [p["ori_id"] for p in pairs] == ["a", "b"]
    a, b = pairs
    assert set(a) == {"ori_id", "original", "subtask_1"} and a["original"]["pos_ans"] in ("r1", "r2")
    assert a["original"]["neg_ans"] == "w1"
    assert a["subtask_1"]["pos_ans"] == "T1" and a["subtask_1"]["neg_ans"] in ("w", "w2")
    assert b["original"] == {"task": "b-0", "pos_ans": "T", "neg_ans": "w"}
    assert why["full: style transfer"] == 1 and why["sub: style transfer"] == 1 and why["sub: no incorrect sample"] == 1 and why["full: no correct solution"] == 1
    assert why["task dropped: no sub-task pair"] == 1 and why["task dropped: no full-task pair"] == 1
    assert build(rows, seed=0)[0] == pairs                                  # same seed, same pairs
    assert build(list(reversed(rows)), seed=0)[0][0]["original"] == a["original"]  # independent of the order
    chosen = {pick(unit("q", 0, [f"r{i}" for i in range(8)] + ["w"], [1] * 8 + [0]), seed)[0]["pos_ans"] for seed in range(12)}
    assert len(chosen) > 1  # the seed changes the draw


def test_pairs_feed_the_error_rate_sets(tmp_path):
    rows = []
    for i in range(10):
        rows += [unit(f"t{i}", 0, ["r", "w"], [1, 0]), unit(f"t{i}", 1, ["r", "w"], [1, 0]), unit(f"t{i}", 2, ["r", "w"], [1, 0])]
    pairs, _ = build(rows)
    path = write_jsonl(tmp_path / "task_sol_pairs.jsonl", pairs)
    assert error_rates.main(["grid", "--pairs", str(path), "--out", str(tmp_path / "sets")]) == 0
    hard30 = read_jsonl(tmp_path / "sets/hard_er30.jsonl")
    assert len(hard30) == 10 and sum(r["wrong"] for r in hard30) == 3
    sub30 = read_jsonl(tmp_path / "sets/sub_er30.jsonl")
    assert len(sub30) == 20 and sum(r["wrong"] for r in sub30) == 6


def test_merge_rephrased_and_the_llama_factory_files(tmp_path):
    rows = []
    for i in range(10):
        rows += [unit(f"t{i}", 0, ["r", "w"], [1, 0]), unit(f"t{i}", 1, ["r", "w"], [1, 0])]
    pairs, _ = build(rows)
    path = write_jsonl(tmp_path / "pairs.jsonl", pairs)
    para = [{"ori_id": p["ori_id"], "original": {"task": "P:" + p["original"]["task"], "pos_ans": "P:r", "neg_ans": "P:w"}}
            for p in pairs[:8]]  # two tasks without a paraphrase
    write_jsonl(tmp_path / "para.jsonl", para)
    lf = tmp_path / "lf"
    assert error_rates.main(["build", "--pairs", str(path), "--er_hard", "50", "--rephrased", str(tmp_path / "para.jsonl"),
                             "--out", str(tmp_path / "merge50.jsonl"), "--lf", str(lf)]) == 0
    merged = read_jsonl(tmp_path / "merge50.jsonl")
    hard, copies = [r for r in merged if not r.get("rephrased")], [r for r in merged if r.get("rephrased")]
    assert len(hard) == 10 and sum(r["wrong"] for r in hard) == 5 and len(copies) == 8
    wrong = {r["ori_id"]: r["wrong"] for r in hard}
    assert all(c["output"] == ("P:w" if wrong[c["ori_id"]] else "P:r") for c in copies)  # the same units wrong
    assert hard == error_rates.sft_rows(pairs, "hard", 50)                              # the hard part is the hard set
    info = json.loads((lf / "dataset_info.json").read_text())
    assert info["guiding_merge50"]["columns"] == {"prompt": "content", "response": "output"}
    lf_rows = json.loads((lf / "guiding_merge50.json").read_text())
    assert len(lf_rows) == 18 and lf_rows[0]["id"] == "t0/0" and lf_rows[-1]["id"].endswith("/r")
    assert error_rates.main(["build", "--pairs", str(path), "--er_sub", "10", "--rephrased", str(tmp_path / "para.jsonl"),
                             "--out", str(tmp_path / "x.jsonl")]) == 1


def test_merge_rephrased_joins_integer_and_text_ids(tmp_path, capsys):
    """Released pairs carry integer ori_id; a paraphrase file written elsewhere may carry them as
    text: the copies still join; paraphrases of no task of the pairs are an error, not an empty join."""
    pairs = [{"ori_id": i, "original": {"task": f"T{i}", "pos_ans": "r", "neg_ans": "w"}} for i in range(6)]
    para = [{"ori_id": str(i), "original": {"task": f"P{i}", "pos_ans": "P:r", "neg_ans": "P:w"}} for i in range(6)]
    path, ppath = write_jsonl(tmp_path / "pairs.jsonl", pairs), write_jsonl(tmp_path / "para.jsonl", para)
    assert error_rates.main(["build", "--pairs", str(path), "--er_hard", "50", "--rephrased", str(ppath),
                             "--out", str(tmp_path / "m.jsonl")]) == 0
    merged = read_jsonl(tmp_path / "m.jsonl")
    assert len(merged) == 12 and sum(r["wrong"] for r in merged) == 6
    other = write_jsonl(tmp_path / "other.jsonl", [{**r, "ori_id": f"x{r['ori_id']}"} for r in para])
    assert error_rates.main(["build", "--pairs", str(path), "--er_hard", "50", "--rephrased", str(other),
                             "--out", str(tmp_path / "m2.jsonl")]) == 1
    assert "none of the 6 paraphrased tasks' ori_id is a task of the pairs" in capsys.readouterr().err


def test_weaker_teacher_set_at_its_natural_error_rate(tmp_path, capsys):
    judged = [unit("a", 0, ["wa"], [0]), unit("b", 0, ["rb"], [1]), unit("c", 0, [None, "rc"], [None, 1]),
              unit("d", 0, ["x"], [None]), unit("a", 1, ["s"], [1])]
    write_jsonl(tmp_path / "judged.jsonl", judged)
    assert error_rates.main(["natural", "--judged", str(tmp_path / "judged.jsonl"), "--out", str(tmp_path / "w.jsonl")]) == 0
    rows = read_jsonl(tmp_path / "w.jsonl")
    assert [(r["ori_id"], r["output"], r["wrong"]) for r in rows] == [("a", "wa", True), ("b", "rb", False), ("c", "rc", False)]
    assert "natural ER 33.3 % on 3 tasks (1 without a verdict left out)" in capsys.readouterr().out
