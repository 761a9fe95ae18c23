"""Guiding Through Complexity: what makes good supervision for hard (math) reasoning (He, Yin, Peng,
NAACL 2025). Built so far:
    parsing      the pool filters and the parsers of every LLM output
    error_rates  controlled-error-rate SFT sets (nested seeded masks) and the step-wise error rate
Every LLM call goes through src/llm_client.py (HTTP or in-process vLLM, cached). The pipeline steps, the training recipe, the benchmarks and run_guiding.sh are
not built yet (docs/guiding.md).
"""
