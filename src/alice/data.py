"""Alice's datasets and splits, by position as the original takes them (no shuffling).

    load(ds, source)  -> {"train": [...], "eval": [...]} rows {id, question, answer}
    split(ds, train)  -> {"teacher": first half, "transfer": the W2S half (QA: its first 20 %)}

``answer`` is the training target: GSM8K the full gold solution (``<<calc>>`` and ``#### N``),
ARC ``X. text``, HotpotQA ``answer``, TriviaQA ``answer.value``; eval rows also carry ``gold``,
what the scorer compares with (TriviaQA: ``answer.normalized_aliases``). ``id`` is the row's
position in its split, the key every later step joins on.

Sources: a ``datasets.save_to_disk`` folder (the original's processed ARC-Challenge has train /
validation / test) or the hub (``hotpot_qa`` fullwiki, ``mandarjoshi/trivia_qa`` rc,
``openai/gsm8k`` main; train -> validation or test).
"""
from __future__ import annotations

from pathlib import Path

QA_FRACTION = 0.2
HUB = {"hotpotqa": ("hotpot_qa", "fullwiki", "validation"), "triviaqa": ("mandarjoshi/trivia_qa", "rc", "validation"),
       "gsm8k": ("openai/gsm8k", "main", "test"), "arc": (None, None, "test")}


def _rows(ds: str, split, is_eval: bool) -> list[dict]:
    out = []
    for i, r in enumerate(split):
        if ds == "triviaqa":
            row = {"id": i, "question": r["question"], "answer": r["answer"]["value"]}
            if is_eval:
                row["gold"] = list(r["answer"]["normalized_aliases"])
        else:
            row = {"id": i, "question": r["question"], "answer": r["answer"]}
            if is_eval:
                row["gold"] = r["answer"]
        if not isinstance(row["question"], str) or not row["question"].strip():
            raise ValueError(f"{ds} row {i}: empty or missing 'question'")
        out.append(row)
    return out


def load(ds: str, source: str | Path | None = None) -> dict[str, list[dict]]:
    """``source``: a save_to_disk folder, or None for the hub (ARC needs its processed folder)."""
    import datasets
    if ds not in HUB:
        raise ValueError(f"unknown Alice dataset {ds!r} (known: {', '.join(HUB)})")
    name, config, eval_split = HUB[ds]
    if source is not None:
        path = Path(source)
        if not (path / "dataset_dict.json").is_file():
            raise FileNotFoundError(f"{path}: not a datasets.save_to_disk folder (no dataset_dict.json)")
        d = datasets.load_from_disk(str(path))
    elif name is None:
        raise ValueError(f"{ds}: give the processed save_to_disk folder (the original's arc_challenge_processed)")
    else:
        d = datasets.load_dataset(name, config)
    for split in ("train", eval_split):
        if split not in d:
            raise ValueError(f"{ds}: the source has no {split!r} split (has {', '.join(d)})")
    return {"train": _rows(ds, d["train"], False), "eval": _rows(ds, d[eval_split], True)}


def split(ds: str, train: list[dict]) -> dict[str, list[dict]]:
    """First half (``[:n//2]``): the teacher's training questions. Second half (``[n//2:]``): the
    W2S transfer set, of which HotpotQA and TriviaQA use the first 20 %."""
    half = len(train) // 2
    transfer = train[half:]
    if ds in ("hotpotqa", "triviaqa"):
        transfer = transfer[: int(len(transfer) * QA_FRACTION)]
    return {"teacher": train[:half], "transfer": transfer}


def answers_by_id(rows: list[dict], what: str) -> dict:
    """The engine's answers (``src.inference`` output rows) keyed by the request row's ``id``."""
    out = {}
    for r in rows:
        if "row_id" not in r:
            raise ValueError(f"{what}: answers without row_id; run src.inference on the requests written by this step")
        out[r["row_id"]] = r["response"]
    return out


def require_answers(ids, answers: dict, what: str) -> None:
    """Every question answered, or an error naming how many are missing (an unfinished run)."""
    missing = [i for i in ids if i not in answers]
    if missing:
        raise ValueError(f"{what}: no answer for {len(missing)} questions (first ids {missing[:5]}); finish that run first")
