"""The 95 % interval every report gives for an accuracy: a percentile bootstrap over the questions."""
from __future__ import annotations

RESAMPLES = 2000


def bootstrap(results: list[bool], resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """(low, high) of the mean of ``results`` (True = right), 2.5th and 97.5th percentiles."""
    import numpy as np
    if not results:
        raise ValueError("no results to bootstrap")
    v = np.array(results, dtype=float)
    idx = np.random.default_rng(seed).integers(0, len(v), size=(resamples, len(v)))
    lo, hi = np.percentile(v[idx].mean(axis=1), [2.5, 97.5])
    return float(lo), float(hi)
