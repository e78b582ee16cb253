"""The paper's grader: the rules of its released grading code, quirks included.

The paper's training reward and every evaluation call ``auto_verify("math")``
(ruixin31/Rethink_RLVR, ``code/ttrl/verifier/qwen/qwen_eval.py``): Qwen2.5-Math
``extract_answer`` + ``strip_string`` on the response, then ``grade_answer``
(``math_grade.py``, PRM800K style) against the label.  This module re-states
those rules in our own code so the 49.4 baseline and the paper's tables are
measured the same way.  Quirks kept on purpose (they change scores):

* ~200 "unit" words from MathQA are stripped **anywhere** in the extracted
  answer when they stand between non-word characters: ``1 \\pm \\sqrt{19}``
  loses ``pm``, ``(a+5)(b+2)`` loses ``a``, ``\\text{east}`` becomes empty.
* word2number turns any answer holding a number word into that number;
  every ``and`` is deleted; ``\\text{..}`` is unwrapped.
* The label is never passed through ``strip_string``, only the response.
* An empty label pays a response with no extractable answer (both normalise
  to ``""``), and nothing else.
* Unreduced fractions must match exactly, an integer label needs an integer
  answer, and sympy is refused for more than two distinct letters or ``^{``.

Where we depart (none changes a verdict the paper's code reaches):

* sympy's ``parse_expr`` runs with no Python builtins in its namespace, so
  model output can only name sympy objects (the paper's code evaluates with
  builtins; its two-letter limit already rules out naming anything harmful).
* Each sympy call has a time limit, and differences longer than 2,000
  characters are not tried (the paper has neither and would hang on a power
  tower such as ``9**9**9`` or a 50k-term sum); off the main thread use
  :mod:`.pool` for a hard bound.
* The GPQA branch (labels A-D graded as multiple choice) is kept, the other
  multiple-choice data sets of their parser are not (no such task here).

Needs ``pylatexenc`` (their LaTeX-to-text step) and ``word2number``.
"""

from __future__ import annotations

import re

import sympy

from .base import Grader, GradingTimeout, clean_text, time_limit

PAPER_GRADER_VERSION = "2"

# Time for one sympy parse+simplify; the paper had none.
SYMPY_TIMEOUT_S = 2.0
# Longer differences are not given to sympy (a 50k-term sum takes minutes); no real answer is this long.
MAX_SYMPY_CHARS = 2000

_LAST_NUMBER_RE = re.compile(r"-?\d*\.?\d+")

# --------------------------------------------------------------------------
# Extraction (Qwen2.5-Math parser as used by the paper)
# --------------------------------------------------------------------------


def _after_last_boxed(text: str) -> str:
    """What follows the last ``boxed``: its brace group, or up to the next ``$``.

    An unclosed group yields everything after the brace.
    """
    rest = text.split("boxed")[-1]
    if not rest:
        return ""
    if rest[0] != "{":
        return rest.split("$")[0].strip()
    depth, out = 1, []
    for ch in rest[1:]:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        out.append(ch)
    return "".join(out)


def _gpqa_choice(text: str) -> str:
    text = text.strip("\n").rstrip(".").rstrip("/").strip(" ").lstrip(":")
    letters = re.findall(r"\b(A|B|C|D)\b", text.upper())
    choice = letters[-1] if letters else text.strip().strip(".")
    return choice.rstrip(".").rstrip("/")


def raw_answer(text: str) -> str:
    """The answer span before ``strip_string``, by the parser's rule order."""
    if "final answer is $" in text and "$. I hope" in text:
        return text.split("final answer is $", 1)[1].split("$. I hope", 1)[0].strip()
    if "boxed" in text:
        return _after_last_boxed(text)
    for marker in ("he answer is", "final answer is"):
        if marker in text:
            return text.split(marker)[-1].strip()
    if "答案是" in text:
        return text.split("答案是")[1].strip().split("\n\n")[0].strip()
    numbers = _LAST_NUMBER_RE.findall(text.replace(",", ""))
    return numbers[-1] if numbers else ""


def extract_answer(text: str, task: str = "math") -> str:
    """The paper's extracted answer; ``""`` when there is none.

    >>> extract_answer(r"so $\\boxed{\\dfrac{3}{4}\\text{ cm}}$")
    '\\\\frac{3}{4}'
    >>> extract_answer("The answer is 12 apples."), extract_answer("no digits")
    ('12', '')
    """
    text = text.replace("\u043a\u0438", "")
    if task == "gpqa":
        return _gpqa_choice(text)
    return strip_string(tidy_extracted(raw_answer(text)))


