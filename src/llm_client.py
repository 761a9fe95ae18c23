"""One LLM client for every step that sends chat messages to a model and gets texts back.

    from src.llm_client import Request, http_client, vllm_client
    client = http_client("http://127.0.0.1:8000/v1", "my-model", cache="steps/x/cache.jsonl",
                         concurrency=8, rpm=500, retries=6)
    client = vllm_client("/models/Qwen2.5-7B-Instruct", cache="steps/x/cache.jsonl")   # in-process, batched
    results = client.run([Request(messages=[{"role": "user", "content": "..."}], temperature=0.6, sample=0)])
    results[0].text, results[0].error, results[0].cached

    python -m src.llm_client --requests R.jsonl --out O.jsonl --base_url URL --model NAME [--rpm 500 ...]
    python -m src.llm_client --requests R.jsonl --out O.jsonl --model_dir DIR
        R rows {id, messages, temperature?, top_p?, top_k?, max_tokens?, sample?, seed?}
        O rows {id, text, error, finish_reason, cached} in R's order

Backends: any OpenAI-compatible HTTP endpoint (OpenAI, ``vllm serve``, other servers) through the
``openai`` package, with at most ``concurrency`` requests in flight, at most ``rpm`` started per
minute, and retries with exponential backoff on connection errors, timeouts, 429 and 5xx (a 4xx is
final); or the project's vLLM engine in this process (every request in flight).

The cache: every finished request is appended (fsync'd) to a JSONL file as soon as it finishes,
keyed by (model, messages, settings, sample index). A rerun sends only what is not there, so a
killed run resumes and never pays for a call twice. A failed call (error after the retries, a
refusal by the server, a content filter, an empty message) is recorded as a failure with its
reason, never as an empty answer; cached failures stay failures unless ``retry_failed``. A
``run`` whose share of failures exceeds ``max_failed`` raises after caching every answer (the
failures are sent again with ``retry_failed``). An in-process model is keyed by its path and its
weights' fingerprint (src/provenance.py): a model retrained in the same folder is another model.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from .jsonio import DataError, append_jsonl, read_jsonl, read_jsonl_prefix, write_jsonl


@dataclass(frozen=True)
class Request:
    messages: tuple  # ({"role": ..., "content": ...}, ...)
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 1024
    top_k: int | None = None
    sample: int = 0           # the sample index (k samples of one prompt are k requests)
    seed: int | None = None   # per-request sampling seed (vLLM honours it; OpenAI: best effort)

    def __post_init__(self):
        msgs = tuple(dict(m) for m in self.messages)
        if not msgs or any(m.get("role") not in ("system", "user", "assistant") or not isinstance(m.get("content"), str)
                           for m in msgs):
            raise DataError(f"messages must be a non-empty list of {{role: system|user|assistant, content: str}}: {msgs!r:.200}")
        object.__setattr__(self, "messages", tuple(tuple(sorted(m.items())) for m in msgs))

    def message_dicts(self) -> list[dict]:
        return [dict(m) for m in self.messages]

    def settings(self) -> dict:
        return {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens,
                "top_k": self.top_k, "seed": self.seed}

    def key(self, model: str) -> str:
        blob = json.dumps({"model": model, "messages": self.message_dicts(), "settings": self.settings(),
                           "sample": self.sample}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Result:
    text: str | None
    error: str | None = None
    finish_reason: str | None = None
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class Cache:
    """Finished requests on disk, one JSON line each: {key, model, text, error, finish_reason}."""

    def __init__(self, path: str | os.PathLike | None):
        self.path = Path(path) if path else None
        self.entries: dict[str, dict] = {}
        if self.path and self.path.is_file():
            for row in read_jsonl_prefix(self.path):  # a crash can leave a partial last line: dropped
                self.entries[row["key"]] = row

    def get(self, key: str) -> dict | None:
        return self.entries.get(key)

    def put(self, rows: list[dict]) -> None:
        for r in rows:
            self.entries[r["key"]] = r
        if self.path:
            append_jsonl(self.path, rows)


@dataclass
class Stats:
    sent: int = 0           # HTTP requests sent (retries included)
    retries: int = 0
    max_in_flight: int = 0
    failed: int = 0
    from_cache: int = 0
    capped: int = 0         # in-process: answers whose token budget the model's context cuts short


class Client:
    """``run(requests)`` -> one Result per request, in order; finished ones come from the cache."""

    def __init__(self, model: str, backend, cache=None, retry_failed: bool = False, quiet: bool = False,
                 max_failed: float | None = None):
        if max_failed is not None and not 0 <= max_failed <= 1:
            raise ValueError(f"max_failed is a share of the requests (0-1), not {max_failed}")
        self.model, self.backend, self.cache = model, backend, Cache(cache)
        self.retry_failed, self.quiet, self.max_failed, self.stats = retry_failed, quiet, max_failed, Stats()
        self._last_log = 0.0

    def run(self, requests: Sequence[Request]) -> list[Result]:
        keys = [r.key(self.model) for r in requests]
        results: list[Result | None] = [None] * len(requests)
        todo, queued = [], set()
        for i, k in enumerate(keys):
            hit = self.cache.get(k)
            if hit is not None and (hit.get("error") is None or not self.retry_failed):
                results[i] = Result(hit.get("text"), hit.get("error"), hit.get("finish_reason"), cached=True)
                self.stats.from_cache += 1
            elif k not in queued:
                todo.append(i)
                queued.add(k)
        hits = sum(r is not None for r in results)
        self._log(f"[llm] {len(requests)} requests: {hits} from the cache, {len(requests) - hits - len(todo)} repeats "
                  f"of another request, {len(todo)} to send")
        done = 0

        def finished(batch: list[tuple[int, Result]]) -> None:
            nonlocal done
            self.cache.put([{"key": keys[i], "model": self.model, "text": r.text, "error": r.error,
                             "finish_reason": r.finish_reason} for i, r in batch])
            for i, r in batch:
                results[i] = r
                self.stats.failed += not r.ok
            done += len(batch)
            if time.monotonic() - self._last_log > 10 or done == len(todo):  # progress, every 10 s
                self._last_log = time.monotonic()
                self._log(f"[llm] {done}/{len(todo)} finished ({self.stats.failed} failed, {self.stats.retries} retries)")

        if todo:
            self.backend.run([requests[i] for i in todo], todo, finished, self.stats)
        for i, k in enumerate(keys):  # duplicates of one request share its answer
            if results[i] is None:
                hit = self.cache.get(k)
                results[i] = Result(hit.get("text"), hit.get("error"), hit.get("finish_reason"), cached=True)
        failed = [r for r in results if not r.ok]  # type: ignore[union-attr]
        if self.max_failed is not None and len(failed) > self.max_failed * len(results):
            raise RuntimeError(f"{len(failed)} of {len(results)} requests to {self.model} failed (first: {failed[0].error}), "
                               f"more than max_failed {self.max_failed}; the answers are cached: rerun with --retry_failed "
                               f"to send the failed ones again, or allow a larger share with --max_failed")
        return results  # type: ignore[return-value]

    def _log(self, msg: str) -> None:
        if not self.quiet:
            print(msg, flush=True)


def _failure_of_choice(choice) -> str | None:
    if choice.finish_reason == "content_filter":
        return "filtered: content_filter"
    if getattr(choice.message, "refusal", None):
        return f"refused: {choice.message.refusal}"
    if not choice.message.content:
        return "empty message"
    return None


class HTTPBackend:
    """An OpenAI-compatible chat-completions endpoint through the ``openai`` package."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, concurrency: int = 8,
                 rpm: float | None = None, retries: int = 6, backoff: float = 1.0, max_backoff: float = 60.0,
                 timeout: float = 600.0):
        if concurrency < 1 or retries < 0 or (rpm is not None and rpm <= 0):
            raise ValueError("concurrency >= 1, retries >= 0 and rpm > 0")
        self.base_url, self.model, self.concurrency, self.rpm = base_url, model, concurrency, rpm
        self.retries, self.backoff, self.max_backoff, self.timeout = retries, backoff, max_backoff, timeout
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"

    def run(self, requests, index, finished, stats: Stats) -> None:
        asyncio.run(self._run(requests, index, finished, stats))

    async def _run(self, requests, index, finished, stats: Stats) -> None:
        import openai
        client = openai.AsyncOpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=0, timeout=self.timeout)
        sem, lock = asyncio.Semaphore(self.concurrency), asyncio.Lock()
        next_start = [time.monotonic()]
        in_flight = [0]
        transient = (openai.APIConnectionError, openai.APITimeoutError, openai.RateLimitError, openai.InternalServerError)

        async def pace() -> None:  # at most rpm request starts per minute
            if not self.rpm:
                return
            async with lock:
                wait = next_start[0] - time.monotonic()
                next_start[0] = max(next_start[0], time.monotonic()) + 60.0 / self.rpm
            if wait > 0:
                await asyncio.sleep(wait)

        async def one(req: Request) -> Result:
            kwargs = dict(model=self.model, messages=req.message_dicts(), temperature=req.temperature,
                          top_p=req.top_p, max_tokens=req.max_tokens)
            if req.seed is not None:
                kwargs["seed"] = req.seed
            if req.top_k is not None:
                kwargs["extra_body"] = {"top_k": req.top_k}  # vLLM and most open servers; not OpenAI
            error = None
            for attempt in range(self.retries + 1):
                async with sem:  # a start slot is booked only by a request that can start now
                    await pace()
                    in_flight[0] += 1
                    stats.max_in_flight = max(stats.max_in_flight, in_flight[0])
                    stats.sent += 1
                    try:
                        resp = await client.chat.completions.create(**kwargs)
                    except transient as err:
                        error = f"{type(err).__name__}: {err}"
                    except openai.APIStatusError as err:  # 4xx: the request itself is wrong; final
                        return Result(None, f"{type(err).__name__} {err.status_code}: {err.message}")
                    else:
                        choice = resp.choices[0]
                        fail = _failure_of_choice(choice)
                        return Result(None if fail else choice.message.content, fail, choice.finish_reason)
                    finally:
                        in_flight[0] -= 1
                if attempt < self.retries:
                    stats.retries += 1
                    await asyncio.sleep(min(self.max_backoff, self.backoff * 2 ** attempt))
            return Result(None, f"gave up after {self.retries + 1} attempts: {error}")

        async def run_one(pos: int, req: Request) -> None:
            finished([(index[pos], await one(req))])

        try:
            await asyncio.gather(*(run_one(p, r) for p, r in enumerate(requests)))
        finally:
            await client.close()


