"""Alice: proactive learning with the teacher's demonstrations (Wu, Qian, Fung, Liang, Ji, 2025).

One module per step; run_alice.sh runs them in order on the shared stage runner (docs/alice.md):
    plan         the run's settings (checked, every error at once), the evaluated models, what each stage writes
    data         the datasets and their positional splits (teacher half, W2S transfer set)
    prepare      the run's split files, cascade Alice's halves (by id), LLaMA-Factory training files
    cot          step 0: the weak model's chains of thought, kept when they reach the gold
    cluster      greedy leader clustering of the teacher's samples (joined by id) -> clusters.jsonl + counts
    original_prompts  the original's prompt wording, read from its checkout (ORIGINAL_PROMPTS)
    prompts      the CoT, summariser and proactive-revision prompts
    uncertainty  step 3: the summariser's requests; its statements checked and classified before use
    proactive    steps 4-5: the student's zero-shot answers and revisions -> its training file
    report       every model scored by both rules, PGR, what each step kept, the cluster-size plot
Training: scripts/train.sh alice_sft | alice_sft_lora (scripts/configs/alice_sft.yaml); inference:
src.inference with the registry's alice_<dataset> benchmarks (chat prompts). Answer rules (markers, "same
answer", CoT filters, scorers): src/eval/alice_answers.py.
"""
