"""A small GSM8K-format dataset made here, for the offline demo and the tests.

Arithmetic word problems with step-by-step gold solutions ending in ``#### N`` (calculator
annotations ``<<a*b=c>>`` included, as in GSM8K), at three difficulty levels (1, 2 or 3 steps),
generated from a seed. ``make_demo_splits`` returns train_1 / train_2 / test in the raw GSM8K row
format ``{id, question, answer}`` that src.prepare_data writes.
"""
from __future__ import annotations

import random

NAMES = ["Ava", "Ben", "Chloe", "Dev", "Ema", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena", "Maya", "Noah"]
ITEMS = [("apples", "basket"), ("pencils", "box"), ("stickers", "sheet"), ("cookies", "tray"), ("marbles", "bag"),
         ("books", "shelf"), ("eggs", "carton"), ("cards", "pack")]


def _plural(word: str) -> str:
    if word.endswith("f"):
        return word[:-1] + "ves"
    return word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")


def _calc(a, op, b):
    value = {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]
    return value, f"{a}{op}{b}=<<{a}{op}{b}={value}>>{value}"


def _problem(rng: random.Random, level: int) -> tuple[str, str, int]:
    name = rng.choice(NAMES)
    item, unit = rng.choice(ITEMS)
    n, per = rng.randint(2, 9), rng.randint(3, 12)
    total, step1 = _calc(n, "*", per)
    q = f"{name} has {n} {_plural(unit)} with {per} {item} in each {unit}."
    steps = [f"{name} has {step1} {item}."]
    answer = total
    if level >= 2:
        given = rng.randint(1, total - 1)
        answer, step2 = _calc(total, "-", given)
        q += f" {name} gives {given} {item} to a friend."
        steps.append(f"After giving some away, {name} has {step2} {item}.")
    if level >= 3:
        more = rng.randint(2, 20)
        answer, step3 = _calc(answer, "+", more)
        q += f" Then {name} buys {more} more {item}."
        steps.append(f"After buying more, {name} has {step3} {item}.")
    q += f" How many {item} does {name} have now?" if level > 1 else f" How many {item} does {name} have?"
    return q, "\n".join(steps) + f"\n#### {answer}", answer


def make_problems(n: int, seed: int, levels=(1, 2, 3)) -> list[dict]:
    rng = random.Random(seed)
    rows, seen = [], set()
    while len(rows) < n:
        level = levels[len(rows) % len(levels)]
        q, solution, _ = _problem(rng, level)
        if q in seen:
            continue
        seen.add(q)
        rows.append({"id": len(rows), "question": q, "answer": solution, "level": level})
    return rows


def make_demo_splits(n_train_1: int = 96, n_train_2: int = 96, n_test: int = 48, seed: int = 42,
                     levels=(1, 2, 3)) -> dict[str, list[dict]]:
    """Disjoint seeded splits (questions never repeat across splits), problems of the given levels in turn."""
    rows = make_problems(n_train_1 + n_train_2 + n_test, seed, tuple(levels))
    cut1, cut2 = n_train_1, n_train_1 + n_train_2
    splits = {"train_1": rows[:cut1], "train_2": rows[cut1:cut2], "test": rows[cut2:]}
    for split in splits.values():
        for i, r in enumerate(split):
            r["id"] = i
            del r["level"]
    return splits
