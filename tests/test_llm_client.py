"""The LLM client (src/llm_client.py): request keys and the on-disk cache; the HTTP backend against a
real `vllm serve` of a tiny chat model on 127.0.0.1 (concurrency, cache hits with no request sent,
a failure recorded as a failure, retries across a server restart); the in-process vLLM backend."""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from src.jsonio import DataError
from src.llm_client import Cache, Request, http_client, vllm_client
from src.serve import free_port

USER = ({"role": "user", "content": "Ava has 3 bags with 4 apples in each bag. How many apples does Ava have?"},)


def test_request_keys_name_model_messages_settings_and_sample():
    a = Request(USER, temperature=0.6, sample=0)
    assert a.key("m") == Request(list(USER), temperature=0.6, sample=0).key("m")
    others = [Request(USER, temperature=0.6, sample=1), Request(USER, temperature=0.7), Request(USER, temperature=0.6, top_k=50),
              Request(({"role": "system", "content": ""},) + USER, temperature=0.6)]
    assert len({a.key("m"), a.key("n"), *(o.key("m") for o in others)}) == 6
    for bad in ((), ({"role": "robot", "content": "x"},), ({"role": "user"},)):
        with pytest.raises(DataError, match="messages"):
            Request(bad)


def test_the_cache_survives_a_torn_last_line(tmp_path):
    path = tmp_path / "cache.jsonl"
    c = Cache(path)
    c.put([{"key": "k1", "model": "m", "text": "one", "error": None, "finish_reason": "stop"},
           {"key": "k2", "model": "m", "text": None, "error": "BadRequestError 400: too long", "finish_reason": None}])
    with open(path, "a") as f:
        f.write('{"key": "k3", "model": "m", "te')  # killed mid-write
    again = Cache(path)
    assert again.get("k1")["text"] == "one" and again.get("k2")["error"].startswith("BadRequest") and again.get("k3") is None


def test_in_process_gpu_settings_reach_the_engine_config(tiny_model, tmp_path):
    """A step's --tensor_parallel_size and --gpu_memory_utilization reach the in-process engine (the
    settings run_guiding.sh passes on GPUs, so a teacher in process does not hold every GPU's memory)."""
    import argparse
    from src.llm_client import add_client_args, client_from_args
    ap = argparse.ArgumentParser()
    add_client_args(ap)
    args = ap.parse_args(["--model_dir", str(tiny_model), "--tensor_parallel_size", "2", "--gpu_memory_utilization", "0.45"])
    backend = client_from_args(args, tmp_path / "cache.jsonl").backend
    assert (backend.tp, backend.gpu_memory_utilization) == (2, 0.45)
    args = ap.parse_args(["--model_dir", str(tiny_model)])
    assert client_from_args(args, None).backend.gpu_memory_utilization is None


# ---------------------------------------------------------------------------- against real engines

@pytest.fixture(scope="module")
def chat_tiny(tmp_path_factory):
    from src.models import make_tiny_model
    from tests.tiny_teacher import teach_chat
    model = make_tiny_model(tmp_path_factory.mktemp("client_tiny") / "model")
    teach_chat(model, steps=60)
    return model


