"""Reward functions of the paper (§1.1 of research/paper.md) for TRL's GRPOTrainer.

Every reward has TRL's signature
``f(prompts, completions, completion_ids=None, **kwargs) -> list[float]``:
completions are plain strings or ``[{"role": "assistant", "content": str}]``;
dataset columns (``answer``, ``id``, …) arrive as per-row lists in kwargs; and
``trainer_state`` (with ``.global_step``) may be passed.

Build one with :func:`build_reward`; the returned callable's ``__name__`` is
the reward name, which TRL uses as the log key.  ``<X>_without_python`` works
for every registered X.

Departures from the paper:

* ``random``: the paper draws ``random.random() < gamma`` from Python's global
  RNG, so rewards depended on call order and were not reproducible.  We derive
  one seed per response from (seed, step, process index, prompt id, sample
  index) with BLAKE2b and draw from a private ``random.Random``.
* Label rewards default to math-verify; ``grader="paper"`` selects the rules of
  the paper's grading code.  An empty label (majority vote with no valid
  answer) pays, under ``paper`` as in the paper, exactly the responses with no
  extractable answer; ``math_verify`` and ``paper_fixed`` never match it.
"""

from __future__ import annotations

import hashlib
import json
import random as _random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .grading import DEFAULT_GRADER, GRADERS, get_grader
from .grading.paper_fixed_grader import last_boxed_content, normalize
from .prompts import ANSWER_REGIONS, answer_text

RewardFn = Callable[..., list[float]]
COMPOUND_SUFFIX = "_without_python"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def completion_text(completion: Any) -> str:
    """The text of one completion, whether a string or a list of chat messages.

    >>> completion_text([{"role": "assistant", "content": "hi"}])
    'hi'
    >>> completion_text("plain")
    'plain'
    """
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    parts = []
    for message in completion:
        content = message.get("content", "") if isinstance(message, dict) else message
        if isinstance(content, list):  # multimodal-style [{"type": "text", "text": …}]
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        parts.append("" if content is None else str(content))
    return "".join(parts)


def _texts(completions: Sequence[Any]) -> list[str]:
    return [completion_text(c) for c in completions]


def _column(kwargs: dict, name: str, n: int, reward: str) -> list:
    if name not in kwargs or kwargs[name] is None:
        raise ValueError(f"reward {reward!r} needs the dataset column {name!r} in kwargs")
    values = list(kwargs[name])
    if len(values) != n:
        raise ValueError(f"column {name!r} has {len(values)} rows, expected {n}")
    return values


def _process_index() -> int:
    # Only consult accelerate if the caller already imported it: importing it
    # pulls in torch, and instantiating PartialState would initialise it.
    accelerate_state = sys.modules.get("accelerate.state")
    if accelerate_state is None:
        return 0
    partial_state = accelerate_state.PartialState
    if not getattr(partial_state, "_shared_state", None):
        return 0
    return int(partial_state().process_index)


def _global_step(kwargs: dict) -> int:
    state = kwargs.get("trainer_state")
    return int(getattr(state, "global_step", 0) or 0) if state is not None else 0


def _prompt_key(prompt: Any) -> str:
    try:
        return json.dumps(prompt, sort_keys=True, ensure_ascii=True, default=str)
    except (TypeError, ValueError):
        return repr(prompt)


# --------------------------------------------------------------------------
# Reward implementations.  Each takes (texts, kwargs, options) -> list[float].
# --------------------------------------------------------------------------


def label_reward(texts: list[str], kwargs: dict, options: dict, name: str) -> list[float]:
    """1.0 iff the completion's final answer equals the row's label.

    Shared by ground_truth, majority_vote, incorrect_label and one_shot; only
    the dataset's label differs.

    >>> f = build_reward("ground_truth")
    >>> f(["q", "q"], [r"so \\boxed{12.8}", r"\\boxed{13}"], answer=["12.8", "12.8"])
    [1.0, 0.0]
    """
    labels = _column(kwargs, options["label_column"], len(texts), name)
    labels = ["" if label is None else str(label) for label in labels]
    workers = options["workers"]
    if workers:  # >= 1: worker processes with a hard per-answer bound
        from .grading.pool import grade_many

        graded = grade_many(texts, labels, grader=options["grader"], workers=workers,
                            timeout_s=options["timeout_s"])
    else:
        # Main thread in TRL: math-verify's signal timeouts are active here.
        grader = get_grader(options["grader"])
        graded = [grader.grade(t, label) for t, label in zip(texts, labels)]
    return [1.0 if ok else 0.0 for ok in graded]


def format_boxed(texts: list[str], kwargs: dict, options: dict, name: str) -> list[float]:
    """1.0 iff the LAST ``boxed`` has non-empty content after normalisation.

    >>> f = build_reward("format_boxed")
    >>> f(["q"] * 3, [r"\\boxed{x}", r"\\boxed{5} then \\boxed{ }", "no box"])
    [1.0, 0.0, 0.0]

    Under ``answer_region="after_answer_tag"`` (R1-template models) the paper's
    ``box_only_format_r1_style`` pays for any non-empty answer region, boxed or not.
    """
    if options.get("answer_region") == "after_answer_tag":
        return [1.0 if t else 0.0 for t in texts]
    out = []
    for text in texts:
        content = last_boxed_content(text)
        out.append(1.0 if content is not None and normalize(content) else 0.0)
    return out


