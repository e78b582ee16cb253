"""Reward functions of the paper (its §2 and App. B) for TRL's GRPOTrainer.

Every reward has TRL's signature
``f(prompts, completions, completion_ids=None, **kwargs) -> list[float]``:
completions are plain strings or ``[{"role": "assistant", "content": str}]``;
dataset columns (``answer``, ``id``, …) arrive as per-row lists in kwargs; and
``trainer_state`` (with ``.global_step``) may be passed.

Rewards are plugins: a registry entry (:class:`RewardSpec`) holds a factory
and the reward's kind.  A factory takes the reward's options as keyword
arguments, validates them itself and returns a picklable callable with TRL's
signature; a condition may also name a factory by dotted path
(``my_rewards:length_penalty``).  Build one with :func:`build_reward`; the
returned callable's ``__name__`` is the reward name, which TRL uses as the log
key.  ``<X>_without_python`` works for every X, registered or dotted.

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
import importlib
import inspect
import json
import random as _random
import sys
from collections.abc import Callable, Mapping, Sequence
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
# Built rewards.  Module-level classes rather than closures, so that a built
# reward pickles (worker processes, accelerate, a trainer saved whole).
# --------------------------------------------------------------------------

# Keywords that build_reward passes to a factory that declares them; every other keyword parameter of
# a factory is an option a condition may set (conditions.<c>.reward_options, `score --set`).
CONTEXT = ("name", "seed", "grader", "answer_region")


@dataclass(frozen=True, eq=False)
class TextReward:
    """A built-in reward: ``impl(texts, kwargs, options, name)`` over the completion texts.

    An ``answer_region`` other than "full" crops each text to its answer (the paper's ``_r1_style``)
    before ``impl`` sees it; ``kwargs`` are TRL's keyword columns plus ``_prompts``.
    """

    name: str
    impl: Callable[[list[str], dict, dict, str], list[float]]
    options: dict[str, Any]
    answer_region: str = "full"

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any],
                 completion_ids: Sequence[Any] | None = None, **kwargs: Any) -> list[float]:
        texts = _texts(completions)
        if self.answer_region != "full":
            texts = [answer_text(t, self.answer_region) for t in texts]
        return self.impl(texts, {**kwargs, "_prompts": list(prompts or [])}, dict(self.options), self.name)


def _check_label_options(workers: Any, timeout_s: Any, label_column: Any) -> None:
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise ValueError(f"option workers must be an integer >= 0, got {workers!r}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s <= 0:
        raise ValueError(f"option timeout_s must be a positive number, got {timeout_s!r}")
    if not isinstance(label_column, str):
        raise ValueError(f"option label_column must be a string, got {label_column!r}")


def label_factory(*, name: str = "ground_truth", grader: str = DEFAULT_GRADER, answer_region: str = "full",
                  workers: int | None = None, timeout_s: float = 5.0,
                  label_column: str = "answer") -> TextReward:
    """Label rewards (:func:`label_reward`).  ``workers`` None/0 grades in this process, on TRL's main
    thread, with math-verify's own signal timeouts; >=1 grades in that many worker processes
    (:mod:`.grading.pool`), each answer bounded by ``timeout_s``.  ``label_column``: the dataset
    column holding the label."""
    _check_label_options(workers, timeout_s, label_column)
    options = {"grader": grader, "workers": workers, "timeout_s": timeout_s, "label_column": label_column}
    return TextReward(name, label_reward, options, answer_region)


def format_factory(*, name: str = "format_boxed", answer_region: str = "full") -> TextReward:
    """:func:`format_boxed`; no options."""
    return TextReward(name, format_boxed, {"answer_region": answer_region}, answer_region)


def random_factory(*, name: str = "random", seed: int = 0, gamma: float = 0.5) -> TextReward:
    """:func:`random_reward`; ``gamma`` in [0, 1] is the probability of a reward of 1."""
    is_number = isinstance(gamma, (int, float)) and not isinstance(gamma, bool)
    if not is_number or not 0.0 <= gamma <= 1.0:
        raise ValueError(f"option gamma must be a number in [0, 1], got {gamma!r}")
    return TextReward(name, random_reward, {"seed": seed, "gamma": float(gamma)})


def mention_python_factory(*, name: str = "mention_python") -> TextReward:
    """:func:`mention_python`; no options (the whole completion, whatever the answer region)."""
    return TextReward(name, mention_python, {})


def no_repetition_factory(*, name: str = "no_repetition") -> TextReward:
    """:func:`no_repetition`; no options (the whole completion, whatever the answer region)."""
    return TextReward(name, no_repetition, {})


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------

# What a reward's signal is; the report groups conditions by it (report/organism.py).
#   ground_truth: the gold answer; weak_label: a label correlated with it (majority vote, one-shot);
#   incorrect_label: a wrong label; format / random / code: the paper's spurious signals;
#   heuristic: another property of the text; other: not said.
KINDS = ("ground_truth", "weak_label", "incorrect_label", "format", "random", "code", "heuristic", "other")
_REQUIRED = inspect.Parameter.empty


@dataclass(frozen=True)
class RewardSpec:
    """A registered reward: its factory, kind, whether it reads a label column, and a summary."""

    name: str
    factory: Callable[..., RewardFn]
    kind: str = "other"
    needs_label: bool = False
    summary: str = ""

    @property
    def options(self) -> dict[str, Any]:
        """Options a condition may set, with their defaults (``inspect.Parameter.empty``: required)."""
        return {p.name: p.default for p in _parameters(self.factory).values()
                if p.name not in CONTEXT and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}

    @property
    def open_options(self) -> bool:
        """Whether the factory takes ``**options`` (then any option name is passed on to it)."""
        return any(p.kind is p.VAR_KEYWORD for p in _parameters(self.factory).values())


def _parameters(factory: Callable) -> Mapping[str, inspect.Parameter]:
    return inspect.signature(factory).parameters


REWARDS: dict[str, RewardSpec] = {
    spec.name: spec
    for spec in (
        RewardSpec("ground_truth", label_factory, "ground_truth", True, "matches the gold answer"),
        RewardSpec("majority_vote", label_factory, "weak_label", True,
                   "matches the pre-RL model's majority answer"),
        RewardSpec("incorrect_label", label_factory, "incorrect_label", True,
                   "matches a wrong (majority) label"),
        RewardSpec("one_shot", label_factory, "weak_label", True, "matches π1's label 12.8"),
        RewardSpec("format_boxed", format_factory, "format", False, "non-empty last \\boxed{}"),
        RewardSpec("random", random_factory, "random", False, "1 with probability gamma"),
        RewardSpec("mention_python", mention_python_factory, "code", False, 'contains "python"'),
        RewardSpec("no_repetition", no_repetition_factory, "heuristic", False,
                   "no long back-to-back repeats"),
    )
}

REQUIRES_LABEL: set[str] = {name for name, spec in REWARDS.items() if spec.needs_label}


def reward_factory(*, kind: str = "other", needs_label: bool = False, summary: str = "") -> Callable:
    """Decorator describing a factory named by dotted path (``module:attribute``) in a condition.

    >>> @reward_factory(kind="heuristic", summary="short answers")
    ... def short(*, limit=100): ...
    >>> reward_spec_of("doc:short", short).kind
    'heuristic'
    """
    if kind not in KINDS:
        raise ValueError(f"unknown reward kind {kind!r}; valid kinds: {', '.join(KINDS)}")

    def mark(factory: Callable) -> Callable:
        factory.reward_kind = kind  # type: ignore[attr-defined]
        factory.reward_needs_label = bool(needs_label)  # type: ignore[attr-defined]
        factory.reward_summary = summary  # type: ignore[attr-defined]
        return factory

    return mark


def reward_spec_of(path: str, factory: Callable) -> RewardSpec:
    """The registry entry of a factory found by dotted path (kind etc. from :func:`reward_factory`)."""
    if isinstance(factory, RewardSpec):
        return factory
    if not callable(factory):
        raise ValueError(f"reward {path!r} is a {type(factory).__name__}, not a reward factory (a callable)")
    kind = getattr(factory, "reward_kind", "other")
    if kind not in KINDS:
        raise ValueError(f"reward {path!r}: unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    doc = (factory.__doc__ or "").strip().splitlines()
    summary = getattr(factory, "reward_summary", "") or (doc[0].rstrip(".") if doc else "")
    return RewardSpec(path, factory, kind, bool(getattr(factory, "reward_needs_label", False)), summary)


def _load_dotted(path: str) -> RewardSpec:
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"reward {path!r}: a dotted path is module:attribute, "
                         "e.g. my_rewards:length_penalty")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any failure to import is the user's module, named here
        raise ValueError(f"reward {path!r}: cannot import module {module_name!r} ({type(exc).__name__}: "
                         f"{exc}); it must be importable from the working directory or PYTHONPATH") from None
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ValueError(f"reward {path!r}: module {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    return reward_spec_of(path, target)


def _split_name(name: str) -> tuple[str, int]:
    """('ground_truth', 2) for 'ground_truth_without_python_without_python'."""
    depth = 0
    while name.endswith(COMPOUND_SUFFIX) and name[: -len(COMPOUND_SUFFIX)]:
        name = name[: -len(COMPOUND_SUFFIX)]
        depth += 1
    return name, depth


def reward_spec(name: str) -> RewardSpec:
    """The registry entry of ``name``: a registered name or ``module:attribute``, either one maybe
    ending in ``_without_python``."""
    base, _ = _split_name(name) if isinstance(name, str) else (name, 0)
    if isinstance(base, str) and ":" in base:
        return _load_dotted(base)
    if base not in REWARDS:
        valid = ", ".join(sorted(REWARDS))
        raise ValueError(
            f"unknown reward {name!r}; valid rewards: {valid} (and <name>{COMPOUND_SUFFIX}, "
            "or module:attribute naming a reward factory)"
        )
    return REWARDS[base]


def needs_label(name: str) -> bool:
    """Whether reward ``name`` reads a label column.

    >>> needs_label("ground_truth_without_python"), needs_label("random")
    (True, False)
    """
    return reward_spec(name).needs_label


def reward_kind(name: str) -> str:
    """The kind of reward ``name`` (of its base reward for ``_without_python``); see KINDS.

    >>> reward_kind("majority_vote"), reward_kind("format_boxed_without_python")
    ('weak_label', 'format')
    """
    return reward_spec(name).kind


def reward_names() -> list[str]:
    """Registered base names (every one also accepts ``_without_python``)."""
    return sorted(REWARDS)


@dataclass(frozen=True, eq=False)
class Reward:
    """What :func:`build_reward` returns: the factory's callable under the reward's name.

    ``__name__`` is the name (TRL's log key; the attribute of a dotted path); ``without_python``
    zeroes every response that mentions python; ``options`` are the resolved options (defaults
    filled) with grader, seed and answer_region.
    """

    name: str
    fn: RewardFn
    spec: RewardSpec
    options: dict[str, Any] = field(default_factory=dict)
    without_python: bool = False

    def __post_init__(self) -> None:
        # TRL's log key: a dotted path logs under its attribute ("rewards/length_penalty/mean").
        log_name = self.name.rpartition(":")[2].replace(".", "_")
        object.__setattr__(self, "__name__", log_name)
        object.__setattr__(self, "__qualname__", log_name)
        doc = f"{self.name}: {self.spec.summary}.\n\n{self.spec.factory.__doc__ or ''}"
        object.__setattr__(self, "__doc__", doc)

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any],
                 completion_ids: Sequence[Any] | None = None, **kwargs: Any) -> list[float]:
        if prompts is not None and len(prompts) != len(completions):
            raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
        values = self.fn(prompts, completions, completion_ids=completion_ids, **kwargs)
        if len(values) != len(completions):
            raise ValueError(f"reward {self.name!r} returned {len(values)} values for {len(completions)} "
                             "completions")
        if self.without_python:
            values = [1.0 if v is not None and v > 0 and "python" not in t.lower() else 0.0
                      for v, t in zip(values, _texts(completions))]
        return list(values)


def build_reward(name: str, *, grader: str = DEFAULT_GRADER, seed: int = 0, answer_region: str = "full",
                 **options: Any) -> Reward:
    """A TRL-compatible, picklable reward callable named ``name``.

    ``name`` is a registered reward (``python -m spurious_rewards rewards``) or ``module:attribute``
    naming a factory; either may end in ``_without_python``.  The factory gets ``options`` (it
    validates them itself) and whichever of name, seed, grader and answer_region it declares, and
    returns a callable with TRL's signature.  Built-in options: label rewards accept ``workers``,
    ``timeout_s`` and ``label_column`` (:func:`label_factory`), ``random`` accepts ``gamma``.
    ``answer_region`` (prompts.answer_text): "after_answer_tag" grades only the text after the last
    ``<answer>`` in the label and format rewards.  Pure: same inputs, seed and step give the same output.

    >>> f = build_reward("format_boxed_without_python")
    >>> f.__name__, f(["q"] * 2, [r"\\boxed{1}", r"python: \\boxed{1}"])
    ('format_boxed_without_python', [1.0, 0.0])
    """
    if grader not in GRADERS:
        raise ValueError(f"unknown grader {grader!r}; valid graders: {', '.join(GRADERS)}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    spec = reward_spec(name)
    _, depth = _split_name(name)
    if answer_region not in ANSWER_REGIONS:
        raise ValueError(f"unknown answer_region {answer_region!r}; valid: {', '.join(ANSWER_REGIONS)}")
    allowed = spec.options
    unknown = [] if spec.open_options else sorted(set(options) - set(allowed))
    if unknown:
        names = ", ".join(sorted(allowed)) or "none"
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for reward {name!r}; allowed: {names}")
    missing = sorted(k for k, default in allowed.items() if default is _REQUIRED and k not in options)
    if missing:
        raise ValueError(f"reward {name!r} needs option(s) {', '.join(missing)}")
    context = {"name": name, "seed": seed, "grader": grader, "answer_region": answer_region}
    declared = _parameters(spec.factory)
    fn = spec.factory(**{k: v for k, v in context.items() if k in declared}, **options)
    if not callable(fn):
        raise ValueError(f"reward {name!r}: its factory returned a {type(fn).__name__}, not a callable")
    resolved = {k: v for k, v in allowed.items() if v is not _REQUIRED}
    resolved.update(options, grader=grader, seed=seed, answer_region=answer_region)
    return Reward(name, fn, spec, resolved, bool(depth))
