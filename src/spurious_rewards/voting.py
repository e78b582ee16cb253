"""Majority-vote and incorrect labels (paper.md §1.3), and the one-shot example.

Departure from the paper: the paper counted *exact* extracted strings with
``collections.Counter``.  Given a grader we also merge answers the grader
calls equivalent ("0.5" and "\\frac{1}{2}"), which can change the winner when
a model writes one answer several ways.  Pass ``grader=None`` for the paper's
exact-string count.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

from .grading import Grader, get_grader
from .io import answer_text


class VoteResult(NamedTuple):
    label: str  # representative answer of the winning cluster; "" if no valid answer
    votes: int  # answers in the winning cluster
    n_valid: int  # non-empty answers considered


def majority_vote(answers: list[str | None],
                  grader: Grader | str | None = "math_verify") -> VoteResult:
    """The most common answer, clustering equivalent answers.

    Empty and None answers are dropped.  Each answer joins the first cluster
    (in order of creation) whose first member it is equivalent to, with an
    exact-string fast path; otherwise it starts a new cluster.  The largest
    cluster wins; a tie goes to the cluster whose first answer came earliest.
    The label is the most frequent exact string in the winning cluster (ties:
    earliest first occurrence).

    >>> majority_vote(["1/2", "0.5", r"\\frac{1}{2}", "3", "3", None, ""], "paper")
    VoteResult(label='1/2', votes=3, n_valid=5)
    >>> majority_vote(["0.5", r"\\frac12", "3", r"\\frac12"], "math_verify")
    VoteResult(label='\\\\frac12', votes=3, n_valid=4)
    >>> majority_vote(["b", "a", "a", "b"], None), majority_vote([None, " "], None)
    (VoteResult(label='b', votes=2, n_valid=4), VoteResult(label='', votes=0, n_valid=0))
    """
    valid = [a for a in answers if a is not None and str(a).strip()]
    if not valid:
        return VoteResult("", 0, 0)
    checker = None if grader is None else get_grader(grader)

    clusters: list[list[str]] = []  # members in order of arrival
    cluster_of: dict[str, int] = {}  # exact string -> cluster index
    for answer in valid:
        index = cluster_of.get(answer)
        if index is None and checker is not None:
            index = next((i for i, members in enumerate(clusters)
                          if checker.is_equivalent(answer, members[0])), None)
        if index is None:
            index = len(clusters)
            clusters.append([])
        clusters[index].append(answer)
        cluster_of.setdefault(answer, index)

    # max() keeps the first maximum, and clusters are in first-occurrence order.
    winner = max(clusters, key=len)
    counts = Counter(winner)
    # Counter keeps insertion order and max() the first maximum: earliest wins ties.
    label = max(counts, key=lambda s: counts[s])
    return VoteResult(label, len(winner), len(valid))


def is_incorrect(label: str | None, gold: str, grader: Grader | str = "math_verify") -> bool:
    """Whether a (majority) label does NOT grade as equal to the gold answer.

    An empty label counts as incorrect, as in the paper (its grader fails it).

    >>> is_incorrect("0.5", r"\\frac12", "paper"), is_incorrect("3", "4", "paper")
    (False, True)
    >>> is_incorrect("", "4")
    True
    """
    if label is None or not str(label).strip():
        return True
    return not get_grader(grader).is_equivalent(str(label), gold)


# --------------------------------------------------------------------------
# One-shot example (π1)
# --------------------------------------------------------------------------


def _prompt_text(prompt: Any, path: Path) -> str:
    if isinstance(prompt, str):
        return prompt
    # verl / chat format: a list (or numpy array) of {"role", "content"} dicts.
    try:
        messages = list(prompt)
    except TypeError:
        messages = []
    users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if users and isinstance(users[-1], str):
        return users[-1]
    raise ValueError(f"{path}: 'prompt' must be a string or a list of chat messages with a "
                     f"'user' message, got {type(prompt).__name__}")


def _answer_text(row: dict, path: Path) -> str:
    # answer_text refuses NaN, floats, lists ... (a DataError, which is a ValueError) instead of "nan"
    if "answer" in row and row["answer"] is not None:
        return answer_text(row["answer"], f"{path}: row 0")
    reward_model = row.get("reward_model")
    if isinstance(reward_model, dict) and reward_model.get("ground_truth") is not None:
        return answer_text(reward_model["ground_truth"], f"{path}: row 0 (reward_model.ground_truth)")
    raise ValueError(f"{path}: row has neither 'answer' nor 'reward_model.ground_truth'")


def _first_row(path: Path) -> dict:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as err:  # ArrowInvalid & co. on a corrupt file
            raise ValueError(f"{path}: cannot read parquet ({err})") from err
        if table.num_rows == 0:
            raise ValueError(f"{path}: parquet file has no rows")
        return table.slice(0, 1).to_pylist()[0]
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        if suffix == ".jsonl":
            line = next((ln for ln in text.splitlines() if ln.strip()), None)
            if line is None:
                raise ValueError(f"{path}: JSONL file has no rows")
            data: Any = json.loads(line)
        else:
            data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    if isinstance(data, list):
        if not data:
            raise ValueError(f"{path}: JSON array is empty")
        data = data[0]
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object with 'prompt' and 'answer'")
    return data


def load_one_shot(path: str | Path) -> dict[str, str]:
    """Read the one-shot example: ``{"prompt": <user text>, "answer": <label>}``.

    Accepts the One-Shot-RLVR verl parquet (``prompt`` = chat messages, label
    in ``reward_model.ground_truth``; its rows are copies of one problem, so
    the first row is used) or a JSON/JSONL file with ``prompt``/``answer``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    row = _first_row(path)
    if "prompt" not in row:
        raise ValueError(f"{path}: row has no 'prompt' field (fields: {', '.join(map(str, row))})")
    return {"prompt": _prompt_text(row["prompt"], path), "answer": _answer_text(row, path)}
