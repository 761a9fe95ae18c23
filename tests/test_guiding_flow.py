"""The Guiding pipeline's bookkeeping with well-formed model answers, which no small model writes: a
scripted backend answers each prompt by its content (the engines themselves are tested against vLLM
in tests/test_llm_client.py). Checked: each sub-task gets its own three check verdicts, every sample
its own verdict and extracted answer, integer ori_id and the decomposition's sub-task index travel
from the pool to the pairs, the paraphrases join their tasks, and the pairs do not depend on the
order of the rows."""
import re

from src.guiding import error_rates, judge, pairs, teacher
from src.guiding.decompose import check, decompose
from src.llm_client import Client, Result

# sub-tasks the scripted checks reject, by (ori_id, sub_idx), with the reason each check gives
REJECT = {(7, 2): "uses conditions it does not state", (12, 1): "fewer than 2 steps", (12, 3): "a variable-value variant"}


def answer(messages, sample: int) -> str:
    text = messages[-1]["content"]
    if text.startswith("You will read a hard math problem"):
        problem = re.search(r"### The original problem P:\n(.*?)\n\n", text, re.S).group(1)
        k = len(re.findall(r"### Item \d+:", text))
        items = "".join(f"### Item {i}:\nNew problem {i}: [{problem}] part {i}\nNew solution {i}: part {i} of {problem}, "
                        f"\\boxed{{{i}}}\n" for i in range(1, k + 1))
        return items + "### End\nanything after the end marker"
    sub = re.search(r"\[T(\d+)\] part (\d+)", text)  # a sub-task's problem; its solution: "part i of Tn"
    key = (int(sub.group(1)), int(sub.group(2))) if sub else None
    if key is None and (sol := re.search(r"part (\d+) of T(\d+)", text)):
        key = (int(sol.group(2)), int(sol.group(1)))
    if text.startswith("Does the solution below use"):
        return "Conclusion: 0. Reason: it assumes y." if REJECT.get(key, "").startswith("uses") else "Conclusion: 1."
    if text.startswith("Count the arithmetic"):
        return "Steps count: 1." if REJECT.get(key, "").startswith("fewer") else "Steps count: 3."
    if text.startswith("Is problem A only problem B"):
        return "Conclusion: 0" if REJECT.get(key, "").startswith("a variable") else "Conclusion: 1"
    if text.startswith("You are a student"):
        problem = re.search(r"### Problem:\n(.*?)( \(Write|\n\n)", text, re.S).group(1)
        return f"### Solution: attempt {sample} at <{problem}>"
    if text.startswith("Decide whether"):  # attempt 0 is right, the others wrong
        return "Reasoning...\n### Judgement: " + ("1" if "attempt 0 at" in text else "0")
    if text.startswith("Give the final answer"):
        return "### Final answer: " + re.search(r"(attempt \d+ at <[^>]*>)", text).group(1)
    if text.startswith("Paraphrase the"):
        return "### Paraphrased version: P(" + text.split("\n", 3)[-1] + ")"
    raise AssertionError(f"no scripted answer for: {text[:80]}")


class Scripted:
    """A backend with the engines' interface, answering from ``answer``."""

    def run(self, requests, index, finished, stats):
        stats.sent += len(requests)
        finished([(index[p], Result(answer(r.message_dicts(), r.sample), None, "stop")) for p, r in enumerate(requests)])


def pool():
    return [{"ori_id": i, "task": f"T{i}", "solution": f"the long solution of T{i}", "k": k} for i, k in ((7, 2), (12, 3), (30, 2))]


def run_steps():
    client = Client("scripted", Scripted())
    p = pool()
    decomps = decompose(client, p, 0.7, 100)
    assert [d["status"] for d in decomps] == ["ok"] * 3
    assert all(not it["solution"].endswith("marker") for d in decomps for it in d["items"])  # ### End cut
    checks = check(client, p, decomps, 0.7, 100, min_steps=2)
    kept = [{"ori_id": d["ori_id"], **it} for d in decomps for it in d["items"]
            if next(c for c in checks if (c["ori_id"], c["sub_idx"]) == (d["ori_id"], it["sub_idx"]))["kept"]]
    units = teacher.units(p, kept)
    samples = teacher.sample(client, units, k=3, temperature=1.0, top_p=1.0, max_tokens=50, hint_counter="none")
    judged = judge.judge(client, samples, 0.7, 50, extract=True)
    labelled = teacher.transfer(client, judged, 1.0, 50, "none")
    return client, checks, kept, judged, labelled


def test_checks_map_to_their_sub_tasks():
    _, checks, kept, _, _ = run_steps()
    why = {(c["ori_id"], c["sub_idx"]): c["why"] for c in checks}
    assert len(why) == 7 and {k: v for k, v in why.items() if v} == REJECT
    assert [(s["ori_id"], s["sub_idx"]) for s in kept] == [(7, 1), (12, 2), (30, 1), (30, 2)]
    assert all(s["task"] == f"[T{s['ori_id']}] part {s['sub_idx']}" for s in kept)


def test_each_sample_gets_its_own_verdict_and_answer():
    _, _, _, judged, labelled = run_steps()
    keys = [(r["ori_id"], r["sub_idx"]) for r in judged]
    assert keys == [(12, 0), (12, 2), (30, 0), (30, 1), (30, 2), (7, 0), (7, 1)]  # ordered by str(ori_id)
    for r in judged:
        assert r["judgements"] == [1, 0, 0]
        assert r["answers"] == [f"attempt {j} at <{r['task']}>" for j in range(3)]
        assert r["samples"][0] == f"attempt 0 at <{r['task']}>"  # the "### Solution:" header is cut
    assert all(r["transfer_ground_truth"] is None for r in labelled)  # every unit has a correct sample


def test_pairs_keep_ids_and_sub_task_indices_whatever_the_order():
    client, _, _, _, labelled = run_steps()
    built, why = pairs.build(labelled, seed=3)
    assert built == pairs.build(labelled[::-1], seed=3)[0]  # the whole output, not only the choices
    assert [p["ori_id"] for p in built] == [12, 30, 7]
    by_id = {p["ori_id"]: p for p in built}
    assert set(by_id[12]) == {"ori_id", "original", "subtask_2"} and set(by_id[7]) == {"ori_id", "original", "subtask_1"}
    assert by_id[12]["subtask_2"]["pos_ans"] == "attempt 0 at <[T12] part 2>"
    assert by_id[12]["subtask_2"]["neg_ans"] in ("attempt 1 at <[T12] part 2>", "attempt 2 at <[T12] part 2>")
    assert why == {"full: sample": 3, "sub: sample": 4}
    rephrased, failed = pairs.paraphrase(client, built, 1.0, 50)
    assert not failed and [r["ori_id"] for r in rephrased] == [12, 30, 7] and all(set(r) == {"ori_id", "original"} for r in rephrased)
    assert rephrased[0]["original"]["pos_ans"] == "P(attempt 0 at <T12>)"
    merged, missing = error_rates.merge_rephrased(built, rephrased, 100, seed=0)
    assert missing == 0 and len(merged) == 6 and all(r["output"].startswith(("P(attempt", "attempt")) for r in merged)
    assert all(r["wrong"] and "attempt 0" not in r["output"] for r in merged)  # ER 100: every copy wrong too
