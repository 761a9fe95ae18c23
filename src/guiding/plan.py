"""The Guiding study's run plan: its settings, the grid of trained models, what each stage writes.

run_guiding.sh keeps the stage order and launches the steps; everything it decides comes from here:

    eval "$(python -m src.guiding.plan shell)"      the resolved settings and the grid, as shell assignments
    python -m src.guiding.plan write RUN/config.json the same for the report (and the reader)
    python -m src.guiding.plan outputs STAGE        what a redone stage removes first

Settings are environment variables (the fields below; ``run_guiding.sh`` documents them); a bad or
misspelled one stops the run before any stage, every error named at once.
"""
from __future__ import annotations

import dataclasses
import glob
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import yaml

from ..settings import (POSITIVE, RunSettings, cpu_threads_default, hub_mode, hub_offline, main_for, read, setting,
                        shell, to_json, tp_size)
from .benchmarks import NAMES as BENCH_NAMES

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = (r"^(POOL|PAIRS|REPHRASED|TEACHER_|JUDGE_|LLM_|API_|COUNTER|HINT_COUNTER|BANDS|MIN_STEPS|CHECKS|STUDENT_|BASE_SET|"
            r"FINETUNE|TRAIN_|STAGE1_|KINDS|ERS|COMBOS|BASELINES|SAMPLE_ALL|BENCHES|INFER_|LIMIT_|EVAL_|DEMO_|ORIGINAL_|TRANSFER_|SERVE)")
ER_VALUES = tuple(str(e) for e in range(0, 101, 10))
SFT_CONFIG = ROOT / "scripts" / "configs" / "guiding_sft.yaml"
UNSET = None  # a path setting never given (an empty one is a value: "no such input")


