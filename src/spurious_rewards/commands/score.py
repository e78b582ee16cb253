"""``spurious_rewards score``: add a ``reward`` to every row of a JSONL file.

    python -m spurious_rewards score --reward NAME [--grader math_verify|paper]
        [--answer-region full|after_answer_tag] [--seed N] [--set key=value ...] [--workers N]
        INPUT.jsonl OUTPUT.jsonl

Input rows carry ``completion`` (text or chat messages), ``answer`` (needed by
label rewards) and optionally ``id``, ``prompt`` and ``step``; every other
field reaches the reward as a keyword column, as TRL passes a dataset's
columns.  NAME is a registered reward or ``module:attribute`` naming a reward
factory (the module importable from the working directory).  Output rows are
the input rows, in order, plus ``reward``.  Bad input exits 2 (as every command) with the
file and line on stderr and writes no output (we write a temp file beside the
target and ``os.replace`` it only on success).  Blank lines are skipped.
Rows are scored in groups of equal ``step`` (missing = 0), the step being what
the ``random`` reward mixes into its seed.  ``--answer-region after_answer_tag`` scores what a
model with an R1 template is rewarded for in training (models.<m>.answer_region): the text after the
last ``<answer>``.  The text is scored as written; training's ``reward_text: with_special_tokens``
(a re-decoding of the token ids) has no counterpart for text.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from spurious_rewards.grading import DEFAULT_GRADER, GRADERS
from spurious_rewards.io import atomic_path, describe_value
from spurious_rewards.prompts import ANSWER_REGIONS

# Row fields that are not dataset columns: the scored text, its prompt, the step, and names TRL itself
# passes to a reward.
NOT_COLUMNS = frozenset({"completion", "prompt", "step", "reward", "trainer_state", "completion_ids",
                         "log_metric", "log_extra", "environments", "prompts", "completions"})


class InputError(Exception):
    """A problem with the input file, already phrased as ``file:line: why``."""


def _scalar(text: str) -> Any:
    """JSON-ish scalar: '0.3' -> 0.3, 'true' -> True, 'null' -> None, else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """``["gamma=0.3", "label_column=gold"]`` -> ``{"gamma": 0.3, "label_column": "gold"}``."""
    options: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects key=value, got {item!r}")
        options[key.strip()] = _scalar(value.strip())
    return options


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``score`` arguments to ``parser``."""
    parser.add_argument("--reward", required=True,
                        help="reward name, e.g. ground_truth, random, format_boxed_without_python, "
                             "or module:attribute naming a reward factory")
    parser.add_argument("--grader", choices=GRADERS, default=DEFAULT_GRADER,
                        help="answer grader for label rewards (default: %(default)s)")
    parser.add_argument("--answer-region", choices=ANSWER_REGIONS, default="full",
                        help="the part of each completion the label and format rewards read "
                             "(after_answer_tag: R1-template models, as in training; default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random reward")
    parser.add_argument("--set", dest="sets", action="append", metavar="KEY=VALUE", default=[],
                        help="reward option, e.g. gamma=0.3 (repeatable)")
    parser.add_argument("--workers", type=int, default=None,
                        help="grading processes for label rewards (default: CPU count; "
                             "0 grades in-process without a hard time bound)")
    parser.add_argument("input", type=Path, help="input JSONL")
    parser.add_argument("output", type=Path, help="output JSONL (written atomically)")


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_message_content(content: Any) -> bool:
    """A message's content: text, or multimodal-style parts [{"type": "text", "text": str}, ...]."""
    if content is None or _is_text(content):
        return True
    return isinstance(content, list) and all(
        isinstance(part, dict) and _is_text(part.get("text", "")) for part in content)


def _is_completion(value: Any) -> bool:
    """Text, one chat message, or a list of chat messages (what rewards.completion_text reads)."""
    if _is_text(value):
        return True
    messages = [value] if isinstance(value, dict) else value
    return isinstance(messages, list) and all(
        isinstance(m, dict) and _is_message_content(m.get("content", "")) for m in messages)


