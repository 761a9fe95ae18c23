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
