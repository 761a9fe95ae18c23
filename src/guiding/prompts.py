"""The Guiding study's prompts, written for this project with the original's instructions and output
markers (the parsers in ``parsing.py`` read those markers). Every prompt is one user message, no
system message, as the original sends them.

    decompose(problem, solution, k)            -> ### Item i: / New problem i: / New solution i: ... ### End
    check_conditions(problem, solution)        -> Conclusion: 1.  |  Conclusion: 0. Reason: ...
    count_steps(solution)                      -> Steps count: <int>.
    check_variant(sub_problem, full_problem)   -> Conclusion: 0 (a variant) | 1
    solve(problem, hint_tokens)                -> ### Solution: ...   (the length hint follows the task)
    judge(problem, reference, solution)        -> ### Judgement: 1 | 0 | N/A
    extract_answer(problem, solution)          -> ### Final answer: ... | Unknown
    style_transfer(problem, reference, tokens)  -> a concise solution written from scratch
    paraphrase(kind, text)                     -> ### Paraphrased version: ...

The original's 3-sub-task prompt still says "imagine 2 new problems"; here the count is k.

``--original_prompts CHECKOUT`` (every step's command line; ``ORIGINAL_PROMPTS`` in run_guiding.sh):
each of these prompts in the original's own wording, read from a checkout of the original
(``original_prompts.py``); the markers the parsers read are the same.
"""
from __future__ import annotations

from ..cli import OriginalWording


def _loader():
    from .original_prompts import OriginalPrompts
    return OriginalPrompts


ORIGINAL = OriginalWording(_loader, "hexuan21/Weak-to-Strong")  # ORIGINAL.current: the original's wording, when a run asks for it
use_original, add_prompt_args, configure = ORIGINAL.use, ORIGINAL.add_args, ORIGINAL.configure


def add_model_args(ap) -> None:
    """A model-calling step's options: the model (src/llm_client.py) and the prompt wording."""
    from ..llm_client import add_client_args
    add_client_args(ap)
    add_prompt_args(ap)


def step_client(args, cache=None):
    """The step's wording set from its options, and its client: every call cached in ``cache``
    (default OUT/llm_cache.jsonl). Returns (the step's folder or None, the client)."""
    from pathlib import Path
    from ..llm_client import client_from_args
    configure(args)
    out = Path(args.out) if getattr(args, "out", None) else None
    return out, client_from_args(args, cache or out / "llm_cache.jsonl")


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def decompose(problem: str, solution: str, k: int) -> list[dict]:
    if ORIGINAL.current is not None:
        return ORIGINAL.current.decompose(problem, solution, k)
    items = "\n".join(f"### Item {i}:\nNew problem {i}: <a new problem>\nNew solution {i}: <its solution>"
                      for i in range(1, k + 1))
    return user(
        "You will read a hard math problem P and its solution S. Break S into its steps, pick a part of "
        f"those steps (more than a single step, and clearly less than all of them), and from it write {k} new, "
        f"simpler problems P_1..P_{k}, each with a solution S_1..S_{k}.\n"
        "Rules for the new problems: each one is complete on its own and well defined; it never mentions the "
        "original problem or the other new problems (no \"original problem\", \"previous solution\", "
        "\"problem 1\" and the like); it is neither trivial nor almost the same as P.\n"
        "Rules for the new solutions: each one is detailed and stands alone, uses only methods that appear in S, "
        "and puts its final result in \\boxed{}. The new problems may overlap.\n\n"
        f"### The original problem P:\n{problem}\n\n### The original solution S:\n{solution}\n\n"
        f"Answer in exactly this format and stop after ### End:\n{items}\n### End")


def check_conditions(problem: str, solution: str) -> list[dict]:
    if ORIGINAL.current is not None:
        return ORIGINAL.current.check_conditions(problem, solution)
    return user(
        "Does the solution below use any condition or value that the problem does not state? "
        "If it uses only what the problem gives, answer exactly `Conclusion: 1.` If it uses something missing "
        "from the problem, answer `Conclusion: 0. Reason: ` followed by a reason of fewer than 20 words.\n\n"
        f"### Problem:\n{problem}\n\n### Solution:\n{solution}")


