"""Alice's rules on handmade cases: clustering, each dataset's "same answer", CoT filters and
scorers (original and strict), the splits, and the ARC loader on the original's processed data."""
from pathlib import Path

import pytest

from src.alice import cluster as clustering
from src.alice import data
from src.eval import alice_answers as answers
from src.eval.alice_answers import cot_keep, final_answer, score, score_strict

SHARED_ARC = Path(__file__).resolve().parents[2] / "shared/upstream-alice/arc_challenge_processed"


def clusters_of(ds, responses):
    finals = [final_answer(ds, r) for r in responses]
    return clustering.leader_clusters(responses, clustering.marker_same(finals))


def test_leaders_sizes_and_singletons_dropped():
    rs = ["a #### 5", "b #### 7", "c #### 5", "d #### 9", "e #### 7", "f #### 5"]
    cs = clusters_of("gsm8k", rs)
    assert [(c.response, c.size, c.members) for c in cs] == [("a #### 5", 3, (0, 2, 5)), ("b #### 7", 2, (1, 4))]
    assert clustering.final_response(cs) == "a #### 5"     # "#### 9" was a singleton: dropped


def test_tie_goes_to_the_first_cluster_found():
    cs = clusters_of("gsm8k", ["x #### 2", "y #### 3", "z #### 3", "w #### 2"])
    assert [c.size for c in cs] == [2, 2] and clustering.final_response(cs) == "x #### 2"


def test_question_dropped_when_no_cluster_reaches_two():
    cs = clusters_of("gsm8k", ["#### 1", "#### 2", "no marker", "no marker"])
    assert cs == [] and clustering.final_response(cs) is None


def test_response_without_marker_matches_nothing():
    # two identical marker-less responses do not form a cluster; they do not join others either
    cs = clusters_of("arc", ["I think so.", "I think so.", "My choice is B.", "My choice is B."])
    assert [(c.response, c.size) for c in cs] == [("My choice is B.", 2)]


def test_same_answer_rules():
    assert answers.same_answer("gsm8k", "so #### 15 ", "then\n#### 15")
    assert not answers.same_answer("gsm8k", "#### 15", "#### 15.0")           # strings, not numbers
    assert answers.same_answer("arc", "My choice is A.", "... My choice is A.")
    assert not answers.same_answer("arc", "My choice is A.", "My choice is A")  # the period counts
    with pytest.raises(ValueError):
        answers.same_answer("hotpotqa", "a", "b")


def test_embedding_same_uses_cosine_above_threshold():
    same = clustering.embedding_same([[1, 0], [0.95, 0.1], [0, 1], [2, 0]])
    assert same(0, 1) and same(0, 3) and not same(0, 2)
    cs = clustering.leader_clusters(["a", "b", "c", "d"], same)
    assert [(c.response, c.members) for c in cs] == [("a", (0, 1, 3))]


def test_cot_filters():
    assert cot_keep("hotpotqa", "Step 1 ... so the answer is Paris, France.", "paris")
    assert not cot_keep("triviaqa", "It is Lyon.", "Paris")
    assert cot_keep("arc", "Reasoning. My choice is B. because", "B. wet palms")
    assert cot_keep("arc", "My choice is wet palms.", "B. wet palms")           # the option text
    assert not cot_keep("arc", "My choice is C.", "B. wet palms")
    assert not cot_keep("arc", "The answer is B.", "B. wet palms")              # no marker: dropped
    assert cot_keep("arc", "My choice is 2.", "2. a magnet")                    # numeric labels
    with pytest.raises(ValueError):
        cot_keep("gsm8k", "x", "y")


def test_gsm8k_scores():
    gold = "He buys 3<<3>> ... \n#### 1000"
    assert score("gsm8k", "so #### 1000", gold) is True
    assert score("gsm8k", "so #### 1,000", gold) is False and score_strict("gsm8k", "so #### 1,000", gold) is True
    assert score("gsm8k", "the answer is 1000", gold) is None                 # not counted
    assert score_strict("gsm8k", "the answer is 1000", gold) is False          # counted as wrong
    assert score_strict("gsm8k", "#### 1000.0", gold) is True


