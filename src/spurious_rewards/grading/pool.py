"""Grade many completions in worker processes with a hard per-answer bound.

Why not ``concurrent.futures.ProcessPoolExecutor``: it cannot kill one stuck
worker (killing one breaks the whole executor), and sympy can hang inside C
code where no signal handler runs, e.g. ``\\boxed{9^{9^{9^{9}}}}``.  So this
module runs its own small pool: one pipe per worker, answers handled in order
(a few small ones queued ahead so a worker never waits on us), and a worker
whose current answer runs past ``timeout_s`` is SIGKILLed, that answer scored
False (or None for extraction), its queued answers re-dispatched, and a fresh
worker forked in its place.

Workers are forked (``fork`` context) after the grader has been built and
warmed up in the parent, so they start in milliseconds and inherit the
imports.  ``workers=0`` grades in this process (no hard bound beyond the
grader's own signal timeouts); ``workers>=1`` always uses subprocesses.
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import signal
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from . import DEFAULT_GRADER, Grader, GradingTimeout, clean_text, get_grader

try:  # math-verify's signal timeout derives from BaseException, like our GradingTimeout
    from math_verify.errors import TimeoutException as _MathVerifyTimeout
except ImportError:  # pragma: no cover - math-verify is a dependency; keep the pool importable without it
    _MathVerifyTimeout = GradingTimeout

# What grading model output may raise: any error, or a grader's own timeout. Not KeyboardInterrupt or
# SystemExit: Ctrl-C must stop the run, not become a grade of False.
_NO_CREDIT = (Exception, GradingTimeout, _MathVerifyTimeout)

_PARENT_CHECK_S = 1.0
# Pipelining: up to this many answers queued per worker, if each is small
# enough (chars) to sit in the socket buffer without blocking our send.
_PREFETCH_DEPTH = 4
_PREFETCH_MAX_CHARS = 4096


def _apply(grader: Grader, kind: str, completion: str, gold: str | None) -> Any:
    try:
        if kind == "grade":
            return bool(grader.grade(completion, gold or ""))
        return grader.extract(completion)
    except _NO_CREDIT:  # a failure on model output = no credit
        return _DEFAULTS[kind]


_DEFAULTS = {"grade": False, "extract": None}


def _worker_main(conn: Connection, grader_name: str, parent_pid: int) -> None:
    # Ctrl-C goes to the whole process group; the parent decides what to do.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    grader = get_grader(grader_name)
    while True:
        # Poll so an orphaned worker notices its parent died: forked siblings
        # keep our pipe's other end open, so EOF alone is not reliable.
        if not conn.poll(_PARENT_CHECK_S):
            if os.getppid() != parent_pid:
                return
            continue
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, kind, completion, gold = message
        conn.send((index, _apply(grader, kind, completion, gold)))


# One answer of each common shape: first use of each shape fills antlr's DFA
# and sympy's caches (~0.5 s in all).  Done once in the parent, every forked
# worker inherits the warm state instead of each paying for it.
_WARM_UP = (
    ("\\boxed{1}", "1"), ("\\boxed{\\frac{1}{2}}", "0.5"), ("\\boxed{3\\sqrt{2}}", "\\sqrt{18}"),
    ("\\boxed{(1,2]}", "[1,2)"), ("\\boxed{\\text{(A)}}", "\\text{(B)}"), ("\\boxed{x^2+1}", "x^2+2"),
    ("\\boxed{2\\pi}", "\\pi"), ("\\boxed{1,000}", "1000"), ("\\boxed{90^\\circ}", "90"),
)


@functools.cache
def _warm(grader_name: str) -> None:
    grader = get_grader(grader_name)
    for completion, gold in _WARM_UP:
        _apply(grader, "grade", completion, gold)


@dataclass
class _Worker:
    process: Any
    conn: Connection
    inflight: deque = field(default_factory=deque)  # answer indices sent, in order
    started: float = 0.0  # when the head of ``inflight`` started
    queue: deque = field(default_factory=deque)  # answer indices still to send


class GradingPool:
    """A reusable pool of forked grading workers.

    >>> with GradingPool("paper", workers=2) as pool:
    ...     pool.grade(["\\\\boxed{4}", "\\\\boxed{5}"], ["4", "4"])
    [True, False]
    """

    def __init__(self, grader: str = DEFAULT_GRADER, workers: int | None = None,
                 timeout_s: float = 5.0) -> None:
        if isinstance(grader, Grader):
            grader = grader.name
        get_grader(grader)  # validates the name
        if timeout_s is None or timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
        self.grader_name = grader
        self.workers = (os.cpu_count() or 1) if workers is None else int(workers)
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers!r}")
        self.timeout_s = float(timeout_s)
        self._ctx = mp.get_context("fork")
        self._pool: list[_Worker] = []
        self.killed = 0  # workers replaced after exceeding the bound or dying

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self) -> GradingPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        # Daemonic so they die with us; but a daemonic caller (e.g. a data
        # loader worker) may not have daemonic children.
        process = self._ctx.Process(
            target=_worker_main, args=(child_conn, self.grader_name, os.getpid()),
            daemon=not mp.current_process().daemon,
        )
        process.start()
        child_conn.close()
        return _Worker(process, parent_conn)

    def _kill(self, worker: _Worker) -> None:
        try:
            worker.process.kill()
            worker.process.join(timeout=5)
        except (OSError, ValueError):
            pass
        worker.conn.close()

    def close(self) -> None:
        for worker in self._pool:
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 1.0
        for worker in self._pool:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                self._kill(worker)
            else:
                worker.conn.close()
        self._pool = []

    # -- public API --------------------------------------------------------
    def grade(self, completions: Sequence[str], golds: Sequence[str]) -> list[bool]:
        if len(completions) != len(golds):
            raise ValueError(f"{len(completions)} completions but {len(golds)} golds")
        return self._run("grade", list(completions), list(golds))

    def extract(self, completions: Sequence[str]) -> list[str | None]:
        return self._run("extract", list(completions), [None] * len(completions))

    # -- scheduling --------------------------------------------------------
    def _run(self, kind: str, completions: list, golds: list) -> list:
        n = len(completions)
        default = _DEFAULTS[kind]
        results: list = [default] * n
        if n == 0:
            return results
        texts = [clean_text(c) for c in completions]
        gold_texts = [None if g is None else clean_text(g) for g in golds]
        if self.workers == 0:
            grader = get_grader(self.grader_name)
            return [_apply(grader, kind, t, g) for t, g in zip(texts, gold_texts)]

        _warm(self.grader_name)
        while len(self._pool) < min(self.workers, n):
            self._pool.append(self._spawn())
        # Contiguous shards, not round-robin: answers that share a gold (a
        # GRPO group, or gold/perturbed pairs) stay on one worker, so each
        # gold is parsed once rather than once per worker.  An idle worker
        # steals the back half of the longest remaining shard.
        slots = len(self._pool)
        for k, worker in enumerate(self._pool):
            worker.queue = deque(range(n * k // slots, n * (k + 1) // slots))

        def next_index(worker: _Worker) -> int | None:
            if not worker.queue:
                donor = max(self._pool, key=lambda w: len(w.queue))
                stolen = [donor.queue.pop() for _ in range((len(donor.queue) + 1) // 2)]
                worker.queue.extend(reversed(stolen))
            return worker.queue[0] if worker.queue else None

        def small(index: int) -> bool:
            return len(texts[index]) + len(gold_texts[index] or "") <= _PREFETCH_MAX_CHARS

        def dispatch(worker: _Worker) -> None:
            # Keep a few small answers queued in the worker's pipe so it never
            # idles waiting for us.  Only small ones: a large send to a busy
            # (maybe hung) worker could block us past the time bound.
            while len(worker.inflight) < _PREFETCH_DEPTH:
                index = next_index(worker)
                if index is None or (worker.inflight and not small(index)):
                    return
                try:
                    worker.conn.send((index, kind, texts[index], gold_texts[index]))
                except (OSError, ValueError):
                    self._fail_head(worker, results, default, died_idle=not worker.inflight)
                    continue
                worker.queue.popleft()
                if not worker.inflight:
                    worker.started = time.monotonic()
                worker.inflight.append(index)

        for worker in self._pool:
            dispatch(worker)
        while True:
            busy = [w for w in self._pool if w.inflight]
            if not busy:
                break
            wait_s = max(0.0, min(w.started + self.timeout_s for w in busy) - time.monotonic())
            ready = set(wait([w.conn for w in busy], timeout=wait_s))
            for worker in busy:
                if worker.conn in ready:
                    try:
                        while worker.inflight and worker.conn.poll(0):
                            index, value = worker.conn.recv()
                            worker.inflight.popleft()
                            results[index] = value
                            # The next queued answer starts its clock now.
                            worker.started = time.monotonic()
                    except (EOFError, OSError):  # crashed mid-answer: no credit
                        self._fail_head(worker, results, default)
                elif time.monotonic() - worker.started > self.timeout_s:
                    self._fail_head(worker, results, default)  # hung
                dispatch(worker)
        return results

    def _fail_head(self, worker: _Worker, results: list, default: Any,
                   died_idle: bool = False) -> None:
        """Kill and replace ``worker``; its current answer gets ``default``.

        Answers queued behind the current one go back to the front of the
        queue.  ``died_idle``: the worker was found dead while idle, so no
        answer of ours was at fault.
        """
        inflight = list(worker.inflight)
        if inflight and not died_idle:
            results[inflight.pop(0)] = default
        worker.queue.extendleft(reversed(inflight))
        self.killed += 1
        self._kill(worker)
        fresh = self._spawn()
        worker.process, worker.conn, worker.inflight = fresh.process, fresh.conn, deque()


def grade_many(completions: Sequence[str], golds: Sequence[str], grader: str = DEFAULT_GRADER,
               workers: int | None = None, timeout_s: float = 5.0) -> list[bool]:
    """Grade ``completions[i]`` against ``golds[i]`` in worker processes.

    Each answer gets at most ``timeout_s`` seconds of wall time; a hung answer
    scores False.  ``workers=None`` means ``os.cpu_count()``; ``workers=0``
    grades in-process (no hard bound).

    >>> grade_many(["\\\\boxed{12.8}", "no answer here"], ["12.8", "12.8"], workers=1)
    [True, False]
    """
    with GradingPool(grader, workers=workers, timeout_s=timeout_s) as pool:
        return pool.grade(completions, golds)


def extract_many(completions: Sequence[str], grader: str = DEFAULT_GRADER,
                 workers: int | None = None, timeout_s: float = 5.0) -> list[str | None]:
    """Extract the final answer of each completion (None if none / timed out).

    >>> extract_many(["so \\\\boxed{7}", ""], grader="paper", workers=1)
    ['7', None]
    """
    with GradingPool(grader, workers=workers, timeout_s=timeout_s) as pool:
        return pool.extract(completions)
