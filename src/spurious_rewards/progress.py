"""Progress of long stages as plain log lines: "<what>: N/M <unit> (P%) elapsed 00:12, ETA 04:48, ...".

Every rule redirects a job's stderr into its log file, where a tqdm bar's carriage-return redraws pile
up on one unreadable line. Here tqdm keeps doing the counting, rate and ETA, but a non-terminal stream
gets one full line per update, at most every `interval()` seconds (plus the first and the last line).
On a terminal the bar is tqdm's usual one.

SPURIOUS_PROGRESS_INTERVAL (seconds, default 30) sets the interval; 0 logs every update.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from typing import Any

DEFAULT_INTERVAL_S = 30.0
LINE_FORMAT = ("{desc}: {n_fmt}/{total_fmt} {unit} ({percentage:.0f}%) elapsed {elapsed}, ETA {remaining}, "
               "{rate_fmt}")


def quiet_library_bars(stream=None) -> None:
    """In a log file, silence the libraries' own short tqdm bars (datasets' map, hub downloads, shard
    writing): their carriage-return redraws bury the progress lines. A terminal keeps them."""
    stream = stream if stream is not None else sys.stderr
    if not bool(getattr(stream, "isatty", lambda: False)()):
        for var in ("HF_DATASETS_DISABLE_PROGRESS_BARS", "HF_HUB_DISABLE_PROGRESS_BARS"):
            os.environ.setdefault(var, "1")


def interval() -> float:
    try:
        return max(0.0, float(os.environ.get("SPURIOUS_PROGRESS_INTERVAL", DEFAULT_INTERVAL_S)))
    except ValueError:
        return DEFAULT_INTERVAL_S


class _Lines(io.TextIOBase):
    """Turns tqdm's '\\r'-redraws into one line each."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        line = text.replace("\r", "").strip()
        if line:
            self.stream.write(line + "\n")
            self.stream.flush()
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def bar(total: int | None, desc: str, unit: str = "it", initial: int = 0, stream=None, **kwargs: Any):
    """A tqdm progress bar for a log file (or a terminal). Use as a context manager or close() it."""
    from tqdm import tqdm

    stream = stream if stream is not None else sys.stderr
    tty = bool(getattr(stream, "isatty", lambda: False)())
    if tty:
        return tqdm(total=total, desc=desc, unit=unit, initial=initial, file=stream, **kwargs)
    every = interval()
    return tqdm(total=total, desc=desc, unit=unit, initial=initial, file=_Lines(stream), mininterval=every,
                maxinterval=max(every, 1.0), miniters=1, ascii=True, bar_format=LINE_FORMAT, **kwargs)


def tqdm_factory(desc: str, unit: str = "it") -> Callable[..., Any]:
    """For libraries that take a tqdm class (vLLM's `use_tqdm`): our bar, their total. Called with an
    iterable (vLLM >= 0.32 also wraps its prompt rendering loop this way), it hands the iterable back
    unchanged: that loop is quick, and one bar per generate call is enough."""

    def make(*args, total=None, **kwargs):
        if args:
            return args[0]
        return bar(total, desc, unit=unit)

    return make


def trainer_callback(desc: str, total: int, step_of: Callable[[int], int] | None = None,
                     unit: str = "step"):
    """A transformers TrainerCallback that logs `desc: N/total` from the main process.

    step_of maps TRL/transformers' global_step (optimizer updates) to the unit shown (e.g. rollout steps).
    """
    from transformers import TrainerCallback

    step_of = step_of or (lambda global_step: global_step)

    class Progress(TrainerCallback):
        def __init__(self):
            self.bar = None

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self.bar = bar(total, desc, unit=unit, initial=step_of(state.global_step))

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                done = step_of(state.global_step)
                if done > self.bar.n:
                    self.bar.update(done - self.bar.n)

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return Progress()