def test_arc_scores_numeric_labels_and_option_e():
    assert score("arc", "... My choice is B.", "B. wet palms") is True
    assert score("arc", "... My choice is C.", "B. wet palms") is False
    assert score("arc", "I pick B.", "B. wet palms") is None                   # cot without marker
    assert score_strict("arc", "I pick B.", "B. wet palms") is False
    assert score("arc", "B. wet palms", "B. wet palms", style="qa") is True     # qa: the whole response
    assert score("arc", "My choice is 3.", "3. the Sun") is True
    assert score("arc", "My choice is E.", "E. none of the above") is True
    assert score("arc", "My choice is D.", "E. none of the above") is False


def test_qa_scores():
    assert score("hotpotqa", "It was Paris.", "paris") is True
    assert score("triviaqa", "The Beatles, I think", ["beatles", "the beatles"]) is True
    assert score("triviaqa", "Queen", ["beatles"]) is False


def test_splits_by_position():
    rows = [{"id": i, "question": f"q{i}", "answer": "a"} for i in range(101)]
    s = data.split("gsm8k", rows)
    assert [r["id"] for r in s["teacher"]] == list(range(50)) and [r["id"] for r in s["transfer"]] == list(range(50, 101))
    q = data.split("hotpotqa", rows)
    assert [r["id"] for r in q["transfer"]] == list(range(50, 60))             # the first 20 % of 51


@pytest.mark.skipif(not SHARED_ARC.is_dir(), reason=f"{SHARED_ARC} absent (the original's processed ARC-Challenge)")
def test_arc_loader_on_the_processed_data():
    d = data.load("arc", SHARED_ARC)
    assert len(d["train"]) == 1119 and len(d["eval"]) == 1172
    first = d["train"][0]
    assert first["answer"] == "A. dry palms" and first["question"].endswith("\nD. palms covered with lotion")
    for row in d["train"] + d["eval"]:
        letter, text = answers.arc_gold(row["answer"])
        assert f"\n{letter}. {text}" in row["question"]
    numeric = sum(answers.arc_gold(r["answer"])[0].isdigit() for r in d["train"])
    option_e = sum("\nE. " in r["question"] for r in d["eval"])
    assert numeric == 23 and option_e == 3
    s = data.split("arc", d["train"])
    assert len(s["teacher"]) == 559 and len(s["transfer"]) == 560


def test_uncertainty_statements_are_classified():
    from src.alice.uncertainty import check
    assert check("I am unsure whether the film came out in 1949 or 1954.").kind == "ok"
    assert check('Uncertainty: "I do not know who directed it."').text == "I do not know who directed it."
    assert check("N/A").kind == "na" and check(" n/a. ").kind == "na"
    assert check("   ").kind == "empty"
    assert check("One. Two. Three. Four.").kind == "rambling"
    assert check("I am unsure.\n\nSure! Here is more.").kind == "rambling"
    assert check("The responses disagree on the year.").kind == "mentions"
    assert check("Response 2 says 1954 but I think 1949.").kind == "mentions"
    assert check("**Uncertainty:** I am unsure of the year.").text == "I am unsure of the year."
    # about the prompt's worked example, not the question (what Qwen2.5-Coder-1.5B-Instruct wrote as summariser)
    prompt = ("...\nQuestion: A shop sells pens at $3 each and offers 2 free pens with every 10 bought. How much does "
              "it cost to get 24 pens?\nAnswers: ...\nNow your turn.\nQuestion: A farmer has 60 chickens ...")
    chickens = "A farmer has 60 chickens. He sells a third and buys 10 more. How many chickens does he have?"
    copied = "I am unsure how to count the free pens in the total number of chickens."
    assert check(copied, question=chickens, prompt=prompt).kind == "example"
    assert check("I am unsure whether he sells a third before or after buying more.", question=chickens, prompt=prompt).kind == "ok"
    assert check(copied).kind == "ok"  # no prompt given: not checked


