"""The evaluation's LLM judge on handmade responses, answered by a scripted backend (the engines are
tested against vLLM in tests/test_llm_client.py; the command runs on a real engine in
tests/test_guiding_pipeline.py): the verdict of each response, N/A and failed calls left unjudged
with their reason, the accuracy and the agreement with the rule, the join on ``id``, the report's
table."""
import re

import pytest

from src.guiding import eval_judge
from src.guiding.report import build
from src.jsonio import DataError, write_json, write_jsonl
from src.llm_client import Client, Result

# the scripted judge's answer by the response it reads
VERDICTS = {"says 5": "The result matches.\n### Judgement: 1", "says 6": "### Judgement: 0.",
            "says nothing": "### Judgement: N/A", "rambles": "It is hard to say."}


class Scripted:
    def run(self, requests, index, finished, stats):
        stats.sent += len(requests)
        out = []
        for p, r in zip(index, requests):
            text = r.message_dicts()[-1]["content"]
            assert "### Reference Solution:\nThe final answer is 5." in text  # the gold answer is the reference
            said = re.search(r"### Solution to be judged:\n(.*)", text, re.S).group(1)
            out.append((p, Result(None, "APIError 500: boom") if said == "crashes" else Result(VERDICTS[said], None, "stop")))
        finished(out)


def rows(*responses_and_rule):
    results = [{"id": i, "response": resp, "result": rule} for i, (resp, rule) in enumerate(responses_and_rule)]
    golds = [{"id": i, "question": f"Q{i}", "answer": "5"} for i in range(len(results))]
    return results, golds


def test_verdicts_failures_and_agreement():
    results, golds = rows(("says 5", True), ("says 6", False), ("says 6", True), ("says nothing", False),
                          ("rambles", True), ("crashes", True))
    out = eval_judge.judge(Client("scripted", Scripted()), eval_judge.join(results[::-1], golds, "r.jsonl"), 0.0, 64)
    assert [r["id"] for r in out] == list(range(6))  # the gold file's order, whatever the results' order
    assert [r["llm_result"] for r in out] == [True, False, False, None, None, None]
    assert [r["llm_error"] for r in out][:3] == [None] * 3
    assert (out[3]["llm_error"], out[4]["llm_error"]) == ("N/A", "no Judgement")  # each rejection by its reason
    assert out[5]["llm_error"] == "APIError 500: boom"  # a failed call is a failure, not a verdict
    s = eval_judge.summary(out)
    assert s == {"questions": 6, "judged": 3, "unjudged": 3, "accuracy": 1 / 3, "rule_accuracy": 2 / 3, "agreement": 2 / 3}


def test_results_must_match_the_gold_file():
    results, golds = rows(("says 5", True), ("says 6", False))
    with pytest.raises(DataError, match=r"r.jsonl: 1 results for 2 questions \(no result for id \[1\]\)"):
        eval_judge.join(results[:1], golds, "r.jsonl")
    with pytest.raises(DataError, match="row 2: id 0 appears twice"):
        eval_judge.join([results[0], results[0]], golds, "r.jsonl")


def test_report_shows_the_judge_beside_the_rule(tmp_path):
    for run in ("start", "hard_er0"):
        d = tmp_path / "outputs" / run / "math500"
        write_jsonl(d / "results.jsonl", [{"result": True}, {"result": False}])
        write_json(d / "llm_results.stats.json", {"questions": 2, "judged": 2, "unjudged": 0, "accuracy": 1.0,
                                                  "rule_accuracy": 0.5, "agreement": 0.5, "model": "judge-x"})
    text, data = build(tmp_path, ["math500"], ["start", "hard_er0"])
    section = text.split("## LLM judge (judge-x)")[1]
    assert "| hard 0 | 100.0 (agrees 50.0, unjudged 0) |" in section
    assert data["llm_judge"]["start"]["math500"]["accuracy"] == 1.0
    (tmp_path / "outputs/start/math500/llm_results.stats.json").unlink()
    (tmp_path / "outputs/hard_er0/math500/llm_results.stats.json").unlink()
    assert "## LLM judge" not in build(tmp_path, ["math500"], ["start", "hard_er0"])[0]  # not run: no section
