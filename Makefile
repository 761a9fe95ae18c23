# The two commands of the README:
#   make demo   the whole method on small offline models (sets up what it needs first)
#   make test   the test suite (sets up what it needs first)
PY := .venv/bin/python

.PHONY: setup test test-fast bench demo repro-small repro-gsm8k
setup:
	bash scripts/setup.sh all

test: setup
	OMP_NUM_THREADS=1 $(PY) -m pytest -q --durations=25

test-fast: 
	bash scripts/setup.sh main
	$(PY) -m pytest -q -m "not slow"

bench: setup
	$(PY) scripts/bench_grading.py

demo: setup
	bash run_gsm8k.sh

repro-small: setup
	bash scripts/repro_small.sh

repro-gsm8k: setup
	RECIPE=repro_gsm8k bash run_gsm8k.sh