def test_prompts_keep_the_markers_and_the_raw_question():
    from src.alice import prompts
    q = "Which is heavier?\nA. a feather\nB. a brick"
    arc = prompts.cot_prompt("arc", q)
    assert "My choice is X." in arc and arc.endswith("Here is the question:" + q)   # joined with no space
    assert prompts.cot_prompt("hotpotqa", "Who?").startswith("Who?")
    s = prompts.summary_prompt("gsm8k", "Q?", ["a #### 1", "b #### 2"])
    assert s.endswith("Question: Q?\nAnswers:\n1. a #### 1\n2. b #### 2\nUncertainty:") and "N/A" in s
    with pytest.raises(ValueError):
        prompts.summary_prompt("gsm8k", "Q?", ["only one"])
    r = prompts.revision_prompt("gsm8k", "Q?", "mine #### 3", "theirs #### 4", "I am unsure.")
    assert "#### <answer>" in r and "mine #### 3" in r and "theirs #### 4" in r and "I am unsure." in r
    assert "My choice is X." in prompts.revision_prompt("arc", q, "o", "t", "u")
    assert "never say that you do not know" in prompts.revision_prompt("triviaqa", "Q?", "o", "t", "u")


def test_cluster_step_joins_samples_by_id(tmp_path, capsys):
    from src.alice.cluster import main
    from src.jsonio import read_jsonl, write_jsonl
    write_jsonl(tmp_path / "q.jsonl", [{"id": 7, "question": "Q7"}, {"id": 3, "question": "Q3"}])
    answers = {7: ["#### 1", "#### 2", "#### 1"], 3: ["#### 5", "#### 6", "no marker"]}
    for k in range(3):   # rows in a different order than the questions, as sampling writes them
        write_jsonl(tmp_path / f"s/seed{k}/output.jsonl", [{"id": 3, "response": answers[3][k]}, {"id": 7, "response": answers[7][k]}])
    args = ["--dataset", "gsm8k", "--questions", str(tmp_path / "q.jsonl"), "--samples", str(tmp_path / "s"),
            "--out", str(tmp_path / "c.jsonl")]
    assert main(args) == 0
    rows = {r["id"]: r for r in read_jsonl(tmp_path / "c.jsonl")}
    assert rows[7]["final_response"] == "#### 1" and rows[7]["clusters"] == [{"response": "#### 1", "size": 2, "members": [0, 2]}]
    assert rows[3]["dropped"] and rows[3]["final_response"] is None
    assert "1 one cluster, 0 several, 1 dropped" in capsys.readouterr().out
    # a sampling run that has not finished is an error naming the file, not a silent gap
    write_jsonl(tmp_path / "s/seed3/output.jsonl", [{"id": 7, "response": "#### 1"}])
    assert main(args) == 1
    assert "seed3/output.jsonl: no answer for 1 questions" in capsys.readouterr().err


def test_qa_clustering_embeds_with_the_question_instruction(tiny_model):
    """The embedding path end to end on the tiny random model as the encoder: identical answers have
    cosine 1 and cluster; without an embedder a QA dataset is an error."""
    from src.alice.cluster import cluster_all, embed
    texts = ["It is Paris.", "It is Paris.", "Lyon, I think."]
    v = embed(texts, str(tiny_model), 'Represent the paragraph for the question "Q": ')
    assert v.shape[0] == 3 and abs(float(v[0] @ v[1]) / float((v[0] @ v[0]))) == pytest.approx(1.0)
    rows = cluster_all("triviaqa", [{"id": 0, "question": "Q"}], {0: texts}, embedder=str(tiny_model), threshold=0.999)
    assert rows[0]["clusters"][0]["members"] == [0, 1] and rows[0]["final_response"] == "It is Paris."
    with pytest.raises(ValueError, match="embedder"):
        cluster_all("hotpotqa", [{"id": 0, "question": "Q"}], {0: texts})


