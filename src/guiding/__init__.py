"""Guiding Through Complexity: what makes good supervision for hard (math) reasoning (He, Yin, Peng,
NAACL 2025). One module a step, in the order run_guiding.sh runs them (docs/guiding.md):
    pool         step 0: the hard-task pool, filtered, with 2 or 3 sub-tasks per task by length
    decompose    step 1: the decomposer's sub-tasks and the three checks
    plan         the run's settings (checked, every error at once), the ER grid, what each stage writes
    teacher      steps 2 and 3b: the weak teacher's samples, the style-transfer fallback
    judge        step 3: the judge's verdicts on the samples
    pairs        steps 4-5: one correct and one incorrect solution per unit (task_sol_pairs); paraphrases
    error_rates  controlled-error-rate SFT sets (nested seeded masks), Merge-Rephrased, SWER
    benchmarks   the five evaluation benchmarks: loaders, MCQ conversion, translation, the answer rule
    eval_judge   the evaluation's optional LLM judge, beside the answer rule (EVAL_JUDGE=1)
    report       accuracy per model and benchmark, accuracy against the error rate, the combinations
and their helpers: prompts (every prompt), parsing (filters and output parsers), counters (the two
token counters), demo (the offline demo's generated data). Every model call goes through
src/llm_client.py (an OpenAI-compatible endpoint or vLLM in process; cached, resumable).
"""
