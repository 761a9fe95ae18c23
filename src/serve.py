"""A local `vllm serve` for the stages that call a model through the LLM client, started and stopped
by the run script around them, so the GPUs are free again for training and evaluation.

    python -m src.serve start --model_dir DIR --log FILE [--pidfile FILE] [--max_model_len N]
        [--tensor_parallel_size N] [--gpu_memory_utilization F] [--timeout 900]
        -> prints "URL NAME PID" once the server answers /health (an error with its log's tail if it exits)
    python -m src.serve stop --pidfile FILE   (or --pid PID): stops the server's process group

The server is vLLM's own OpenAI-compatible server (``vllm.entrypoints.openai.api_server``, what
``vllm serve`` runs), on 127.0.0.1 and a free port, in a process group of its own. Its model name is
the folder's name and its weights' fingerprint (``src/provenance.py``), so the LLM client's cache
never mixes the answers of two models served from the same folder. ``--pidfile``: a server a killed
run left behind is stopped before a new one starts.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .cli import run_cli
from .jsonio import DataError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served_name(model_dir: str) -> str:
    from .provenance import fingerprint
    return f"{Path(model_dir).resolve().name}@{fingerprint(model_dir)}"


def command(model_dir: str, name: str, port: int, max_model_len: int | None = None, tensor_parallel_size: int | None = None,
            gpu_memory_utilization: float | None = None) -> list[str]:
    # requests are not logged (vLLM 0.32's --enable-log-requests is off by default)
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
           "--served-model-name", name, "--host", "127.0.0.1", "--port", str(port)]
    if max_model_len:
        cmd += ["--max-model-len", str(max_model_len)]
    if tensor_parallel_size:
        cmd += ["--tensor-parallel-size", str(tensor_parallel_size)]
    if gpu_memory_utilization:
        cmd += ["--gpu-memory-utilization", str(gpu_memory_utilization)]
    from .engines import on_gpu
    if not on_gpu():
        cmd += ["--enforce-eager"]  # CPU: no graph compilation at start-up, as the in-process engine (src/engines.py)
    return cmd


def recorded_pid(pidfile: str | Path) -> int | None:
    """The server's process id a pid file holds (None: no file, or no number in it)."""
    words = Path(pidfile).read_text().split() if Path(pidfile).is_file() else []
    return int(words[0]) if words and words[0].isdigit() else None


def stop(pid: int, grace: float = 60) -> bool:
    """SIGTERM to the server's process group, SIGKILL after ``grace`` seconds; False if it was gone."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.time() + grace
    while time.time() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.5)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return True


def start(model_dir: str, log: str | Path, pidfile: str | Path | None = None, timeout: float = 900, **engine) -> tuple[str, str, int]:
    """Start the server, wait for /health; (url, model name, pid)."""
    if not (Path(model_dir) / "config.json").is_file():
        raise DataError(f"{model_dir}: not a model folder (no config.json)")
    if pidfile and (old := recorded_pid(pidfile)) is not None:
        if stop(old):
            print(f"[serve] stopped the server a killed run left behind (pid {old})", file=sys.stderr)
        Path(pidfile).unlink()
    name, port = served_name(model_dir), free_port()
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as out:
        proc = subprocess.Popen(command(model_dir, name, port, **engine), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    if pidfile:
        Path(pidfile).write_text(f"{proc.pid}\n")
    url, deadline = f"http://127.0.0.1:{port}", time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            tail = Path(log).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"vllm serve of {model_dir} exited with code {proc.returncode}; its log {log} ends:\n{tail}")
        try:
            urllib.request.urlopen(f"{url}/health", timeout=5)
            return f"{url}/v1", name, proc.pid
        except OSError:
            time.sleep(2)
    stop(proc.pid)
    raise RuntimeError(f"vllm serve of {model_dir} did not answer within {timeout:.0f} s (log: {log})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.serve", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start")
    s.add_argument("--model_dir", required=True)
    s.add_argument("--log", required=True)
    s.add_argument("--pidfile", default=None)
    s.add_argument("--timeout", type=float, default=900)
    s.add_argument("--max_model_len", type=int, default=None)
    s.add_argument("--tensor_parallel_size", type=int, default=None)
    s.add_argument("--gpu_memory_utilization", type=float, default=None)
    t = sub.add_parser("stop")
    t.add_argument("--pidfile", default=None)
    t.add_argument("--pid", type=int, default=None)
    args = ap.parse_args(argv)

    def go():
        if args.cmd == "start":
            url, name, pid = start(args.model_dir, args.log, args.pidfile, args.timeout, max_model_len=args.max_model_len,
                                   tensor_parallel_size=args.tensor_parallel_size,
                                   gpu_memory_utilization=args.gpu_memory_utilization)
            print(url, name, pid)
            return
        if (args.pid is None) == (args.pidfile is None):
            raise ValueError("give --pidfile or --pid")
        pid = args.pid if args.pidfile is None else recorded_pid(args.pidfile)
        if pid is not None:
            stop(pid)
        if args.pidfile:
            Path(args.pidfile).unlink(missing_ok=True)
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