def count_steps(solution: str) -> list[dict]:
    if ORIGINAL.current is not None:
        return ORIGINAL.current.count_steps(solution)
    return user(
        "Count the arithmetic or proof steps in the solution below. Reply with nothing but "
        f"`Steps count: <int>.`\n\n### Solution:\n{solution}")


def check_variant(sub_problem: str, full_problem: str) -> list[dict]:
    if ORIGINAL.current is not None:
        return ORIGINAL.current.check_variant(sub_problem, full_problem)
    return user(
        "Is problem A only problem B with some variable values changed (the same question with other numbers)? "
        "For example, \"A box holds 3 red and 5 blue balls; how many balls are there?\" is such a variant of "
        "\"A box holds 4 red and 7 blue balls; how many balls are there?\". Reply with `Conclusion: 0` if A is "
        "such a variant of B, and `Conclusion: 1` otherwise.\n\n"
        f"### Problem A:\n{sub_problem}\n\n### Problem B:\n{full_problem}")


def length_hint(tokens: int) -> str:
    """Appended directly after the task (no newline), as the original does."""
    return f" (Write a solution of between {int(0.5 * tokens)} and {int(1.5 * tokens)} tokens.)"


def solve(problem: str, hint_tokens: int | None) -> list[dict]:
    if ORIGINAL.current is not None:
        return ORIGINAL.current.solve(problem, hint_tokens)
    hint = length_hint(hint_tokens) if hint_tokens else ""
    return user(
        "You are a student solving a math problem. Write a detailed solution that is not long-winded, "
        "and put the final result in \\boxed{}.\n\n"
        f"### Problem:\n{problem}{hint}\n\n### Solution:")


def judge(problem: str, reference: str, solution: str) -> list[dict]:
    if ORIGINAL.current is not None:
        return ORIGINAL.current.judge(problem, reference, solution)
    return user(
        "Decide whether the solution to be judged reaches the same final result as the reference solution. "
        "Compare the final result only. Differences from rounding, from using an approximate constant "
        "(for example g = 9.8 or 10), or from solving by another correct method do not make it wrong. "
        "End with `### Judgement: 1` if the final result is correct, `### Judgement: 0` if it is wrong, "
        "and `### Judgement: N/A` if you cannot tell.\n\n"
        f"### Problem:\n{problem}\n\n### Reference Solution:\n{reference}\n\n### Solution to be judged:\n{solution}")


def extract_answer(problem: str, solution: str) -> list[dict]:
    if ORIGINAL.current is not None:
        return ORIGINAL.current.extract_answer(problem, solution)
    return user(
        "Give the final answer that the solution below reaches, with no working. Reply with "
        "`### Final answer: <answer>`, or `### Final answer: Unknown` if it reaches none.\n\n"
        f"### Problem:\n{problem}\n\n### Solution:\n{solution}")


def style_transfer(problem: str, reference: str, tokens: int) -> list[dict]:
    if ORIGINAL.current is not None:
        return ORIGINAL.current.style_transfer(problem, reference, tokens)
    return user(
        "Using the reference information, write a concise solution to the problem from scratch, in your own "
        "words and notation, as if you had solved it yourself. Do not end with a section titled \"Conclusion\", "
        "and do not begin with \"Let's\" or with \"##\". Put the final result in \\boxed{}. "
        f"Use between {int(0.8 * tokens)} and {int(1.2 * tokens)} tokens.\n\n"
        f"Problem:\n{problem}\n\nReference Info:\n{reference}")


def paraphrase(kind: str, text: str) -> list[dict]:
    if ORIGINAL.current is not None:
        return ORIGINAL.current.paraphrase(kind, text)
    if kind not in ("task", "solution"):
        raise ValueError(f"paraphrase kind is 'task' or 'solution', not {kind!r}")
    header = "### Problem:" if kind == "task" else "### Solution:"
    what = "problem" if kind == "task" else "solution"
    return user(
        f"Paraphrase the {what} below without changing its meaning, its numbers or its final result. "
        f"Reply with `### Paraphrased version:` followed by the paraphrase.\n\n{header}\n{text}")