class VLLMBackend:
    """The project's vLLM engine in this process: the model's chat template, every request in flight
    (one engine pass per distinct decoding setting)."""

    def __init__(self, model_dir: str, tensor_parallel_size: int | None = None, max_model_len: int | None = None,
                 seed: int = 0, gpu_memory_utilization: float | None = None):
        self.model_dir, self.tp, self.max_model_len, self.seed = model_dir, tensor_parallel_size, max_model_len, seed
        self.gpu_memory_utilization = gpu_memory_utilization
        self.engine = None

    def run(self, requests, index, finished, stats: Stats) -> None:
        from transformers import AutoTokenizer

        from .engines import Decoding, EngineConfig, engine_context, load_engine
        from .prompts import chat_prompt, chat_turn_end_ids
        tok = AutoTokenizer.from_pretrained(self.model_dir)
        turn_end = tuple(chat_turn_end_ids(tok))  # a base model with an instruct template stops at its turn end
        prompts = [chat_prompt(tok, r.message_dicts()) for r in requests]
        # the context check of src.inference: a prompt that does not fit is a failure naming it (vLLM
        # would abort every request of the batch); a budget that the context cuts is counted
        context = engine_context(self.model_dir, self.max_model_len, sampling=max(r.temperature for r in requests) > 0)
        lengths = [len(ids) for ids in tok(prompts, add_special_tokens=True)["input_ids"]]
        too_long = [pos for pos, n in enumerate(lengths) if n >= context]
        if too_long:
            finished([(index[pos], Result(None, f"the prompt has {lengths[pos]} tokens, more than the model's context "
                                                f"{context}; it begins {prompts[pos][:100]!r}")) for pos in too_long])
        capped = sum(n < context and n + requests[pos].max_tokens > context for pos, n in enumerate(lengths))
        if capped:
            stats.capped += capped
            print(f"[llm] warning: {capped} of {len(requests)} prompts leave less than their max_tokens of the model's "
                  f"context {context}: those answers stop at the context", flush=True)
        groups: dict[tuple, list[int]] = {}
        for pos, r in enumerate(requests):
            if lengths[pos] < context:
                groups.setdefault((r.temperature, r.top_p, r.max_tokens, r.top_k), []).append(pos)
        for (temp, top_p, max_tokens, top_k), members in groups.items():
            dec = Decoding(temperature=temp, top_p=top_p, max_tokens=max_tokens, stop=(), top_k=top_k, stop_token_ids=turn_end)
            if self.engine is None:
                hot = max(r.temperature for r in requests)  # the engine's CPU settings depend on sampling
                self.engine = load_engine("vllm", EngineConfig(self.model_dir, seed=self.seed, max_model_len=self.max_model_len,
                                                               tensor_parallel_size=self.tp,
                                                               gpu_memory_utilization=self.gpu_memory_utilization),
                                          Decoding(temperature=hot, max_tokens=max_tokens, stop=()))
            self.engine.dec = dec
            batch = [(prompts[p], requests[p].seed if requests[p].seed is not None else self.seed + requests[p].sample)
                     for p in members]
            stats.sent += len(batch)
            pending: list[tuple[int, Result]] = []
            last = time.monotonic()
            for i, text, reason in self.engine.stream(batch):
                pending.append((index[members[i]], Result(text or None, None if text else "empty message", reason)))
                if time.monotonic() - last > 2.0:
                    finished(pending)
                    pending, last = [], time.monotonic()
            finished(pending)


