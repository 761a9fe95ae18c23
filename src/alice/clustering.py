"""Step 2 of Alice: greedy leader clustering of the teacher's N samples for one question.

Repeat until no response remains: the first remaining response leads; every remaining response
"same" as the leader (the leader included) joins it; a cluster of one is discarded; all members
leave the pool. The final answer is the leader of the largest cluster (ties: the cluster found
first); with no cluster of size >= 2 the question is dropped.

"Same" is the dataset's rule: equal marker answers (GSM8K ``####``, ARC ``My choice is``; a leader
without the marker matches nothing, not even itself; a member without it is the original's ``N/A``)
or, for the QA datasets, cosine similarity > 0.9 of sentence embeddings (``embedding_same``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence


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
