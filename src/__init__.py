"""Weak-to-Strong Reasoning (Yang, Ma, Liu, 2024): a faithful re-implementation.

One module per step of the method; every step reads files and writes files:

    prepare_data            data splits, evaluation files, LLaMA-Factory gold files + registry
    prompts                 zero-shot / few-shot prompts (demonstrations = weak answers)
    inference               vLLM / transformers generation (greedy, few-shot, temperature sampling)
    eval                    the grader: final-answer extraction, normalisation, comparison
    construct_training_data stage I consistency data, majority votes, stage II preference pairs
    passk                   pass@k over sampled answers
"""
