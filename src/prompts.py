"""Prompts: zero-shot ``Question: ...\\nAnswer:`` and few-shot with the weak model's own answers.

The few-shot (ICL) prompt of the method is k=4 demonstrations ``Question: q\\nAnswer: a`` separated
by blank lines, then the zero-shot prompt. The demonstrations are the weak model's answers on
train_2 questions, verbatim, right or wrong; they are always built from a weak results file by
question id (or a seeded random choice), never pasted.

Templates (``--template``): ``zero_shot``; ``icl`` (ids from ``--demo_ids`` or the original's seeded
choice); the original's named demonstration sets, which each benchmark lists (src/benchmarks.py).
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Sequence

from .jsonio import DataError, read_json_list, read_jsonl

direct_prompt = "Question: {}\nAnswer:"
# OlympicArena rows carry the benchmark's own prompt, its problem header already replaced by
# "Question: " (src.olympic_data); the original appends "\n\nAnswer:"
# chat: the question is one user message in the model's own chat template (chat_prompts)
PROMPT_STYLES = {"qa": direct_prompt, "olympic": "{}\n\nAnswer:", "chat": None}

DEMO_FILTERS = ("original", "original_correct", "any", "has_answer", "correct")


def zero_shot(question: str, style: str = "qa") -> str:
    if style not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt style {style!r}; choose one of {', '.join(PROMPT_STYLES)}")
    if style == "chat":
        raise ValueError("chat prompts need the model's tokenizer: chat_prompts(tokenizer, questions)")
    return PROMPT_STYLES[style].format(question)


def tokenizer_adds_bos(tokenizer) -> bool:
    """Whether encoding a text puts the tokenizer's BOS first (Llama 3, Gemma: yes; Qwen: no)."""
    return bool(tokenizer.bos_token) and tokenizer("x")["input_ids"][:1] == [tokenizer.bos_token_id]


def chat_prompts(tokenizer, messages: Sequence[str], system: str | None = None) -> list[str]:
    """Each text as one user message in the tokenizer's chat template (``system``: a system turn
    first, "" for an empty one; None: none of ours, the template's default applies), ready for the
    assistant's answer. The engines tokenise prompts with
    the tokenizer's special tokens, so a BOS that the template writes and the tokenizer also adds
    (Llama 3) is written once."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"{getattr(tokenizer, 'name_or_path', 'the model')}: the tokenizer has no chat template")
    first = [] if system is None else [{"role": "system", "content": system}]
    return [chat_prompt(tokenizer, first + [{"role": "user", "content": text}]) for text in messages]


def chat_prompt(tokenizer, messages: Sequence[dict]) -> str:
    """A whole conversation (system / user / assistant messages) in the tokenizer's chat template,
    ready for the assistant's answer; a BOS that the tokenizer adds itself is not written twice."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"{getattr(tokenizer, 'name_or_path', 'the model')}: the tokenizer has no chat template")
    prompt = tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    bos = tokenizer.bos_token
    if tokenizer_adds_bos(tokenizer) and bos and prompt.startswith(bos):
        prompt = prompt[len(bos):]
    return prompt


def chat_turn_end_ids(tokenizer) -> list[int]:
    """The token ids that end an assistant turn in the tokenizer's chat template (Llama 3:
    ``<|eot_id|>``; Qwen: ``<|im_end|>``), besides the tokenizer's EOS. Chat generation stops at
    them: a base model given an instruct template (Llama-3-8B with Llama-3-Instruct's) keeps its
    base EOS ``<|end_of_text|>`` and would write past the turn its training ended with
    ``<|eot_id|>``."""
    if not getattr(tokenizer, "chat_template", None):
        return []
    answer = "\x00ANSWER\x00"
    full = tokenizer.apply_chat_template([{"role": "user", "content": "q"}, {"role": "assistant", "content": answer}],
                                         tokenize=False)
    after = full.split(answer, 1)[1] if answer in full else ""
    specials = set(tokenizer.all_special_tokens) | {t.content for t in getattr(tokenizer, "added_tokens_decoder", {}).values()
                                                     if getattr(t, "special", False)}
    found = [(after.find(t), -len(t), t) for t in specials if t and t in after]
    if not found:
        return []
    token_id = tokenizer.convert_tokens_to_ids(min(found)[2])  # the first special token after the answer
    return [] if token_id == tokenizer.eos_token_id else [token_id]


