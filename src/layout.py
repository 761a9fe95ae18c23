"""The run layout: every stage of the weak-to-strong pipeline and the paths it writes, in one place.

    python -m src.layout stages                 # the stages, in order
    python -m src.layout outputs RUN STAGE      # the paths a stage writes (the pipeline clears them on a redo)

A run folder (``runs/<name>/``) holds:

    config.env                 the settings of the run (replayable: ``source`` it, then run the script)
    data/                      test/<ds>.jsonl, test/<ds>_train_2.jsonl, llama_factory/<ds>/*.json
    outputs/<name>/            output.jsonl + output.meta.json, results.jsonl, metrics.json of each inference run
    models/<name>/             LoRA adapters (and merged models) of each training run
    logs/<stage>.log, logs/status.log
    .done/<stage>              written last, when the stage has finished
    report.md, *.png

The stages form a chain: when a stage runs again (``REDO``, ``FORCE``, or its marker is missing),
every later stage runs again too. A stage that is redone (``REDO``, ``FORCE``) first loses its
outputs, so nothing of the earlier run survives next to the new one; an interrupted stage keeps
them and resumes; inference anywhere regenerates what another model or setting made.
"""
from __future__ import annotations

import sys
from pathlib import Path

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


def outputs(run: Path, stage: str, ds: str) -> list[Path]:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    paths = []
    for pattern in STAGES[stage]:
        pattern = pattern.format(ds=ds)
        paths += sorted(run.glob(pattern)) if "*" in pattern else [run / pattern]
    return paths


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["stages"]:
        print(" ".join(STAGES))
        return 0
    if len(argv) == 4 and argv[0] == "outputs":
        from .cli import run_cli
        return run_cli(lambda: print("\n".join(str(p) for p in outputs(Path(argv[1]), argv[2], argv[3]))))
    print("usage: python -m src.layout stages | outputs RUN STAGE DATASET", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