def http_client(base_url: str, model: str, cache=None, retry_failed: bool = False, quiet: bool = False,
                max_failed: float | None = None, **kw) -> Client:
    return Client(model, HTTPBackend(base_url, model, **kw), cache, retry_failed, quiet, max_failed)


def vllm_client(model_dir: str, cache=None, retry_failed: bool = False, quiet: bool = False,
                max_failed: float | None = None, **kw) -> Client:
    from .provenance import fingerprint
    key = f"{Path(model_dir).resolve()}@{fingerprint(model_dir)}"
    return Client(key, VLLMBackend(model_dir, **kw), cache, retry_failed, quiet, max_failed)


def requests_from_rows(rows: list[dict], defaults: dict) -> list[Request]:
    known = {"messages", "temperature", "top_p", "top_k", "max_tokens", "sample", "seed"}
    out = []
    for n, row in enumerate(rows, 1):
        settings = {**defaults, **{k: v for k, v in row.items() if k in known}}
        try:
            out.append(Request(**settings))
        except (DataError, TypeError) as err:
            raise DataError(f"request row {n} (id {row.get('id')!r}): {err}") from None
    return out


def add_client_args(ap: argparse.ArgumentParser) -> None:
    """The backend options every step that calls a model shares."""
    g = ap.add_argument_group("model (one of: an OpenAI-compatible endpoint, or a local model in process)")
    g.add_argument("--base_url", default=None, help="an OpenAI-compatible endpoint (…/v1); key from OPENAI_API_KEY")
    g.add_argument("--model", default=None, help="the endpoint's model name")
    g.add_argument("--model_dir", default=None, help="a local model for the in-process vLLM engine")
    g.add_argument("--concurrency", type=int, default=8)
    g.add_argument("--rpm", type=float, default=None, help="request starts per minute (the original: 80)")
    g.add_argument("--retries", type=int, default=6)
    g.add_argument("--retry_failed", action="store_true", help="send again what the cache holds as failed")
    g.add_argument("--max_failed", type=float, default=0.1,
                   help="stop when more than this share of a step's requests failed (default 0.1)")
    g.add_argument("--max_model_len", type=int, default=None, help="in-process engine only")
    g.add_argument("--tensor_parallel_size", type=int, default=None,
                   help="in-process engine on GPUs (default: the largest size the model's heads allow)")
    g.add_argument("--gpu_memory_utilization", type=float, default=None,
                   help="in-process engine on GPUs: vLLM's share of each GPU's memory (default 0.9)")


