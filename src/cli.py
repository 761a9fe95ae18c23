"""One error wrapper for every command line of the project.

Bad input (a missing file, a malformed row, a wrong setting) ends a command with one line
``error: <file:line: what is wrong>`` and exit code 1, never a traceback; anything else is a bug
and keeps its traceback.
"""
from __future__ import annotations

import sys
from typing import Callable

from .jsonio import DataError

USER_ERRORS = (DataError, ValueError, FileNotFoundError, RuntimeError)


def run_cli(fn: Callable[[], object]) -> int:
    """Call ``fn``; a user error is printed as one line and gives exit code 1."""
    try:
        fn()
    except USER_ERRORS as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


class OriginalWording:
    """A prompt module's choice between its own wording and an original's, read from a checkout of
    the original (``--original_prompts CHECKOUT``): ``current`` is None (this project's wording) or
    the loader's object for that checkout."""

    def __init__(self, loader: Callable[[], type], repository: str):
        self.loader, self.repository, self.current = loader, repository, None

    def use(self, checkout) -> None:
        self.current = self.loader()(checkout) if checkout else None

    def add_args(self, ap) -> None:
        ap.add_argument("--original_prompts", default=None, metavar="CHECKOUT",
                        help=f"the original's prompt wording, read from a checkout of {self.repository}")

    def configure(self, args) -> None:
        self.use(getattr(args, "original_prompts", None))