def test_uncertainty_step_requests_and_collect(tmp_path, capsys):
    from src.alice.uncertainty import main
    from src.jsonio import read_jsonl, write_jsonl
    c = lambda r, n: {"response": r, "size": n, "members": []}
    write_jsonl(tmp_path / "clusters.jsonl", [
        {"id": 10, "question": "Q10", "clusters": [c("a #### 1", 5)], "final_response": "a #### 1", "dropped": False},
        {"id": 11, "question": "Q11", "clusters": [c("b #### 2", 4), c("c #### 3", 2)], "final_response": "b #### 2", "dropped": False},
        {"id": 12, "question": "Q12", "clusters": [c("d #### 4", 3), c("e #### 5", 3)], "final_response": "d #### 4", "dropped": False},
        {"id": 13, "question": "Q13", "clusters": [c("f #### 6", 2), c("g #### 7", 2)], "final_response": "f #### 6", "dropped": False},
        {"id": 14, "question": "Q14", "clusters": [], "final_response": None, "dropped": True}])
    assert main(["requests", "--dataset", "gsm8k", "--clusters", str(tmp_path / "clusters.jsonl"), "--out", str(tmp_path)]) == 0
    req = read_jsonl(tmp_path / "summary_requests.jsonl")
    assert [r["id"] for r in req] == [11, 12, 13] and req[0]["question"].endswith("1. b #### 2\n2. c #### 3\nUncertainty:")
    assert read_jsonl(tmp_path / "originals.jsonl") == [{"id": 10, "question": "Q10", "answer": "a #### 1", "label": "original"}]
    # the summariser's answers, in another order, joined by row_id
    write_jsonl(tmp_path / "s.jsonl", [{"id": 0, "row_id": 13, "response": "The responses disagree."},
                                       {"id": 1, "row_id": 11, "response": "I am unsure whether to add or subtract."},
                                       {"id": 2, "row_id": 12, "response": "N/A"}])
    assert main(["collect", "--clusters", str(tmp_path / "clusters.jsonl"), "--summaries", str(tmp_path / "s.jsonl"),
                 "--out", str(tmp_path)]) == 0
    rows = read_jsonl(tmp_path / "uncertainty.jsonl")
    assert rows == [{"id": 11, "question": "Q11", "final_response": "b #### 2",
                     "uncertainty": "I am unsure whether to add or subtract.", "kind": "ok"}]
    assert [r["id"] for r in read_jsonl(tmp_path / "na_originals.jsonl")] == [12]
    assert "'mentions': 1" in capsys.readouterr().out
    assert main(["collect", "--clusters", str(tmp_path / "clusters.jsonl"), "--summaries", str(tmp_path / "s.jsonl"),
                 "--out", str(tmp_path), "--keep_invalid"]) == 0
    assert [r["id"] for r in read_jsonl(tmp_path / "uncertainty.jsonl")] == [11, 12, 13]


