"""Majority-vote and incorrect labels (paper.md §1.3), and the one-shot example.

Two ways to count the votes (``labels.vote``):

* ``exact``, the paper's (``relabel_data_based_on_mv_labels.py``): empty
  answers are dropped, the extracted (already normalised) strings are counted
  with ``collections.Counter`` and ``most_common`` wins, ties going to the
  answer seen first; no answer at all gives the label ``''``.
* ``cluster``, ours: answers the grader calls equivalent ("0.5" and
  "\\frac{1}{2}") are merged before counting, so one answer written several
  ways is not outvoted by a wrong one written one way.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

from .grading import Grader, get_grader
from .io import answer_text

VOTE_METHODS = ("exact", "cluster")


class VoteResult(NamedTuple):
    label: str  # representative answer of the winning cluster; "" if no valid answer
    votes: int  # answers in the winning cluster
    n_valid: int  # non-empty answers considered


def exact_vote(answers: list[str | None]) -> VoteResult:
    """The paper's count: exact strings, ``Counter.most_common``, ties to the first seen.

    >>> exact_vote(["b", "a", "a", "b", "", None]), exact_vote(["", " ", None])
    (VoteResult(label='b', votes=2, n_valid=4), VoteResult(label='', votes=0, n_valid=0))
    """
    # The paper drops "" only; blank answers are dropped too (its extractor never returns one).
    valid = [str(a) for a in answers if a is not None and str(a).strip()]
    if not valid:
        return VoteResult("", 0, 0)
    # most_common sorts stably by count, so among equal counts the first inserted (seen) wins.
    label, votes = Counter(valid).most_common(1)[0]
    return VoteResult(label, votes, len(valid))


def majority_vote(answers: list[str | None],
                  grader: Grader | str | None = "math_verify", method: str = "cluster") -> VoteResult:
    """The most common answer: ``method="exact"`` (the paper's) or ``"cluster"`` (ours).

    ``cluster``: empty and None answers are dropped.  Each answer joins the
    first cluster (in order of creation) whose first member it is equivalent
    to, with an exact-string fast path; otherwise it starts a new cluster.  The
    largest cluster wins; a tie goes to the cluster whose first answer came
    earliest.  The label is the most frequent exact string in the winning
    cluster (ties: earliest first occurrence).  ``grader=None`` counts exact
    strings whatever the method.

    >>> majority_vote(["1/2", "0.5", r"\\frac{1}{2}", "3", "3", None, ""], "paper")
    VoteResult(label='1/2', votes=3, n_valid=5)
    >>> majority_vote(["1/2", "0.5", r"\\frac{1}{2}", "3", "3", None, ""], "paper", method="exact")
    VoteResult(label='3', votes=2, n_valid=5)
    >>> majority_vote(["0.5", r"\\frac12", "3", r"\\frac12"], "math_verify")
    VoteResult(label='\\\\frac12', votes=3, n_valid=4)
    """
    if method not in VOTE_METHODS:
        raise ValueError(f"unknown vote method {method!r}; valid: {', '.join(VOTE_METHODS)}")
    if method == "exact" or grader is None:
        return exact_vote(answers)
    valid = [a for a in answers if a is not None and str(a).strip()]
    if not valid:
        return VoteResult("", 0, 0)
    checker = get_grader(grader)

    clusters: list[list[str]] = []  # members in order of arrival
    cluster_of: dict[str, int] = {}  # exact string -> cluster index
    for answer in valid:
        index = cluster_of.get(answer)
        if index is None:
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


def _rows(path: Path, row_id: str | None) -> list[dict]:
    """The rows of ``path``: just the first one unless ``row_id`` asks for a search."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as err:  # ArrowInvalid & co. on a corrupt file
            raise ValueError(f"{path}: cannot read parquet ({err})") from err
        if table.num_rows == 0:
            raise ValueError(f"{path}: parquet file has no rows")
        return (table if row_id is not None else table.slice(0, 1)).to_pylist()
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        if suffix == ".jsonl":
            lines = [ln for ln in text.splitlines() if ln.strip()]
            if not lines:
                raise ValueError(f"{path}: JSONL file has no rows")
            data: Any = [json.loads(ln) for ln in (lines if row_id is not None else lines[:1])]
        else:
            data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(data, list):
        data = [data]
    if not data:
        raise ValueError(f"{path}: JSON array is empty")
    if not all(isinstance(row, dict) for row in data):
        raise ValueError(f"{path}: expected a JSON object with 'prompt' and 'answer' in each row")
    return data


def _pick(rows: list[dict], row_id: str | None, path: Path) -> dict:
    if row_id is None:
        return rows[0]
    # ids are strings in the paper's DeepScaleR chunks and ints elsewhere: compare as text.
    matches = [row for row in rows if str(row.get("id")) == row_id]
    if not matches:
        raise ValueError(f"{path}: no row with id {row_id!r}")
    return matches[0]


def load_one_shot(path: str | Path, row_id: str | int | None = None) -> dict[str, str]:
    """Read the one-shot example: ``{"prompt": <user text>, "answer": <label>}``.

    Accepts the One-Shot-RLVR verl parquet (``prompt`` = chat messages, label
    in ``reward_model.ground_truth``; its rows are copies of one problem, so
    the first row is used) or a JSON/JSONL file with ``prompt``/``answer``.
    ``row_id`` picks the row with that ``id`` instead of the first: the paper's
    π1 is row 7395 of ``DeepScaleR_Difficulty_Level_4/train.json``, the bare
    problem without One-Shot-RLVR's "Let's think step by step ..." suffix.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    wanted = None if row_id is None else str(row_id)
    row = _pick(_rows(path, wanted), wanted, path)
    if "prompt" not in row:
        raise ValueError(f"{path}: row has no 'prompt' field (fields: {', '.join(map(str, row))})")
    return {"prompt": _prompt_text(row["prompt"], path), "answer": _answer_text(row, path)}
