"""Answer graders: math-verify (default), the paper's grading rules, and our fixed rewrite of them.

``paper`` follows the paper's released grading code, quirks included; ``paper_fixed`` is our
earlier rewrite of its description, without the quirks that reject right answers
(unit words stripped anywhere) and without false positives.

>>> get_grader("paper").grade(r"The sum is \\boxed{\\dfrac{1}{2}}.", "0.5")
True
>>> sorted(GRADERS)
['math_verify', 'paper', 'paper_fixed']
"""

from __future__ import annotations

import functools

from .base import Grader, GradingTimeout, clean_text, time_limit

GRADERS: tuple[str, ...] = ("math_verify", "paper", "paper_fixed")
DEFAULT_GRADER = "math_verify"


@functools.cache
def _build(name: str) -> Grader:
    # Imported lazily: math-verify pulls in antlr/sympy (~1 s) and the paper
    # grader should stay usable on its own.
    if name == "math_verify":
        from .math_verify_grader import MathVerifyGrader

        return MathVerifyGrader()
    if name == "paper_fixed":
        from .paper_fixed_grader import PaperFixedGrader

        return PaperFixedGrader()
    from .paper_grader import PaperGrader

    return PaperGrader()


def get_grader(name: str | Grader = DEFAULT_GRADER) -> Grader:
    """The (shared, stateless) grader registered as ``name``.

    A Grader instance is passed through, so APIs can accept either.
    """
    if isinstance(name, Grader):
        return name
    if name not in GRADERS:
        raise ValueError(f"unknown grader {name!r}; valid graders: {', '.join(GRADERS)}")
    return _build(name)


__all__ = [
    "DEFAULT_GRADER",
    "GRADERS",
    "Grader",
    "GradingTimeout",
    "clean_text",
    "get_grader",
    "time_limit",
]