def test_proactive_step_joins_by_id_and_counts_decisions(tmp_path, capsys):
    from src.alice.proactive import main
    from src.jsonio import read_jsonl, write_jsonl
    unc = [{"id": i, "question": f"Q{i}", "final_response": f"teacher #### {t}", "uncertainty": "I am unsure."}
           for i, t in ((21, 1), (22, 2), (23, 3), (24, 4))]
    write_jsonl(tmp_path / "u.jsonl", unc)
    assert main(["zero-shot", "--uncertainty", str(tmp_path / "u.jsonl"), "--out", str(tmp_path)]) == 0
    assert read_jsonl(tmp_path / "zero_shot_requests.jsonl")[0] == {"id": 21, "question": "Q21"}
    own = {21: "mine #### 9", 22: "mine #### 9", 23: "mine #### 9", 24: "mine #### 9"}
    write_jsonl(tmp_path / "zs.jsonl", [{"id": k, "row_id": i, "response": own[i]} for k, i in enumerate((24, 23, 22, 21))])
    assert main(["revise", "--dataset", "gsm8k", "--uncertainty", str(tmp_path / "u.jsonl"), "--zero_shot",
                 str(tmp_path / "zs.jsonl"), "--out", str(tmp_path)]) == 0
    req = read_jsonl(tmp_path / "revision_requests.jsonl")
    assert req[0]["id"] == 21 and "mine #### 9" in req[0]["question"] and "teacher #### 1" in req[0]["question"]
    revised = {21: "x #### 9", 22: "x #### 2", 23: "x #### 5", 24: "no marker"}   # kept, teacher, new, unreadable
    write_jsonl(tmp_path / "rev.jsonl", [{"id": k, "row_id": i, "response": r} for k, (i, r) in enumerate(revised.items())])
    write_jsonl(tmp_path / "orig.jsonl", [{"id": 5, "question": "Q5", "answer": "t #### 7", "label": "original"}])
    assert main(["collect", "--dataset", "gsm8k", "--uncertainty", str(tmp_path / "u.jsonl"), "--zero_shot",
                 str(tmp_path / "zs.jsonl"), "--revisions", str(tmp_path / "rev.jsonl"), "--originals",
                 str(tmp_path / "orig.jsonl"), "--out", str(tmp_path / "train.jsonl")]) == 0
    rows = read_jsonl(tmp_path / "train.jsonl")
    assert [(r["id"], r["label"]) for r in rows] == [(5, "original"), (21, "new"), (22, "new"), (23, "new"), (24, "new")]
    assert [r.get("decision") for r in rows[1:]] == ["kept", "teacher", "new", "unreadable"]
    # a revision run that has not finished: an error, not a shorter training file
    write_jsonl(tmp_path / "rev.jsonl", [{"id": 0, "row_id": 21, "response": "x #### 9"}])
    assert main(["collect", "--dataset", "gsm8k", "--uncertainty", str(tmp_path / "u.jsonl"), "--zero_shot",
                 str(tmp_path / "zs.jsonl"), "--revisions", str(tmp_path / "rev.jsonl"), "--originals",
                 str(tmp_path / "orig.jsonl"), "--out", str(tmp_path / "train.jsonl")]) == 1
    assert "revisions: no answer for 3 questions" in capsys.readouterr().err


def test_cot_step_keeps_chains_that_reach_the_gold(tmp_path, capsys):
    from src.alice.cot import main
    from src.jsonio import read_jsonl, write_jsonl
    q = "Which is heavier?\nA. a feather\nB. a brick"
    write_jsonl(tmp_path / "t.jsonl", [{"id": 0, "question": q, "answer": "B. a brick"},
                                       {"id": 1, "question": q, "answer": "B. a brick"},
                                       {"id": 2, "question": q, "answer": "B. a brick"}])
    assert main(["requests", "--dataset", "arc", "--questions", str(tmp_path / "t.jsonl"), "--out", str(tmp_path)]) == 0
    assert read_jsonl(tmp_path / "cot_requests.jsonl")[0]["question"].endswith("Here is the question:" + q)
    write_jsonl(tmp_path / "a.jsonl", [{"id": 0, "row_id": 2, "response": "Bricks weigh more. My choice is B."},
                                       {"id": 1, "row_id": 0, "response": "My choice is A."},
                                       {"id": 2, "row_id": 1, "response": "A brick, clearly."}])
    assert main(["collect", "--dataset", "arc", "--questions", str(tmp_path / "t.jsonl"), "--answers",
                 str(tmp_path / "a.jsonl"), "--out", str(tmp_path)]) == 0
    assert read_jsonl(tmp_path / "teacher_cot.jsonl") == [{"id": 2, "question": q, "answer": "Bricks weigh more. My choice is B.",
                                                           "ground_truth_response": "B. a brick"}]
    assert read_jsonl(tmp_path / "teacher_qa.jsonl") == [{"id": 2, "question": q, "answer": "B. a brick"}]
    assert "kept 1 of 3" in capsys.readouterr().out


# ---------------------------------------------------------------------------- run data and registry
def test_cascade_halves_are_disjoint_by_question_id():
    from src.alice.prepare import cascade_halves
    transfer = [{"id": i, "question": f"q{i}", "answer": "#### 1"} for i in (14, 10, 12, 11, 13)]  # any file order
    mid, strong = cascade_halves(transfer)
    assert [r["id"] for r in mid] == [10, 11] and [r["id"] for r in strong] == [12, 13, 14]
    with pytest.raises(ValueError, match="repeated ids"):
        cascade_halves(transfer + [{"id": 10, "question": "again", "answer": "#### 1"}])


