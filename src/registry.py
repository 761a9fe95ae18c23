"""The LLaMA-Factory dataset registry (``dataset_info.json``) in the CURRENT LLaMA-Factory format.

Training refers to datasets by name; the registry maps a name to a file (relative to the registry's
folder) and its columns. Two kinds, matching the files the construction step writes:

    sft    rows {id, content, output}                  columns prompt=content, response=output
    pairs  rows {id, instruction, input, chosen, rejected}   ranking: true, columns prompt/query/chosen/rejected

The original v0.5 registry described pairs as ``response: output`` with ``output: [chosen, rejected]``;
LLaMA-Factory >= 0.9 rejects that form, so pairs files are converted (construct_training_data.convert_pairs).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .jsonio import DataError, write_json

REGISTRY = "dataset_info.json"
COLUMNS = {
    "sft": {"columns": {"prompt": "content", "response": "output"}},
    "pairs": {"ranking": True, "columns": {"prompt": "instruction", "query": "input",
                                           "chosen": "chosen", "rejected": "rejected"}},
}


def load(dataset_dir) -> dict:
    path = Path(dataset_dir) / REGISTRY
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None


def register(dataset_dir, name: str, file, kind: str = "sft") -> dict:
    """Add or replace ``name`` in ``<dataset_dir>/dataset_info.json``; ``file`` may be absolute."""
    if kind not in COLUMNS:
        raise ValueError(f"unknown dataset kind {kind!r}: 'sft' or 'pairs'")
    dataset_dir = Path(dataset_dir)
    rel = os.path.relpath(Path(file).resolve(), dataset_dir.resolve())
    info = load(dataset_dir)
    info[name] = {"file_name": rel, **COLUMNS[kind]}
    write_json(dataset_dir / REGISTRY, info, indent=2)
    return info[name]


def resolve(dataset_dir, name: str) -> Path:
    """The file behind ``name``; a clear error when the name or its file is missing."""
    info = load(dataset_dir)
    reg = Path(dataset_dir) / REGISTRY
    if name not in info:
        known = ", ".join(sorted(info)) or "none"
        raise DataError(f"{reg}: no dataset named {name!r} (registered: {known})")
    path = Path(dataset_dir) / info[name]["file_name"]
    if not path.is_file():
        raise DataError(f"{reg}: dataset {name!r} points to {path}, which does not exist")
    return path


def main(argv=None) -> int:
    """``python -m src.registry register DATASET_DIR NAME FILE [sft|pairs]`` and
    ``python -m src.registry resolve DATASET_DIR NAME`` (prints the file; used by the run scripts)."""
    import sys
    from .cli import run_cli
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["resolve"] and len(argv) == 3:
        return run_cli(lambda: print(resolve(argv[1], argv[2])))
    if len(argv) not in (4, 5) or argv[0] != "register":
        print("usage: python -m src.registry register DATASET_DIR NAME FILE [sft|pairs]\n"
              "       python -m src.registry resolve DATASET_DIR NAME", file=sys.stderr)
        return 2
    return run_cli(lambda: register(argv[1], argv[2], argv[3], *argv[4:]))


if __name__ == "__main__":
    raise SystemExit(main())