def select_demo_ids(rows: Sequence[dict], k: int, seed: int = 42, demo_filter: str = "original",
                    answer_key: str = "####") -> list:
    """The ids of k demonstrations.

    ``original`` (the default) is the original's procedure: ``random.seed(seed)`` (42), shuffle the
    rows in file order, take the first k whose response contains the answer key (on the released
    Gemma-2b full-weak file this gives its template ids 3401, 173, 354, 6272). ``original_correct``
    is its variant for a graded results file: the first k graded correct (an oracle choice).
    ``any``, ``has_answer`` (a final answer was extracted) and ``correct`` (an oracle choice, for
    ablations) draw a seeded random sample instead.
    """
    if demo_filter not in DEMO_FILTERS:
        raise ValueError(f"unknown demo filter {demo_filter!r}; choose one of {', '.join(DEMO_FILTERS)}")
    if demo_filter.startswith("original"):
        rng = random.Random(seed)  # the same sequence as the original's random.seed(seed); random.shuffle
        shuffled = list(rows)
        rng.shuffle(shuffled)
        keep = (lambda r: r.get("result") is True) if demo_filter == "original_correct" \
            else (lambda r: answer_key in r["response"])  # noqa: E731
        chosen = [r["id"] for r in shuffled if keep(r)][:k]
    else:
        if demo_filter == "has_answer":
            rows = [r for r in rows if r.get("pred", "") != ""]
        elif demo_filter == "correct":
            rows = [r for r in rows if r.get("result")]
        chosen = [r["id"] for r in random.Random(seed).sample(list(rows), min(k, len(rows)))]
    if len(chosen) < k:
        raise DataError(f"only {len(chosen)} demonstration candidates pass filter {demo_filter!r}; {k} needed")
    return chosen


def load_answers(path: Path) -> list[dict]:
    """The weak model's answers: a results/output .jsonl ``{id, prompt, response}`` or a full-weak
    LLaMA-Factory .json ``[{id, content, output}]``."""
    if path.suffix == ".json":
        return [{"id": r["id"], "prompt": r["content"], "response": r["output"]}
                for r in read_json_list(path, required=("id", "content", "output"))]
    return read_jsonl(path, required=("id", "prompt", "response"))


def build_demonstrations(demos_from, demo_ids: Sequence | None = None, k: int = 4, seed: int = 42,
                         demo_filter: str = "original", benchmark=None, same_question: bool = False) -> str:
    """The demonstration block: ``<zero-shot prompt> <answer><separator>`` for each chosen weak
    answer (separator: a blank line; OlympicArena: two). A demonstration id is a row id (the
    question's index) or, for OlympicArena, the benchmark's question id (``qid``).

    same_question   the original's OlympicArena template text: the last chosen question's prompt
                    (Biology_16) repeated before each of the k answers (a defect of its hand-pasted
                    template, reproduced on request; the default pairs each answer with its question).
    """
    from .benchmarks import get
    bench = benchmark or get("gsm8k")
    path = Path(demos_from)
    rows = load_answers(path)
    by_id = {str(r["id"]): r for r in rows} | {str(r["qid"]): r for r in rows if r.get("qid") is not None}
    ids = list(demo_ids) if demo_ids else select_demo_ids(rows, k, seed, demo_filter, bench.final_answer_marker)
    chosen = []
    for i in ids:
        if str(i) not in by_id:
            raise DataError(f"{path}: no row with id {i} (demonstration ids: {', '.join(map(str, ids))})")
        row = by_id[str(i)]
        if not row["prompt"].endswith("Answer:"):
            raise DataError(f"{path}: row with id {i!r}: prompt is not a zero-shot prompt ending in 'Answer:'")
        chosen.append(row)
    sep = bench.demo_separator
    if same_question:
        return "".join(f"{chosen[-1]['prompt']} {r['response']}{sep}" for r in chosen)
    return "".join(f"{r['prompt']} {r['response']}{sep}" for r in chosen)


def template_demo_ids(benchmark, template: str, demo_ids: Sequence | None) -> Sequence | None:
    """Demonstration ids of a template: ``zero_shot`` / ``icl`` (ids given or chosen) or a named set."""
    from .benchmarks import all_templates
    if template in ("zero_shot", "icl"):
        return demo_ids
    if template in benchmark.templates:
        return demo_ids or benchmark.templates[template]
    others = all_templates()
    if template in others:
        raise ValueError(f"template {template!r} belongs to another benchmark than {benchmark.name!r}")
    raise ValueError(f"unknown template {template!r}; choose zero_shot, icl or one of {', '.join(benchmark.templates)}")


def get_prompts(questions: Sequence[str], demonstrations: str = "", style: str = "qa") -> list[str]:
    """Prompts for a list of questions: the demonstration block (possibly empty), then the zero-shot prompt."""
    return [demonstrations + zero_shot(q, style) for q in questions]
