"""Make `import torchaudio` work in the CPU training environment.

LLaMA-Factory imports torchaudio at top level (for audio models, which this project never uses).
PyPI has no CPU build of torchaudio that matches the CPU torch: the CUDA wheel's shared objects fail
to load. When the real package does not import, replace it with an empty stub package so that the
import succeeds; any real use of it fails loudly with an ImportError naming this script.
"""
import importlib
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

STUB = '''"""Stub written by scripts/cpu_torchaudio_stub.py: the CUDA torchaudio wheel cannot load on CPU."""
__version__ = "0.0.0+w2s-stub"


def __getattr__(name):
    raise ImportError(f"torchaudio.{name}: torchaudio is a stub in this CPU environment (scripts/cpu_torchaudio_stub.py)")
'''


def main() -> int:
    try:
        importlib.import_module("torchaudio")
        print("[setup] torchaudio imports; no stub needed")
        return 0
    except Exception as err:  # noqa: BLE001 - any load failure means the stub is needed
        print(f"[setup] torchaudio does not import ({type(err).__name__}); installing a stub")
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "-q", "-y", "torchaudio"], check=False)
    site = Path(sysconfig.get_paths()["purelib"])
    pkg = site / "torchaudio"
    if pkg.exists():
        shutil.rmtree(pkg)
    pkg.mkdir()
    (pkg / "__init__.py").write_text(STUB)
    importlib.invalidate_caches()
    importlib.import_module("torchaudio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