def random_reward(texts: list[str], kwargs: dict, options: dict, name: str) -> list[float]:
    """1.0 with probability ``gamma``, from a seed derived per response.

    The seed hashes (seed, step, process index, prompt id, sample index):
    prompt id is the ``id`` column if given, else the prompt itself; sample
    index counts earlier occurrences of that prompt id in this call.

    >>> f = build_reward("random", seed=3, gamma=0.5)
    >>> a = f(["p"] * 8, ["x"] * 8, id=[7] * 8)
    >>> a == f(["p"] * 8, ["y"] * 8, id=[7] * 8), sorted(set(a)) == [0.0, 1.0]
    (True, True)
    >>> build_reward("random", gamma=0.0)(["p"] * 4, ["x"] * 4)
    [0.0, 0.0, 0.0, 0.0]
    """
    n = len(texts)
    prompts = kwargs.get("_prompts") or [""] * n
    ids = kwargs.get("id")
    keys = [
        _prompt_key(ids[i]) if ids is not None and ids[i] is not None else _prompt_key(prompts[i])
        for i in range(n)
    ]
    step, process = _global_step(kwargs), _process_index()
    seen: dict[str, int] = {}
    out = []
    for key in keys:
        sample = seen.get(key, 0)
        seen[key] = sample + 1
        material = f"{options['seed']}|{step}|{process}|{key}|{sample}".encode("utf-8", "replace")
        digest = hashlib.blake2b(material, digest_size=8).digest()
        rng = _random.Random(int.from_bytes(digest, "big"))
        out.append(1.0 if rng.random() < options["gamma"] else 0.0)
    return out


def mention_python(texts: list[str], kwargs: dict, options: dict, name: str) -> list[float]:
    """1.0 iff "python" occurs anywhere, case-insensitive (no code block needed).

    >>> build_reward("mention_python")(["q"] * 2, ["I'd use PYTHON here", "by hand"])
    [1.0, 0.0]
    """
    return [1.0 if "python" in t.lower() else 0.0 for t in texts]


MIN_PERIOD, MAX_PERIOD, MIN_REPEATS = 10, 256, 10


def has_repetition(text: str) -> bool:
    """Whether a 10–256 character substring repeats ≥10 times back-to-back.

    ``s[i:i+L]`` repeated 10 times means ``s[j] == s[j+L]`` for the 9·L
    positions j from i, so per period L we look for a run of 9·L equal
    positions using a cumulative sum: O(247·n) vectorised, with no regex
    backtracking blow-up on long completions.

    >>> has_repetition("intro " + "0123456789" * 10), has_repetition("0123456789" * 9)
    (True, False)
    """
    n = len(text)
    if n < MIN_PERIOD * MIN_REPEATS:
        return False
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    for period in range(MIN_PERIOD, min(MAX_PERIOD, n // MIN_REPEATS) + 1):
        span = (MIN_REPEATS - 1) * period
        mismatches = np.concatenate(([0], np.cumsum(codes[:-period] != codes[period:])))
        if span < len(mismatches) and np.any(mismatches[span:] == mismatches[:-span]):
            return True
    return False


def no_repetition(texts: list[str], kwargs: dict, options: dict, name: str) -> list[float]:
    """0.0 if some 10–256 character substring repeats ≥10 times in a row, else 1.0.

    >>> build_reward("no_repetition")(["q"] * 2, ["ab" + "the same! " * 12, "fine"])
    [0.0, 1.0]
    """
    return [0.0 if has_repetition(t) else 1.0 for t in texts]


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------

_LABEL_OPTIONS = {"workers": None, "timeout_s": 5.0, "label_column": "answer"}


@dataclass(frozen=True)
class RewardSpec:
    """A registered reward: implementation, accepted options and defaults."""

    name: str
    impl: Callable[[list[str], dict, dict, str], list[float]]
    options: dict[str, Any] = field(default_factory=dict)
    needs_label: bool = False
    summary: str = ""


REWARDS: dict[str, RewardSpec] = {
    spec.name: spec
    for spec in (
        RewardSpec("ground_truth", label_reward, _LABEL_OPTIONS, True, "matches the gold answer"),
        RewardSpec("majority_vote", label_reward, _LABEL_OPTIONS, True,
                   "matches the pre-RL model's majority answer"),
        RewardSpec("incorrect_label", label_reward, _LABEL_OPTIONS, True,
                   "matches a wrong (majority) label"),
        RewardSpec("one_shot", label_reward, _LABEL_OPTIONS, True, "matches π1's label 12.8"),
        RewardSpec("format_boxed", format_boxed, {}, False, "non-empty last \\boxed{}"),
        RewardSpec("random", random_reward, {"gamma": 0.5}, False, "1 with probability gamma"),
        RewardSpec("mention_python", mention_python, {}, False, 'contains "python"'),
        RewardSpec("no_repetition", no_repetition, {}, False, "no long back-to-back repeats"),
    )
}

REQUIRES_LABEL: set[str] = {name for name, spec in REWARDS.items() if spec.needs_label}


def _split_name(name: str) -> tuple[str, int]:
    """('ground_truth', 2) for 'ground_truth_without_python_without_python'."""
    depth = 0
    while name.endswith(COMPOUND_SUFFIX) and name[: -len(COMPOUND_SUFFIX)]:
        name = name[: -len(COMPOUND_SUFFIX)]
        depth += 1
    return name, depth


def _base_spec(name: str) -> RewardSpec:
    base, _ = _split_name(name) if isinstance(name, str) else (name, 0)
    if base not in REWARDS:
        valid = ", ".join(sorted(REWARDS))
        raise ValueError(
            f"unknown reward {name!r}; valid rewards: {valid} (and <name>{COMPOUND_SUFFIX})"
        )
    return REWARDS[base]


def needs_label(name: str) -> bool:
    """Whether reward ``name`` reads a label column.

    >>> needs_label("ground_truth_without_python"), needs_label("random")
    (True, False)
    """
    return _base_spec(name).needs_label


def reward_names() -> list[str]:
    """Registered base names (every one also accepts ``_without_python``)."""
    return sorted(REWARDS)


def _check_options(spec: RewardSpec, name: str, options: dict) -> dict:
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        allowed = ", ".join(sorted(spec.options)) or "none"
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for reward {name!r}; "
                         f"allowed: {allowed}")
    resolved = {**spec.options, **options}
    if "gamma" in resolved:
        gamma = resolved["gamma"]
        is_number = isinstance(gamma, (int, float)) and not isinstance(gamma, bool)
        if not is_number or not 0.0 <= gamma <= 1.0:
            raise ValueError(f"option gamma must be a number in [0, 1], got {gamma!r}")
        resolved["gamma"] = float(gamma)
    if "workers" in resolved and resolved["workers"] is not None:
        workers = resolved["workers"]
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError(f"option workers must be an integer >= 0, got {workers!r}")
    if "timeout_s" in resolved:
        timeout = resolved["timeout_s"]
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"option timeout_s must be a positive number, got {timeout!r}")
    if "label_column" in resolved and not isinstance(resolved["label_column"], str):
        raise ValueError(f"option label_column must be a string, got {resolved['label_column']!r}")
    return resolved