# Unit words of the Qwen2.5-Math parser ("mainly from MathQA"), in its order. Each is used as a
# regular expression, so the "." in "q.", "p.m" ... matches any character, as it does there.
UNIT_WORDS: tuple[str, ...] = (
    "east", "degree", "mph", "kmph", "ft", "m sqaure", " m east", "sq m", "deg", "mile", "q .",
    "monkey", "prime", "ratio", "profit of rs", "rd", "o", "gm", "p . m", "lb", "tile", "per", "dm",
    "lt", "gain", "ab", "way", "west", "a .", "b .", "c .", "d .", "e .", "f .", "g .", "h .", "t",
    "a", "h", "no change", "men", "soldier", "pie", "bc", "excess", "st", "inches", "noon",
    "percent", "by", "gal", "kmh", "c", "acre", "rise", "a . m", "th", "π r 2", "sq", "mark", "l",
    "toy", "coin", "sq . m", "gallon", "° f", "profit", "minw", "yr", "women", "feet", "am", "pm",
    "hr", "cu cm", "square", "v â € ™", "are", "rupee", "rounds", "cubic", "cc", "mtr", "s", "ohm",
    "number", "kmph", "day", "hour", "minute", "min", "second", "man", "woman", "sec", "cube", "mt",
    "sq inch", "mp", "∏ cm ³", "hectare", "more", "sec", "unit", "cu . m", "cm 2", "rs .", "rs",
    "kg", "g", "month", "km", "m", "cm", "mm", "apple", "liter", "loss", "yard", "pure", "year",
    "increase", "decrease", "d", "less", "Surface", "litre", "pi sq m", "s .", "metre", "meter",
    "inch",
)
UNIT_WORDS = UNIT_WORDS + tuple(word + "s" for word in UNIT_WORDS)
# Each unit's longest "."-free piece: a unit whose piece is not in the string cannot match, and a
# substring test is far cheaper than 528 regex scans of a long answer.
_UNIT_RES = tuple((max(word.split("."), key=len), re.compile(r"(^|\W)" + word + r"($|\W)"))
                  for word in UNIT_WORDS)


def _words_to_number(s: str) -> str:
    from word2number import w2n

    try:
        return str(w2n.word_to_num(s))
    except Exception:  # w2n raises ValueError and, on odd input, others; the paper ignores all
        return s


def _zero_and_right_side(s: str) -> str:
    """Both of the paper's normalisers: ".5" -> "0.5", then "k=5" (a left side of <= 2 chars) -> "5"."""
    if s[0] == ".":
        s = "0" + s
    sides = s.split("=")
    return sides[1] if len(sides) == 2 and len(sides[0]) <= 2 else s


def tidy_extracted(answer: str) -> str:
    """What Qwen-Math's extract_answer does to the extracted text: no newlines, no leading ':', no
    trailing '.' or '/'."""
    answer = re.sub(r"\n\s*", "", answer)
    if answer.startswith(":"):
        answer = answer[1:]
    if answer.endswith("."):
        answer = answer[:-1]
    if answer.endswith("/"):
        answer = answer[:-1]
    return answer


def _fix_fracs(s: str, bare_tail_raises: bool = False) -> str:
    """``\\frac12`` -> ``\\frac{1}{2}``, ``\\frac1{2}`` -> ``\\frac{1}{2}``; unchanged if malformed.

    The paper's two copies (Qwen-Math's and the mathd normalisation's) differ in one place: the mathd
    one indexes an empty tail (a bare trailing ``\\frac``) and raises IndexError, which its caller turns
    into "keep the string"; bare_tail_raises=True keeps that.
    """
    head, *tails = s.split("\\frac")
    out = head
    for tail in tails:
        out += "\\frac"
        if (tail[0] == "{") if bare_tail_raises else tail.startswith("{"):
            out += tail
        elif len(tail) < 2:
            return s
        elif tail[1] != "{":
            out += "{" + tail[0] + "}{" + tail[1] + "}" + tail[2:]
        else:
            out += "{" + tail[0] + "}" + tail[1:]
    return out


def _int_text(part: str) -> str | None:
    try:
        return str(int(part))
    except ValueError:
        return None


def _qwen_slash_to_frac(s: str) -> str:
    parts = s.split("/")
    if len(parts) != 2:
        return s
    a, b = (part if "sqrt" in part else _int_text(part) for part in parts)
    if a is None or b is None or s != f"{a}/{b}":
        return s
    return "\\frac{" + a + "}{" + b + "}"


