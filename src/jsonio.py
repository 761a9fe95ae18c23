"""Reading and writing the project's JSON / JSONL files, with errors that name file and line.

Every stage of the pipeline reads files written by an earlier stage. A malformed row must stop the
run with one line saying where and what, e.g. ``results.jsonl:17: field 'response' is missing``.
Writes are atomic: the data goes to a temporary file in the same folder, which is renamed over the
target only when complete, so a crash never leaves a half-written output behind.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence


class DataError(ValueError):
    """Bad input data; the message is a single line ``file:line: what is wrong``."""


def where(path: str | os.PathLike, line: int | None = None) -> str:
    return f"{path}:{line}" if line is not None else str(path)


def read_jsonl_numbered(path: str | os.PathLike, required: Sequence[str] = (),
                        allow_empty: bool = False) -> list[tuple[int, dict]]:
    """Read a JSONL file as (line number, row) pairs: one JSON object per non-empty line; a file
    without rows is an error unless ``allow_empty`` (a step's legitimately empty output)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{path}:{lineno}: not valid JSON ({err.msg} at column {err.colno})") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
            check_fields(row, required, path, lineno)
            rows.append((lineno, row))
    if not rows and not allow_empty:
        raise DataError(f"{path}: file is empty")
    return rows


def read_jsonl(path: str | os.PathLike, required: Sequence[str] = (), allow_empty: bool = False) -> list[dict]:
    """Read a JSONL file: one JSON object per non-empty line, each with the ``required`` fields."""
    return [row for _, row in read_jsonl_numbered(path, required, allow_empty)]


def read_json_list(path: str | os.PathLike, required: Sequence[str] = ()) -> list[dict]:
    """Read a JSON file holding a list of objects (the LLaMA-Factory data format)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of objects, got {type(data).__name__}")
    if not data:
        raise DataError(f"{path}: file is empty (no rows)")
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise DataError(f"{path}: row {i}: expected a JSON object, got {type(row).__name__}")
        check_fields(row, required, path, None, row_index=i)
    return data


def check_fields(row: dict, required: Iterable[str], path, lineno: int | None, row_index: int | None = None) -> None:
    for field in required:
        if field not in row:
            at = where(path, lineno) if row_index is None else f"{path}: row {row_index}"
            raise DataError(f"{at}: field '{field}' is missing")


def _atomic_write(path: str | os.PathLike, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> Path:
    """Write rows as JSONL, atomically."""
    return _atomic_write(path, lambda f: f.writelines(json.dumps(r) + "\n" for r in rows))


def write_json(path: str | os.PathLike, data: Any, indent: int = 4) -> Path:
    """Write JSON (the LLaMA-Factory files use indent 4, as the original), atomically."""
    return _atomic_write(path, lambda f: json.dump(data, f, indent=indent))


def append_jsonl(path: str | os.PathLike, rows: Sequence[dict]) -> None:
    """Append a complete chunk of rows and fsync: used for incremental, resumable generation.

    The chunk is written with one ``write`` call; a crash can at worst leave a partial last line,
    which :func:`read_jsonl_prefix` drops on resume.
    """
    if not rows:
        return
    data = "".join(json.dumps(r) + "\n" for r in rows)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_jsonl_prefix(path: str | os.PathLike) -> list[dict]:
    """Rows of a JSONL file that is being written incrementally: complete lines only.

    A trailing partial line (a crash in the middle of a write) is cut off the file, so that
    appending continues from a clean end.
    """
    path = Path(path)
    if not path.exists():
        return []
    raw = path.read_bytes()
    end = raw.rfind(b"\n") + 1
    if end < len(raw):
        with open(path, "r+b") as f:
            f.truncate(end)
    rows = []
    for lineno, line in enumerate(raw[:end].decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{lineno}: not valid JSON ({err.msg}); delete the file to start over") from None
    return rows