@dataclass(frozen=True)
class GuidingSettings(RunSettings):
    # the pool and the pipeline's models
    POOL: str | None = setting(UNSET, "hard-task pool files (globs), split at spaces", empty_is_unset=False)
    PAIRS: str | None = setting(UNSET, "a task_sol_pairs file that replaces the pipeline's pairs", empty_is_unset=False)
    REPHRASED: str = setting("", "a rephrased-pairs file for the Merge-Rephrased baseline")
    TEACHER_URL: str = setting("", "the teacher's OpenAI-compatible endpoint")
    TEACHER_MODEL: str = setting("", "the endpoint's model name")
    TEACHER_DIR: str = setting("", "a local teacher model folder (in process, or served with SERVE=1)")
    JUDGE_URL: str = setting("", "the judge's endpoint (default: the teacher)")
    JUDGE_MODEL: str = setting("", "the judge endpoint's model name")
    JUDGE_DIR: str = setting("", "a local judge model folder")
    SERVE: bool = setting(False, "1: local folders served by vllm serve for each stage that calls them", kind=bool)
    TEACHER_T: str = setting("", "the teacher's sampling temperature (required with POOL)", pattern=r"[0-9]*\.?[0-9]+",
                             what="a temperature such as 0.7")
    K: int = setting(3, "samples per task", kind=int, minimum=1, what="a positive number")
    LLM_MAX_TOKENS: int = setting(8000, "tokens per teacher or judge call", kind=int, minimum=1, what="a positive number")
    LLM_MAX_MODEL_LEN: str = setting("", "an in-process model's context", **POSITIVE)
    LLM_MAX_FAILED: float = setting(0.1, "a step stops when more of its calls failed", kind=float, minimum=0, maximum=1,
                                    what="a share of a step's calls, 0 to 1")
    LLM_RETRY_FAILED: bool = setting(False, "1: send cached failures again", kind=bool)
    API_RPM: str = setting("", "requests per minute (a remote endpoint: 80)", **POSITIVE)
    API_CONCURRENCY: str = setting("", "requests in flight (remote 8, local 64)", **POSITIVE)
    COUNTER: str = setting("bert-base-uncased", "the pool filter's token counter (none: no length filter)")
    HINT_COUNTER: str = setting("cl100k_base", "the hints' token counter")
    BANDS: str = setting("401-1000:2 1001-1600:3", "token-length bands of the pool and their minimum steps")
    MIN_STEPS: int = setting(2, "a decomposition's minimum sub-tasks", kind=int, minimum=1, what="a positive number")
    CHECKS: bool = setting(True, "0: every parsed sub-task is kept and the three checks are not asked", kind=bool)
    ORIGINAL_PROMPTS: str = setting("", "a checkout of the original: its prompt wording")
    ORIGINAL_RULES: bool = setting(False, "1: the original's filters and parsers, defects included", kind=bool)
    TRANSFER_MAX_TOKENS: int = setting(1000, "the style transfer's budget (the original's 1,000)", kind=int, minimum=1,
                                       what="a positive number")
    SAMPLE_ALL: bool = setting(False, "1: the teacher samples every pool task", kind=bool)
    # the student and its training
    STUDENT_BASE: str = setting("", "the strong student")
    STUDENT_TP: str = setting("", "its tensor-parallel size (default: the largest the model allows)", **POSITIVE)
    BASE_SET: str | None = setting(UNSET, "stage 1's LLaMA-Factory file (empty: no stage 1)", empty_is_unset=False)
    FINETUNE: str = setting("full", "full or LoRA fine-tuning", choices=("full", "lora"))
    TRAIN_ARGS: str = setting("", "key=value overrides of scripts/configs/guiding_sft.yaml")
    STAGE1_ARGS: str | None = setting(UNSET, "the same for stage 1 (default: TRAIN_ARGS)")
    KINDS: tuple = setting("hard sub", "which grids", kind=list, choices=("hard", "sub"))
    ERS: tuple = setting(" ".join(ER_VALUES), "the grid's error rates", kind=list, choices=ER_VALUES, what="0, 10, ..., 100")
    COMBOS: tuple = setting("50,10 80,40 20,10", "hard and sub-task error-rate pairs", kind=list,
                            pattern=r"(100|[1-9]?[0-9]),(100|[1-9]?[0-9])",
                            what="HARD,SUB error-rate pairs (percentages 0-100) such as 50,10")
    BASELINES: tuple = setting("epochs4 rephrased", "the baselines", kind=list, choices=("epochs4", "rephrased"),
                               empty_is_unset=False)
    # evaluation
    BENCHES: tuple = setting("", "name=source of math500 olympic jee sat gaokao", kind=list,
                             pattern=rf"({'|'.join(BENCH_NAMES)})=.+", what="name=source with a name of " + " ".join(BENCH_NAMES))
    MAX_TOKENS: int = setting(1680, "the student's answer budget", kind=int, minimum=1, what="a positive number")
    INFER_ARGS: str = setting("", "more src.inference options")
    LIMIT_EVAL: str = setting("", "only the first N questions of each benchmark", **POSITIVE)
    EVAL_JUDGE: bool = setting(False, "1: the judge also grades every response", kind=bool)
    SEED: int = setting(42, "the run's seed", kind=int)


