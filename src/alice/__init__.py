"""Alice: proactive learning with the teacher's demonstrations (Wu, Qian, Fung, Liang, Ji, 2025).

Built so far (training, cascade, baselines, run_alice.sh and the report are not built yet):
    data         the datasets and their positional splits (teacher half, W2S transfer set)
    cot          step 0: the weak model's chains of thought, kept when they reach the gold
    answers      each dataset's answer rules: markers, "same answer", CoT filters, scorers
    clustering   greedy leader clustering of the teacher's samples -> final answer, or dropped
    cluster      the step's command line: samples (joined by id) -> clusters.jsonl + counts
    prompts      the CoT, summariser and proactive-revision prompts
    uncertainty  step 3: the summariser's requests; its statements checked and classified before use
    proactive    steps 4-5: the student's zero-shot answers and revisions -> its training file
"""
