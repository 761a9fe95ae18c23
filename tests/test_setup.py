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
