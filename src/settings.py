"""A run's settings: environment variables read into a dataclass, every bad one reported at once.

A method's plan (src/alice/plan.py, src/guiding/plan.py) declares its settings as dataclass fields
made with ``setting(default, help, ...)``: the default, the kind of value (text, number, 0/1, a list
of words), the allowed values and a check. ``read(cls, env)`` builds the dataclass from the
environment and returns every error (one per bad setting, and every unknown name of the method's
families); the plan then resolves what depends on other settings and checks the combinations.

The run scripts take the result as shell assignments (``shell``), so a script never re-types a
default or a rule; the run folder gets it as ``config.json`` (``to_json``), which the reports read.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, Mapping

POSITIVE = dict(pattern=r"[1-9][0-9]*", what="a positive number")  # a whole number above 0, given as text ("" = unset)


@dataclass(frozen=True)
class Spec:
    help: str
    kind: type = str                   # str, int, float, bool (0 or 1), list (words split at spaces)
    choices: tuple[str, ...] = ()      # the value (a list: each word) must be one of these
    pattern: str = ""                  # the value (a list: each word) must match this in full
    what: str = ""                     # the allowed values in words, for the error message
    empty_is_unset: bool = True        # "" takes the default (shell ${X:-d}); False: "" is a value (${X-d})
    minimum: float | None = None
    maximum: float | None = None


def setting(default: Any, help: str, **spec) -> Any:
    """A settings field: its default (a list's default as a string of words) and its rules."""
    kind = spec.get("kind", str)
    if kind is list and isinstance(default, str):
        default = tuple(default.split())
    return field(default=default, metadata={"spec": Spec(help, **spec)})


def specs(cls) -> dict[str, Spec]:
    return {f.name: f.metadata["spec"] for f in dataclasses.fields(cls) if "spec" in f.metadata}


def _value(name: str, text: str, spec: Spec) -> tuple[Any, str | None]:
    """The typed value of one setting, or the error that says what it must be."""
    if spec.kind is bool:
        return (text == "1", None) if text in ("0", "1") else (None, f"{name} is 0 or 1, not '{text}'")
    if spec.kind in (int, float):
        try:
            value = spec.kind(text)
        except ValueError:
            return None, f"{name} is {spec.what or ('a whole number' if spec.kind is int else 'a number')}, not '{text}'"
        if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
            return None, f"{name} is {spec.what or f'from {spec.minimum} to {spec.maximum}'}, not '{text}'"
        return value, None
    words = text.split() if spec.kind is list else [text]
    for w in words:
        if (spec.choices and w not in spec.choices) or (spec.pattern and not re.fullmatch(spec.pattern, w)):
            allowed = spec.what or (" and/or " if spec.kind is list else " or ").join(spec.choices)
            verb = "holds" if spec.kind is list else "is"
            return None, f"{name} {verb} {allowed}, not '{w}'"
    return (tuple(words) if spec.kind is list else text), None


def read(cls, env: Mapping[str, str], families: str = "") -> tuple[Any, list[str]]:
    """``cls`` from the environment: each set field checked by its spec (unset or, unless the spec
    says otherwise, empty: its default); ``families`` (a regex) names the environment variables that
    must be fields (a misspelled setting is an error, not silently ignored)."""
    errors, values = [], {}
    known = specs(cls)
    if families:
        errors += [f"unknown setting {v} (known: {' '.join(known)})" for v in sorted(env)
                   if re.match(families, v) and v not in known]
    for name, spec in known.items():
        if name not in env or (env[name] == "" and spec.empty_is_unset):
            continue
        value, error = _value(name, env[name], spec)
        if error:
            errors.append(error)
        else:
            values[name] = value
    return cls(**values), errors


def render(value: Any) -> str:
    """A value as the run scripts and config.env write it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (tuple, list)):
        return " ".join(str(v) for v in value)
    return str(value)


def shell(obj, extra: Mapping[str, str] = (), arrays: Mapping[str, list[str]] = ()) -> str:
    """Shell assignments for ``eval``: KNOWN (the settings' names, which the stage runner records in
    config.env), every field, the plan's ``extra`` values and its ``arrays`` (bash arrays)."""
    lines = [f"KNOWN={shlex.quote(' '.join(specs(type(obj))))}"]
    lines += [f"{f.name}={shlex.quote(render(getattr(obj, f.name)))}" for f in dataclasses.fields(obj)]
    lines += [f"{k}={shlex.quote(v)}" for k, v in dict(extra).items()]
    lines += [f"{k}=({' '.join(shlex.quote(v) for v in vs)})" for k, vs in dict(arrays).items()]
    return "\n".join(lines)


def to_json(obj) -> dict:
    return {f.name: list(v) if isinstance(v := getattr(obj, f.name), tuple) else v for f in dataclasses.fields(obj)}


@dataclass(frozen=True)
class RunSettings:
    """What every method's run takes: the run folder, the stage runner's switches, the processes."""
    RUN: str = setting("", "the run folder (default runs/<method>_<models>)")
    RECIPE: str = setting("", "a recipe: scripts/recipes/<name>.env or a file")
    DEMO: bool = setting(False, "1: the offline demo (set by a demo recipe)", kind=bool)
    DEMO_SIZES: str = setting("", "the demo's data sizes")
    FORCE: bool = setting(False, "1: redo every stage", kind=bool)
    REDO: tuple = setting("", "stages to redo (and every later one)", kind=list)
    STAGES: tuple = setting("", "only these stages", kind=list)
    GPUS: str = setting("", "GPU ids, e.g. 0,1,2,3, or UUIDs as CUDA_VISIBLE_DEVICES takes them (none: the CPU)",
                        pattern=r"[A-Za-z0-9/-]+(,[A-Za-z0-9/-]+)*", what="GPU ids such as 0,1,2,3")
    GPU_MEMORY_UTILIZATION: str = setting("", "vLLM's GPU memory share", pattern=r"0?\.[0-9]+|1(\.0*)?", what="a share from 0 to 1")
    NPROC: str = setting("", "CPU training processes (no GPUs)", **POSITIVE)
    NNODES: int = setting(1, "nodes of a multi-node training", kind=int, minimum=1, what="a positive number")
    NODE_RANK: int = setting(0, "this node's rank", kind=int, minimum=0, what="0 or more")
    MASTER_ADDR: str = setting("", "node 0's address (NNODES > 1)")
    MASTER_PORT: str = setting("", "node 0's port", pattern=r"[0-9]+", what="a port number")
    THREADS: str = setting("", "CPU threads of training and inference (default: every core; none on GPUs)",
                           pattern=r"[1-9][0-9]*", what="a positive number of CPU threads")
    SEED: int = setting(0, "the run's seed", kind=int)

    def check_processes(self) -> list[str]:
        return ([f"NNODES={self.NNODES} needs MASTER_ADDR (the address of node 0)"]
                if self.NNODES > 1 and not self.MASTER_ADDR else [])


def sample_seeds(seed: int, n: int) -> list[int]:
    """A run's sampling seeds, one per sample: 1000*SEED on (0 on without a seed, the original's), so
    the samples of runs with other seeds never share a seed."""
    return list(range(1000 * seed, 1000 * seed + n))


# ------------------------------------------------------------------ facts about this machine
def has_gpu() -> bool:
    if not shutil.which("nvidia-smi"):
        return False
    out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    return out.returncode == 0 and "GPU" in out.stdout


def cpu_threads_default(gpus: str) -> str:
    """THREADS' default: every core of a CPU run (OMP_NUM_THREADS when set); nothing on GPUs."""
    if gpus or has_gpu():
        return ""
    return os.environ.get("OMP_NUM_THREADS") or str(len(os.sched_getaffinity(0)))


def hub_offline(env: Mapping[str, str], inputs, demo: bool = False) -> str:
    """HF_HUB_OFFLINE for a run (the run script exports it): "1" unless an input needs the hub ("hub",
    "--hub", or a name that is no local path, such as org/model); the demo's inputs are local; the
    user's own HF_HUB_OFFLINE wins (HF_OFFLINE_GIVEN)."""
    if env.get("HF_OFFLINE_GIVEN") or demo:
        return env.get("HF_HUB_OFFLINE", "1")
    need = any(v in ("hub", "--hub") or (v not in ("", "none", "-") and not os.path.exists(v)) for v in inputs)
    return "0" if need else "1"


@contextlib.contextmanager
def hub_mode(offline: str):
    """HF_HUB_OFFLINE as the run will have it, while the plan reads model configs (tensor-parallel
    sizes of hub models); restored afterwards."""
    before = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = offline
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = before


def tp_size(model: str | None, gpus: str) -> str:
    """The largest tensor-parallel size of the GPUS that the model allows; "" without GPUS or model."""
    if not gpus or not model:
        return ""
    from .engines import tensor_parallel_size
    return str(tensor_parallel_size(model, len(gpus.split(","))))


def main_for(resolve, argv: list[str]) -> int:
    """The command line of a method's plan: ``shell`` prints the resolved settings as shell
    assignments (exit 2 with every error on stderr), ``write FILE`` writes config.json, ``outputs
    STAGE`` prints what a redone stage removes first. ``resolve(env)`` returns (plan, errors); the
    plan has ``shell()``, ``config()`` and ``outputs()`` (stage -> paths)."""
    import sys
    from .jsonio import write_json
    argv = list(argv)
    if not argv or argv[0] not in ("shell", "write", "outputs") or (argv[0] != "shell" and len(argv) != 2):
        print("usage: python -m src.<method>.plan shell | write CONFIG_JSON | outputs STAGE", file=sys.stderr)
        return 2
    plan, errors = resolve(os.environ)
    if errors:
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        return 2
    if argv[0] == "shell":
        print(plan.shell())
    elif argv[0] == "write":
        write_json(argv[1], plan.config(), indent=2)
    else:
        outputs = plan.outputs()
        if argv[1] not in outputs:
            print(f"error: unknown stage '{argv[1]}' (stages: {' '.join(outputs)})", file=sys.stderr)
            return 2
        print("\n".join(str(p) for p in outputs[argv[1]]))
    return 0