def strip_string(s: str) -> str:
    """Qwen2.5-Math's answer normalisation, step for step (see the module docstring).

    >>> strip_string(r"1 \\pm \\sqrt{19}"), strip_string("three"), strip_string(r"\\text{east}")
    ('1\\\\\\\\sqrt{19}', '3', '')
    """
    s = str(s).strip().replace("\n", "").rstrip(".")
    s = s.replace("\\!", "")
    s = re.sub(r"\\begin\{array\}\{.*?\}", r"\\begin{pmatrix}", s)
    s = re.sub(r"\\end\{array\}", r"\\end{pmatrix}", s)
    s = s.replace("bmatrix", "pmatrix").replace("tfrac", "frac").replace("dfrac", "frac")
    s = s.replace("\\neq", "\\ne").replace("\\leq", "\\le").replace("\\geq", "\\ge")
    s = s.replace("\\left", "").replace("\\right", "").replace("\\{", "{").replace("\\}", "}")
    # A trailing \text{..} is a unit, unless it is all there is.
    without = re.sub(r"\\text{.*?}$", "", s).strip()
    if without and without != s:
        s = without
    for _ in range(2):
        for piece, unit_re in _UNIT_RES:
            if piece not in s:
                continue
            stripped = unit_re.sub(r"\1\2", s)
            if stripped:
                s = stripped
    s = s.replace("^{\\circ}", "").replace("^\\circ", "")
    s = s.replace("\\$", "").replace("$", "").replace("\\(", "").replace("\\)", "")
    s = _words_to_number(s)
    s = re.sub(r"\\text\{(.*?)\}", r"\1", s)
    for key in ("x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to"):
        s = s.replace(key, "")
    s = s.replace("\\emptyset", "{}").replace("(-\\infty,\\infty)", "\\mathbb{R}")
    s = s.replace("\\%", "").replace("%", "")
    s = s.replace(" .", " 0.").replace("{.", "{0.")
    # (Their bracket-unwrapping rule needs the bracketed string to be alphanumeric, so it never fires.)
    s = s.replace("infinity", "\\infty")
    if "\\infty" not in s:
        s = s.replace("inf", "\\infty")
    s = s.replace("+\\inity", "\\infty")
    s = s.replace("and", "").replace("\\mathbf", "")
    s = re.sub(r"\\mbox{.*?}", "", s)
    if "j" in s and "i" not in s:
        s = s.replace("j", "i")
    # "12.000x" -> "12x". Their pattern lacks the (?<!\d); with it a match can only start where a digit
    # run starts, which gives the same matches (one inside a run fails where the run's start failed)
    # in linear instead of quadratic time on a long run of digits.
    s = re.sub(r"(?<!\d)(\d+)\.0*([^\d])", r"\1\2", s)
    s = re.sub(r"(?<!\d)(\d+)\.0*$", r"\1", s)
    if not s:
        return s
    s = _zero_and_right_side(s)
    s = re.sub(r"\\sqrt(\w+)", r"\\sqrt{\1}", s)
    s = s.replace(" ", "")
    s = _fix_fracs(s)
    return _qwen_slash_to_frac(s)


# --------------------------------------------------------------------------
# mathd normalisation (Hendrycks MATH), the grader's first, string-only test
# --------------------------------------------------------------------------


def _hendrycks_sqrt(s: str) -> str:
    if "\\sqrt" not in s:
        return s
    head, *tails = s.split("\\sqrt")
    out = head
    for tail in tails:
        # tail[0] raises IndexError on a trailing \sqrt, as in the original.
        out += "\\sqrt" + (tail if tail[0] == "{" else "{" + tail[0] + "}" + tail[1:])
    return out


class _Fallback(Exception):
    """The original's failure paths: normalize_answer then returns its input unchanged."""


def _hendrycks_strip(s: str) -> str:
    s = s.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    s = s.replace("tfrac", "frac").replace("dfrac", "frac")
    s = s.replace("\\left", "").replace("\\right", "")
    s = s.replace("^{\\circ}", "").replace("^\\circ", "").replace("\\$", "")
    if "\\text{ " in s:
        pieces = s.split("\\text{ ")
        if len(pieces) != 2:
            raise _Fallback
        s = pieces[0]
    s = s.replace("\\%", "")
    s = s.replace(" .", " 0.").replace("{.", "{0.")
    if not s:
        return s
    s = _zero_and_right_side(s)
    s = _hendrycks_sqrt(s)
    s = s.replace(" ", "")
    s = _fix_fracs(s, bare_tail_raises=True)
    if s == "0.5":
        s = "\\frac{1}{2}"
    parts = s.split("/")
    if len(parts) == 2:
        a, b = _int_text(parts[0]), _int_text(parts[1])
        if a is not None and b is not None and s == f"{a}/{b}":
            s = "\\frac{" + a + "}{" + b + "}"
    return s


