"""src/serve.py without a model: the server's command line, the name it serves a folder under, and
stopping a process group from its pid file (a server a killed run left behind). The real server is
started by tests/test_guiding_pipeline.py (SERVE=1) and tests/test_llm_client.py."""
import os
import subprocess
import time

import pytest

from src import serve
from src.jsonio import DataError
from src.provenance import fingerprint


def test_command_and_name(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m/config.json").write_text("{}")
    assert serve.served_name(tmp_path / "m") == f"m@{fingerprint(tmp_path / 'm')}"
    cmd = serve.command("/models/x", "x@abc", 8123, max_model_len=4096, tensor_parallel_size=2, gpu_memory_utilization=0.5)
    joined = " ".join(cmd)
    assert "vllm.entrypoints.openai.api_server --model /models/x --served-model-name x@abc --host 127.0.0.1 --port 8123" in joined
    assert cmd[-7:-1] == ["--max-model-len", "4096", "--tensor-parallel-size", "2", "--gpu-memory-utilization", "0.5"]
    assert cmd[-1] == "--enforce-eager"  # no GPU here: no graph compilation at start-up
    with pytest.raises(DataError, match="not a model folder"):
        serve.start(str(tmp_path / "missing"), tmp_path / "log")


def test_stop_from_a_pid_file_kills_the_whole_group(tmp_path):
    # a group leader that is not this process's child (as a server is not its stopper's), with a child
    out = subprocess.run(["bash", "-c", "setsid bash -c 'sleep 600 & sleep 600; wait' >/dev/null 2>&1 & echo $!"],
                         capture_output=True, text=True, check=True)
    leader = int(out.stdout)
    for _ in range(100):  # until setsid has made the group
        try:
            os.killpg(leader, 0)
            break
        except ProcessLookupError:
            time.sleep(0.05)
    pidfile = tmp_path / "server.pid"
    pidfile.write_text(f"{leader}\n")
    assert serve.main(["stop", "--pidfile", str(pidfile)]) == 0
    with pytest.raises(ProcessLookupError):
        os.killpg(leader, 0)  # the leader and its sleeping child are gone
    assert not pidfile.exists()
    assert serve.main(["stop", "--pidfile", str(pidfile)]) == 0  # nothing to stop: fine
    assert serve.stop(leader) is False