@dataclass(frozen=True)
class GuidingPlan:
    settings: GuidingSettings
    runs: tuple[str, ...]        # the trained models' names, in order
    offline: str                 # HF_HUB_OFFLINE: "0" when an input is on the hub
    pool_files: tuple[str, ...]  # POOL's files, globs expanded
    teacher_tp: str              # an in-process teacher's / judge's tensor-parallel size on GPUs
    judge_tp: str
    four_epochs: str             # the 4-Epochs baseline's epochs: twice the configured

    @property
    def run(self) -> Path:
        return Path(self.settings.RUN)

    @property
    def pairs_file(self) -> str:
        return self.settings.PAIRS or str(self.run / "steps/pipeline/task_sol_pairs.jsonl")

    @property
    def start_model(self) -> str:
        s, m = self.settings, self.run / "models"
        return s.STUDENT_BASE if not s.BASE_SET else str(m / ("stage1_merged" if s.FINETUNE == "lora" else "stage1"))

    @property
    def bench_names(self) -> tuple[str, ...]:
        return tuple(kv.split("=", 1)[0] for kv in self.settings.BENCHES)

    def trained(self, name: str) -> str:
        """The folder inference loads for a trained model (LoRA: its merged copy)."""
        return str(self.run / "models" / (f"{name}_merged" if self.settings.FINETUNE == "lora" else name))

    def shell(self) -> str:
        extra = {"HF_HUB_OFFLINE": self.offline, "RUNS": " ".join(self.runs), "teacher_tp": self.teacher_tp, "judge_tp": self.judge_tp,
                 "FOUR_EPOCHS": self.four_epochs, "PAIRS_FILE": self.pairs_file, "START_MODEL": self.start_model,
                 "BENCH_NAMES": " ".join(self.bench_names)}
        sets = " ".join(f"[{r}]={set_of(r)}" for r in self.runs)  # run -> the dataset it trains on
        return shell(self.settings, extra, {"POOL_FILES": list(self.pool_files)}) + f"\ndeclare -gA SET_OF=({sets})"

    def config(self) -> dict:
        return {"method": "guiding", "settings": to_json(self.settings), "runs": list(self.runs),
                "benches": list(self.bench_names), "pairs": self.pairs_file, "start_model": self.start_model,
                "trained": {r: self.trained(r) for r in self.runs}}

    def outputs(self) -> dict[str, list[Path]]:
        """What a redone stage removes first (the LLM calls' caches stay: paid calls are not sent again)."""
        run = self.run
        d, steps, models, outs = run / "data", run / "steps", run / "models", run / "outputs"
        return {
            "data": [d / "input"],
            "pipeline": [p for p in (steps / "pipeline").rglob("*") if p.is_file() and p.name != "llm_cache.jsonl"],
            "sets": [steps / "sets"],
            "eval_data": [d / "eval"],
            "stage1": [models / "stage1", models / "stage1_merged"],
            "train": [p for r in self.runs for p in (models / r, models / f"{r}_merged")],
            "evaluate": [outs],
            "llm_judge": sorted(outs.rglob("llm_results.*")) if outs.is_dir() else [],
            "report": [run / "report.md", run / "report.json", run / "er_accuracy.png"],
        }


def grid(s: GuidingSettings) -> tuple[str, ...]:
    runs = [f"{k}_er{e}" for k in s.KINDS for e in s.ERS] + [f"combo_{c.replace(',', '_')}" for c in s.COMBOS]
    runs += ["hard_er50_4epochs"] * ("epochs4" in s.BASELINES) + ["merge_rephrased50"] * ("rephrased" in s.BASELINES)
    return tuple(runs)


def set_of(run: str) -> str:
    """The LLaMA-Factory dataset a run trains on (4-Epochs: hard ER 50's, trained twice as long)."""
    return "guiding_hard_er50" if run == "hard_er50_4epochs" else f"guiding_{run}"


def doubled_epochs(train_args: str) -> str:
    """Twice the configured epochs: the recipe's, or TRAIN_ARGS' num_train_epochs."""
    n = yaml.safe_load(SFT_CONFIG.read_text())["num_train_epochs"]
    for kv in train_args.split():
        if kv.startswith("num_train_epochs="):
            n = float(kv.split("=", 1)[1])
    return f"{2 * float(n):g}"


