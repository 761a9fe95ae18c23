"""Alice's prompts in the original's own wording, read at run time from a checkout of the original
(ShujinWu-0814/Alice) with ``ast``; this project contains none of it.

    python -m src.alice.cot requests ... --original_prompts /path/to/Alice
    ORIGINAL_PROMPTS=/path/to/Alice bash run_alice.sh

Where each prompt comes from (the original's files are scripts that import vLLM at the top, so they
are parsed, never imported):
- step 0, the teacher's CoT: the ``messages`` assignments of ``cot/cot_generate_filter.py`` (ARC: the
  one that asks for ``My choice is``; HotpotQA/TriviaQA: the other), evaluated on the question;
- step 3, the summariser: ``wrap_template`` of ``W2SG_pipeline/ours/new_weak_to_strong_uncertainty.py``
  run as it is, with its two templates (``template_to_generate_uncertainty`` and, for GSM8K,
  ``template_to_generate_uncertainty2``) and the leaders of the clusters;
- step 5, the student's revision: ``prompt_to_student``, ``prompt_to_student_gsm8k`` and
  ``prompt_to_student_arc`` of ``W2SG_pipeline/ours/new_weak_to_strong_final.py``, filled as the
  original does (``.format(question, zero_shot, final_response, uncertainty)``).
"""
from __future__ import annotations

import ast
from pathlib import Path

COT = Path("cot/cot_generate_filter.py")
UNCERTAINTY = Path("W2SG_pipeline/ours/new_weak_to_strong_uncertainty.py")
FINAL = Path("W2SG_pipeline/ours/new_weak_to_strong_final.py")
DATA_NAMES = {"gsm8k": "gsm8k", "arc": "arc_challenge", "hotpotqa": "hotpotqa", "triviaqa": "triviaqa"}
SAFE_BUILTINS = {"enumerate": enumerate, "str": str, "len": len}


def _tree(root: Path, rel: Path) -> ast.AST:
    path = root / rel
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found; --original_prompts takes the root of a checkout of the original "
                                "Alice code (ShujinWu-0814/Alice)")
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _string(tree: ast.AST, name: str, where: Path) -> str:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets) \
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node.value.value
    raise ValueError(f"{where}: no string assigned to {name}")


class OriginalPrompts:
    def __init__(self, checkout: str | Path):
        root = Path(checkout)
        cot, unc, final = _tree(root, COT), _tree(root, UNCERTAINTY), _tree(root, FINAL)
        # step 0: the two `messages = [...]` assignments, told apart by what they ask for
        self._cot = {}
        for node in ast.walk(cot):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "messages" for t in node.targets) \
                    and isinstance(node.value, ast.List):
                kind = "arc" if "My choice is" in ast.unparse(node.value) else "qa"
                self._cot.setdefault(kind, compile(ast.Expression(node.value), str(root / COT), "eval"))
        if set(self._cot) != {"arc", "qa"}:
            raise ValueError(f"{root / COT}: the ARC and the QA CoT messages were not both found")
        # step 3: the original's own wrap_template, with its templates
        self._templates = {n: _string(unc, n, UNCERTAINTY) for n in ("template_to_generate_uncertainty",
                                                                      "template_to_generate_uncertainty2")}
        wrap = next((n for n in ast.walk(unc) if isinstance(n, ast.FunctionDef) and n.name == "wrap_template"), None)
        if wrap is None:
            raise ValueError(f"{root / UNCERTAINTY}: no function wrap_template")
        self._wrap = compile(ast.Module(body=[wrap], type_ignores=[]), str(root / UNCERTAINTY), "exec")
        # step 5
        self._student = {ds: _string(final, name, FINAL) for ds, name in (
            ("qa", "prompt_to_student"), ("gsm8k", "prompt_to_student_gsm8k"), ("arc", "prompt_to_student_arc"))}

    def cot_prompt(self, ds: str, question: str) -> str:
        messages = eval(self._cot["arc" if ds == "arc" else "qa"], {"__builtins__": SAFE_BUILTINS},  # noqa: S307
                        {"question": question})
        return messages[0]["content"]

    def summary_prompt(self, ds: str, question: str, representatives) -> str:
        scope = {"__builtins__": SAFE_BUILTINS, "data": DATA_NAMES[ds], **self._templates}
        exec(self._wrap, scope)  # noqa: S102 - the original's function, defined in this scope
        return scope["wrap_template"](question, [{"response": r} for r in representatives])

    def revision_prompt(self, ds: str, question: str, own: str, teacher: str, uncertainty: str) -> str:
        template = self._student["gsm8k" if ds == "gsm8k" else "arc" if ds == "arc" else "qa"]
        return template.format(question, own, teacher, uncertainty)
