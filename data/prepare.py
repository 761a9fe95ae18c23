"""Prepare the data splits: a shortcut for ``python -m src.prepare_data`` (see its --help)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from src.prepare_data import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
