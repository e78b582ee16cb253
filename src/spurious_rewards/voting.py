"""Majority-vote and incorrect labels (the paper's §3 and App. B).

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

from collections import Counter
from typing import NamedTuple

from .grading import Grader, get_grader

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
