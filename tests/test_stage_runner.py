"""The stage runner every run script sources (scripts/stage_runner.sh), on three stub stages that
write a line each: resume after a failure, skip when done, REDO and FORCE (outputs removed first,
every later stage again), a changed setting stops the run, PLAN writes nothing. Seconds; the
slow pipeline tests need not prove the runner."""
import os
import subprocess

from tests.conftest import ROOT

DRIVER = r"""
set -euo pipefail
ROOT=$1; RUN=$2; PY=true
source "$ROOT/scripts/stage_runner.sh"
KNOWN="A_SETTING B_SETTING FORCE REDO STAGES PLAN"
STAGE_LIST="one two three"
STAGE_SHOW="^\[stub\]"
A_SETTING=${A_SETTING:-x}
B_SETTING=${B_SETTING:-b}
stage_outputs() { echo "$RUN/out/$1"; }
work() {
  mkdir -p "$RUN/out"; echo "[stub] $1"
  echo "$1 $A_SETTING" >> "$RUN/out/$1"; echo "$1" >> "$RUN/ran"
  if [ "${FAIL_AT:-}" = "$1" ]; then echo "stub failure" >&2; exit 3; fi
}
one() { work one; }
two() { work two; }
three() { work three; }
check_stage_names
start_run stub
stage one one
stage two two
stage three three
"""


def run(tmp_path, **env):
    driver = tmp_path / "driver.sh"
    driver.write_text(DRIVER)
    e = {k: v for k, v in os.environ.items() if k not in ("FORCE", "REDO", "STAGES", "PLAN", "A_SETTING", "B_SETTING")}
    proc = subprocess.run(["bash", str(driver), str(ROOT), str(tmp_path / "run")], env={**e, **env},
                          capture_output=True, text=True)
    ran = (tmp_path / "run/ran").read_text().split() if (tmp_path / "run/ran").exists() else []
    if (tmp_path / "run/ran").exists():
        (tmp_path / "run/ran").unlink()
    return proc, ran


def lines(tmp_path, stage):
    return (tmp_path / "run/out" / stage).read_text().splitlines()


def test_resume_skip_redo_force(tmp_path):
    proc, ran = run(tmp_path, FAIL_AT="two")
    assert proc.returncode == 1 and ran == ["one", "two"] and "two" in proc.stdout and "FAILED" in proc.stdout
    assert "stub failure" in (tmp_path / "run/logs/two.log").read_text()
    assert sorted(os.listdir(tmp_path / "run/.done")) == ["one"]
    # resumed: the finished stage is skipped, the failed one runs again (its partial output stays)
    proc, ran = run(tmp_path)
    assert proc.returncode == 0 and ran == ["two", "three"] and "one                    done before (skipped)" in proc.stdout
    assert lines(tmp_path, "two") == ["two x", "two x"]
    proc, ran = run(tmp_path)
    assert proc.returncode == 0 and ran == [] and proc.stdout.count("done before (skipped)") == 3
    # REDO: the stage's outputs go first; every later stage runs again; earlier ones are kept
    proc, ran = run(tmp_path, REDO="two")
    assert proc.returncode == 0 and ran == ["two", "three"] and lines(tmp_path, "two") == ["two x"]
    assert lines(tmp_path, "one") == ["one x"] and lines(tmp_path, "three") == ["three x", "three x"]
    proc, ran = run(tmp_path, FORCE="1")
    assert ran == ["one", "two", "three"] and all(lines(tmp_path, s) == [f"{s} x"] for s in ("one", "two", "three"))
    proc, ran = run(tmp_path, STAGES="three", REDO="three")
    assert ran == ["three"]


def test_a_changed_setting_stops_the_run_until_told_what_to_redo(tmp_path):
    assert run(tmp_path)[0].returncode == 0
    proc, ran = run(tmp_path, A_SETTING="y")
    assert proc.returncode == 2 and ran == [] and "settings changed since the last run" in proc.stderr
    assert "A_SETTING" in proc.stderr and "A_SETTING=x" in (tmp_path / "run/config.env").read_text()
    proc, ran = run(tmp_path, A_SETTING="y", REDO="two")
    assert proc.returncode == 0 and ran == ["two", "three"] and lines(tmp_path, "two") == ["two y"]
    assert "A_SETTING=y" in (tmp_path / "run/config.env").read_text()
    assert any(p.name.startswith("config.") for p in (tmp_path / "run/logs").iterdir())  # the earlier record kept


def test_a_record_in_another_order_is_no_change(tmp_path):
    """A version that lists the settings in another order (config.env compared as a set of lines)."""
    assert run(tmp_path)[0].returncode == 0
    config = tmp_path / "run/config.env"
    config.write_text("".join(reversed(config.read_text().splitlines(keepends=True))))
    proc, ran = run(tmp_path)
    assert proc.returncode == 0 and ran == [] and "settings" not in proc.stdout


def test_bad_names_and_plan(tmp_path):
    proc, _ = run(tmp_path, REDO="tow")
    assert proc.returncode == 2 and "unknown stage 'tow'" in proc.stderr and not (tmp_path / "run").exists()
    proc, _ = run(tmp_path, PLAN="1")
    assert proc.returncode == 0 and "== one" in proc.stdout and not (tmp_path / "run").exists()