def test_training_rows_from_gold_answer_only_or_a_models_answers_joined_by_id():
    from src.alice.prepare import sft_rows
    rows = [{"id": 7, "question": "q7", "answer": "3+4=7\n#### 7"}, {"id": 9, "question": "q9", "answer": "#### 1,000"}]
    assert sft_rows(rows) == [{"id": 7, "content": "q7", "output": "3+4=7\n#### 7"},
                              {"id": 9, "content": "q9", "output": "#### 1,000"}]
    assert [r["output"] for r in sft_rows(rows, only_answer=True)] == ["#### 7", "#### 1,000"]
    assert [r["output"] for r in sft_rows(rows, {9: "teacher nine", 7: "teacher seven"})] == ["teacher seven", "teacher nine"]
    with pytest.raises(ValueError, match="no answer for 1 questions"):
        sft_rows(rows, {7: "only one"})


def test_the_demo_source_splits_like_the_original():
    from src.alice.prepare import demo_source
    d = demo_source((6, 6, 4))
    assert [r["id"] for r in d["train"]] == list(range(12)) and len(d["eval"]) == 4
    parts = data.split("gsm8k", d["train"])
    assert [r["id"] for r in parts["transfer"]] == list(range(6, 12))
    assert all(r["gold"] == r["answer"] and "#### " in r["answer"] for r in d["eval"])


def test_registry_grades_alice_datasets_with_both_rules():
    from src.benchmarks import get
    g = get("alice_gsm8k")
    rows = [{"response": "so #### 1,000"}, {"response": "no marker"}, {"response": "#### 12"}]
    golds = [{"gold": "...\n#### 1000"}, {"gold": "#### 5"}, {"gold": "#### 12"}]
    assert [r["result"] for r in g.grade(rows, golds, "original")] == [False, None, True]  # strings; unmarked not counted
    assert [r["result"] for r in g.grade(rows, golds, "strict")] == [True, False, True]
    arc = get("alice_arc")
    rows = [{"response": "B. because"}, {"response": "Thinking. My choice is B."}]
    golds = [{"gold": "B. dry palms"}] * 2
    assert [r["result"] for r in arc.grade(rows, golds, "original")] == [None, True]     # cot style
    assert [r["result"] for r in arc.grade(rows, golds, "original_qa")] == [True, False]  # qa style: whole response
    assert arc.prompt_style == "chat" and arc.stop == () and arc.max_tokens == 4096
    with pytest.raises(ValueError, match="grades with"):
        arc.grade(rows, golds, "exact")


def test_samples_of_a_subset_of_the_questions(tmp_path):
    from src.alice.cluster import load_samples
    from src.jsonio import DataError, write_jsonl
    for k in (0, 1):
        write_jsonl(tmp_path / f"seed{k}/output.jsonl",
                    [{"id": j, "row_id": 20 + j, "response": f"#### {k}{j}"} for j in range(4)])
    assert load_samples(tmp_path, [22, 23], subset=True) == {22: ["#### 02", "#### 12"], 23: ["#### 03", "#### 13"]}
    with pytest.raises(DataError, match="not a transfer question"):
        load_samples(tmp_path, [22, 23])
    # a seed folder left by an earlier run with more samples is not mixed in when the seeds are given
    write_jsonl(tmp_path / "seed2/output.jsonl", [{"id": j, "row_id": 20 + j, "response": "#### stale"} for j in range(4)])
    assert load_samples(tmp_path, [22], subset=True, seeds=[0, 1]) == {22: ["#### 02", "#### 12"]}
    assert load_samples(tmp_path, [22], subset=True)[22][-1] == "#### stale"
    with pytest.raises(FileNotFoundError, match="seed5"):
        load_samples(tmp_path, [22], subset=True, seeds=[0, 5])


