"""scripts/profile_run.py reads a run's logs and answer files: stage times split into engine loads,
generation (without the load it follows), training and the rest; tokens written after the first
complete final-answer line."""
import json
import subprocess
import sys

from tests.conftest import ROOT


def write_run(run, tokenizer):
    (run / "logs").mkdir(parents=True)
    (run / "config.env").write_text(f"DATASET=gsm8k\nSTRONG_BASE={tokenizer}\n")
    (run / "logs/status.log").write_text(
        "[10:00:00] weak_inference         running (log: x)\n[10:03:50] weak_inference         done in 230s\n"
        "[10:04:00] weak_sft               done in 100s\n[10:09:00] weak_sft               done in 120s\n")
    out = run / "outputs/weak_test"
    out.mkdir(parents=True)
    rows = [{"id": 0, "prompt": "p", "response": "3 + 4 = 7\n#### 7", "finish_reason": "stop"},
            {"id": 1, "prompt": "p", "response": "2 * 5 = 10\n#### 10#### 10#### 10", "finish_reason": "length"}]
    (out / "output.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run / "logs/weak_inference.log").write_text(
        "[inference] vllm engine loaded in 12s: /m\nsome vLLM line\n"
        f"[inference] 2 answers in 200s -> {out / 'output.jsonl'}\n")
    (run / "logs/weak_sft.log").write_text("{'train_runtime': 110.5, 'train_samples_per_second': 1.0}\n")


def test_profile_splits_stage_time_and_counts_tokens_past_the_answer(tmp_path, tiny_model):
    run = tmp_path / "run"
    write_run(run, tiny_model)
    proc = subprocess.run([sys.executable, "scripts/profile_run.py", str(run)], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = {row.split("|")[1].strip(): [c.strip() for c in row.split("|")[2:-1]]
             for row in proc.stdout.splitlines() if row.startswith("| ") and not row.startswith("| stage")}
    # wall 230: load 12, generation 200 - 12, the rest 30; the later weak_sft attempt counts
    assert lines["weak_inference"][:4] == ["230", "12 (1)", "188", "2"]
    assert lines["weak_inference"][-1] == "30"
    assert lines["weak_sft"][0] == "120" and lines["weak_sft"][-2] == "110 (1)"
    test = lines["weak_test"]  # rows, cut, new tokens, after the answer, share
    assert test[0] == "2" and test[1] == "1" and 0 < int(test[3]) < int(test[2])


def test_profile_refuses_a_folder_that_is_not_a_run(tmp_path):
    proc = subprocess.run([sys.executable, "scripts/profile_run.py", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode != 0 and "config.env is missing" in proc.stderr
