"""The report's numbers: accuracies with bootstrap intervals, PGR with its interval, and stage II
pairs graded with the benchmark's own judge."""
import json

import pytest

from src.jsonio import write_json, write_jsonl
from src.layout import resolve
from src.report import bootstrap, run_report


def fake_run(tmp_path, correct: dict[str, int], n: int = 40, ds: str = "gsm8k"):
    run = tmp_path / "run"
    (run).mkdir()
    plan, errors = resolve({"DATASET": ds, "WEAK_BASE": "/m/weak", "STRONG_BASE": "/m/strong", "RUN": str(run)})
    assert not errors
    write_json(run / "config.json", plan.config())  # as the run scripts write it
    for name, k in correct.items():
        rows = [{"id": i, "prompt": "q", "response": "r", "pred": "1", "gold": "1", "result": i < k} for i in range(n)]
        write_jsonl(run / "outputs" / name / "results.jsonl", rows)
        write_json(run / "outputs" / name / "metrics.json", {"accuracy": k / n, "count": n}, indent=2)
    return run


def test_pgr_and_intervals(tmp_path):
    run = fake_run(tmp_path, {"weak_test": 10, "eval_ceiling": 30, "eval_iter1_hybrid": 20, "eval_full_weak": 12})
    text = run_report(run)
    stage1 = json.loads((run / "report.json").read_text())["models"]["eval_iter1_hybrid"]
    assert stage1["accuracy"] == 0.5 and stage1["questions"] == 40
    assert stage1["pgr"] == pytest.approx(0.5)                 # (50 - 25) / (75 - 25)
    lo, hi = stage1["pgr_ci"]
    assert lo < 0.5 < hi and hi - lo < 1.5
    assert stage1["accuracy_ci"][0] < 0.5 < stage1["accuracy_ci"][1]
    assert "| stage I, iter1 (hybrid) | 50.00 |" in text       # the table shows the same numbers
    assert "Weak model: `weak`" in text and (run / "pgr.png").stat().st_size > 0


def test_intervals_are_paired_and_seeded(tmp_path):
    run = fake_run(tmp_path, {"weak_test": 10, "eval_ceiling": 30, "eval_dpo": 10})
    a, b = bootstrap(run, ["weak_test", "eval_ceiling", "eval_dpo"]), bootstrap(run, ["weak_test", "eval_ceiling", "eval_dpo"])
    assert a == b
    # the same answers as the floor: PGR exactly 0 in every resample (paired resampling)
    assert a["pgr"]["eval_dpo"] == pytest.approx((0.0, 0.0))
    lo, hi = a["acc"]["weak_test"]
    assert lo < 0.25 < hi


def test_no_pgr_interval_when_the_gap_is_not_clear(tmp_path):
    run = fake_run(tmp_path, {"weak_test": 20, "eval_ceiling": 21, "eval_dpo": 20})
    assert bootstrap(run, ["weak_test", "eval_ceiling", "eval_dpo"])["pgr"] == {}
    assert json.loads((run / "outputs/weak_test/metrics.json").read_text())["accuracy"] == 0.5


def test_olympic_pairs_are_graded_with_the_judge(tmp_path):
    """Chosen / rejected answers of stage II pairs judged with OlympicArena's judge against train_2 gold
    (boxed answers), not with the GSM8K key."""
    run = fake_run(tmp_path, {"weak_test": 10}, ds="olympicarena")
    golds = [{"question": f"q{i}", "answer": ["5"], "answer_type": "NV", "type_sequence": None} for i in range(4)]
    write_jsonl(run / "data/test/olympicarena_train_2.jsonl", golds)
    votes = [{"id": i, "confidence": 0.9, "pos_responses": [{"response": "r", "pred": "5", "result": True}],
              "neg_responses": []} for i in range(4)]
    write_jsonl(run / "outputs/mplus_samples/majority_voting_results.jsonl", votes)
    box = "The final answer is $\\\\boxed{{{}}}$."
    write_json(run / "data/llama_factory/olympicarena/train_pairs.json",
               [{"id": i, "instruction": "q", "input": "", "chosen": box.format("5.0"), "rejected": box.format("7")}
                for i in range(4)])
    text = run_report(run)
    assert "chosen answer correct 100.0 %, rejected answer correct 0.0 % (judged with the olympic judge)" in text


def test_difference_against_full_weak_fine_tuning_is_paired(tmp_path):
    # stage I right on the first 30 questions, full weak FT on the first 12: a paired difference of
    # +45 points whose interval stays above 0; DPO equal to full weak FT: exactly 0 in every resample
    run = fake_run(tmp_path, {"weak_test": 10, "eval_ceiling": 36, "eval_full_weak": 12, "eval_iter1_hybrid": 30,
                              "eval_dpo": 12})
    text = run_report(run)
    row = next(l for l in text.splitlines() if l.startswith("| stage I, iter1") and "better" in l)
    assert "+45.0" in row
    assert bootstrap(run, ["eval_full_weak", "eval_dpo"])["vs_full_weak"]["eval_dpo"] == pytest.approx((0.0, 0.0))
    summary = json.loads((run / "report.json").read_text())["models"]
    assert summary["eval_iter1_hybrid"]["pgr"] == pytest.approx(20 / 26)
    assert summary["eval_iter1_hybrid"]["vs_full_weak_ci"][0] > 0


def test_summary_across_seeds(tmp_path):
    from src.report_seeds import main, summarize
    for seed, (stage1, full) in {1: (30, 12), 2: (26, 14), 3: (20, 20)}.items():
        sub = tmp_path / "repro" / f"seed{seed}"
        sub.mkdir(parents=True)
        run = fake_run(sub, {"weak_test": 10, "eval_ceiling": 30, "eval_full_weak": full, "eval_iter1_hybrid": stage1})
        run_report(run)
        (sub / "report.json").write_text((run / "report.json").read_text())
    text = summarize(tmp_path / "repro")
    row = next(l for l in text.splitlines() if l.startswith("| stage I, iter1"))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[1] == "63.3"                      # mean accuracy of 75, 65, 50
    assert cells[3] == "0.77"                      # mean PGR of 1.00, 0.80, 0.50
    assert cells[5] == "1.00, 0.80, 0.50"
    assert cells[6] == "2 of 3"                    # seed 3 is no better than full weak FT
    assert (tmp_path / "repro/summary.png").stat().st_size > 0
    assert main([str(tmp_path / "nothing")]) == 1
