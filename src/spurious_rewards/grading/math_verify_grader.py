"""Grader backed by the math-verify library (our default).

Departs from the paper, which graded with a Qwen2.5-Math/PRM800K-style
extractor and sympy check (see :mod:`.paper_grader`).  math-verify uses a
different extraction priority and equivalence rules, so numbers from the two
graders are not interchangeable; every score records ``Grader.version``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
from math_verify.errors import TimeoutException

from .base import Grader, clean_text, on_main_thread

# math-verify logs a WARNING per timeout; during RL that is thousands of lines.
logging.getLogger("math_verify").setLevel(logging.ERROR)

# Gold labels are bare answers ("142.0", "(1,2]", "\\frac{3}{4}").  Both
# configs are needed: LaTeX for intervals/fractions, Expr for plain numbers.
_GOLD_CONFIG = (LatexExtractionConfig(), ExprExtractionConfig())
# Completions: \boxed{} first (priority 0), as the training prompt asks for it.
_COMPLETION_CONFIG = (LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig())

_SWALLOWED = (Exception, TimeoutException)


def _timeouts() -> dict[str, int | None]:
    # math-verify's timeouts are signal.alarm based and raise ValueError off
    # the main thread; there the process pool provides the bound instead.
    if on_main_thread():
        return {}
    return {"parsing_timeout": None}


def _verify_timeouts() -> dict[str, int | None]:
    return {} if on_main_thread() else {"timeout_seconds": None}


@functools.lru_cache(maxsize=65536)
def _parse_answer(answer: str) -> tuple:
    """Parse a bare answer string.

    Wrapping in ``$…$`` first matters: unwrapped, ``"(3, 4)"`` parses as the
    number 4 (Expr extraction takes the last number).  The raw string is the
    fallback for labels that already carry their own delimiters.
    """
    for candidate in (f"${answer}$", answer):
        try:
            parsed = parse(candidate, extraction_config=_GOLD_CONFIG, **_timeouts())
        except _SWALLOWED:
            parsed = []
        if parsed:
            return tuple(parsed)
    return ()


def _parse_completion(completion: str) -> list:
    try:
        return parse(completion, extraction_config=_COMPLETION_CONFIG, **_timeouts())
    except _SWALLOWED:
        return []


def _verify(gold: tuple | list, prediction: tuple | list) -> bool:
    if not gold or not prediction:
        return False
    try:
        return bool(verify(list(gold), list(prediction), **_verify_timeouts()))
    except _SWALLOWED:
        return False


class MathVerifyGrader(Grader):
    """math-verify ``parse`` + ``verify`` with cached gold parsing."""

    name = "math_verify"

    def __init__(self) -> None:
        self.version = f"math-verify-{importlib.metadata.version('math-verify')}"

    def extract(self, completion: str) -> str | None:
        parsed = _parse_completion(clean_text(completion))
        if not parsed:
            return None
        # parse() returns [sympy object(s)..., extracted string].
        last = parsed[-1]
        return last if isinstance(last, str) else str(parsed[0])

    def is_equivalent(self, prediction: str, gold: str) -> bool:
        prediction, gold = clean_text(prediction), clean_text(gold)
        if not prediction.strip() or not gold.strip():
            return False
        return _verify(_parse_answer(gold), _parse_answer(prediction))

    def grade(self, completion: str, gold: str) -> bool:
        # Verify the parsed completion directly rather than re-parsing the
        # extracted string: cheaper and exactly what math-verify intends.
        gold = clean_text(gold)
        if not gold.strip():
            return False
        return _verify(_parse_answer(gold), _parse_completion(clean_text(completion)))