def mathd_normalize(answer: str) -> str:
    """Hendrycks MATH normalisation as the paper's ``normalize_answer`` applies it."""
    answer = answer.strip()
    try:
        m = re.search(r"^\\text\{(?P<text>.+?)\}$", answer)
        if m is not None:
            answer = m.group("text").strip()
        return _hendrycks_strip(answer)
    except (_Fallback, IndexError):
        return answer


# --------------------------------------------------------------------------
# math_grade.py: second normalisation, tuples, sympy
# --------------------------------------------------------------------------

_GRADE_UNITS = ("degree", "cm", "centimeter", "meter", "mile", "second", "minute", "hour", "day",
                "week", "month", "year", "foot", "feet", "inch", "yard")
_GRADE_UNIT_RES = tuple(re.compile(unit + r"(es)?(s)? *(\^[0-9]+)?") for unit in _GRADE_UNITS)
_FORMATTED_COMMA_RE = re.compile(r"(\d)(,)(\d\d\d)($|\D)")
_TUPLE_CHARS = "()[]"
_BAD_SUBSTRINGS = ("^{", "^(")
_BAD_RES = (re.compile(r"\^[0-9]+\^"), re.compile(r"\^[0-9][0-9]+"))


def _float_or_none(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def _near_int(x: float) -> bool:
    try:
        return abs(x - int(round(x))) <= 1e-7
    except (OverflowError, ValueError):  # inf, nan
        return False


def _strip_number_commas(s: str) -> str:
    while True:
        changed = _FORMATTED_COMMA_RE.sub(r"\1\3\4", s)
        if changed == s:
            return s
        s = changed


def _str_is_int(s: str) -> bool:
    x = _float_or_none(_strip_number_commas(s))
    return x is not None and _near_int(x)


def _latex_to_text(expr: str) -> str:
    from pylatexenc import latex2text

    expr = expr.replace("\\tfrac", "\\frac").replace("\\dfrac", "\\frac")
    expr = expr.replace("\\frac", " \\frac")  # mixed numbers: "1\frac12" -> "1 1/2"
    expr = latex2text.LatexNodes2Text().latex_to_text(expr)
    for symbol, name in (("√", "sqrt"), ("π", "pi"), ("∞", "inf"), ("∪", "U"), ("·", "*"), ("×", "*")):
        expr = expr.replace(symbol, name)
    return expr.strip()


def grade_normalize(expr: str) -> str:
    """math_grade.py's ``_normalize``: units, LaTeX to text, spaces and braces out, lower case."""
    m = re.search(r"^\\text\{(?P<text>.+?)\}$", expr)
    if m is not None:
        expr = m.group("text")
    expr = expr.replace("\\%", "%").replace("\\$", "$").replace("$", "").replace("%", "")
    expr = expr.replace(" or ", " , ").replace(" and ", " , ")
    expr = expr.replace("million", "*10^6").replace("billion", "*10^9").replace("trillion", "*10^12")
    for unit_re in _GRADE_UNIT_RES:
        expr = unit_re.sub("", expr)
    expr = re.sub(r"\^ *\\circ", "", expr)
    if expr and expr[0] == "{" and expr[-1] == "}":
        expr = expr[1:-1]
    expr = re.sub(r",\\! *", "", expr)
    value = _float_or_none(expr)
    if value is not None and _near_int(value):
        expr = str(int(round(value)))
    if "\\" in expr:
        try:
            expr = _latex_to_text(expr)
        except Exception:  # the paper keeps the LaTeX when pylatexenc fails
            pass
    expr = re.sub(r"- *", "-", expr)
    expr = re.sub(r"([0-9]) +([0-9])", r"\1+\2", expr)  # mixed number "7 3/4" -> "7+3/4"
    expr = expr.replace(" ", "").replace("{", "").replace("}", "").lower()
    if _str_is_int(expr):
        expr = str(int(float(expr.replace(",", ""))))
    return expr


def _split_tuple(expr: str) -> list[str]:
    expr = _strip_number_commas(expr)
    if not expr:
        return []
    if (len(expr) > 2 and expr[0] in _TUPLE_CHARS and expr[-1] in _TUPLE_CHARS
            and not any(ch in expr[1:-1] for ch in _TUPLE_CHARS)):
        return [elem.strip() for elem in expr[1:-1].split(",")]
    return [expr]


def _is_frac(expr: str) -> bool:
    return re.search(r"^-?[0-9]+.?/0*[1-9][0-9]*.?$", expr) is not None


def _sympy_allowed(expr: str) -> bool:
    bare = expr.replace("sqrt", "").replace("frac", "")
    if len({ch for ch in bare if ch.isalpha()}) > 2:
        return False
    return not any(bad in expr for bad in _BAD_SUBSTRINGS) and not any(r.search(expr) for r in _BAD_RES)


_SYMPY_NAMES: dict | None = None


def _sympy_namespace() -> dict:
    """sympy's public names and nothing from Python's builtins."""
    global _SYMPY_NAMES
    if _SYMPY_NAMES is None:
        _SYMPY_NAMES = {name: getattr(sympy, name) for name in dir(sympy) if not name.startswith("_")}
        _SYMPY_NAMES["__builtins__"] = {}
    return dict(_SYMPY_NAMES)


def sympy_equal(gold: str, given: str) -> bool:
    """``simplify((gold)-(given)) == 0`` under the paper's guards; never raises."""
    from sympy.parsing import sympy_parser

    expr = f"({gold})-({given})"
    if len(expr) > MAX_SYMPY_CHARS or not _sympy_allowed(expr):
        return False
    try:
        with time_limit(SYMPY_TIMEOUT_S):
            parsed = sympy_parser.parse_expr(
                expr.replace("^", "**"), global_dict=_sympy_namespace(),
                transformations=sympy_parser.standard_transformations
                + (sympy_parser.implicit_multiplication_application,))
            return bool(sympy.simplify(parsed) == 0)
    except (Exception, GradingTimeout, RecursionError):
        return False


def grade_answer(given: str | None, gold: str) -> bool:
    """math_grade.py's ``grade_answer`` (PRM800K rules).

    >>> grade_answer("", ""), grade_answer("5", ""), grade_answer("\\\\frac{2}{4}", "\\\\frac{1}{2}")
    (True, False, False)
    """
    if given is None:
        return False
    if mathd_normalize(gold) == mathd_normalize(given):
        return True
    gold_n, given_n = grade_normalize(gold), grade_normalize(given)
    if gold_n == given_n:
        return True
    if not given_n:
        return False
    gold_elems, given_elems = _split_tuple(gold_n), _split_tuple(given_n)
    if len(gold_elems) > 1 and (gold_n[0] != given_n[0] or gold_n[-1] != given_n[-1]):
        return False
    if len(gold_elems) != len(given_elems):
        return False
    for gold_elem, given_elem in zip(gold_elems, given_elems):
        if _is_frac(gold_elem) and _is_frac(given_elem):
            ok = gold_elem == given_elem  # unreduced fractions must be written the same
        elif _str_is_int(gold_elem) != _str_is_int(given_elem):
            ok = False
        else:
            ok = sympy_equal(gold_elem, given_elem)
        if not ok:
            return False
    return True


class PaperGrader(Grader):
    """The paper's extraction and grading rules (see the module docstring)."""

    name = "paper"

    def __init__(self) -> None:
        try:
            import word2number  # noqa: F401 - checked here, used lazily
            from pylatexenc import __version__ as pylatexenc_version
        except ImportError as err:
            raise ImportError(f"the 'paper' grader needs pylatexenc and word2number ({err}); "
                              "pip install pylatexenc==2.11 word2number==1.1") from err

        self.version = (f"paper-{PAPER_GRADER_VERSION}+sympy-{sympy.__version__}"
                        f"+pylatexenc-{pylatexenc_version}")

    def extract(self, completion: str) -> str | None:
        return extract_answer(clean_text(completion)) or None

    def is_equivalent(self, prediction: str, gold: str) -> bool:
        return grade_answer(clean_text(prediction), clean_text(gold))

    def grade(self, completion: str, gold: str) -> bool:
        # Not the base rule: a response with no answer ("") still meets an empty label.
        gold = clean_text(gold)
        task = "gpqa" if gold in ("A", "B", "C", "D") else "math"
        return grade_answer(extract_answer(clean_text(completion), task), gold)