def client_from_args(args, cache, quiet: bool = False) -> Client:
    if bool(args.base_url) == bool(args.model_dir) or (args.base_url and not args.model):
        raise ValueError("give --base_url and --model (HTTP), or --model_dir (in-process vLLM)")
    if args.base_url:
        return http_client(args.base_url, args.model, cache, args.retry_failed, quiet, args.max_failed, concurrency=args.concurrency,
                           rpm=args.rpm, retries=args.retries)
    return vllm_client(args.model_dir, cache, args.retry_failed, quiet, args.max_failed, max_model_len=args.max_model_len,
                       tensor_parallel_size=args.tensor_parallel_size, gpu_memory_utilization=args.gpu_memory_utilization)


def write_step(out: Path, name: str, rows: list[dict], counts: dict, client: Client, settings: dict) -> Path:
    """A model-calling step's outputs: ``out/name.jsonl`` and ``out/name.stats.json`` (its counts, the
    model, every setting, and how many calls were sent or came from the cache)."""
    from .jsonio import write_json, write_jsonl
    path = write_jsonl(Path(out) / f"{name}.jsonl", rows)
    write_json(Path(out) / f"{name}.stats.json", {**counts, "model": client.model, "settings": settings,
                                                  "calls": {"sent": client.stats.sent, "from_cache": client.stats.from_cache}},
               indent=2)
    return path