class Server:
    """`vllm serve` of the tiny model on 127.0.0.1, started and stopped by the test (the same
    OpenAI-compatible server, started by its module)."""

    def __init__(self, model: Path, port: int, log: Path):
        self.model, self.port, self.log, self.proc = model, port, log, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 300) -> None:
        env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
        # `vllm serve` itself; its `vllm` command reads the version of a package named vllm, which the
        # CPU build (vllm-cpu) is not, so the same server is started by its module
        self.proc = subprocess.Popen([sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(self.model),
                                      "--host", "127.0.0.1", "--port", str(self.port),
                                      "--served-model-name", "tiny", "--max-model-len", "2048", "--enforce-eager",
                                      "--dtype", "float32"], env=env, stdout=open(self.log, "a"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vllm serve exited: {self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2)
                return
            except OSError:
                time.sleep(1)
        raise RuntimeError(f"vllm serve not up after {timeout}s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()

    def finished_requests(self) -> float:
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5).read().decode()
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("vllm:request_success_total"))


@pytest.fixture(scope="module")
def server(chat_tiny, tmp_path_factory):
    s = Server(chat_tiny, free_port(), tmp_path_factory.mktemp("serve") / "serve.log")
    s.start()
    yield s
    s.stop()


def samples(n, **kw):
    return [Request(USER, temperature=0.9, top_p=0.95, top_k=50, max_tokens=8, sample=k, seed=k, **kw) for k in range(n)]


@pytest.mark.slow
def test_http_concurrency_and_a_cache_hit_that_sends_nothing(server, tmp_path):
    cache = tmp_path / "cache.jsonl"
    client = http_client(server.url, "tiny", cache, concurrency=3, quiet=True)
    results = client.run(samples(12))
    assert all(r.ok and r.text and not r.cached for r in results)
    assert client.stats.max_in_flight == 3 and client.stats.sent == 12
    assert "####" in "".join(r.text for r in results)  # the taught answer form
    before = server.finished_requests()
    again = http_client(server.url, "tiny", cache, concurrency=3, quiet=True)
    rerun = again.run(samples(12))
    assert [r.text for r in rerun] == [r.text for r in results] and all(r.cached for r in rerun)
    assert again.stats.sent == 0 and server.finished_requests() == before  # the server saw nothing
    more = again.run(samples(14))  # only the two new samples are sent
    assert again.stats.sent == 2 and [r.text for r in more[:12]] == [r.text for r in results]


@pytest.mark.slow
def test_http_rpm_limit_paces_request_starts(server, tmp_path):
    client = http_client(server.url, "tiny", tmp_path / "c.jsonl", concurrency=8, rpm=240, quiet=True)  # one per 0.25 s
    t0 = time.monotonic()
    assert all(r.ok for r in client.run(samples(5)))
    assert time.monotonic() - t0 >= 4 * 0.25


@pytest.mark.slow
def test_http_failure_is_recorded_as_a_failure(server, tmp_path):
    cache = tmp_path / "cache.jsonl"
    too_long = Request(USER, max_tokens=100_000)  # beyond the server's 2048-token context: a 400, final
    client = http_client(server.url, "tiny", cache, quiet=True, retries=3)
    [r] = client.run([too_long])
    assert not r.ok and r.text is None and "400" in r.error and client.stats.retries == 0
    entry = json.loads(cache.read_text().splitlines()[-1])
    assert entry["text"] is None and "400" in entry["error"]
    again = http_client(server.url, "tiny", cache, quiet=True)
    assert not again.run([too_long])[0].ok and again.stats.sent == 0  # stays a failure, not resent
    retry = http_client(server.url, "tiny", cache, quiet=True, retry_failed=True)
    assert not retry.run([too_long])[0].ok and retry.stats.sent == 1
    # a step stops when more than max_failed of its requests failed, after caching every answer
    ok = Request(USER, max_tokens=4)
    strict = http_client(server.url, "tiny", cache, quiet=True, max_failed=0.4)
    with pytest.raises(RuntimeError, match=r"1 of 2 requests to tiny failed \(first: BadRequestError 400.*more than max_failed 0.4"):
        strict.run([too_long, ok])
    assert http_client(server.url, "tiny", cache, quiet=True, max_failed=0.5).run([too_long, ok])[1].ok  # 1 of 2 is allowed
    # the command line: a failed request is in the output as a failure, and the exit code says so
    from src.llm_client import main
    from src.jsonio import read_jsonl, write_jsonl
    write_jsonl(tmp_path / "req.jsonl", [{"id": "a", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 100_000}])
    cli = ["--requests", str(tmp_path / "req.jsonl"), "--out", str(tmp_path / "out.jsonl"), "--base_url", server.url,
           "--model", "tiny", "--cache", str(cache)]
    assert main(cli) == 1
    [row] = read_jsonl(tmp_path / "out.jsonl")
    assert row["id"] == "a" and row["text"] is None and "400" in row["error"]
    assert main(cli + ["--allow_failures"]) == 0


@pytest.mark.slow
def test_guiding_steps_against_the_server(server, chat_tiny, tmp_path):
    """Every Guiding step that calls a model, through its command line, against the served tiny
    model: it answers everything with "#### n", so decompositions are unparseable, judgements are
    not verdicts, and every unit falls back to the style transfer; the counts say so, and a rerun
    sends nothing."""
    from src.guiding import decompose, judge, pairs, pool, teacher
    from src.jsonio import read_jsonl, write_jsonl
    write_jsonl(tmp_path / "in.jsonl", [{"ori_id": f"t{i}", "question": f"What is {i} plus {i + 1}?",
                                         "positive answer": f"{i} + {i + 1} = \\boxed{{{2 * i + 1}}}"} for i in range(3)])
    http = ["--base_url", server.url, "--model", "tiny"]
    d = tmp_path
    assert pool.main(["--input", str(d / "in.jsonl"), "--out", str(d / "p"), "--counter", str(chat_tiny), "--bands", "1-100:2"]) == 0
    assert decompose.main(["--pool", str(d / "p/pool.jsonl"), "--out", str(d / "dec"), "--max_tokens", "12", *http]) == 0
    stats = json.loads((d / "dec/decompose.stats.json").read_text())
    assert stats["decomposition"] == {"unparseable": 3} and stats["subtasks_kept"] == 0 and stats["calls"]["sent"] == 3
    assert [r["ori_id"] for r in read_jsonl(d / "dec/decompositions.jsonl")] == ["t0", "t1", "t2"]
    assert teacher.main(["sample", "--pool", str(d / "p/pool.jsonl"), "--subtasks", str(d / "dec/subtasks.jsonl"), "--all_tasks",
                         "--out", str(d / "t"), "--k", "2", "--temperature", "1.0", "--max_tokens", "8",
                         "--hint_counter", str(chat_tiny), *http]) == 0
    rows = read_jsonl(d / "t/samples.jsonl")
    assert [(r["ori_id"], r["sub_idx"]) for r in rows] == [("t0", 0), ("t1", 0), ("t2", 0)]
    assert all(len(r["samples"]) == 2 and all(r["samples"]) and r["hint_tokens"] > 0 for r in rows)
    assert judge.main(["--samples", str(d / "t/samples.jsonl"), "--out", str(d / "t"), "--max_tokens", "8", *http]) == 0
    judged = read_jsonl(d / "t/judged.jsonl")
    assert all(r["judgements"] == [None, None] for r in judged)  # "#### 5" is not a verdict
    # greedy: at T 1.0 the tiny model now and then ends at once, an empty answer that counts as a failure
    assert teacher.main(["transfer", "--judged", str(d / "t/judged.jsonl"), "--out", str(d / "t"), "--max_tokens", "8",
                         "--temperature", "0", "--hint_counter", str(chat_tiny), *http]) == 0
    assert all(r["transfer_ground_truth"] for r in read_jsonl(d / "t/labelled.jsonl"))
    assert pairs.main(["build", "--judged", str(d / "t/labelled.jsonl"), "--out", str(d / "pairs.jsonl")]) == 0
    why = json.loads((d / "pairs.stats.json").read_text())["units"]
    assert why == {"full: no incorrect sample": 3} and (d / "pairs.jsonl").read_text() == ""
    before = server.finished_requests()
    assert decompose.main(["--pool", str(d / "p/pool.jsonl"), "--out", str(d / "dec"), "--max_tokens", "12", *http]) == 0
    assert json.loads((d / "dec/decompose.stats.json").read_text())["calls"] == {"sent": 0, "from_cache": 3}
    assert server.finished_requests() == before
    # --original_prompts: the requests sent carry the original's wording, read from its checkout
    checkout = Path(__file__).resolve().parents[2] / "shared/upstream-guiding"
    if (checkout / "const/prompt_template.json").is_file():
        from src.guiding.original_prompts import OriginalPrompts
        from src.llm_client import Request
        # (the original's decomposition prompt is longer than the tiny model's context in its tokens:
        # the server refuses the calls, which are still sent with that text and cached as failures)
        assert decompose.main(["--pool", str(d / "p/pool.jsonl"), "--out", str(d / "dec_orig"), "--max_tokens", "12",
                               "--original_prompts", str(checkout), "--original", "--max_failed", "1", *http]) == 0
        assert json.loads((d / "dec_orig/decompose.stats.json").read_text())["calls"]["sent"] == 3  # other words: new calls
        original = OriginalPrompts(checkout)
        keys = {row["key"] for row in read_jsonl(d / "dec_orig/llm_cache.jsonl")}
        for r in read_jsonl(d / "p/pool.jsonl"):
            assert Request(original.decompose(r["task"], r["solution"], r["k"]), temperature=0.7, max_tokens=12).key("tiny") in keys


@pytest.mark.slow
def test_http_retries_across_a_server_restart(server, tmp_path):
    server.stop()
    client = http_client(server.url, "tiny", tmp_path / "cache.jsonl", quiet=True, retries=10, backoff=1.0, max_backoff=8.0)
    out = {}
    worker = threading.Thread(target=lambda: out.update(results=client.run(samples(3))))
    worker.start()
    time.sleep(3)  # the first attempts fail: nothing listens
    server.start()
    worker.join(timeout=400)
    assert not worker.is_alive()
    assert all(r.ok and r.text for r in out["results"]) and client.stats.retries >= 1


@pytest.mark.slow
def test_in_process_vllm_backend_and_its_cache(chat_tiny, tmp_path):
    cache = tmp_path / "cache.jsonl"
    client = vllm_client(str(chat_tiny), cache, quiet=True, max_model_len=512)
    reqs = samples(4) + [Request(USER, max_tokens=8)]
    results = client.run(reqs)
    assert all(r.ok and r.text for r in results) and client.stats.sent == 5
    again = vllm_client(str(chat_tiny), cache, quiet=True)
    assert [r.text for r in again.run(reqs)] == [r.text for r in results] and again.stats.sent == 0
    from src.provenance import fingerprint  # keyed by the weights: a model retrained in this folder is another
    assert client.model == f"{chat_tiny.resolve()}@{fingerprint(chat_tiny)}"
    assert again.backend.engine is None  # nothing to generate: the model was never loaded


@pytest.mark.slow
def test_in_process_context_check(chat_tiny, tmp_path):
    """A prompt longer than the context fails alone, named, without aborting the others; a budget the
    context cuts is counted."""
    client = vllm_client(str(chat_tiny), tmp_path / "cache.jsonl", quiet=True, max_model_len=96)
    long = Request([{"role": "user", "content": "seven " * 200}], max_tokens=8)
    tight = Request(USER, max_tokens=90)
    fine = Request(USER, max_tokens=8)
    results = client.run([long, tight, fine])
    assert not results[0].ok and "more than the model's context 96" in results[0].error and "seven" in results[0].error
    assert results[1].ok and results[2].ok and client.stats.capped == 1
