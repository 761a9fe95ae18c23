"""The original's own prompt wording, read at run time from a checkout of the original
(hexuan21/Weak-to-Strong); this project contains none of it.

    python -m src.guiding.teacher sample ... --original_prompts /path/to/Weak-to-Strong
    ORIGINAL_PROMPTS=/path/to/Weak-to-Strong bash run_guiding.sh

Where the wording comes from:
- ``const/prompt_template.json`` by its keys: the decomposition (``decompose_2sub_0825`` /
  ``decompose_3sub_0825``), the three checks (``check_s1_subtask_0830``, ``check_s1_sub_pos_ans_0830``,
  ``check_s1_sub_full_0830``), the judge (``check_solution_0903``), the answer extraction
  (``draw_final_res_0903``), the teacher's sampling (``multi_sampling_gen_ans_0909``) and the
  paraphrase (``paraphrase_0926``). Each is a prefix; the input follows it.
- How the input follows: the released callers' own expressions, taken from their source with ``ast``
  and evaluated on this run's values: the sampling message with its length note
  (``pipeline/multi_sampling.py``, ``multi_sampling``: ``user_input``) and the style transfer's
  system and user messages (``pipeline/style_transfer.py``, ``fetch_prediction_db``: ``messages``).
  The paraphrase appends ``"\\n### Problem: \\n" + task`` or ``"\\n### Solution: \\n" + text``
  (``pipeline/paraphrase.py``). The decomposition, check, judge and extraction callers were not
  released: their input is laid out with the headers each prompt names, in the released callers'
  style (``"\\n### Problem: \\n" + problem`` ...), listed in ``LAYOUTS``.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

KEYS = {"decompose2": "decompose_2sub_0825", "decompose3": "decompose_3sub_0825",
        "check_conditions": "check_s1_subtask_0830", "count_steps": "check_s1_sub_pos_ans_0830",
        "check_variant": "check_s1_sub_full_0830", "judge": "check_solution_0903",
        "extract_answer": "draw_final_res_0903", "solve": "multi_sampling_gen_ans_0909", "paraphrase": "paraphrase_0926"}
# inputs of the prompts whose callers were not released: the headers each prompt's text names
LAYOUTS = {
    "decompose": "\n### The original problem P: \n{problem}\n### The original solution S: \n{solution}",
    "check_conditions": "\n### Problem: \n{problem}\n### Solution: \n{solution}",
    "count_steps": "\n### Solution: \n{solution}",
    "check_variant": "\n### Problem A: \n{a}\n### Problem B: \n{b}",
    "judge": "\n### Problem: \n{problem}\n### Reference Solution: \n{reference}\n### Solution to be judged: \n{solution}",
    "extract_answer": "\n### Problem: \n{problem}\n###\nSolution: \n{solution}",
}
SAFE_BUILTINS = {"int": int, "len": len, "str": str, "round": round}


def _expression(path: Path, function: str, *, assign: str | None = None, keyword: str | None = None):
    """The expression a function of the original assigns to ``assign`` (or passes as ``keyword=``),
    compiled; evaluated later on this run's values bound to the original's variable names."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found (--original_prompts needs a checkout of the original)")
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    fn = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == function), None)
    if fn is None:
        raise ValueError(f"{path}: no function {function!r}")
    for node in ast.walk(fn):
        if assign and isinstance(node, ast.Assign) and any(getattr(t, "id", None) == assign for t in node.targets):
            return compile(ast.Expression(node.value), f"{path}:{node.lineno}", "eval")
        if keyword and isinstance(node, ast.keyword) and node.arg == keyword:
            return compile(ast.Expression(node.value), f"{path}:{node.value.lineno}", "eval")
    raise ValueError(f"{path}: {function}() has no {'assignment to ' + assign if assign else keyword + '= argument'}")


class OriginalPrompts:
    def __init__(self, checkout: str | Path):
        root = Path(checkout)
        templates = root / "const" / "prompt_template.json"
        if not templates.is_file():
            raise FileNotFoundError(f"{templates}: not found; --original_prompts takes the root of a checkout of "
                                    "the original (hexuan21/Weak-to-Strong)")
        self.root, self.templates = root, json.loads(templates.read_text(encoding="utf-8"))
        missing = [k for k in KEYS.values() if not isinstance(self.templates.get(k), str)]
        if missing:
            raise ValueError(f"{templates}: no prompt under {', '.join(missing)}")
        self._solve = _expression(root / "pipeline" / "multi_sampling.py", "multi_sampling", assign="user_input")
        self._style = _expression(root / "pipeline" / "style_transfer.py", "fetch_prediction_db", keyword="messages")

    def _user(self, key: str, text: str) -> list[dict]:
        return [{"role": "user", "content": self.templates[KEYS[key]] + text}]

    def decompose(self, problem: str, solution: str, k: int) -> list[dict]:
        if k not in (2, 3):
            raise ValueError(f"the original has decomposition prompts for 2 and 3 sub-tasks, not {k}")
        return self._user(f"decompose{k}", LAYOUTS["decompose"].format(problem=problem, solution=solution))

    def check_conditions(self, problem: str, solution: str) -> list[dict]:
        return self._user("check_conditions", LAYOUTS["check_conditions"].format(problem=problem, solution=solution))

    def count_steps(self, solution: str) -> list[dict]:
        return self._user("count_steps", LAYOUTS["count_steps"].format(solution=solution))

    def check_variant(self, sub_problem: str, full_problem: str) -> list[dict]:
        return self._user("check_variant", LAYOUTS["check_variant"].format(a=sub_problem, b=full_problem))

    def judge(self, problem: str, reference: str, solution: str) -> list[dict]:
        return self._user("judge", LAYOUTS["judge"].format(problem=problem, reference=reference, solution=solution))

    def extract_answer(self, problem: str, solution: str) -> list[dict]:
        return self._user("extract_answer", LAYOUTS["extract_answer"].format(problem=problem, solution=solution))

    def solve(self, problem: str, hint_tokens: int | None) -> list[dict]:
        # the original always appends its length note (from the reference's token count)
        if not hint_tokens:
            raise ValueError("the original's sampling prompt needs the reference's token count (its length note)")
        text = eval(self._solve, {"__builtins__": SAFE_BUILTINS},  # noqa: S307 - the original's own expression
                    {"prompt": self.templates[KEYS["solve"]], "task": problem, "pos_token_len": hint_tokens})
        return [{"role": "user", "content": text}]

    def style_transfer(self, problem: str, reference: str, tokens: int) -> list[dict]:
        return eval(self._style, {"__builtins__": SAFE_BUILTINS},  # noqa: S307 - the original's own expression
                    {"d": {"task": problem, "ground_truth": reference}, "sample_token_num": tokens})

    def paraphrase(self, kind: str, text: str) -> list[dict]:
        if kind not in ("task", "solution"):
            raise ValueError(f"paraphrase kind is 'task' or 'solution', not {kind!r}")
        return self._user("paraphrase", ("\n### Problem: \n" if kind == "task" else "\n### Solution: \n") + text)