def test_qa_loaders_on_local_copies_in_the_hubs_layout(tmp_path):
    """TriviaQA rc and HotpotQA fullwiki saved locally in their hub schema: train answers, eval gold
    (TriviaQA: the normalised aliases), positional splits with the 20 % transfer subset."""
    import datasets
    trivia = {"question": [f"Q{i}?" for i in range(20)],
              "answer": [{"value": f"Answer {i}", "normalized_aliases": [f"answer {i}", f"a{i}"]} for i in range(20)]}
    datasets.DatasetDict({"train": datasets.Dataset.from_dict(trivia),
                          "validation": datasets.Dataset.from_dict({k: v[:3] for k, v in trivia.items()})}
                         ).save_to_disk(str(tmp_path / "trivia"))
    d = data.load("triviaqa", tmp_path / "trivia")
    assert d["train"][4] == {"id": 4, "question": "Q4?", "answer": "Answer 4"}
    assert d["eval"][1]["gold"] == ["answer 1", "a1"]
    assert [r["id"] for r in data.split("triviaqa", d["train"])["transfer"]] == [10, 11]  # 20 % of the second half
    hotpot = {"question": ["Who?", "Where?", "When?", "Why?"], "answer": ["Ann", "Rome", "1999", "Because"]}
    datasets.DatasetDict({"train": datasets.Dataset.from_dict(hotpot), "test": datasets.Dataset.from_dict(hotpot)}
                         ).save_to_disk(str(tmp_path / "hotpot"))
    with pytest.raises(ValueError, match="no 'validation' split"):
        data.load("hotpotqa", tmp_path / "hotpot")


# ------------------------------------------------------------------ against the original's own code
import ast  # noqa: E402

ALICE_ORIGINAL = Path(__file__).resolve().parents[2] / "shared/upstream-alice/original"

SAMPLE_SETS = {
    "gsm8k": [
        ["x\n#### 5\n#### 5", "y\n#### 5\n#### 6"],                       # several markers: the first answer
        ["x #### N/A", "no marker", "no marker either"],                    # N/A joins the N/A leader
        ["no marker", "#### 3", "#### 3", "also none"],                     # a leader without the marker: skipped
        ["#### 3", "#### 4", "#### 3", "####3", "#### 4 ", "#### 4"],        # no space after ####: no marker
        ["N/A", "#### 2", "N/A"],                                           # the text N/A is a response like any
        ["#### 1", "#### 2", "#### 3"],                                     # no cluster: dropped
        [],
    ],
    "arc": [
        ["My choice is A. Final: My choice is A.", "My choice is A. Then My choice is B."],
        ["I pick A.", "My choice is B.", "My choice is B.", "My choice is C."],
        ["My choice is N/A", "none", "My choice is C."],
    ],
}


