"""Load and validate a parameter file (params.yaml or a preset) against the project's one schema.

The schema is `workflow/schemas/params.schema.yaml`; Snakemake validates with the same file. On top of
the schema this module checks what a schema cannot: that the sweep names existing models and
conditions, and that every condition's reward exists in the registry. Errors name the file and the key.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
# The schema ships inside the package (a copy is forbidden; this is a symlink in the repo, resolved
# into a real file when a wheel is built) so that an installed package validates without the repo.
SCHEMA_PATH = PACKAGE_DIR / "params.schema.yaml"


class ParamsError(ValueError):
    """A parameter file is malformed; the message names the file and the key."""


def _key_path(path: Iterator[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def load_schema() -> dict:
    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def validate_against_schema(raw: Any, source: str) -> None:
    """Raise ParamsError listing every schema violation, each with its key path."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{source}: key {_key_path(e.absolute_path)}: {e.message}" for e in errors]
        raise ParamsError("invalid parameters\n  " + "\n  ".join(lines))


def _merge(base: dict, override: dict | None) -> dict:
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def canonical_hash(obj: Any) -> str:
    """sha256 of the canonical JSON form: key order and whitespace never change the hash."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Params:
    """A validated parameter set. `raw` is the file's content; accessors merge overrides."""

    raw: dict
    path: str = "params.yaml"
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # -- the sweep ----------------------------------------------------------------------------
    @property
    def experiment(self) -> dict:
        return self.raw["experiment"]

    @property
    def results_dir(self) -> Path:
        return Path(self.experiment["results_dir"])

    @property
    def models(self) -> list[str]:
        return list(self.experiment["models"])

    @property
    def conditions(self) -> list[str]:
        return list(self.experiment["conditions"])

    @property
    def seeds(self) -> list[int]:
        return list(self.experiment["seeds"])

    def runs(self) -> list[tuple[str, str, int]]:
        """Every (model, condition, seed) of the sweep, in a stable order."""
        return [(m, c, s) for m in self.models for c in self.conditions for s in self.seeds]

    # -- sections -----------------------------------------------------------------------------
    def model(self, name: str) -> dict:
        try:
            return self.raw["models"][name]
        except KeyError:
            raise ParamsError(f"{self.path}: key models.{name}: no such model "
                              f"(known: {', '.join(sorted(self.raw['models']))})") from None

    def condition(self, name: str) -> dict:
        try:
            return self.raw["conditions"][name]
        except KeyError:
            raise ParamsError(f"{self.path}: key conditions.{name}: no such condition "
                              f"(known: {', '.join(sorted(self.raw['conditions']))})") from None

    def train(self, model: str, condition: str) -> dict:
        """The `train` section with the model's, then the condition's overrides applied."""
        merged = _merge(self.raw["train"], self.model(model).get("train"))
        return _merge(merged, self.condition(condition).get("train"))

    @property
    def benchmarks(self) -> dict[str, dict]:
        return self.raw["data"]["benchmarks"]

    def benchmark(self, name: str) -> dict:
        try:
            return self.benchmarks[name]
        except KeyError:
            raise ParamsError(f"{self.path}: key data.benchmarks.{name}: no such benchmark "
                              f"(known: {', '.join(sorted(self.benchmarks))})") from None

    def section(self, name: str) -> dict:
        return self.raw[name]

    def label_kinds_needed(self, model: str) -> set[str]:
        return {self.condition(c)["labels"] for c in self.conditions}

    # -- provenance ---------------------------------------------------------------------------
    @cached_property
    def hash(self) -> str:
        return canonical_hash(self.raw)

    def section_hash(self, *keys: str) -> str:
        return canonical_hash({k: self.raw.get(k) for k in keys})


def _semantic_checks(raw: dict, source: str, check_rewards: bool) -> None:
    exp = raw["experiment"]
    for i, model in enumerate(exp["models"]):
        if model not in raw["models"]:
            raise ParamsError(f"{source}: key experiment.models[{i}]: '{model}' is not defined under "
                              f"models (known: {', '.join(sorted(raw['models']))})")
        spec = raw["models"][model]
        if spec["kind"] == "hf" and not spec.get("path"):
            raise ParamsError(f"{source}: key models.{model}.path: an hf model needs a path "
                              "(a Hugging Face id or a local folder)")
    for i, cond in enumerate(exp["conditions"]):
        if cond not in raw["conditions"]:
            raise ParamsError(f"{source}: key experiment.conditions[{i}]: unknown condition '{cond}' "
                              f"(known: {', '.join(sorted(raw['conditions']))})")
    if check_rewards:
        for name, spec in raw["conditions"].items():
            _check_reward(spec, f"{source}: key conditions.{name}")
    for name, spec in raw["data"]["benchmarks"].items():
        _check_source(spec, f"{source}: key data.benchmarks.{name}")
    _check_source(raw["data"]["train"], f"{source}: key data.train")
    train = raw["train"]
    rollout = train["prompts_per_step"] * train["generations_per_prompt"]
    if rollout % train["optimizer_batch"]:
        raise ParamsError(f"{source}: key train.optimizer_batch: {train['optimizer_batch']} must divide "
                          f"prompts_per_step * generations_per_prompt = {rollout}")
    if train["optimizer_batch"] % train["generations_per_prompt"]:
        raise ParamsError(f"{source}: key train.optimizer_batch: must be a multiple of "
                          f"generations_per_prompt ({train['generations_per_prompt']})")


def _check_source(spec: dict, where: str) -> None:
    kind = spec["source"]
    if kind == "synthetic" and "n" not in spec:
        raise ParamsError(f"{where}.n: a synthetic source needs n (the number of problems)")
    if kind == "path" and not (spec.get("path") or spec.get("paths")):
        raise ParamsError(f"{where}.path: a path source needs path or paths")
    if kind == "hf" and not spec.get("dataset"):
        raise ParamsError(f"{where}.dataset: an hf source needs a dataset id")


def _check_reward(spec: dict, where: str) -> None:
    from spurious_rewards import rewards

    try:
        rewards.build_reward(spec["reward"], **(spec.get("reward_options") or {}))
    except (ValueError, TypeError) as exc:
        raise ParamsError(f"{where}.reward: {exc}") from None


def load_params(path: str | Path = "params.yaml", check_rewards: bool = True) -> Params:
    """Read, validate and return a parameter file. Raises ParamsError naming the file and key.

    check_rewards=False skips building each condition's reward (tools that never train, such as
    export-dvc, need not import the graders).
    """
    path = Path(path)
    source = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ParamsError(f"{source}: file not found") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{source}: not valid YAML: {exc}") from None
    validate_against_schema(raw, source)
    _semantic_checks(raw, source, check_rewards)
    return Params(raw=raw, path=source)
