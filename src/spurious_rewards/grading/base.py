"""The grader interface shared by every answer checker.

A grader turns a model completion into a final-answer string (``extract``),
decides whether two answer strings are mathematically the same
(``is_equivalent``), and combines both (``grade``).  Graders must never raise
on model output: any internal failure means "not equivalent" / "no answer".
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator

_SURROGATE_RE = re.compile("[\ud800-\udfff]")


class GradingTimeout(BaseException):
    """Raised by :func:`time_limit` when the bound is hit.

    A BaseException (like math-verify's own timeout) so that the broad
    ``except Exception`` guards around sympy calls cannot swallow it.
    """


def clean_text(text: object) -> str:
    """Coerce model output into a str that every downstream library accepts.

    Bytes are decoded with ``errors="replace"``; lone surrogates (which make
    ``str.encode`` and some C extensions fail) become U+FFFD; ``None`` becomes
    the empty string.
    """
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        text = str(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE_RE.sub("\ufffd", text)
    return text


def on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`GradingTimeout` inside the block after ``seconds``.

    Uses ``signal.setitimer``, so it only works on the main thread; elsewhere
    (and for ``seconds`` of None/0) it is a no-op and the caller must rely on
    the process pool in :mod:`spurious_rewards.grading.pool` for a hard
    bound.  It also cannot interrupt one long C-level operation (e.g. a
    bignum power); the pool's kill-and-replace covers that too.
    """
    if not seconds or not on_main_thread():
        yield
        return

    def _raise(signum, frame):  # noqa: ARG001 - signal handler signature
        raise GradingTimeout(f"grading exceeded {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Grader(ABC):
    """Extracts final answers and compares them with a gold label.

    Attributes:
        name: registry name (``"math_verify"``, ``"paper"`` or ``"paper_fixed"``).
        version: a string that changes whenever grading behaviour may change,
            recorded next to every score so results stay attributable.
    """

    name: str
    version: str

    @abstractmethod
    def extract(self, completion: str) -> str | None:
        """The final answer string of ``completion``, or None if none found."""

    @abstractmethod
    def is_equivalent(self, prediction: str, gold: str) -> bool:
        """Whether answer string ``prediction`` equals answer string ``gold``."""

    def grade(self, completion: str, gold: str) -> bool:
        """Whether ``completion``'s final answer equals ``gold``."""
        prediction = self.extract(completion)
        if prediction is None:
            return False
        return self.is_equivalent(prediction, gold)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, version={self.version!r})"
