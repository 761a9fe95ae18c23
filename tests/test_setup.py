"""scripts/setup.sh refuses an interpreter the locks were not resolved for, before installing anything."""
import os
import subprocess

from tests.conftest import ROOT


def test_setup_refuses_another_python(tmp_path):
    fake = tmp_path / "python3.12"
    fake.write_text("#!/bin/sh\necho 3.12\n")  # answers the version question as Python 3.12 would
    fake.chmod(0o755)
    env = {**os.environ, "PYTHON": str(fake), "W2S_VENV": str(tmp_path / "venv")}
    proc = subprocess.run(["bash", "scripts/setup.sh", "main"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "is Python 3.12; the locked environments are for Python 3.11" in proc.stderr
    assert not (tmp_path / "venv").exists()  # nothing created


def test_local_servers_get_no_api_limits():
    """run_guiding.sh: an endpoint on this machine gets no rate limit and 64 requests in flight; a remote
    API the original's 80 per minute and 8 in flight (API_RPM / API_CONCURRENCY win either way)."""
    line = next(l for l in (ROOT / "run_guiding.sh").read_text().splitlines() if l.startswith("local_url()"))
    script = line + "\nfor u in " + " ".join([
        "http://127.0.0.1:8000/v1", "http://localhost:8000/v1", "http://[::1]:9/v1", "http://0.0.0.0:1",
        "https://api.openai.com/v1", "http://127.0.0.1.example.com/v1", "http://10.0.0.5:8000/v1"]) + \
        '; do if local_url "$u"; then echo local; else echo remote; fi; done'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["local"] * 4 + ["remote"] * 3


def fake_gpu(tmp_path, driver: str):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    smi = bin_dir / "nvidia-smi"
    smi.write_text(f'#!/bin/sh\ncase "$*" in *driver_version*) echo {driver} ;; *) echo "GPU 0: NVIDIA A100 (UUID: x)" ;; esac\n')
    smi.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_driver_check_takes_a_new_driver_or_the_forward_compatibility_libraries(tmp_path):
    """The CUDA 13.0 locks need driver 580; an older one (R535) passes with NVIDIA's forward-compatibility
    libcuda (cuda-compat-13-0) first on LD_LIBRARY_PATH, and otherwise stops with both ways out."""
    def check(env):
        return subprocess.run(["bash", "scripts/setup.sh", "driver"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert check(fake_gpu(tmp_path, "580.95.05")).returncode == 0
    old = fake_gpu(tmp_path, "535.261.03")
    proc = check({**old, "LD_LIBRARY_PATH": ""})
    assert proc.returncode == 1 and "need driver 580 or newer" in proc.stderr and "cuda-compat-13-0" in proc.stderr
    compat = tmp_path / "cuda-13.0/compat"
    compat.mkdir(parents=True)
    (compat / "libcuda.so.580.65.06").write_text("")
    proc = check({**old, "LD_LIBRARY_PATH": f"/nowhere:{compat}"})
    assert proc.returncode == 0 and "forward-compatibility libraries (580)" in proc.stdout
    (compat / "libcuda.so.580.65.06").rename(compat / "libcuda.so.570.86.15")  # a compat package too old for CUDA 13
    assert check({**old, "LD_LIBRARY_PATH": str(compat)}).returncode == 1