def _read_rows(path: Path, label_column: str | None) -> list[dict]:
    rows = []
    # errors="replace": a stray invalid byte in a completion is model output,
    # not a reason to refuse the whole file.
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(f"{path}:{number}: not valid JSON ({err.msg})") from err
            except RecursionError:
                raise InputError(f"{path}:{number}: JSON nested too deeply") from None
            if not isinstance(row, dict):
                raise InputError(f"{path}:{number}: expected a JSON object")
            if "completion" not in row:
                raise InputError(f"{path}:{number}: missing field 'completion'")
            if not _is_completion(row["completion"]):
                raise InputError(f"{path}:{number}: 'completion' must be text or a list of chat messages "
                                 f"with text content, got {describe_value(row['completion'])}")
            if label_column and label_column not in row:
                raise InputError(f"{path}:{number}: missing field '{label_column}' "
                                 f"(needed by this reward)")
            if label_column:
                label = row[label_column]
                if isinstance(label, bool) or not isinstance(label, (str, int)):
                    # None, NaN, lists ... would otherwise be graded as the label "None", "nan", "[1]"
                    raise InputError(f"{path}:{number}: '{label_column}' must be text, "
                                     f"got {describe_value(label)}")
            step = row.get("step", 0)
            if isinstance(step, bool) or not isinstance(step, int):
                raise InputError(f"{path}:{number}: 'step' must be an integer")
            rows.append(row)
    return rows


def _score(rows: list[dict], reward) -> list[float]:
    by_step: dict[int, list[int]] = {}
    for index, row in enumerate(rows):
        by_step.setdefault(int(row.get("step", 0)), []).append(index)
    rewards: list[float] = [0.0] * len(rows)
    for step, indices in by_step.items():
        group = [rows[i] for i in indices]
        kwargs: dict[str, Any] = {"trainer_state": SimpleNamespace(global_step=step)}
        # Every other field reaches the reward as a keyword column, as TRL passes a dataset's columns
        # (None where a row lacks it).
        columns = dict.fromkeys(key for row in group for key in row if key not in NOT_COLUMNS)
        for column in columns:
            kwargs[column] = [row.get(column) for row in group]
        values = reward([row.get("prompt", "") for row in group],
                        [row["completion"] for row in group], **kwargs)
        for i, value in zip(indices, values):
            rewards[i] = float(value)
    return rewards


def _write_atomically(path: Path, rows: list[dict]) -> None:
    # io.atomic_path gives the file the umask's permissions (mkstemp alone makes it 0600)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for row in rows:
            line = json.dumps(row, ensure_ascii=False)
            try:
                handle.write(line + "\n")
            except UnicodeEncodeError:  # lone surrogates from \ud800 escapes
                handle.write(json.dumps(row, ensure_ascii=True) + "\n")


def main(args: argparse.Namespace) -> int:
    """Run ``score``; returns the process exit status (0 ok, 2 bad input or options, as every command)."""
    from spurious_rewards.rewards import build_reward, reward_spec

    try:
        options = parse_sets(args.sets)
        if args.workers is not None and args.workers < 0:
            raise ValueError(f"--workers must be >= 0, got {args.workers}")
        spec = reward_spec(args.reward)
        if "workers" in spec.options:
            options.setdefault("workers", args.workers if args.workers is not None
                               else (os.cpu_count() or 1))
        reward = build_reward(args.reward, grader=args.grader, seed=args.seed,
                              answer_region=args.answer_region, **options)
    except ValueError as err:
        print(f"score: {err}", file=sys.stderr)
        return 2
    label_column = reward.options.get("label_column", "answer") if spec.needs_label else None
    try:
        rows = _read_rows(args.input, label_column)
    except OSError as err:
        print(f"score: {args.input}: cannot read ({err.strerror or err})", file=sys.stderr)
        return 2
    except InputError as err:
        print(f"score: {err}", file=sys.stderr)
        return 2
    try:
        rewards = _score(rows, reward)
    except ValueError as err:  # e.g. completions in an unexpected shape
        print(f"score: {args.input}: {err}", file=sys.stderr)
        return 2
    out_rows = [{**row, "reward": value} for row, value in zip(rows, rewards)]
    try:
        _write_atomically(args.output, out_rows)
    except OSError as err:
        print(f"score: {args.output}: cannot write ({err.strerror or err})", file=sys.stderr)
        return 2
    return 0
