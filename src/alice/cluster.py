"""Step 2 of Alice, after sampling: cluster each question's teacher samples and pick its answer.

    python -m src.alice.cluster --dataset gsm8k --questions transfer.jsonl --samples SAMPLES_DIR --out clusters.jsonl
    python -m src.alice.cluster --dataset hotpotqa ... --embedder .cache/models/all-minilm-l6-v2

Input: the transfer questions ``{id, question}`` and the teacher's samples as ``src.inference``
writes them with ``--num_samples N`` (``SAMPLES_DIR/seed<k>/output.jsonl``, rows ``{id, row_id,
prompt, response}``), joined by the question's id (``row_id``; ``--subset``: the questions are a
part of those sampled, as cascade Alice's halves). Output, one row per question in id order:

    {id, question, samples: N, clusters: [{response, size, members}], final_response, dropped}

``final_response`` is None and ``dropped`` True when no cluster reached two members. The step's
log line counts kept, dropped, one-cluster and several-cluster questions; ``clusters.stats.json``
holds those counts and the histogram of cluster sizes.

The rule, greedy leader clustering of one question's N samples: repeat until no response remains:
the first remaining response leads; every remaining response "same" as the leader (the leader
included) joins it; a cluster of one is discarded; all members leave the pool. The final answer is the leader of the largest cluster (ties: the cluster found
first); with no cluster of size >= 2 the question is dropped.

"Same" is the dataset's rule: equal marker answers (GSM8K ``####``, ARC ``My choice is``; a leader
without the marker matches nothing, not even itself; a member without it is the original's ``N/A``)
or, for the QA datasets, cosine similarity > 0.9 of sentence embeddings (``embedding_same``).
"""
from __future__ import annotations

import argparse
import functools
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..cli import run_cli
from ..eval.alice_answers import DATASETS, RULES, final_answer
from ..jsonio import DataError, read_jsonl, read_jsonl_numbered, write_json, write_jsonl


@dataclass(frozen=True)
class Cluster:
    response: str   # the leader
    size: int
    members: tuple[int, ...]  # sample indices


def leader_clusters(responses: Sequence[str], same: Callable[[int, int], bool]) -> list[Cluster]:
    """Clusters of size >= 2 in discovery order; ``same(i, j)`` compares samples i and j (False
    whenever either has no marker answer, so such a leader stays a discarded singleton)."""
    pool = list(range(len(responses)))
    clusters = []
    while pool:
        leader = pool[0]
        members = [leader] + [j for j in pool[1:] if same(leader, j)]
        if len(members) >= 2:
            clusters.append(Cluster(responses[leader], len(members), tuple(members)))
        taken = set(members)
        pool = [j for j in pool if j not in taken]
    return clusters


def final_response(clusters: Sequence[Cluster]) -> str | None:
    """The largest cluster's leader; the first found among equals; None: the question is dropped."""
    if not clusters:
        return None
    best = clusters[0]
    for c in clusters[1:]:
        if c.size > best.size:
            best = c
    return best.response


def marker_same(answers: Sequence[str | None], original: bool = True) -> Callable[[int, int], bool]:
    """Same when the leader i has a marker answer and answer j equals it as a string. ``original``
    (the original's rule): a response j without the marker counts as the answer ``N/A``, so it joins a
    leader whose answer is literally ``N/A``; otherwise it matches nothing. A leader without the
    marker never matches (a discarded singleton, as the original skips it)."""
    if original:
        return lambda i, j: answers[i] is not None and answers[i] == ("N/A" if answers[j] is None else answers[j])
    return lambda i, j: answers[i] is not None and answers[i] == answers[j]


def embedding_same(vectors, threshold: float = 0.9) -> Callable[[int, int], bool]:
    """Same when the cosine similarity of the two (unnormalised) embeddings is above ``threshold``."""
    import numpy as np
    v = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    v = v / np.where(norms == 0, 1, norms)
    sim = v @ v.T
    return lambda i, j: bool(sim[i, j] > threshold)


def load_samples(samples_dir: Path, ids: list[int], subset: bool = False,
                 seeds: list[int] | None = None) -> dict[int, list[str]]:
    """Every question's samples in seed order (seed<k> folders sorted by k); each seed must answer
    every question once. ``seeds``: read exactly these seed folders (a folder left by an earlier run
    with more samples is not mixed in); default every seed<k> folder. ``subset``: the questions are
    a part of those sampled (cascade Alice's halves); other ids are skipped instead of being an error."""
    if seeds is not None:
        dirs = [Path(samples_dir) / f"seed{k}" for k in sorted(seeds)]
        absent = [d.name for d in dirs if not (d / "output.jsonl").is_file()]
        if absent:
            raise FileNotFoundError(f"{samples_dir}: no output.jsonl for {', '.join(absent[:5])}"
                                    f"{' ...' if len(absent) > 5 else ''} (finish the sampling run first)")
    else:
        dirs = sorted((p for p in Path(samples_dir).glob("seed*") if p.name[4:].isdigit()), key=lambda p: int(p.name[4:]))
    if not dirs:
        raise FileNotFoundError(f"{samples_dir}: no seed<k>/output.jsonl (sample with src.inference --num_samples N)")
    out: dict[int, list[str]] = {i: [] for i in ids}
    for d in dirs:
        seen = set()
        for lineno, row in read_jsonl_numbered(d / "output.jsonl", required=("id", "response")):
            i = row.get("row_id", row["id"])
            if subset and i not in out:
                continue
            if i not in out or i in seen:
                raise DataError(f"{d / 'output.jsonl'}:{lineno}: id {i!r} is {'repeated' if i in seen else 'not a transfer question'}")
            seen.add(i)
            out[i].append(row["response"])
        if seen != set(ids):
            missing = sorted(set(ids) - seen)
            raise DataError(f"{d / 'output.jsonl'}: no answer for {len(missing)} questions (first ids {missing[:5]}); "
                            "finish the sampling run first")
    return out