def main(argv=None) -> int:
    from .cli import run_cli
    ap = argparse.ArgumentParser(prog="python -m src.llm_client", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cache", default=None, help="default: OUT with .cache.jsonl")
    add_client_args(ap)
    ap.add_argument("--allow_failures", action="store_true",
                    help="exit 0 even when some requests failed (they are recorded as failures either way)")
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--top_p", type=float, default=1.0)
    ap.add_argument("--top_k", type=int, default=None)
    ap.add_argument("--max_tokens", type=int, default=1024)
    args = ap.parse_args(argv)

    def go():
        rows = read_jsonl(args.requests, required=("messages",))
        reqs = requests_from_rows(rows, {"temperature": args.temperature, "top_p": args.top_p, "top_k": args.top_k,
                                         "max_tokens": args.max_tokens})
        cache = args.cache or str(Path(args.out).with_suffix(".cache.jsonl"))
        client = client_from_args(args, cache)
        client.max_failed = None  # this command writes every answer, then judges failures itself
        results = client.run(reqs)
        write_jsonl(args.out, [{"id": row.get("id", n), **asdict(r)} for n, (row, r) in enumerate(zip(rows, results))])
        failed = sum(not r.ok for r in results)
        print(f"[llm] {len(results)} answers ({failed} failures, {client.stats.from_cache} from the cache, "
              f"{client.stats.sent} sent) -> {args.out}")
        if failed and not args.allow_failures:
            first = next(r for r in results if not r.ok)
            raise RuntimeError(f"{failed} of {len(results)} requests failed (first: {first.error}); they are "
                               f"recorded in {args.out}; rerun with --retry_failed, or pass --allow_failures")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
