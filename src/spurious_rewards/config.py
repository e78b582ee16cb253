"""Load and validate a parameter file (params.yaml or a preset) against the project's one schema.

The schema is `workflow/schemas/params.schema.yaml`; Snakemake validates through this module too
(workflow/rules/common.smk). On top of the schema this module checks what a schema cannot: that the
sweep names existing models and conditions, that every condition's reward exists in the registry, that
no number is NaN or infinite, that names and results_dir are safe to put in a path or a shell command
(JSON Schema's `pattern` lets a trailing newline through), and that results_dir stays inside the
checkout. The YAML loader refuses duplicate keys (DVC refuses them too; PyYAML would keep the last)
and aliases (a few lines of nested aliases expand into billions of nodes). Errors name the file and
the key.

Every default lives in the schema (`default:`); load_params fills each absent key that has one, so
after loading every key the code reads is present and the code indexes (`spec["key"]`) instead of
carrying a default of its own. A file is read, validated and filled once per process (cached by path,
modification time and content hash); each caller gets its own copy.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
# The schema ships inside the package (a copy is forbidden; this is a symlink in the repo, resolved
# into a real file when a wheel is built) so that an installed package validates without the repo.
SCHEMA_PATH = PACKAGE_DIR / "params.schema.yaml"


class ParamsError(ValueError):
    """A parameter file is malformed; the message names the file and the key."""


# Names become path components, Snakemake wildcards and DVC matrix values (interpolated into a shell
# command): letters, digits, '_' and '-', not starting with '-'. The schema states the same pattern.
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# results_dir: components of the same characters plus '.', none starting with '.' (so no '..', no
# '.', no hidden folder), no spaces, no trailing '/'. Absolute only outside the engines (tests).
RESULTS_DIR_RE = re.compile(r"/?[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")
# What the checkout itself holds: results written there would mix with (or overwrite) the sources.
RESERVED_TOP_LEVEL = frozenset({
    "src", "workflow", "tests", "config", "envs", "presets", "bench", "requirements", "shared",
    "Snakefile", "Makefile", "README.md", "BENCHMARKS.md", "params.yaml", "dvc.yaml", "dvc.lock",
    "pyproject.toml"})
# A parameter file's path is pasted into every job's command line by both engines.
PARAMS_PATH_RE = re.compile(r"[A-Za-z0-9_./-]+")


def check_params_path(path: str, where: str = "the parameter file path") -> None:
    """Refuse a parameter file path that a shell or DVC's `${}` templating could misread."""
    if not isinstance(path, str) or not PARAMS_PATH_RE.fullmatch(path):
        raise ParamsError(f"{where} {path!r}: use only letters, digits and '_' '.' '/' '-' "
                          "(no spaces, quotes or shell characters)")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases: an anchor/alias pair is refused where it is used."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, f"YAML aliases (*{event.anchor}) are not allowed in a parameter file",
                event.start_mark)
        return super().compose_node(parent, index)


