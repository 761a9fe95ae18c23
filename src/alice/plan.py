"""Alice's run plan: its settings, the models it trains and evaluates, what each stage writes.

run_alice.sh keeps the stage order and launches the steps; everything it decides comes from here:

    eval "$(python -m src.alice.plan shell)"      the resolved settings, as shell assignments
    python -m src.alice.plan write RUN/config.json the same for the report (and the reader)
    python -m src.alice.plan outputs STAGE        what a redone stage removes first

Settings are environment variables (the fields below; ``run_alice.sh`` documents them); a bad or
misspelled one stops the run before any stage, every error named at once.
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..eval.alice_answers import DATASETS, RULES
from ..settings import (POSITIVE, RunSettings, cpu_threads_default, hub_mode, hub_offline, main_for, read, sample_seeds,
                        setting, shell, to_json, tp_size)

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = (r"^(TEACHER_|STUDENT_|MID_|SUMMARI|EMBED|N_SAMPLE|MAX_TOKEN|BASELINE|CASCADE|FINETUNE|TRAIN_|INFER_|KEEP_|LIMIT_|"
            r"DEMO_|GPU_MEM|ORIGINAL_|ANSWER_|CLUSTER_)")
QA_DATASETS = ("hotpotqa", "triviaqa")  # clustered by sentence embeddings
DEFAULT_EMBEDDER = ROOT / ".cache" / "models" / "all-minilm-l6-v2"
BASELINE_NAMES = ("w2sg_cot", "w2sg_qa", "base", "zero_shot")


@dataclass(frozen=True)
class AliceSettings(RunSettings):
    DATASET: str = setting("", "gsm8k | arc | hotpotqa | triviaqa", choices=DATASETS)
    SOURCE: str = setting("", "a datasets.save_to_disk folder, or hub")
    TEACHER_BASE: str = setting("", "the weak teacher (an untuned instruct model)")
    STUDENT_BASE: str = setting("", "the strong student")
    MID_BASE: str = setting("", "cascade Alice's middle model (CASCADE=1)")
    SUMMARISER: str = setting("", "the model that writes the uncertainty statements")
    EMBEDDER: str = setting("", "sentence-embedding model (HotpotQA, TriviaQA clustering; default all-MiniLM-L6-v2)")
    EMBED_INSTRUCTION: bool | None = setting(None, "1: the original's instruction before every QA answer, left out of the pooling "
                                             "(default: 1 for an INSTRUCTOR embedder such as hkunlp/instructor-large)", kind=bool)
    CLUSTER_THRESHOLD: float = setting(0.9, "the cosine similarity above which two QA answers are the same (the original's "
                                       "0.9 is instructor-large's: calibrate another embedder, src/alice/calibrate.py)",
                                       kind=float, minimum=0, maximum=1, what="a cosine similarity from 0 to 1")
    N_SAMPLES: int = setting(100, "teacher samples per question", kind=int, minimum=1, what="a positive number")
    MAX_TOKENS: int = setting(4096, "tokens per answer", kind=int, minimum=1, what="a positive number")
    BASELINES: tuple = setting(" ".join(BASELINE_NAMES), "the baselines", kind=list, choices=BASELINE_NAMES,
                               what=" ".join(BASELINE_NAMES))
    CASCADE: bool = setting(False, "1: cascade Alice too (teacher -> MID_BASE -> student)", kind=bool)
    FINETUNE: str = setting("full", "full or LoRA fine-tuning of the students", choices=("full", "lora"))
    TEACHER_FINETUNE: str = setting("", "the same for the teacher (default: FINETUNE)", choices=("full", "lora"))
    TRAIN_ARGS: str = setting("", "key=value overrides of scripts/configs/alice_sft.yaml for every training")
    TEACHER_TRAIN_ARGS: str | None = setting(None, "the same for the teacher's (default: TRAIN_ARGS)")
    INFER_ARGS: str = setting("", "more src.inference options")
    KEEP_INVALID: bool = setting(False, "1: every raw uncertainty statement reaches the student (the original)", kind=bool)
    LIMIT_TRANSFER: str = setting("", "only the first N transfer questions", **POSITIVE)
    LIMIT_EVAL: str = setting("", "only the first N evaluation questions", **POSITIVE)
    TEACHER_TP: str = setting("", "tensor-parallel sizes (default: the largest the model allows)", **POSITIVE)
    STUDENT_TP: str = setting("", "", **POSITIVE)
    MID_TP: str = setting("", "", **POSITIVE)
    SUMMARISER_TP: str = setting("", "", **POSITIVE)
    ORIGINAL_PROMPTS: str = setting("", "a checkout of the original Alice code: its prompt wording")
    ANSWER_RULE: str = setting("original", "clustering's marker answer: original (first marker; N/A) or last", choices=RULES)
    SEED: int = setting(0, "the run's seed (samples: seeds 1000*SEED ...)", kind=int, minimum=0, what="0 or more")


@dataclass(frozen=True)
class AlicePlan:
    settings: AliceSettings
    offline: str  # HF_HUB_OFFLINE: "0" when an input is on the hub

    @property
    def run(self) -> Path:
        return Path(self.settings.RUN)

    @property
    def bench(self) -> str:
        return f"alice_{self.settings.DATASET}"

    @property
    def sample_seeds(self) -> list[int]:
        """The teacher's (and the cascade's middle model's) sample seeds: one per sample, 1000*SEED on."""
        return sample_seeds(self.settings.SEED, self.settings.N_SAMPLES)

    def trained(self, name: str, finetune: str) -> str:
        """The folder inference loads for a trained model (LoRA: its merged copy)."""
        return str(self.run / "models" / (f"{name}_merged" if finetune == "lora" else name))

    def evaluated(self) -> dict[str, tuple[str, str]]:
        """Every evaluated model: name -> (the folder inference loads, its tensor-parallel size)."""
        s = self.settings
        teacher = lambda n: (self.trained(n, s.TEACHER_FINETUNE), s.TEACHER_TP)  # noqa: E731
        student = lambda n: (self.trained(n, s.FINETUNE), s.STUDENT_TP)  # noqa: E731
        models = {"teacher": teacher("teacher"), "alice": student("alice")}
        if s.CASCADE:
            models["cascade"] = student("cascade")
        for kind in ("w2sg_cot", "w2sg_qa"):
            if kind in s.BASELINES:
                models[kind] = student(kind)
        if "base" in s.BASELINES:
            models.update(weak_base=teacher("weak_base"), strong_base=student("strong_base"))
        if "zero_shot" in s.BASELINES:
            models["zero_shot"] = (s.STUDENT_BASE, s.STUDENT_TP)
        return models

    def shell(self) -> str:
        """The settings, BENCH, SAMPLE_SEEDS, and EVAL_GROUPS: the evaluation jobs by the model they
        load ("MODEL TP OUT DATA - OUT DATA - ..." per line: models that share a folder, one load)."""
        groups: dict[tuple[str, str], list[str]] = {}
        for name, (model, tp) in self.evaluated().items():
            groups.setdefault((model, tp), []).append(name)
        d, o = self.run / "data", self.run / "outputs"
        lines = [f"{model} {tp or '-'} " + " ".join(f"{o / n / 'output.jsonl'} {d / 'eval.jsonl'} -" for n in names)
                 for (model, tp), names in groups.items()]
        return shell(self.settings, {"HF_HUB_OFFLINE": self.offline, "BENCH": self.bench, "SAMPLE_SEEDS": " ".join(map(str, self.sample_seeds)),
                                     "EVAL_GROUPS": "\n".join(lines)})

    def config(self) -> dict:
        return {"method": "alice", "settings": to_json(self.settings), "benchmark": self.bench,
                "sample_seeds": self.sample_seeds, "evaluated": {n: m for n, (m, _) in self.evaluated().items()}}

    def outputs(self) -> dict[str, list[Path]]:
        """What a redone stage removes first."""
        run = self.run
        d, steps, m = run / "data", run / "steps", run / "models"
        models = lambda *globs: [p for g in globs for p in sorted(m.glob(g))]  # noqa: E731
        return {
            "data": [d],
            "teacher_data": [steps / "cot"],
            "teacher_sft": models("teacher", "teacher_*"),
            "sampling": [steps / "sampling"],
            "alice_data": [steps / "alice"],
            "student_sft": models("alice", "alice_merged"),
            "cascade": [steps / "cascade_mid", steps / "cascade_strong", *models("mid*", "cascade*")],
            "baselines": [steps / "baselines", *models("w2sg_*", "weak_base*", "strong_base*")],
            "evaluate": [run / "outputs"],
            "report": [run / "report.md", run / "report.json", run / "clusters.png"],
        }


