"""A reward of your own, in one module (README: "Add your own reward").

Use it in a condition by dotted path (module:attribute, importable from the repository root):

    conditions:
      short: {reward: "examples.length_penalty:length_penalty", labels: ground_truth,
              reward_options: {target: 400}}

or score a file with it: `python -m spurious_rewards score --reward examples.length_penalty:length_penalty
--set target=400 in.jsonl out.jsonl`.
"""

from __future__ import annotations

from dataclasses import dataclass

from spurious_rewards.rewards import completion_text, reward_factory


@dataclass(frozen=True)
class LengthPenalty:
    """The built reward: a module-level class, so it pickles (a closure would not)."""

    target: int
    budget_column: str | None = None

    def __call__(self, prompts, completions, **kwargs) -> list[float]:
        # kwargs hold the dataset's other columns (answer, id, source, ...) as one list per batch,
        # one entry per completion, and TRL's trainer_state.
        budgets = kwargs[self.budget_column] if self.budget_column else [None] * len(completions)
        out = []
        for completion, budget in zip(completions, budgets):
            target = budget or self.target
            out.append(max(0.0, 1.0 - len(completion_text(completion)) / target))
        return out


@reward_factory(kind="heuristic", summary="1 - length/target, at least 0: shorter completions earn more")
def length_penalty(*, target: int = 200, budget_column: str | None = None) -> LengthPenalty:
    """Validates its options and returns the reward; `budget_column` names a column holding a per-row
    target (rows where it is empty use `target`)."""
    if isinstance(target, bool) or not isinstance(target, int) or target <= 0:
        raise ValueError(f"option target must be a positive integer, got {target!r}")
    if budget_column is not None and not isinstance(budget_column, str):
        raise ValueError(f"option budget_column must be a column name, got {budget_column!r}")
    return LengthPenalty(target, budget_column)
