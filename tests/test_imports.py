"""The layers of src/: every import (at the top of a module or inside a function) goes to the same
layer or one below, and no chain of imports comes back to where it started.

    base       src.jsonio, src.cli, src.intervals, src.provenance     (files, errors, numbers)
    eval       src.eval.*: every answer reader and judge              (grading)
    registry   src.benchmarks                                         (names a judge per benchmark)
    the rest   engines, inference, construction, the methods, reports (use the registry)

Entry points (``__main__`` modules) may import anything."""
import ast
from pathlib import Path

from tests.conftest import ROOT

LAYERS = {"src.jsonio": 0, "src.cli": 0, "src.intervals": 0, "src.provenance": 0, "src.eval": 1, "src.benchmarks": 2}


def modules() -> dict[str, Path]:
    out = {}
    for p in (ROOT / "src").rglob("*.py"):
        name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = p
    return out


def imports(name: str, path: Path, known: dict) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    return {m for m in found if m in known and m != name}


def layer(name: str) -> int:
    for prefix, k in LAYERS.items():
        if name == prefix or name.startswith(prefix + "."):
            return k
    return 3


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_no_module_imports_a_higher_layer():
    wrong = [f"{a} -> {b}" for a, deps in graph().items() if not a.endswith("__main__")
             for b in deps if layer(b) > layer(a)]
    assert wrong == []


def test_no_import_cycles():
    g, state, cycles = graph(), {}, []

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(g[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(g):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_walk_sees_function_level_and_relative_imports():
    g = graph()
    assert "src.eval.alice_answers" in g["src.eval.judges"]        # inside a function, relative
    assert "src.eval.judges" in g["src.benchmarks"] and "src.jsonio" in g["src.eval.evaluation"]
    assert layer("src.eval.boxed") == 1 and layer("src.alice.cluster") == 3