def resolve(env: Mapping[str, str]) -> tuple[AlicePlan | None, list[str]]:
    """The plan from the environment (a recipe's settings included), or every error."""
    s, errors = read(AliceSettings, env, FAMILIES)
    for name, what in (("DATASET", "set DATASET (gsm8k, arc, hotpotqa, triviaqa)"),
                       ("TEACHER_BASE", "set TEACHER_BASE (the weak teacher), or RECIPE=<name>"),
                       ("STUDENT_BASE", "set STUDENT_BASE (the strong student)"),
                       ("SUMMARISER", "set SUMMARISER (the model that writes uncertainty statements; it may be STUDENT_BASE)")):
        if not getattr(s, name) and not env.get(name):
            errors.append(what)
    if not s.DEMO and not s.SOURCE:
        errors.append("set SOURCE (a save_to_disk folder, or hub)")
    if s.CASCADE and not s.MID_BASE:
        errors.append("CASCADE=1 needs MID_BASE (the middle model)")
    if s.ORIGINAL_PROMPTS and not (Path(s.ORIGINAL_PROMPTS) / "cot" / "cot_generate_filter.py").is_file():
        errors.append(f"ORIGINAL_PROMPTS={s.ORIGINAL_PROMPTS}: no cot/cot_generate_filter.py (the root of a checkout of the "
                      "original Alice code)")
    errors += s.check_processes()
    if errors:
        return None, errors
    # before a model's config is read for its tensor-parallel size (the embedder as given: the default is local)
    offline = hub_offline(env, [s.SOURCE, s.TEACHER_BASE, s.STUDENT_BASE, s.MID_BASE, s.SUMMARISER, s.EMBEDDER], s.DEMO)
    models = "demo" if s.DEMO else f"{Path(s.TEACHER_BASE).name}_{Path(s.STUDENT_BASE).name}"
    with hub_mode(offline):  # the models' configs, for their tensor-parallel sizes, read as the run will
        s = dataclasses.replace(
            s, RUN=s.RUN or str(ROOT / "runs" / f"alice_{s.DATASET}_{models}"),
            TEACHER_FINETUNE=s.TEACHER_FINETUNE or s.FINETUNE,
            TEACHER_TRAIN_ARGS=s.TRAIN_ARGS if s.TEACHER_TRAIN_ARGS is None else s.TEACHER_TRAIN_ARGS,
            EMBEDDER=s.EMBEDDER or (str(DEFAULT_EMBEDDER) if s.DATASET in QA_DATASETS else ""),
            EMBED_INSTRUCTION="instructor" in s.EMBEDDER.lower() if s.EMBED_INSTRUCTION is None else s.EMBED_INSTRUCTION,
            TEACHER_TP=s.TEACHER_TP or tp_size(s.TEACHER_BASE, s.GPUS), STUDENT_TP=s.STUDENT_TP or tp_size(s.STUDENT_BASE, s.GPUS),
            MID_TP=s.MID_TP or tp_size(s.MID_BASE, s.GPUS), SUMMARISER_TP=s.SUMMARISER_TP or tp_size(s.SUMMARISER, s.GPUS),
            THREADS=s.THREADS or cpu_threads_default(s.GPUS))
    return AlicePlan(s, offline), []


def main(argv=None) -> int:
    return main_for(resolve, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
