"""The keep-rate table (src/keep_rates.py) and scripts/keep_rates.py on a Guiding pipeline's files:
every rejection counted by the reason its step gave. The reports' tables on real runs: the slow
tests of run_alice.sh and run_guiding.sh."""
import json
import subprocess
import sys

import pytest

from src.keep_rates import row, table
from tests.conftest import ROOT


def test_rows_and_table():
    r = row("decomposition (tasks)", 4, 1, {"2 items, not 3": 2, "failed call": 1, "no Item headers": 0})
    assert r["why"] == {"2 items, not 3": 2, "failed call": 1}  # zero counts left out
    assert table([r, row("empty", 0, 0)]).splitlines()[2:] == [
        "| decomposition (tasks) | 4 | 1 | 25 % | 2 items, not 3: 2, failed call: 1 |", "| empty | 0 | 0 | - |  |"]
    with pytest.raises(ValueError, match="5 kept of 4"):
        row("bad", 4, 5)


def test_script_reads_an_unfinished_guiding_run(tmp_path):
    p = tmp_path / "run/steps/pipeline"
    (p / "pool").mkdir(parents=True)
    (p / "decompose").mkdir()
    (p / "pool/pool.stats.json").write_text(json.dumps({"read": 5, "kept": 4, "rejected": {"keyword 'figure'": 1}}))
    (p / "decompose/decompose.stats.json").write_text(json.dumps({
        "tasks": 4, "decomposition": {"ok": 2, "unparseable": 1, "failed call": 1}, "unparseable": {"3 items, not 2": 1},
        "subtasks_parsed": 4, "subtasks_kept": 1, "rejected": {"fewer than 2 steps": 1, "steps check invalid: no Steps count": 2}}))
    checks = [{"ori_id": 1, "sub_idx": i, "conditions": 1, "steps": s, "variant": None, "kept": False, "why": w,
               "unread": {k: v for k, v in (("steps", None if s else "no Steps count"), ("variant", "no Conclusion")) if v}}
              for i, (s, w) in enumerate([(1, "fewer than 2 steps"), (None, "steps check invalid: no Steps count"),
                                          (None, "steps check invalid: no Steps count")], 1)]
    checks.append({"ori_id": 2, "sub_idx": 1, "conditions": 1, "steps": 3, "variant": 1, "kept": True, "why": None, "unread": {}})
    (p / "decompose/checks.jsonl").write_text("".join(json.dumps(c) + "\n" for c in checks))
    out = subprocess.run([sys.executable, "scripts/keep_rates.py", str(tmp_path / "run")], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "| pool filter (tasks) | 5 | 4 | 80 % | keyword 'figure': 1 |" in out
    assert "| decomposition (tasks) | 4 | 2 | 50 % | 3 items, not 2: 1, failed call: 1 |" in out
    assert "| check: steps (replies read) | 4 | 2 | 50 % | no Steps count: 2 |" in out
    assert "| check: variant (replies read) | 4 | 1 | 25 % | no Conclusion: 3 |" in out  # every reply, not only the first failing check
    bad = subprocess.run([sys.executable, "scripts/keep_rates.py", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "neither a Guiding run" in bad.stderr
