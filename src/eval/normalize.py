"""Final-answer normalisation in the style of Minerva (Lewkowycz et al., 2022), as the original used it.

The order of the steps matters and is kept exactly (docs/method.md, "Final-answer extraction", step 5):
keep the text after the last '=', apply the substitutions, delete unit words and LaTeX decoration,
unwrap $...$ / \\text{} / \\textbf{} / \\overline{} / \\boxed{}, fix \\fracab and \\sqrta shorthand,
drop '$', then tidy numbers (thousands commas, trailing .0/.00, trailing %) and option letters.
"""
import re

# (before, after) pairs, applied in this order with str.replace.
SUBSTITUTIONS = (
    ("an ", ""), ("a ", ""), (".$", "$"), ("\\$", ""), (r"\ ", ""), ("\\%", "%"),
    (" ", ""), ("mbox", "text"), (",\\text{and}", ","),
    ("\\text{and}", ","), ("\\text{m}", "\\text{}"),
)

# Unit words and decorations deleted, in this order.
REMOVED_EXPRESSIONS = (
    "square", "ways", "integers", "dollars", "mph", "inches", "ft",
    "hours", "km", "units", "\\ldots", "sue", "points", "feet",
    "minutes", "digits", "cents", "degrees", "cm", "gm", "pounds",
    "meters", "meals", "edges", "students", "childrentickets", "multiples",
    "\\text{s}", "\\text{.}", "\\text{\ns}", "\\text{}^2",
    "\\text{}^3", "\\text{\n}", "\\text{}", r"\mathrm{th}",
    r"^\circ", r"^{\circ}", r"\;", r",\!", "{,}", '"', "\\dots",
)

# (pattern, replacement): keep what is inside math / text / box markup.
_UNWRAP = tuple((re.compile(p), r) for p, r in (
    (r"(.*?)(\$)(.*?)(\$)(.*)", "$\\3$"),
    (r"(\\text\{)(.*?)(\})", "\\2"),
    (r"(\\textbf\{)(.*?)(\})", "\\2"),
    (r"(\\overline\{)(.*?)(\})", "\\2"),
    (r"(\\boxed\{)(.*)(\})", "\\2"),
))
_FRAC_SHORTHAND = re.compile(r"(frac)([^{])(.)")   # \fracab -> \frac{a}{b}
_SQRT_SHORTHAND = re.compile(r"(sqrt)([^{])")       # \sqrta  -> \sqrt{a}
_OPTION_LETTERS = frozenset("abcdefg")


def normalize_final_answer(final_answer: str) -> str:
    """Normalise a final answer (a prediction or a gold answer) for comparison."""
    text = str(final_answer).split("=")[-1]
    for before, after in SUBSTITUTIONS:
        text = text.replace(before, after)
    for expr in REMOVED_EXPRESSIONS:
        text = text.replace(expr, "")
    for pattern, repl in _UNWRAP:
        text = pattern.sub(repl, text)
    text = _FRAC_SHORTHAND.sub("frac{\\2}{\\3}", text)
    text = _SQRT_SHORTHAND.sub("sqrt{\\2}", text)
    text = text.replace("$", "")
    if text.replace(",", "").isdigit():           # 100,000 -> 100000
        text = text.replace(",", "")
    if text.endswith(".0") and text[:-2].isdigit():   # 3.0 -> 3
        text = text[:-2]
    if text.endswith(".00") and text[:-3].isdigit():  # 3.00 -> 3
        text = text[:-3]
    if text.endswith("%") and text[:-1].isdigit():    # 50% -> 50
        text = text[:-1]
    if text.lower() in _OPTION_LETTERS:               # A -> a
        text = text.lower()
    return text