def embed(texts: list[str], model_dir: str, instruction: str = "", batch: int = 64):
    """Sentence embeddings as the model's own sentence-transformers modules compute them (its pooling,
    Dense layer and normalisation: hkunlp/instructor-large, the original's, by name or as a folder;
    all-MiniLM-L6-v2; a plain transformers folder gets mean pooling). ``instruction`` goes before
    every text and, as the INSTRUCTOR package does, its tokens are left out of the pooling. Texts are
    cut at the model's own max_seq_length (MiniLM 256 tokens; instructor-large 512, as the original)."""
    model = _encoder(str(model_dir))
    model.set_pooling_include_prompt(not instruction)
    return model.encode(list(texts), prompt=instruction or None, batch_size=batch, convert_to_numpy=True,
                        show_progress_bar=False)


@functools.lru_cache(maxsize=1)
def _encoder(model_dir: str):
    """The embedder, loaded once for every question of a run (on a GPU when there is one)."""
    from sentence_transformers import SentenceTransformer
    return SentenceTransformer(model_dir)


INSTRUCTION = 'Represent the paragraph for the question "{question}":'  # the original's, joined to the text as it is


def cluster_all(dataset: str, questions: list[dict], samples: dict[int, list[str]], embedder: str | None = None,
                threshold: float = 0.9, instruct: bool = False, rule: str = "original") -> list[dict]:
    """``rule`` (marker datasets): ``original``, the original's answer (the text between the first
    marker and a second one), ``N/A`` for a member without the marker, and a question whose winning
    response is the text ``N/A`` dropped; ``last``, the answer after the last marker, a response
    without the marker matching nothing."""
    rows = []
    for q in questions:
        responses = samples[q["id"]]
        if dataset in ("hotpotqa", "triviaqa"):
            if not embedder:
                raise ValueError(f"{dataset}: answers are compared by embeddings; give --embedder MODEL_DIR")
            instruction = INSTRUCTION.format(question=q["question"]) if instruct else ""
            same = embedding_same(embed(responses, embedder, instruction), threshold)
        else:
            same = marker_same([final_answer(dataset, r, rule) for r in responses], original=rule == "original")
        clusters = leader_clusters(responses, same)
        final = final_response(clusters)
        if rule == "original" and final == "N/A":  # the original's placeholder for "no answer" drops it
            final = None
        rows.append({"id": q["id"], "question": q["question"], "samples": len(responses),
                     "clusters": [{"response": c.response, "size": c.size, "members": list(c.members)} for c in clusters],
                     "final_response": final, "dropped": final is None})
    return rows


def stats(rows: list[dict]) -> dict:
    return {"questions": len(rows), "dropped": sum(r["dropped"] for r in rows),
            "one_cluster": sum(len(r["clusters"]) == 1 for r in rows),
            "several_clusters": sum(len(r["clusters"]) >= 2 for r in rows),
            "cluster_sizes": dict(sorted(Counter(c["size"] for r in rows for c in r["clusters"]).items()))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.alice.cluster", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", required=True, choices=DATASETS)
    ap.add_argument("--questions", required=True, help="transfer questions {id, question}")
    ap.add_argument("--samples", required=True, help="folder of seed<k>/output.jsonl")
    ap.add_argument("--out", required=True)
    ap.add_argument("--embedder", default=None, help="sentence-embedding model folder (HotpotQA, TriviaQA)")
    ap.add_argument("--instruct", action="store_true",
                    help="the original's instruction before every answer, left out of the pooling (an INSTRUCTOR embedder)")
    ap.add_argument("--subset", action="store_true", help="the questions are a part of the sampled ones")
    ap.add_argument("--seeds", type=int, nargs="+", default=None,
                    help="the sampling seeds to read (default: every seed<k> folder)")
    ap.add_argument("--threshold", type=float, default=0.9, help="cosine similarity above which two QA answers are the same")
    ap.add_argument("--rule", choices=RULES, default="original",
                    help="marker answers: original (between the first marker and a second; N/A for none) or last")
    args = ap.parse_args(argv)

    def go():
        questions = read_jsonl(args.questions, required=("id", "question"))
        samples = load_samples(Path(args.samples), [q["id"] for q in questions], args.subset, args.seeds)
        rows = cluster_all(args.dataset, questions, samples, args.embedder, args.threshold, args.instruct, args.rule)
        out = write_jsonl(args.out, rows)
        s = stats(rows)
        write_json(out.with_suffix(".stats.json"), s, indent=2)
        print(f"[cluster] {s['questions']} questions: {s['one_cluster']} one cluster, {s['several_clusters']} several, "
              f"{s['dropped']} dropped (no answer given twice); cluster sizes {s['cluster_sizes']} -> {out}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
