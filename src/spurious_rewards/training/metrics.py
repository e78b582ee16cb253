"""Per-step training metrics: the code-reasoning frequency of rollouts and the tidy CSV.

The CSV is built from TRL's `state.log_history`, which every checkpoint carries in trainer_state.json:
a resumed run therefore has exactly the rows of an uninterrupted one (rows logged after the last
checkpoint by a killed process are lost with it and logged again by the rerun). One row per optimizer
update (TRL logs every update); rollout metrics (rewards, lengths, code frequency) are filled on the
first update of each rollout step, where TRL generates, and empty on the others. Wall-clock columns
(step_time) are left out so that the CSV is a deterministic function of (params, seed); TensorBoard
keeps them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from spurious_rewards.rewards import completion_text

CODE_FREQUENCY = "code_reasoning_frequency"
# Timing and end-of-run summary keys: not per-step, not deterministic.
DROP = {"step_time", "train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos",
        "train_loss"}
FIRST = ["step", "rollout_step", "update_in_rollout", "epoch", "loss", "grad_norm", "learning_rate",
         "reward_mean", "reward_std", "frac_reward_zero_std", CODE_FREQUENCY]


def code_frequency(completions) -> float:
    """Share of completions that mention "python" (case-insensitive): the paper's code-reasoning test."""
    texts = [completion_text(c) for c in completions]
    return sum("python" in t.lower() for t in texts) / max(len(texts), 1)


@dataclass(frozen=True, eq=False)
class WithCodeFrequency:
    """A TRL reward that also logs CODE_FREQUENCY per rollout batch (a class, so it pickles)."""

    reward_fn: Callable

    def __post_init__(self) -> None:
        name = getattr(self.reward_fn, "__name__", type(self.reward_fn).__name__)
        object.__setattr__(self, "__name__", name)  # TRL's log key
        object.__setattr__(self, "__doc__", getattr(self.reward_fn, "__doc__", None))

    def __call__(self, prompts, completions, **kwargs):
        log_metric = kwargs.get("log_metric")
        if log_metric is not None:
            log_metric(CODE_FREQUENCY, code_frequency(completions))
        return self.reward_fn(prompts, completions, **kwargs)


def with_code_frequency(reward_fn) -> WithCodeFrequency:
    """Wrap a TRL reward so each rollout batch also logs CODE_FREQUENCY through TRL's log_metric."""
    return WithCodeFrequency(reward_fn)


def column_name(key: str) -> str:
    """TRL log key -> CSV column (snake case, no slashes)."""
    if key == "reward":
        return "reward_mean"
    m = re.fullmatch(r"rewards/(.+)/(mean|std)", key)
    if m:
        return f"reward_{m.group(1)}_{m.group(2)}"
    if key.startswith("completions/"):
        return "completion_" + key.split("/", 1)[1]
    return key.replace("/", "_")


def rows(log_history: list[dict], updates_per_rollout: int) -> list[dict]:
    out = []
    for entry in log_history:
        if "loss" not in entry or "step" not in entry:
            continue  # summary rows (train_runtime, ...)
        step = int(entry["step"])
        row = {"step": step, "rollout_step": -(-step // updates_per_rollout),
               "update_in_rollout": (step - 1) % updates_per_rollout + 1}
        for key, value in entry.items():
            if key in DROP or key == "step":
                continue
            row[column_name(key)] = value
        out.append(row)
    return out


def frame(log_history: list[dict], updates_per_rollout: int):
    import pandas as pd

    data = rows(log_history, updates_per_rollout)
    df = pd.DataFrame(data)
    if df.empty:
        return pd.DataFrame(columns=FIRST)
    # Fixed leading columns, then the rest sorted: a resumed run's history comes back from
    # trainer_state.json with its keys sorted, so insertion order is not stable.
    first = [c for c in FIRST if c in df.columns]
    return df[first + sorted(c for c in df.columns if c not in first)]


def non_finite(value) -> bool:
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
