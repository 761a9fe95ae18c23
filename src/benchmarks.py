"""The benchmark registry: one entry owns everything that defines a benchmark.

    from src.benchmarks import get
    b = get("gsm8k")
    b.answer_key, b.stop, b.max_tokens            # how it is prompted and decoded
    b.grade(rows, golds)                          # pred / gold / result for every row
    b.agreement                                   # how two answers are compared in stage I and II

Fields (docs/benchmarks.md has the table of every entry):

answer_key          the grader's final-answer key (``####`` GSM8K, ``The answer is:`` MATH)
stop, stop_eos      stop strings; ``stop_eos`` adds the tokenizer's EOS text (OlympicArena)
prompt_style        ``qa``: ``Question: q\\nAnswer:``; ``olympic``: the row's own prompt + ``\\n\\nAnswer:``
max_tokens          the original's generation budget
temperature, top_p, top_k   the decoding of an evaluation (greedy unless the paper samples: the Guiding
                    study's T 0.6, top_p 0.9, top_k 50); a run's sampling steps give their own
judge               how final answers are read and compared: ``minerva`` (key extraction, Minerva
                    normalisation, string or symbolic equality) or ``olympic`` (boxed answers,
                    OlympicArena's rule-based judge)
pairs_per_question  stage II: 1 (GSM8K) or up to 3 (MATH, OlympicArena)
iterations          stage I iterations in the original (GSM8K 2, MATH 1, OlympicArena 2)
pad_to              stage I data padded with inconsistent questions to this many (the original: MATH 1,000
                    with Gemma-2b, 2,000 with Mistral-7b; 0: not padded); the run's PAD_TO default
train_1             whether the benchmark has train_1 gold (weak SFT) and train_2 gold (ceiling)
templates           the original's named demonstration sets: name -> question ids in train_2
strip_responses     stored responses stripped of white space and periods (GSM8K, MATH) or kept as
                    generated (OlympicArena, as the original stored them)
demo_separator      what follows each few-shot demonstration
answer_marker       the text that shows a response has a final answer (the original demonstration
                    choice keeps such responses): the answer key, or ``\boxed`` for OlympicArena
data                the data sources this benchmark can be built from (``src.prepare_data`` --from /
                    --hub / --demo, src.alice.data, src.guiding.benchmarks)
system              chat prompts: a system turn before the question ("" = an empty one, as the
                    Guiding study's evaluation); None = no system turn of ours

A new benchmark is one ``register(Benchmark(...))`` call; ``src.inference``, ``src.eval`` and
``src.construct_training_data`` take ``--benchmark NAME``, the run scripts ``DATASET=NAME``, and
``src.report`` the run's recorded ``DATASET``; each reads everything else from here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Sequence

from .eval.grader import DEFAULT_TIMEOUT
from .eval.judges import JUDGES, Agreement, Judge  # noqa: F401  (the registry names the judges of src/eval)


# ------------------------------------------------------------------ benchmarks
@dataclass(frozen=True)
class Benchmark:
    name: str
    answer_key: str = "####"
    stop: tuple[str, ...] = ("Question", "Answer")
    stop_eos: bool = False
    prompt_style: str = "qa"
    max_tokens: int = 1024
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int | None = None  # None: no cut
    judge: str = "minerva"
    pairs_per_question: int = 1
    iterations: int = 2
    pad_to: int = 0
    train_1: bool = True
    templates: Mapping[str, tuple] = field(default_factory=dict)
    strip_responses: bool = True
    demo_separator: str = "\n\n"
    answer_marker: str = ""  # what shows a response has a final answer (demonstration choice); "" = answer_key
    data: tuple[str, ...] = ("from", "hub")
    system: str | None = None  # chat prompts: a system turn first ("" = empty); None = none
    description: str = ""

    def __post_init__(self):
        if self.judge not in JUDGES:
            raise ValueError(f"benchmark {self.name!r}: unknown judge {self.judge!r} ({', '.join(JUDGES)})")
        if self.pairs_per_question < 1 or self.iterations not in (1, 2):
            raise ValueError(f"benchmark {self.name!r}: pairs_per_question >= 1 and iterations 1 or 2")
        object.__setattr__(self, "templates", MappingProxyType(dict(self.templates)))

    @property
    def judge_(self) -> Judge:
        return JUDGES[self.judge]

    @property
    def agreement(self) -> Agreement | None:
        return self.judge_.agreement

    def default_mode(self) -> str:
        return self.judge_.modes[0]

    def grade(self, rows: list[dict], golds: list[dict], mode: str | None = None,
              timeout: float = DEFAULT_TIMEOUT, workers: int | None = None) -> list[dict]:
        """Rows (aligned with golds) with ``pred``, ``gold`` and ``result`` (None where a gold row
        has no answer, e.g. OlympicArena's train_2)."""
        mode = mode or self.default_mode()
        if mode not in self.judge_.modes:
            raise ValueError(f"benchmark {self.name!r} grades with {', '.join(self.judge_.modes)}, not {mode!r}")
        return self.judge_.grade(rows, golds, self.answer_key, mode, timeout, workers)

    @property
    def final_answer_marker(self) -> str:
        return self.answer_marker or self.answer_key

    def store(self, text: str) -> str:
        """The stored response: stripped of white space and leading/trailing periods, or as generated."""
        return text.strip().strip(".") if self.strip_responses else text


_REGISTRY: dict[str, Benchmark] = {}


def register(b: Benchmark) -> Benchmark:
    """Add (or replace) a benchmark."""
    _REGISTRY[b.name] = b
    return b


def get(name: str) -> Benchmark:
    if name not in _REGISTRY:
        raise ValueError(f"unknown benchmark {name!r}; registered: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def names() -> list[str]:
    return sorted(_REGISTRY)


def for_dev_set(dev_set: str | None) -> Benchmark:
    """The benchmark of an original ``--dev_set`` name (``gsm8k_train_2`` -> gsm8k); GSM8K otherwise."""
    if dev_set:
        for name in sorted(_REGISTRY, key=len, reverse=True):
            if dev_set == name or dev_set.startswith(name + "_"):
                return _REGISTRY[name]
    return _REGISTRY["gsm8k"]


def resolve(benchmark: "str | Benchmark | None" = None, answer_key: str | None = None,
            judge: str | None = None) -> Benchmark:
    """The benchmark to grade with: by name or entry (default GSM8K), with the original's
    ``answer_key`` and ``judge`` flags overriding its own."""
    from dataclasses import replace
    b = get(benchmark) if isinstance(benchmark, str) else (benchmark or get("gsm8k"))
    if judge and judge != b.judge:
        b = replace(b, judge=judge)
    if answer_key and answer_key != b.answer_key:
        b = replace(b, answer_key=answer_key)
    return b


def all_templates() -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for b in _REGISTRY.values():
        out.update(b.templates)
    return out


# The original's named demonstration sets (question ids in train_2); the OlympicArena ids are the
# benchmark's own question ids. docs/fidelity.md says how each was checked against the release.
register(Benchmark(
    name="gsm8k", answer_key="####", max_tokens=1024, pairs_per_question=1, iterations=2,
    templates={"gsm8k_my_llama2_7b_icl": (2619, 456, 102, 3037),
               "gsm8k_my_mistral_7b_icl": (2619, 456, 102, 3037),
               "gsm8k_my_gemma_2b_icl": (3401, 173, 354, 6272),
               "gsm8k_my_gemma_2b_icl1": (2619, 102, 3037, 1126),
               "gsm8k_my_gemma_2b_icl2": (4071, 6058, 650, 4889)},
    data=("from", "hub", "demo"), description="GSM8K (train + augmented rewrites, halves; test 1,319)"))
register(Benchmark(
    name="math", answer_key="The answer is:", max_tokens=2048, pairs_per_question=3, iterations=1, pad_to=1000,
    templates={"math_my_llama2_7b_icl": (883, 4166, 1433, 3722),
               "math_my_gemma_2b_icl": (4162, 5457, 5178, 5737),
               "math_my_mistral_7b_icl": (4162, 5457, 5178, 5737)},
    description="MATH (12,000 training problems in halves; test = MATH-500)"))
register(Benchmark(
    name="olympicarena", answer_key="####", stop=("Question", "Answer", "<|eot_id|>"), stop_eos=True,
    prompt_style="olympic", max_tokens=2048, judge="olympic", pairs_per_question=3, iterations=2, train_1=False,
    templates={"olympic_llama3_8b_instruct_icl": ("Biology_1120", "Physics_971", "Math_609", "Biology_16")},
    strip_responses=False, demo_separator="\n\n\n", answer_marker="\\boxed",
    description="OlympicArena (six subjects, English, no CODE/OT; test split = train_2 without answers, val = test)"))


# Alice's four datasets (src/alice/: loaders and splits in data.py, answer rules in answers.py): chat
# prompts (the raw question as one user message), the original's 4,096-token budget, answers kept
# as generated; graded by the original's rule ("original") or the strict one ("strict").
for _ds, _key, _desc in (
        ("gsm8k", "#### ", "GSM8K for Alice (openai/gsm8k main: train halves, test 1,319; full gold solutions)"),
        ("arc", "My choice is ", "ARC-Challenge for Alice (the original's processed form: 1,119 train / 1,172 test)"),
        ("hotpotqa", "", "HotpotQA fullwiki for Alice (train halves, 20 % transfer; validation 7,405)"),
        ("triviaqa", "", "TriviaQA rc for Alice (train halves, 20 % transfer; validation; aliases as gold)")):
    register(Benchmark(name=f"alice_{_ds}", answer_key=_key, stop=(), prompt_style="chat", max_tokens=4096,
                       judge=f"alice_{_ds}", iterations=1, strip_responses=False, data=("alice",), description=_desc))


# The Guiding study's five evaluation benchmarks (src/guiding/benchmarks.py: loaders, MCQ conversion,
# the answer rule): the paper's chat prompt (an empty system turn, the question as the only user
# turn), 1,680 new tokens, its sampling (T 0.6, top_p 0.9, top_k 50).
for _name, _desc in (("math500", "MATH-500 for the Guiding study (500; gold = the answer)"),
                     ("olympic", "OlympicArena Math val without figures for the Guiding study (213)"),
                     ("jee", "JEEBench math for the Guiding study (MCQs made open-ended; 163)"),
                     ("sat", "AGIEval SAT-Math for the Guiding study (made open-ended; 220)"),
                     ("gaokao", "AGIEval Gaokao-Mathcloze for the Guiding study (translated; 118)")):
    register(Benchmark(name=f"guiding_{_name}", answer_key="", stop=(), prompt_style="chat", max_tokens=1680,
                       temperature=0.6, top_p=0.9, top_k=50, judge="guiding", iterations=1, strip_responses=False, data=("guiding",), system="",
                       answer_marker="\\boxed", description=_desc))


def main(argv: Sequence[str] | None = None) -> int:
    import argparse
    import json
    ap = argparse.ArgumentParser(prog="python -m src.benchmarks", description="List the registered benchmarks.")
    ap.add_argument("name", nargs="?", help="show one benchmark's settings (JSON)")
    ap.add_argument("--get", help="print one field of the benchmark (for the run scripts)")
    args = ap.parse_args(argv)
    from .cli import run_cli
    def show():
        if not args.name:
            for n in names():
                print(f"{n:14s} {get(n).description}")
            return
        b = get(args.name)
        d = {k: getattr(b, k) for k in b.__dataclass_fields__}
        d["templates"] = dict(b.templates)
        if args.get:
            if args.get not in d:
                raise ValueError(f"benchmark field {args.get!r} does not exist ({', '.join(d)})")
            v = d[args.get]
            print(" ".join(map(str, v)) if isinstance(v, (list, tuple)) else (int(v) if isinstance(v, bool) else v))
        else:
            print(json.dumps(d, indent=2))
    return run_cli(show)


if __name__ == "__main__":
    import sys
    sys.exit(main())