def original_clustering(ds: str):
    path = ALICE_ORIGINAL / "W2SG_pipeline/ours/new_weak_to_strong_cluster.py"
    if not path.is_file():
        pytest.skip(f"the original Alice code is not at {ALICE_ORIGINAL} (../shared/upstream-alice/original)")
    import numpy as np
    node = next(n for n in ast.walk(ast.parse(path.read_text()))
                if isinstance(n, ast.FunctionDef) and n.name == "clustering_on_answer")
    scope = {"np": np, "data": {"gsm8k": "gsm8k", "arc": "arc_challenge"}[ds]}
    exec(compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec"), scope)

    def run(responses):  # clustering, then the original's choice of the final response and its drop rule
        clustered, _ = scope["clustering_on_answer"](responses)
        ranked = sorted(clustered, key=lambda x: x["size"], reverse=True)
        final = ranked[0]["response"] if ranked else "N/A"
        return [(c["response"], c["size"]) for c in clustered], (None if final == "N/A" else final)
    return run


@pytest.mark.parametrize("ds,responses", [(ds, r) for ds, sets in SAMPLE_SETS.items() for r in sets])
def test_original_rule_clusters_as_the_original(ds, responses):
    from src.alice.cluster import cluster_all
    theirs = original_clustering(ds)(responses)
    [row] = cluster_all(ds, [{"id": 0, "question": "q"}], {0: responses}, rule="original")
    assert ([(c["response"], c["size"]) for c in row["clusters"]], row["final_response"]) == theirs


SCORED = [("gsm8k", "#### 5\n#### 6", "x #### 5"), ("gsm8k", "so #### 1,000", "#### 1000"), ("gsm8k", "no marker", "#### 1"),
          ("gsm8k", "####5", "#### 5"),
          ("arc", "My choice is B. On reflection, My choice is A.", "A. dry palms"),
          ("arc", "...the answer is C.", "A. dry palms"), ("arc", "My choice is  . A", "A. dry palms"),
          ("arc", "My choice is the old relationship was mutualistic.",
           "B. The old relationship was mutualistic. The new relationship is parasitic."),
          ("arc", "I pick B.", "B. wet palms"), ("arc", "My choice is 3.", "3. the Sun"),
          ("hotpotqa", "It was Paris.", "paris"), ("triviaqa", "The Beatles", ["beatles", "queen"])]


def original_score(ds, response, gold, style):
    """evaluation/evaluate.py's rule, statement for statement (its loop body over one item)."""
    if not (ALICE_ORIGINAL / "evaluation/evaluate.py").is_file():
        pytest.skip(f"the original Alice code is not at {ALICE_ORIGINAL}")
    if ds == "gsm8k":
        correct_answer = gold.split('####')[1].strip()
        try:
            response = response.split('####')[1].strip()
        except IndexError:
            return None
        return response == correct_answer
    if ds == "hotpotqa":
        return gold.lower() in response.lower()
    if ds == "triviaqa":
        return any(a.lower() in response.lower() for a in gold)
    correct_answer = gold.split('. ')
    if style == "cot":
        try:
            response = response.split('My choice is')[1].strip().split('.')
            response = list(filter(lambda x: x.strip(), response))
        except IndexError:
            return None
    else:
        response = response.split('.')
    return any(correct_answer[i].lower().strip() in response[i].lower().strip()
               for i in range(min(len(response), len(correct_answer))))


@pytest.mark.parametrize("ds,response,gold", SCORED)
@pytest.mark.parametrize("style", ["cot", "qa"])
def test_score_is_the_originals_rule(ds, response, gold, style):
    assert score(ds, response, gold, style) == original_score(ds, response, gold, style)


@pytest.mark.parametrize("response,gold", [(r, g) for ds, r, g in SCORED if ds == "arc"]
                         + [("Reasoning. My choice is B. because", "B. wet palms"), ("My choice is wet palms.", "B. wet palms")])
def test_arc_cot_filter_is_the_originals(response, gold):
    # cot/cot_generate_filter.py for ARC: the choice up to the first period; any piece of the gold in it
    ground_truth = gold.lower()
    try:
        choice = response.split('My choice is ')[1].split('.')[0].lower()
    except IndexError:
        theirs = False
    else:
        theirs = any(answer.lower() in choice.lower() for answer in ground_truth.split('. '))
    assert cot_keep("arc", response, gold) == theirs


def test_the_last_marker_rule_and_strict_scores():
    assert final_answer("gsm8k", "#### 5\n#### 6") == "5" and final_answer("gsm8k", "#### 5\n#### 6", "last") == "6"
    [row] = __import__("src.alice.cluster", fromlist=["cluster_all"]).cluster_all(
        "gsm8k", [{"id": 0, "question": "q"}], {0: ["x #### N/A", "none", "none"]}, rule="last")
    assert row["dropped"]  # without the original's N/A placeholder the marker-less answers match nothing
    assert score("gsm8k", "#### 5\n#### 6", "#### 6") is False and score_strict("gsm8k", "#### 5\n#### 6", "#### 6")
    assert score_strict("arc", "My choice is B. On reflection, My choice is A.", "A. dry palms")
    assert not score_strict("arc", "I pick A.", "A. dry palms")  # cot without the marker: wrong, not uncounted
