"""Run answer comparisons in worker processes with a hard per-item time limit.

sympy can hang on adversarial input, sometimes inside C code (a huge integer power) where no
signal can interrupt it. So each comparison runs in a forked worker; the parent waits on all
workers at once and kills (then replaces) any worker that passes its item's deadline. A
timed-out item counts as "not equal". Nothing here can hang the caller.
"""
from __future__ import annotations

import time
from multiprocessing import get_context
from multiprocessing.connection import wait
from typing import Callable, Sequence


def _serve(conn, check: Callable[[str, str], bool]) -> None:
    while True:
        task = conn.recv()
        if task is None:
            return
        try:
            result = bool(check(*task))
        except Exception:  # noqa: BLE001 - a failing comparison is "not equal", as in the original
            result = False
        conn.send(result)


class _Worker:
    def __init__(self, ctx, check):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, check), daemon=True)
        self.proc.start()
        child.close()

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


def run_with_time_limit(pairs: Sequence[tuple[str, str]], check: Callable[[str, str], bool],
                        timeout: float, workers: int = 1) -> tuple[list[bool], int]:
    """``check(a, b)`` for every pair, each within ``timeout`` seconds; returns (results, timeouts)."""
    if not pairs:
        return [], 0
    ctx = get_context("fork")
    pool = [_Worker(ctx, check) for _ in range(max(1, min(workers, len(pairs))))]
    todo = iter(enumerate(pairs))
    busy: dict[_Worker, tuple[int, float]] = {}
    results: list[bool] = [False] * len(pairs)
    timeouts = 0

    def dispatch(w: _Worker) -> None:
        nxt = next(todo, None)
        if nxt is not None:
            i, pair = nxt
            w.conn.send(pair)
            busy[w] = (i, time.monotonic() + timeout)

    try:
        for w in pool:
            dispatch(w)
        while busy:
            soonest = min(deadline for _, deadline in busy.values())
            ready = wait([w.conn for w in busy], timeout=max(0.0, soonest - time.monotonic()))
            for w in [w for w in busy if w.conn in ready]:
                i, _ = busy.pop(w)
                try:
                    results[i] = w.conn.recv()
                except EOFError:  # the worker died (e.g. out of memory): not equal, replace it
                    results[i] = False
                    pool.remove(w)
                    w.stop(kill=True)
                    w = _Worker(ctx, check)
                    pool.append(w)
                dispatch(w)
            now = time.monotonic()
            for w, (i, deadline) in list(busy.items()):
                if deadline <= now:
                    busy.pop(w)
                    results[i] = False
                    timeouts += 1
                    pool.remove(w)
                    w.stop(kill=True)
                    fresh = _Worker(ctx, check)
                    pool.append(fresh)
                    dispatch(fresh)
    finally:
        for w in pool:
            w.stop(kill=w in busy)
    return results, timeouts
