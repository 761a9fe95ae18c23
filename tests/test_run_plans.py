"""The Alice and Guiding run plans (src/alice/plan.py, src/guiding/plan.py): settings read from the
environment with their defaults and rules, every bad one named at once, the grid and the evaluation
jobs, what a redone stage removes. Milliseconds: no model is loaded."""
import subprocess

from src.alice import plan as alice
from src.guiding import plan as guiding
from tests.conftest import ROOT

GUIDING = {"STUDENT_BASE": "/m/student", "PAIRS": "/d/pairs.jsonl", "BENCHES": "math500=hub", "BASELINES": "epochs4"}
ALICE = {"DATASET": "gsm8k", "SOURCE": "hub", "TEACHER_BASE": "/m/weak", "STUDENT_BASE": "/m/strong", "SUMMARISER": "/m/strong"}


def test_guiding_defaults_grid_and_derived_settings():
    plan, errors = guiding.resolve(GUIDING)
    assert not errors
    s = plan.settings
    assert (s.K, s.LLM_MAX_TOKENS, s.SEED, s.CHECKS, s.FINETUNE) == (3, 8000, 42, True, "full")
    assert s.RUN == str(ROOT / "runs/guiding_student") and plan.pairs_file == "/d/pairs.jsonl"
    assert plan.runs[:2] == ("hard_er0", "hard_er10") and len(plan.runs) == 2 * 11 + 3 + 1
    assert plan.runs[-1] == "hard_er50_4epochs" and guiding.set_of("hard_er50_4epochs") == "guiding_hard_er50"
    assert plan.four_epochs == "4" and plan.start_model == "/m/student"  # the config's 2 epochs, twice; no stage 1
    more, _ = guiding.resolve({**GUIDING, "TRAIN_ARGS": "num_train_epochs=3 learning_rate=1e-5", "BASE_SET": "/d/b.json",
                               "FINETUNE": "lora", "TEACHER_DIR": "/m/t", "BASELINES": ""})
    assert more.four_epochs == "" and "hard_er50_4epochs" not in more.runs  # BASELINES="" means none
    assert more.settings.STAGE1_ARGS == "num_train_epochs=3 learning_rate=1e-5"  # STAGE1_ARGS defaults to TRAIN_ARGS
    assert more.start_model.endswith("models/stage1_merged") and more.settings.JUDGE_DIR == "/m/t"  # the teacher judges
    four, _ = guiding.resolve({**GUIDING, "TRAIN_ARGS": "num_train_epochs=3"})
    assert four.four_epochs == "6"


