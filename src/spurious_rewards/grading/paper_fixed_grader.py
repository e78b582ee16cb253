"""``paper_fixed``: our re-implementation of the paper's grading, without its quirks.

Written from the paper's description (its reward
used a Qwen2.5-Math-style extractor and a PRM800K/Hendrycks-style grader), not
from their code; :mod:`.paper_grader` (``paper``) follows their code itself.
Known departures from the paper, each chosen so that no right answer is
rejected for its spelling and no wrong one accepted:

* The paper converts LaTeX to plain text (pylatexenc) before sympy; we parse
  the normalised LaTeX with ``latex2sympy2_extended`` (a math-verify
  dependency), so a few exotic answers may parse differently.
* The paper refuses sympy on anything containing ``^{``; we allow exponents
  but refuse huge or nested ones (the reason for their rule: a power tower
  hangs sympy in C code where no signal can stop it).
* Unit words are stripped only when they trail a number (the paper strips a
  fixed word list anywhere in the string).
* An empty gold label never matches (the paper would match an empty
  prediction to it).
* Matrix row separators ``\\\\`` are kept, and ``-\\frac{a}{b}`` equals
  ``\\frac{-a}{b}`` (the unreduced-fraction rule is about reduction, not sign).
* Every sympy call runs under a time limit on the main thread; off the main
  thread use :mod:`.pool` for a hard bound.
"""

from __future__ import annotations

import re

import sympy

from .base import Grader, GradingTimeout, clean_text, time_limit
from .paper_grader import tidy_extracted

PAPER_GRADER_VERSION = "2"  # 2: matrix rows kept, fraction sign placement

# Time for one sympy parse+simplify; the paper had none.
SYMPY_TIMEOUT_S = 2.0
# Longer expressions are not worth a sympy attempt (50k-term sums etc.).
MAX_SYMPY_CHARS = 300
MAX_UNKNOWN_LETTERS = 2

_NUMBER_RE = re.compile(r"-?\d*\.?\d+")


# --------------------------------------------------------------------------
# Extraction (the paper's rules 1-4, in order)
# --------------------------------------------------------------------------


def _brace_content(text: str, start: int) -> str:
    """Content of the ``{`` group opening at ``text[start]``.

    An unclosed group yields everything after the brace: a truncated
    completion still gets graded on what it wrote.
    """
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    return text[start + 1 :]


def last_boxed_content(text: str) -> str | None:
    """Content of the last ``boxed`` (``\\boxed{…}`` or ``\\boxed 5$``), or None.

    >>> last_boxed_content(r"so \\boxed{\\frac{1}{2}} and \\boxed{7}")
    '7'
    >>> last_boxed_content(r"$\\boxed 5$")
    '5'
    """
    pos = text.rfind("boxed")
    if pos < 0:
        return None
    rest_start = pos + len("boxed")
    if rest_start < len(text) and text[rest_start] == "{":
        return _brace_content(text, rest_start)
    return text[rest_start:].split("$", 1)[0].strip()


def _raw_answer(text: str) -> str | None:
    hope = "final answer is $"
    if hope in text and "$. I hope" in text:
        span = text.split(hope, 1)[1]
        if "$. I hope" in span:
            return span.split("$. I hope", 1)[0].strip()
    boxed = last_boxed_content(text)
    if boxed is not None:
        return boxed
    # "he answer is" outranks "final answer is" wherever each occurs.
    for marker in ("he answer is", "final answer is"):
        if marker in text:
            return text[text.rfind(marker) + len(marker):].strip()
    numbers = _NUMBER_RE.findall(text.replace(",", ""))
    return numbers[-1] if numbers else None


# --------------------------------------------------------------------------
# Normalisation (Hendrycks MATH / PRM800K style, merged into one pass)
# --------------------------------------------------------------------------

_UNIT_WORDS = (
    "units?", "square units?", "sq units?", "cm", "centimeters?", "meters?", "m", "km",
    "kilometers?", "mm", "miles?", "inch(?:es)?", "feet", "foot", "ft", "yards?", "degrees?",
    "seconds?", "minutes?", "hours?", "days?", "weeks?", "months?", "years?", "dollars?",
    "cents?", "mph", "pounds?", "ounces?", "grams?", "kg", "liters?", "people", "students?",
    "ways", "points?", "inches",
)
_TRAILING_UNIT_RE = re.compile(
    r"^(.*?\d[^a-zA-Z]*?)\s*(?:" + "|".join(_UNIT_WORDS) + r")(?:\^?\{?[23]\}?)?\s*$"
)
_TEXT_CMD_RE = re.compile(
    r"\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}"
)
_INT_RE = re.compile(r"(-?)0*(\d+?)(?:\.0*)?")
_THOUSANDS_RE = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SIMPLE_FRAC_RE = re.compile(r"(-?)\\frac\{(-?)(\d+)\}\{(-?)(\d+)\}")
_ROW_SEP = "\x00row\x00"


