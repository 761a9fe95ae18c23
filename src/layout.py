"""The weak-to-strong reasoning run plan: its settings, every stage and the paths it writes.

scripts/pipeline.sh (run_gsm8k.sh, run_math.sh, run_olympic.sh) keeps the stage order and launches
the steps; what it decides comes from here:

    eval "$(python -m src.layout shell)"      the resolved settings, as shell assignments
    python -m src.layout write RUN/config.json the same for the report
    python -m src.layout outputs STAGE        what a redone stage removes first (its paths)

Settings are environment variables (the fields of ``W2SRSettings``); a bad or misspelled one stops
the run before any stage, every error named at once. The benchmark's own settings (token budget,
stage I iterations, whether it has train_1 gold) are the defaults of MAX_TOKENS, ITER2 and CEILING.

A run folder (``runs/<name>/``) holds:

    config.env, config.json    the settings of the run (config.env replays it: ``source`` it, then run
                               the script; config.json is the resolved plan the report reads)
    data/                      test/<ds>.jsonl, test/<ds>_train_2.jsonl, llama_factory/<ds>/*.json
    outputs/<name>/            output.jsonl + output.meta.json, results.jsonl, metrics.json of each inference run
    models/<name>/             LoRA adapters (and merged models) of each training run, training.meta.json
    logs/<stage>.log, logs/status.log
    .done/<stage>              written last, when the stage has finished
    report.md, report.json, *.png

The stages form a chain: when a stage runs again (``REDO``, ``FORCE``, or its marker is missing),
every later stage runs again too. A stage that is redone (``REDO``, ``FORCE``) first loses its
outputs, so nothing of the earlier run survives next to the new one; an interrupted stage keeps
them and resumes; inference anywhere regenerates what another model or setting made.
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from . import benchmarks
from .prompts import DEMO_FILTERS
from .settings import (POSITIVE, RunSettings, cpu_threads_default, hub_mode, hub_offline, main_for, read, sample_seeds,
                       setting, shell, to_json, tp_size)

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = r"^(WEAK_|STRONG_|DEMO_|DATA_|MERGE_|TRAIN_|PREF_|INFER_|GPU_MEM|N_SAMPLE|MAX_TOKEN|STAGE2_|PAD_TO)"
TEMPLATES = dict(choices=("auto", "vanilla", "vanilla_bos"))

# stage -> outputs (relative to the run folder; {ds} = the benchmark's name)
STAGES: dict[str, tuple[str, ...]] = {
    "data": ("data",),
    "weak_sft": ("models/weak_sft",),
    "weak_inference": ("outputs/weak_test", "outputs/weak_train2", "data/llama_factory/{ds}/train_full_weak.json"),
    "strong_icl": ("outputs/strong_icl_train2", "outputs/strong_icl_test"),
    "stage1_iter1": ("data/llama_factory/{ds}/train_iter1_*", "models/iter1_hybrid", "models/iter1_weak",
                     "models/iter1_icl"),
    "stage1_iter2": ("outputs/iter1_weak_train2", "outputs/iter1_icl_train2", "data/llama_factory/{ds}/train_iter2_*",
                     "models/iter2_hybrid"),
    "baselines": ("models/ceiling", "models/full_weak"),
    "sampling": ("outputs/mplus_samples",),
    "pairs": ("data/llama_factory/{ds}/train_pairs.json",),
    "preference": ("models/mplus_merged", "models/dpo", "models/orpo", "models/dpo_final", "models/orpo_final",
                   "models/dpo_merged", "models/orpo_merged"),
    "evaluate": ("outputs/eval_*",),
    "report": ("report.md", "accuracy.png", "pgr.png", "stage2.png"),
}

# the models of the report's accuracy table: (label, outputs/<name>)
EVALUATIONS = [
    ("weak floor (weak model, test)", "weak_test"),
    ("strong few-shot (ICL)", "strong_icl_test"),
    ("strong ceiling (SFT on train_2 gold)", "eval_ceiling"),
    ("full weak fine-tuning", "eval_full_weak"),
    ("stage I, iter1 (hybrid)", "eval_iter1_hybrid"),
    ("stage I, iter2 (hybrid) = M_plus", "eval_iter2_hybrid"),
    ("stage II, DPO", "eval_dpo"),
    ("stage II, ORPO", "eval_orpo"),
]


@dataclass(frozen=True)
class W2SRSettings(RunSettings):
    DATASET: str = setting("", "gsm8k | math | olympicarena (set by the run script)", choices=("gsm8k", "math", "olympicarena"))
    WEAK_BASE: str = setting("", "the weak model before SFT on train_1")
    WEAK_MODEL: str = setting("", "a weak model used as it is (no weak SFT)")
    STRONG_BASE: str = setting("", "the strong model")
    MAX_TOKENS: str = setting("", "tokens per answer (default: the benchmark's)", **POSITIVE)
    N_SAMPLES: int = setting(10, "M_plus samples per train_2 question", kind=int, minimum=1, what="a positive number")
    ITER2: bool | None = setting(None, "1: stage I's second round (default: the benchmark's iterations)", kind=bool)
    BASELINES: bool = setting(True, "1: the ICL, full-weak and ceiling baselines", kind=bool)
    CEILING: bool | None = setting(None, "1: the strong ceiling (needs train_2 gold; default: the benchmark has it)", kind=bool)
    PREF: tuple = setting("dpo orpo", "the stage II losses", kind=list, choices=("dpo", "orpo"))
    EXPORT: bool = setting(False, "1: also write merged full models of the DPO/ORPO results", kind=bool)
    STAGE2_START: str = setting("merged", "merged: a fresh LoRA on merged M_plus (reference M_plus); continue: keep "
                                "training the stage I adapter (the original's LLaMA-Factory 0.5; reference = base)",
                                choices=("merged", "continue"))
    PAD_TO: str = setting("", "pad stage I data with inconsistent questions to N; 0: the strict set only (default: the "
                          "benchmark's: MATH 1000, the original's with Gemma-2b)", pattern=r"[0-9]+", what="a number")
    DEMO_SEED: str = setting("", "the ICL demonstrations' seed (default: SEED, else 42)", pattern=r"[0-9]+", what="a number")
    DEMO_FILTER: str = setting("original", "which weak answers may be demonstrations", choices=DEMO_FILTERS)
    DEMO_IDS: str = setting("", "fixed demonstration ids instead (train_2 ids, split at spaces)")
    DEMO_LEVELS: str = setting("", "the demo data's problem levels (default 1 2 3)", pattern=r"[1-9]( [1-9])*",
                              what="levels such as 1 2 3")
    WEAK_TEMPLATE: str = setting("auto", "training template: auto = vanilla or vanilla_bos, as the tokenizer does", **TEMPLATES)
    STRONG_TEMPLATE: str = setting("auto", "the same for the strong model", **TEMPLATES)
    TRAIN_ARGS: str = setting("", "key=value overrides of scripts/configs/sft_lora.yaml")
    STRONG_TRAIN_ARGS: str = setting("", "the same for the strong model's SFT (default: TRAIN_ARGS)")
    PREF_ARGS: str = setting("", "key=value overrides of the DPO / ORPO configs")
    INFER_ARGS: str = setting("", "more src.inference options")
    DATA_SOURCE: str = setting("", "src.prepare_data's source options (default: --from data)")
    OLYMPIC_SOURCE: str = setting("", "a local copy of OlympicArena (hub layout; default: the hub)")
    DATA_SUBSET: str = setting("", "a seeded sample of each split: TRAIN_1 TRAIN_2 TEST", pattern=r"[0-9]+ [0-9]+ [0-9]+",
                               what="three numbers: TRAIN_1 TRAIN_2 TEST")
    DATA_SEED: int = setting(0, "DATA_SUBSET's seed", kind=int, minimum=0, what="a number")
    MERGE_ADAPTERS: bool = setting(False, "1: merge each LoRA adapter into its base before inference", kind=bool)
    WEAK_TP: str = setting("1", "tensor-parallel GPUs of the weak model", **POSITIVE)
    STRONG_TP: str = setting("", "of the strong model (default: the largest its attention heads allow)", **POSITIVE)
    SEED: str = setting("", "one number for every random choice of a run (repeats); unset: the original's seeds",
                        pattern=r"[0-9]+", what="a number")


@dataclass(frozen=True)
class W2SRPlan:
    settings: W2SRSettings
    offline: str  # HF_HUB_OFFLINE: "0" when an input is on the hub

    @property
    def sample_seeds(self) -> list[int]:
        """M_plus's sampling seeds: one per sample, from 0 (the original's), or from 1000*SEED."""
        return sample_seeds(int(self.settings.SEED or 0), self.settings.N_SAMPLES)

    def outputs(self) -> dict[str, list[Path]]:
        """What a redone stage removes first."""
        return {stage: outputs(Path(self.settings.RUN), stage, self.settings.DATASET) for stage in STAGES}

    def shell(self) -> str:
        seeds = self.sample_seeds
        return shell(self.settings, {"HF_HUB_OFFLINE": self.offline, "STAGE_LIST": " ".join(STAGES),
                                     "SAMPLE_SEEDS": " ".join(map(str, seeds)),
                                     "SEED_START": str(seeds[0]), "SEED_END": str(seeds[-1] + 1)})

    def config(self) -> dict:
        return {"method": "w2sr", "settings": to_json(self.settings), "benchmark": self.settings.DATASET,
                "sample_seeds": self.sample_seeds}


def resolve(env: Mapping[str, str]) -> tuple[W2SRPlan | None, list[str]]:
    """The plan from the environment (a recipe's settings included), or every error."""
    s, errors = read(W2SRSettings, env, FAMILIES)
    if not s.DATASET:
        errors.append("set DATASET (gsm8k, math, olympicarena): run run_gsm8k.sh, run_math.sh or run_olympic.sh")
    if s.DEMO and s.DATASET not in ("", "gsm8k"):
        errors.append("the offline demo runs GSM8K-format data: bash run_gsm8k.sh")
    if not s.WEAK_BASE and not s.WEAK_MODEL:
        errors.append("set WEAK_BASE (the weak model before SFT on train_1) or WEAK_MODEL (used as it is), or RECIPE=<name>")
    if not s.STRONG_BASE:
        errors.append("set STRONG_BASE (the strong model folder), or RECIPE=<name>")
    if s.DATA_SUBSET and (s.DEMO or s.DATASET == "olympicarena"):
        errors.append("DATA_SUBSET samples the release's GSM8K / MATH splits (the demo's sizes: DEMO_SIZES; OlympicArena: "
                      "not supported)")
    errors += s.check_processes()
    if errors:
        return None, errors
    bench = benchmarks.get(s.DATASET)
    # the hub only when an input is on it: the data with --hub, OlympicArena without a local copy, a model named by hub id
    data_on_hub = "--hub" in s.DATA_SOURCE or (s.DATASET == "olympicarena" and not s.DATA_SOURCE and not s.OLYMPIC_SOURCE)
    weak = s.WEAK_MODEL or s.WEAK_BASE
    offline = hub_offline(env, ["hub" if data_on_hub else "", weak, s.STRONG_BASE], s.DEMO)
    models = "demo" if s.DEMO else f"{Path(weak).name}_{Path(s.STRONG_BASE).name}"
    with hub_mode(offline):  # the strong model's config, for its tensor-parallel size, read as the run will
        s = dataclasses.replace(
            s, RUN=s.RUN or str(ROOT / "runs" / f"{s.DATASET}_{models}"),
            MAX_TOKENS=s.MAX_TOKENS or str(bench.max_tokens),
            PAD_TO="" if s.PAD_TO == "0" else s.PAD_TO or (str(bench.pad_to) if bench.pad_to else ""),
            ITER2=bench.iterations == 2 if s.ITER2 is None else s.ITER2,
            CEILING=bench.train_1 if s.CEILING is None else s.CEILING,
            DEMO_SEED=s.DEMO_SEED or s.SEED or "42", DEMO_LEVELS=s.DEMO_LEVELS or ("1 2 3" if s.DEMO else ""),
            STRONG_TRAIN_ARGS=s.STRONG_TRAIN_ARGS or s.TRAIN_ARGS,
            STRONG_TP=s.STRONG_TP or tp_size(s.STRONG_BASE, s.GPUS),
            THREADS=s.THREADS or cpu_threads_default(s.GPUS))
    return W2SRPlan(s, offline), []


def outputs(run: Path, stage: str, ds: str) -> list[Path]:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    paths = []
    for pattern in STAGES[stage]:
        pattern = pattern.format(ds=ds)
        paths += sorted(run.glob(pattern)) if "*" in pattern else [run / pattern]
    return paths


def main(argv=None) -> int:
    return main_for(resolve, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