def test_the_hub_is_offline_unless_an_input_needs_it(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    local = {**GUIDING, "STUDENT_BASE": str(tmp_path), "BENCHES": f"math500={tmp_path}"}
    assert guiding.resolve(local)[0].offline == "1"
    assert guiding.resolve({**local, "BENCHES": f"math500={tmp_path} sat=hub"})[0].offline == "0"
    assert guiding.resolve({**local, "STUDENT_BASE": "org/model"})[0].offline == "0"  # a hub id
    given = {**local, "STUDENT_BASE": "org/model", "HF_OFFLINE_GIVEN": "1", "HF_HUB_OFFLINE": "1"}
    assert guiding.resolve(given)[0].offline == "1"  # the user's own value wins
    assert alice.resolve({**ALICE, "TEACHER_BASE": str(tmp_path), "STUDENT_BASE": str(tmp_path), "SUMMARISER": str(tmp_path),
                          "SOURCE": str(tmp_path), "DATASET": "triviaqa"})[0].offline == "1"  # the default embedder is local


def test_guiding_every_bad_setting_named_at_once():
    _, errors = guiding.resolve({**GUIDING, "ERS": "0 5", "KINDS": "hard easy", "CHECKS": "yes", "TEACHER_TT": "1",
                                 "JUDGE_MODEL": "gpt", "LLM_MAX_FAILED": "2", "POOL": "/nowhere/*.jsonl"})
    text = "\n".join(errors)
    for message in ("ERS holds 0, 10, ..., 100, not '5'", "KINDS holds hard and/or sub, not 'easy'", "CHECKS is 0 or 1",
                    "unknown setting TEACHER_TT", "JUDGE_MODEL names a model of JUDGE_URL", "LLM_MAX_FAILED is a share",
                    "POOL needs a teacher", "set TEACHER_T", "POOL file /nowhere/*.jsonl not found"):
        assert message in text, message
    assert len(errors) == 9, errors


def test_guiding_demo_inputs_and_what_a_redone_stage_removes(tmp_path):
    env = {"STUDENT_BASE": "/m/s", "DEMO": "1", "RUN": str(tmp_path), "TEACHER_DIR": "/m/t", "TEACHER_T": "0.7"}
    plan, errors = guiding.resolve(env)
    assert not errors and plan.settings.POOL == str(tmp_path / "data/input/pool.jsonl")
    assert plan.settings.BENCHES == (f"math500={tmp_path / 'data/input/eval.jsonl'}",)
    no_pool, _ = guiding.resolve({**env, "POOL": "", "BASELINES": ""})  # an empty POOL is a value: no pipeline
    assert no_pool.settings.POOL == "" and no_pool.pool_files == ()
    step = tmp_path / "steps/pipeline/judge"
    step.mkdir(parents=True)
    for name in ("llm_cache.jsonl", "judged.jsonl"):
        (step / name).write_text("{}\n")
    assert plan.outputs()["pipeline"] == [step / "judged.jsonl"]  # paid calls stay cached
    assert tmp_path / "models/sub_er100" in plan.outputs()["train"]


def test_alice_defaults_evaluation_groups_and_seeds():
    plan, errors = alice.resolve({**ALICE, "SEED": "2", "N_SAMPLES": "3", "BASELINES": "base zero_shot", "FINETUNE": "lora",
                                  "TEACHER_FINETUNE": "full"})
    assert not errors
    assert plan.sample_seeds == [2000, 2001, 2002] and plan.bench == "alice_gsm8k"
    assert plan.settings.RUN == str(ROOT / "runs/alice_gsm8k_weak_strong") and plan.settings.EMBEDDER == ""
    evaluated = plan.evaluated()
    assert list(evaluated) == ["teacher", "alice", "weak_base", "strong_base", "zero_shot"]
    assert evaluated["alice"][0].endswith("models/alice_merged") and evaluated["teacher"][0].endswith("models/teacher")
    assert evaluated["zero_shot"][0] == "/m/strong"
    qa, _ = alice.resolve({**ALICE, "DATASET": "triviaqa", "TRAIN_ARGS": "a=1"})
    assert qa.settings.EMBEDDER == str(alice.DEFAULT_EMBEDDER) and qa.settings.TEACHER_TRAIN_ARGS == "a=1"
    assert qa.settings.EMBED_INSTRUCTION is False  # MiniLM: no instruction unless asked
    instructor, _ = alice.resolve({**ALICE, "DATASET": "triviaqa", "EMBEDDER": "hkunlp/instructor-large"})
    assert instructor.settings.EMBED_INSTRUCTION is True and instructor.offline == "0"  # the original's, from the hub
    assert qa.settings.TEACHER_FINETUNE == "full"  # FINETUNE's default
    own, _ = alice.resolve({**ALICE, "TRAIN_ARGS": "a=1", "TEACHER_TRAIN_ARGS": "b=2"})
    assert own.settings.TEACHER_TRAIN_ARGS == "b=2"


def test_alice_every_bad_setting_named_at_once():
    _, errors = alice.resolve({"DATASET": "mmlu", "TEACHER_BASE": "/m/w", "BASELINES": "w2sg_cot w2s", "CASCADE": "1",
                               "ANSWER_RULE": "first", "STUDENT_BASSE": "/m/s"})
    text = "\n".join(errors)
    for message in ("DATASET is gsm8k or arc or hotpotqa or triviaqa, not 'mmlu'", "BASELINES holds w2sg_cot w2sg_qa base "
                    "zero_shot, not 'w2s'", "ANSWER_RULE is original or last, not 'first'", "unknown setting STUDENT_BASSE",
                    "set STUDENT_BASE", "set SUMMARISER", "set SOURCE", "CASCADE=1 needs MID_BASE"):
        assert message in text, message


def test_the_command_line_gives_shell_assignments_or_every_error(tmp_path):
    py = str(ROOT / ".venv/bin/python")
    ok = subprocess.run([py, "-m", "src.guiding.plan", "shell"], cwd=ROOT, capture_output=True, text=True,
                        env={"PATH": "/usr/bin:/bin", **GUIDING, "RUN": str(tmp_path)})
    assert ok.returncode == 0, ok.stderr
    out = subprocess.run(["bash", "-c", ok.stdout + '\necho "$K|${SET_OF[hard_er50_4epochs]}|${POOL_FILES[*]}|$KNOWN"'],
                         capture_output=True, text=True).stdout
    k, dataset, pool, known = out.strip().split("|")
    assert (k, dataset, pool) == ("3", "guiding_hard_er50", "") and "TEACHER_T" in known.split()
    bad = subprocess.run([py, "-m", "src.alice.plan", "shell"], cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", **ALICE, "N_SAMPLES": "0", "KEEP_INVALID": "2"})
    assert bad.returncode == 2 and not bad.stdout
    assert bad.stderr.splitlines() == ["error: N_SAMPLES is a positive number, not '0'", "error: KEEP_INVALID is 0 or 1, not '2'"]


def test_w2sr_defaults_come_from_the_benchmark_and_every_bad_setting_is_named_at_once():
    from src import layout
    math, errors = layout.resolve({"DATASET": "math", "WEAK_BASE": "/m/w", "STRONG_BASE": "/m/s", "SEED": "2", "N_SAMPLES": "3"})
    assert not errors
    s = math.settings
    assert (s.MAX_TOKENS, s.ITER2, s.CEILING, s.DEMO_SEED) == ("2048", False, True, "2")  # MATH: one stage I round
    assert s.PAD_TO == "1000"  # MATH's stage I padding (the original's with Gemma-2b); PAD_TO=0: none
    assert layout.resolve({"DATASET": "math", "WEAK_BASE": "/m/w", "STRONG_BASE": "/m/s", "PAD_TO": "0"})[0].settings.PAD_TO == ""
    assert math.sample_seeds == [2000, 2001, 2002] and math.config()["sample_seeds"] == [2000, 2001, 2002]
    olympic, errors = layout.resolve({"DATASET": "olympicarena", "WEAK_MODEL": "/m/w", "STRONG_BASE": "/m/s"})
    assert not errors and (olympic.settings.ITER2, olympic.settings.CEILING) == (True, False)  # no train_2 gold
    assert olympic.offline == "0"  # OlympicArena without a local copy: from the hub
    _, errors = layout.resolve({"DATASET": "gsm8k", "WEAK_BASEE": "/m/w", "ITER2": "2", "PREF": "dpo kto",
                                "STAGE2_START": "fresh", "DATA_SUBSET": "1 2", "NNODES": "2", "THREADS": "0"})
    text = "\n".join(errors)
    for message in ("unknown setting WEAK_BASEE", "ITER2 is 0 or 1, not '2'", "PREF holds dpo and/or orpo, not 'kto'",
                    "STAGE2_START is merged or continue, not 'fresh'", "DATA_SUBSET is three numbers", "set WEAK_BASE",
                    "set STRONG_BASE", "NNODES=2 needs MASTER_ADDR", "THREADS is a positive number of CPU threads, not '0'"):
        assert message in text, message