def _signed_fraction(s: str) -> tuple[bool, str, str] | None:
    """``-\\frac{a}{b}``, ``\\frac{-a}{b}``, ``\\frac{a}{-b}`` -> (negative, a, b)."""
    m = _SIMPLE_FRAC_RE.fullmatch(s)
    if m is None:
        return None
    return m.group(1, 2, 4).count("-") % 2 == 1, m.group(3), m.group(5)


def _fix_fracs(s: str) -> str:
    # "\frac12" -> "\frac{1}{2}", "\frac1{2}" -> "\frac{1}{2}", "\frac{1}2" -> ...
    s = re.sub(r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\frac\s*(\d)\s*\{", r"\\frac{\1}{", s)
    s = re.sub(r"\\frac\s*(\{[^{}]*\})\s*(\d)", r"\\frac\1{\2}", s)
    return s


def _fix_sqrt(s: str) -> str:
    return re.sub(r"\\sqrt\s*(\w)", r"\\sqrt{\1}", s)


def _canonical_number(s: str) -> str:
    """'142.0' -> '142', '070' -> '70', '-0' -> '0', '1,000' -> '1000'.

    String-based on purpose: float() of a 400-digit answer overflows.
    """
    if _THOUSANDS_RE.fullmatch(s):
        s = s.replace(",", "")
    m = _INT_RE.fullmatch(s)
    if m:
        sign, digits = m.groups()
        return digits if digits == "0" else sign + digits
    return s


def normalize(answer: str) -> str:
    """Normalise an answer string for comparison.

    >>> normalize(r"x = \\dfrac{3}{4}\\text{ cm}")
    '\\\\frac{3}{4}'
    >>> normalize("070"), normalize("142.0"), normalize(r"10\\%"), normalize(r"\\$18.90")
    ('70', '142', '10', '18.90')
    """
    s = clean_text(answer).strip()
    s = re.sub(r"\n\s*", "", s)
    s = s.replace("\\!", "").replace("\\,", "").replace("\\;", "").replace("\\:", "")
    # A matrix row separator "\\\\" must survive the "\\ " (spacing) removal below.
    s = s.replace("\\\\", _ROW_SEP if "\\begin{" in s else "\\").replace("\\ ", " ")
    s = s.replace("tfrac", "frac").replace("dfrac", "frac")
    s = s.replace("\\left", "").replace("\\right", "").replace("\\displaystyle", "")
    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?", "", s).replace("°", "")
    s = s.replace("\\$", "").replace("$", "")
    s = s.replace("\\%", "").replace("%", "")
    # Right-hand "\text{ units}" goes entirely, as in Hendrycks MATH.
    if "\\text{ " in s:
        s = s.split("\\text{ ", 1)[0]
    for _ in range(3):  # unwrap nested \text{\textbf{..}} a bounded number of times
        s = _TEXT_CMD_RE.sub(r"\1", s)
    # Bounded: the lazy prefix makes this regex quadratic on long strings.
    m = _TRAILING_UNIT_RE.match(s.strip()) if len(s) <= 200 else None
    if m:
        s = m.group(1)
    s = s.replace("infinity", "\\infty").replace("\\inf ", "\\infty")
    # A short left-hand side ("x=", "k =") is a variable name, not the answer.
    parts = s.split("=")
    if len(parts) == 2 and len(parts[0].strip()) <= 2:
        s = parts[1]
    s = _fix_sqrt(s)
    s = s.replace(" ", "")
    s = _fix_fracs(s)
    if s.startswith("."):
        s = "0" + s
    s = s.replace("{.", "{0.")
    while s.endswith("."):
        s = s[:-1]
    if len(s) >= 2 and s[0] == "{" and s[-1] == "}" and "{" not in s[1:-1]:
        s = s[1:-1]
    m = re.fullmatch(r"(-?\d+)/(\d+)", s)
    if m:
        s = f"\\frac{{{m.group(1)}}}{{{m.group(2)}}}"
    if s == "0.5":  # Hendrycks' special case, kept for fidelity.
        s = "\\frac{1}{2}"
    return _canonical_number(s).replace(_ROW_SEP, "\\\\")


# --------------------------------------------------------------------------
# Equivalence
# --------------------------------------------------------------------------


def _split_tuple(s: str) -> list[str]:
    if len(s) > 2 and s[0] in "([" and s[-1] in ")]" and "," in s and not any(
        ch in s[1:-1] for ch in "()[]"
    ):
        return [part.strip() for part in s[1:-1].split(",")]
    return [s]


def _is_int(s: str) -> bool:
    return re.fullmatch(r"-?\d+", s) is not None


def _sympy_safe(expr: str) -> bool:
    """Refuse inputs that can hang sympy in uninterruptible C code."""
    if len(expr) > MAX_SYMPY_CHARS:
        return False
    letters = set(re.sub(r"\\[a-zA-Z]+", "", expr))
    if sum(ch.isalpha() for ch in letters) > MAX_UNKNOWN_LETTERS:
        return False
    # Nested exponents or exponents / factorials of 4+ digits.
    if re.search(r"\^\s*\{[^{}]*\^", expr) or re.search(r"\^\s*\{?\s*-?\d{4,}", expr):
        return False
    if re.search(r"\d{4,}\s*!", expr) or re.search(r"\d{40,}", expr):
        return False
    return True


def _to_sympy(expr: str):
    from latex2sympy2_extended import latex2sympy

    return latex2sympy(expr)


def sympy_equal(gold: str, prediction: str) -> bool:
    """Whether ``simplify(gold - prediction) == 0``; never raises."""
    if not (_sympy_safe(gold) and _sympy_safe(prediction)):
        return False
    try:
        with time_limit(SYMPY_TIMEOUT_S):
            diff = sympy.simplify(_to_sympy(gold) - _to_sympy(prediction))
            return bool(diff == 0)
    except (Exception, GradingTimeout, RecursionError):
        return False


def _elements_equal(gold: str, prediction: str) -> bool:
    if gold.lower() == prediction.lower():
        return True
    # Unreduced fractions must be written identically (PRM800K rule); where the sign sits is not
    # a matter of reduction.
    gold_frac, pred_frac = _signed_fraction(gold), _signed_fraction(prediction)
    if gold_frac and pred_frac:
        return gold_frac == pred_frac
    # An integer gold needs an integer answer, and vice versa.
    if _is_int(gold) != _is_int(prediction):
        return False
    if _is_int(gold):
        return False  # two different canonical integers
    return sympy_equal(gold, prediction)


def answers_equal(prediction: str | None, gold: str) -> bool:
    """The paper-style equivalence of an extracted answer and a gold label.

    >>> answers_equal(r"\\frac12", "0.5"), answers_equal("142", "142.0")
    (True, True)
    >>> answers_equal("(1,2]", "(1,2)"), answers_equal("2.0", "2")
    (False, True)
    """
    if prediction is None:
        return False
    gold_n, pred_n = normalize(gold), normalize(prediction)
    if not gold_n or not pred_n:
        return False
    if gold_n.lower() == pred_n.lower():
        return True
    gold_parts, pred_parts = _split_tuple(gold_n), _split_tuple(pred_n)
    if len(gold_parts) > 1 and (gold_n[0] != pred_n[0] or gold_n[-1] != pred_n[-1]):
        return False
    if len(gold_parts) != len(pred_parts):
        return False
    return all(_elements_equal(g, p) for g, p in zip(gold_parts, pred_parts))


class PaperFixedGrader(Grader):
    """Qwen2.5-Math-style extraction + PRM800K-style grading (our rewrite, quirks fixed)."""

    name = "paper_fixed"

    def __init__(self) -> None:
        self.version = f"paper_fixed-{PAPER_GRADER_VERSION}+sympy-{sympy.__version__}"

    def extract(self, completion: str) -> str | None:
        raw = _raw_answer(clean_text(completion))
        if raw is None:
            return None
        answer = normalize(tidy_extracted(raw))
        return answer or None

    def is_equivalent(self, prediction: str, gold: str) -> bool:
        return answers_equal(clean_text(prediction), clean_text(gold))