def _duplicate_keys(node, path: str = "") -> list[tuple[str, int]]:
    """Every mapping key that appears twice under the same parent: (key path, line)."""
    found: list[tuple[str, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            sub = f"{path}.{key}" if path else str(key)
            if key in seen:
                found.append((sub, key_node.start_mark.line + 1))
            seen.add(key)
            found += _duplicate_keys(value_node, sub)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found += _duplicate_keys(item, f"{path}[{i}]")
    return found


def read_yaml_strict(path: str | Path, source: str) -> Any:
    """Parse a parameter file: no aliases, no duplicate keys. Raises ParamsError naming the key."""
    with open(path, encoding="utf-8") as fh:
        loader = _StrictLoader(fh)
        try:
            node = loader.get_single_node()
            dups = _duplicate_keys(node)
            if dups:
                raise ParamsError("; ".join(f"{source}: key {key}: appears twice (line {line})"
                                            for key, line in dups))
            return loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()


def _key_path(path: Iterator[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def load_schema() -> dict:
    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@functools.lru_cache(maxsize=1)
def _filling_validator():
    """A Draft 2020-12 validator of the schema, extended so that `properties` first sets each absent
    key that has a `default` (a deep copy), then validates as usual: nested objects defaulted to {}
    are filled in turn. This is the jsonschema documentation's "filling in defaults" extension; a
    default under `if`/`then`/`else` applies only where its branch does."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    validate_properties = base.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, schema):
        if validator.is_type(instance, "object"):
            for key, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(base, {"properties": properties_with_defaults})(load_schema())


def _schema_errors(validator, raw: Any, source: str) -> None:
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        # A schema node may carry its own `errorMessage` (ignored by jsonschema): why a value is refused.
        lines = [f"{source}: key {_key_path(e.absolute_path)}: {e.message}"
                 + (f" ({e.schema['errorMessage']})" if isinstance(e.schema, dict) and "errorMessage" in e.schema
                    else "") for e in errors]
        raise ParamsError("invalid parameters\n  " + "\n  ".join(lines))


def validate_against_schema(raw: Any, source: str) -> None:
    """Raise ParamsError listing every schema violation, each with its key path. `raw` is not changed
    (no defaults are filled: overrides.py writes what it validated)."""
    import jsonschema

    _schema_errors(jsonschema.Draft202012Validator(load_schema()), raw, source)


def fill_defaults(raw: Any, source: str) -> dict:
    """A validated copy of `raw` with every absent key that has a schema `default` filled in.
    Raises ParamsError listing every violation (a missing required key, an unknown or misspelled one,
    a wrong type), each with its key path."""
    filled = copy.deepcopy(raw)
    _schema_errors(_filling_validator(), filled, source)
    return filled


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
    """A validated parameter set. `raw` is the file's content with the schema's defaults filled in
    (load_params); accessors merge overrides."""

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
        merged = _merge(self.raw["train"], self.model(model)["train"])
        return _merge(merged, self.condition(condition)["train"])

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


def _non_finite(node: Any, path: str = "") -> Iterator[str]:
    if isinstance(node, float) and not math.isfinite(node):
        yield path or "<top level>"
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _non_finite(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _non_finite(value, f"{path}[{i}]")


def _check_names(raw: dict, source: str) -> None:
    exp = raw["experiment"]
    named = [(f"experiment.models[{i}]", v) for i, v in enumerate(exp["models"])]
    named += [(f"experiment.conditions[{i}]", v) for i, v in enumerate(exp["conditions"])]
    named += [(f"{section}.{k}", k) for section in ("models", "conditions") for k in raw[section]]
    named += [(f"data.benchmarks.{k}", k) for k in raw["data"]["benchmarks"]]
    for key, name in named:
        if not NAME_RE.fullmatch(str(name)):
            raise ParamsError(f"{source}: key {key}: {name!r} is not a valid name (letters, digits, '_' "
                              "and '-', starting with a letter or digit)")


def _check_results_dir(value: str, source: str, engine: bool) -> None:
    where = f"{source}: key experiment.results_dir: {value!r}"
    rule = ("must be a relative path inside the checkout: letters, digits and '_' '.' '-' separated by "
            "'/', no component starting with '.' (no '..'), no spaces, no trailing '/'")
    if not RESULTS_DIR_RE.fullmatch(value):
        raise ParamsError(f"{where} {rule}")
    if value.startswith("/"):
        if engine:
            # DVC 3 cannot track outputs outside the repository; Snakemake would scatter them
            raise ParamsError(f"{where} is absolute: it {rule}")
        return
    top = value.split("/", 1)[0]
    if top in RESERVED_TOP_LEVEL:
        raise ParamsError(f"{where} is inside the checkout's own '{top}': results need a folder of "
                          "their own (e.g. results/<name>)")


def _semantic_checks(raw: dict, source: str, check_rewards: bool, engine: bool = False) -> None:
    bad = list(_non_finite(raw))
    if bad:
        raise ParamsError(f"{source}: key {bad[0]}: must be a finite number (not NaN or infinity)")
    _check_names(raw, source)
    exp = raw["experiment"]
    _check_results_dir(exp["results_dir"], source, engine)
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
    one_shot = raw["data"]["one_shot"]
    if one_shot["source"] == "path" and not one_shot.get("path"):
        raise ParamsError(f"{source}: key data.one_shot.path: a path source needs path")
    if one_shot["source"] == "hf" and not one_shot.get("dataset"):
        raise ParamsError(f"{source}: key data.one_shot.dataset: an hf source needs a dataset id")
    if exp["device"] == "cpu" and raw["evaluate"]["vllm"]["batch_invariant"]:
        # vLLM's batch-invariant kernels are Triton (GPU only): on CPU the engine dies deep inside vLLM.
        raise ParamsError(f"{source}: key evaluate.vllm.batch_invariant: needs a CUDA device "
                          "(experiment.device is cpu); set it to false on CPU")
    train = raw["train"]
    rollout = train["prompts_per_step"] * train["generations_per_prompt"]
    if rollout % train["optimizer_batch"]:
        raise ParamsError(f"{source}: key train.optimizer_batch: {train['optimizer_batch']} must divide "
                          f"prompts_per_step * generations_per_prompt = {rollout}")
    # No need for an optimizer batch of whole prompt groups: TRL computes the group advantages over the
    # whole rollout and shuffles it before splitting it into updates (GRPOTrainer._prepare_inputs), so
    # an update never holds whole groups anyway. The organism preset uses 4-response updates (issue 18).


def _check_source(spec: dict, where: str) -> None:
    kind = spec["source"]
    if kind == "synthetic" and "n" not in spec:
        raise ParamsError(f"{where}.n: a synthetic source needs n (the number of problems)")
    if kind == "path" and not (spec.get("path") or spec.get("paths")):
        raise ParamsError(f"{where}.path: a path source needs path or paths")
    if kind == "hf" and not spec.get("dataset"):
        raise ParamsError(f"{where}.dataset: an hf source needs a dataset id")


def _check_reward(spec: dict, where: str) -> None:
    # Only the callers that check rewards (train, validate, score, the engines at parse time) run this;
    # counted through config.py, an edit to a grader would rerun data, base and evaluation.
    from spurious_rewards import rewards  # codegraph: not a dependency (stages that train import it)

    try:
        rewards.build_reward(spec["reward"], **spec["reward_options"])
    except (ValueError, TypeError) as exc:
        raise ParamsError(f"{where}.reward: {exc}") from None


# (resolved path, mtime_ns, size, sha256 of the bytes) -> (filled raw, checks passed: {"rewards", "engine"})
_LOADED: dict[tuple, tuple[dict, set[str]]] = {}


def _file_key(path: Path) -> tuple | None:
    try:
        stat = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None  # read_yaml_strict reports it
    return (str(path.resolve()), stat.st_mtime_ns, stat.st_size, digest)


def load_params(path: str | Path = "params.yaml", check_rewards: bool = True, engine: bool = False
                ) -> Params:
    """Read, validate, fill the schema's defaults and return a parameter file. Raises ParamsError
    naming the file and key.

    check_rewards=False skips building each condition's reward (tools that never train, such as
    export-dvc, need not import the graders). engine=True: the file drives Snakemake or DVC from the
    checkout (common.smk, `validate`), so results_dir must also be relative; the stages themselves
    accept an absolute one (the unit tests write under a temporary folder).
    A second call for an unchanged file (same path, mtime, size and content hash) validates nothing
    again unless it asks for a check the first call skipped.
    """
    path = Path(path)
    source = str(path)
    key = _file_key(path)
    wanted = ({"rewards"} if check_rewards else set()) | ({"engine"} if engine else set())
    cached = _LOADED.get(key) if key else None
    if cached is not None and wanted <= cached[1]:
        return Params(raw=copy.deepcopy(cached[0]), path=source)
    try:
        raw = read_yaml_strict(path, source)
    except FileNotFoundError:
        raise ParamsError(f"{source}: file not found") from None
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{source}: not valid YAML: {exc}") from None
    raw = fill_defaults(raw, source)
    _semantic_checks(raw, source, check_rewards, engine)
    if key:
        _LOADED[key] = (copy.deepcopy(raw), wanted | (cached[1] if cached else set()))
    return Params(raw=raw, path=source)
