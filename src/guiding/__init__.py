"""Guiding Through Complexity: what makes good supervision for hard (math) reasoning (He, Yin, Peng,
NAACL 2025). Built so far: ``parsing`` (the pool filters and the parsers of every LLM output) and ``error_rates`` (controlled-error-rate SFT sets with nested seeded
masks, and the step-wise error rate). The pipeline steps, the LLM client, training recipe,
benchmarks and run_guiding.sh are not built yet (docs/guiding.md).
"""