def resolve(env: Mapping[str, str]) -> tuple[GuidingPlan | None, list[str]]:
    """The plan from the environment (a recipe's settings included), or every error."""
    s, errors = read(GuidingSettings, env, FAMILIES)
    if not s.STUDENT_BASE:
        errors.append("set STUDENT_BASE (the strong student), or RECIPE=<name>")
        return None, errors
    run = s.RUN or str(ROOT / "runs" / ("guiding_demo" if s.DEMO else f"guiding_{Path(s.STUDENT_BASE).name}"))
    demo = Path(run) / "data" / "input"  # the demo's generated data (stage data writes it)
    unset = {"POOL": demo / "pool.jsonl", "PAIRS": demo / "task_sol_pairs.jsonl", "BASE_SET": demo / "base_set.json"}
    change = {k: getattr(s, k) if getattr(s, k) is not UNSET else str(v) if s.DEMO else "" for k, v in unset.items()}
    s = dataclasses.replace(s, **change, RUN=run, STAGE1_ARGS=s.TRAIN_ARGS if s.STAGE1_ARGS is UNSET else s.STAGE1_ARGS,
                            BENCHES=s.BENCHES or ((f"math500={demo / 'eval.jsonl'}",) if s.DEMO else ()))
    if not (s.JUDGE_URL or s.JUDGE_DIR):  # the teacher judges
        s = dataclasses.replace(s, JUDGE_URL=s.TEACHER_URL, JUDGE_MODEL=s.TEACHER_MODEL, JUDGE_DIR=s.TEACHER_DIR)
    errors += check(s, env)
    pool_files = tuple(f for entry in s.POOL.split() for f in (sorted(glob.glob(entry)) or [entry]))
    if not s.DEMO:
        errors += [f"POOL file {f} not found" for f in pool_files if not Path(f).is_file()]
    if errors:
        return None, errors
    offline = hub_offline(env, [s.STUDENT_BASE, s.TEACHER_DIR, s.JUDGE_DIR, *((s.COUNTER, s.HINT_COUNTER) if s.POOL else ()),
                                *(kv.split("=", 1)[1] for kv in s.BENCHES)], s.DEMO)
    with hub_mode(offline):  # the models' configs, for their tensor-parallel sizes, read as the run will
        s = dataclasses.replace(s, STUDENT_TP=s.STUDENT_TP or tp_size(s.STUDENT_BASE, s.GPUS),
                                THREADS=s.THREADS or cpu_threads_default(s.GPUS))
        teacher_tp, judge_tp = tp_size(s.TEACHER_DIR, s.GPUS), tp_size(s.JUDGE_DIR, s.GPUS)
    runs = grid(s)
    return GuidingPlan(s, runs, offline, pool_files, teacher_tp, judge_tp,
                       doubled_epochs(s.TRAIN_ARGS) if "hard_er50_4epochs" in runs else ""), []


def check(s: GuidingSettings, env: Mapping[str, str]) -> list[str]:
    """The rules between settings."""
    e = []
    given = lambda name: bool(env.get(name))  # noqa: E731 - as the user gave it (before the judge defaults to the teacher)
    if not (s.POOL or s.PAIRS or s.DEMO):
        e.append("set POOL (pool files for the pipeline) or PAIRS (a task_sol_pairs file)")
    if given("JUDGE_URL") and given("JUDGE_DIR"):
        e.append("give JUDGE_URL + JUDGE_MODEL or JUDGE_DIR, not both")
    if given("JUDGE_URL") and not given("JUDGE_MODEL"):
        e.append("JUDGE_URL needs JUDGE_MODEL (the endpoint's model name)")
    if given("JUDGE_MODEL") and not given("JUDGE_URL"):
        e.append("JUDGE_MODEL names a model of JUDGE_URL; set JUDGE_URL too (or JUDGE_DIR)")
    if s.TEACHER_URL and s.TEACHER_DIR:
        e.append("give TEACHER_URL + TEACHER_MODEL or TEACHER_DIR, not both")
    if s.ORIGINAL_PROMPTS and not (Path(s.ORIGINAL_PROMPTS) / "const" / "prompt_template.json").is_file():
        e.append(f"ORIGINAL_PROMPTS={s.ORIGINAL_PROMPTS}: no const/prompt_template.json (the root of a checkout of the original)")
    if s.POOL:
        if not (s.TEACHER_URL or s.TEACHER_DIR):
            e.append("POOL needs a teacher: TEACHER_URL + TEACHER_MODEL, or TEACHER_DIR")
        if s.TEACHER_URL and not s.TEACHER_MODEL:
            e.append("TEACHER_URL needs TEACHER_MODEL (the endpoint's model name)")
        if not s.TEACHER_T:
            e.append("set TEACHER_T, the teacher's sampling temperature (the paper: 1.0 for GPT models, 0.7 for others)")
    if not s.BENCHES:
        e.append('set BENCHES, e.g. "math500=hub olympic=hub jee=hub sat=/data/sat-math.jsonl gaokao=/data/gaokao-mathcloze.jsonl"')
    if s.EVAL_JUDGE and not (s.JUDGE_URL or s.JUDGE_DIR):
        e.append("EVAL_JUDGE=1 needs a judge: JUDGE_URL + JUDGE_MODEL, JUDGE_DIR, or a teacher")
    if "rephrased" in s.BASELINES and not (s.POOL or s.REPHRASED):
        e.append("BASELINES rephrased needs POOL (the paraphrase step) or REPHRASED")
    return e + s.check_processes()


def main(argv=None) -> int:
    return main_for(resolve, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