# Rewards that read the answer: under an answer region they see only that part of the completion
# (the paper's `_r1_style`); the Python, repetition and random rewards see the whole text, as there.
_REGION_IMPLS = (label_reward, format_boxed)


def build_reward(name: str, *, grader: str = DEFAULT_GRADER, seed: int = 0, answer_region: str = "full",
                 **options: Any) -> RewardFn:
    """A TRL-compatible reward callable named ``name``.

    Options: label rewards accept ``workers`` (None/0: grade in this process,
    on TRL's main thread, with math-verify's own signal timeouts; >=1: grade
    in that many worker processes via :mod:`.grading.pool`, each answer
    bounded by ``timeout_s``) and ``label_column`` (default "answer");
    ``random`` accepts ``gamma``.  ``answer_region`` (prompts.answer_text):
    "after_answer_tag" grades only the text after the last ``<answer>`` in the
    label and format rewards.  Pure: same inputs, seed and step give the same
    output.

    >>> f = build_reward("format_boxed_without_python")
    >>> f.__name__, f(["q"] * 2, [r"\\boxed{1}", r"python: \\boxed{1}"])
    ('format_boxed_without_python', [1.0, 0.0])
    """
    if grader not in GRADERS:
        raise ValueError(f"unknown grader {grader!r}; valid graders: {', '.join(GRADERS)}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    spec = _base_spec(name)
    _, depth = _split_name(name)
    if answer_region not in ANSWER_REGIONS:
        raise ValueError(f"unknown answer_region {answer_region!r}; valid: {', '.join(ANSWER_REGIONS)}")
    resolved = _check_options(spec, name, options)
    resolved.update(grader=grader, seed=seed, answer_region=answer_region)
    cropped = answer_region != "full" and spec.impl in _REGION_IMPLS

    def reward(prompts: Sequence[Any], completions: Sequence[Any],
               completion_ids: Sequence[Any] | None = None, **kwargs: Any) -> list[float]:
        texts = _texts(completions)
        if prompts is not None and len(prompts) != len(texts):
            raise ValueError(f"{len(prompts)} prompts but {len(texts)} completions")
        graded = [answer_text(t, answer_region) for t in texts] if cropped else texts
        values = spec.impl(graded, {**kwargs, "_prompts": list(prompts or [])}, resolved, name)
        if depth:
            values = [1.0 if v > 0 and "python" not in t.lower() else 0.0
                      for v, t in zip(values, texts)]
        return values

    reward.__name__ = reward.__qualname__ = name
    reward.__doc__ = f"{name}: {spec.summary}.\n\n{spec.impl.__doc__ or ''}"
    reward.spec = spec  # type: ignore[attr-defined]
    reward.options = dict(resolved)  # type: ignore[attr-defined]
    return reward
