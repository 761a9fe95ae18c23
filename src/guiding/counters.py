"""The study's two token counters, kept apart and named (the original mixes them silently):

    bert-base-uncased  the solution length that decides 2 or 3 sub-tasks (step 0)
    cl100k_base        the length hint of teacher sampling and style transfer (steps 2, 3b)

``counter(name)`` returns text -> token count (special tokens not counted). ``cl100k_base`` and
``o200k_base`` are tiktoken encodings (tiktoken fetches its table once, or reads it from
``TIKTOKEN_CACHE_DIR``); any other name is a Hugging Face tokenizer (a hub name or a local folder).
Every step records the counter it used.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

TIKTOKEN = ("cl100k_base", "o200k_base")


@lru_cache(maxsize=4)
def counter(name: str) -> Callable[[str], int]:
    if name in TIKTOKEN:
        try:
            import tiktoken
            enc = tiktoken.get_encoding(name)
        except Exception as err:  # no network and no cached table
            raise RuntimeError(f"token counter {name}: tiktoken could not load it ({type(err).__name__}: {err}); "
                               "set TIKTOKEN_CACHE_DIR to a folder holding its table, or name a local tokenizer folder") from None
        return lambda text: len(enc.encode(text, disallowed_special=()))
    from transformers import AutoTokenizer
    try:
        tok = AutoTokenizer.from_pretrained(name)
    except OSError as err:
        raise RuntimeError(f"token counter {name}: no such tokenizer here ({err})".splitlines()[0]) from None
    return lambda text: len(tok(text, add_special_tokens=False)["input_ids"])
