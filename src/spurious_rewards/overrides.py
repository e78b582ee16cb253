"""Snakemake's `--configfile` and `--config` -> the one parameter file every job of the DAG reads.

Snakemake merges `--configfile` YAML and `--config key=value` into its `config` dict; a Snakefile that
only reads `config["params"]` would ignore the rest and quietly build the default DAG. Here:

* `--config params=FILE` selects the parameter file (default params.yaml);
* `--configfile FILE` with a complete parameter set (every required section) selects it in the same
  way; a partial one (e.g. only `train: {steps: 10}`) overrides keys of the selected file;
* `--config SECTION=YAML` overrides keys of one section, e.g. `--config 'train={steps: 10}'` (a deep
  merge: mappings merge key by key, lists and scalars are replaced). Snakemake's own parser refuses
  dotted names (`train.steps=10`) before the Snakefile runs;
* anything else is an error naming the key and what to write instead.

With any override the merged set is validated like a parameter file and written to
`<results_dir>/params/resolved-<hash>.yaml`, named by the hash of its values and never rewritten (so an
invocation with other overrides, even a dry run during a run, cannot change what running jobs read).
Every job gets `--params` pointing there, so jobs run with exactly the values the DAG, the fingerprints
and the provenance records were built from. The jobs' shell command names the file through the
environment variable PARAMS_ENV, so the command text stays the same whatever the overrides and
Snakemake's code trigger reruns nothing: the per-job parameter fingerprint decides.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import yaml

from spurious_rewards.config import (
    ParamsError,
    _merge,
    _semantic_checks,
    canonical_hash,
    fill_defaults,
    load_params,
    load_schema,
)

RESOLVED_DIR = "params"
PARAMS_ENV = "SPURIOUS_REWARDS_PARAMS"
DEFAULT_PARAMS = "params.yaml"
HOW = ("select a parameter file with --config params=FILE (or --configfile FILE holding a complete "
       "parameter set); override keys with --config 'SECTION={key: value}', e.g. --config 'train={steps: 10}'")


def _parse_args(config_args: Iterable[str] | None) -> dict:
    """`key=value` entries as Snakemake received them, the values read as YAML (as in a params file)."""
    out: dict = {}
    for entry in config_args or ():
        key, sep, value = str(entry).partition("=")
        if not sep:
            raise ParamsError(f"--config {entry!r}: expected key=value; {HOW}")
        try:
            out[key] = yaml.safe_load(value) if value != "" else None
        except yaml.YAMLError as exc:
            raise ParamsError(f"--config {key}: the value is not valid YAML ({exc}); {HOW}") from None
    return out


def _read(path: str | Path, what: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ParamsError(f"{what} {path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{what} {path}: not valid YAML: {exc}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ParamsError(f"{what} {path}: the top level must be a mapping of sections")
    return doc


def resolve(config_args: Iterable[str] | None = None, configfiles: Iterable[str | Path] = (),
            default: str = DEFAULT_PARAMS) -> str:
    """The parameter file the jobs get: the selected file itself, or the resolved file with overrides.

    Raises ParamsError (naming the key and what to do) for anything that would otherwise be ignored.
    """
    files = [str(f) for f in configfiles or ()]
    cli = _parse_args(config_args)
    merged: dict = {}
    for f in files:
        merged = _merge(merged, _read(f, "--configfile"))
    merged = _merge(merged, cli)
    selected = merged.pop("params", None)
    if selected is not None and not isinstance(selected, str):
        raise ParamsError(f"--config params: expected a file name, got {selected!r}")

    schema = load_schema()
    sections = schema["properties"]
    unknown = sorted(set(merged) - set(sections))
    if unknown:
        raise ParamsError(f"--config/--configfile key {unknown[0]!r}: not a section of the parameter file "
                          f"(sections: {', '.join(sections)}); {HOW}")
    complete = set(schema["required"]) <= set(merged)
    if complete and selected is not None:
        raise ParamsError(f"--configfile {', '.join(files)} is a complete parameter set and --config params="
                          f"{selected} selects another: give one of them")
    if not merged:
        return selected or default
    if complete and len(files) == 1 and not (set(cli) - {"params"}):
        return files[0]  # exactly `--config params=FILE`

    if complete:
        raw, source = merged, f"--configfile {', '.join(files)}"
    else:
        base = selected or default
        raw = _merge(_read(base, "parameter file"), merged)
        source = base
    described = [f"--configfile {f}" for f in files] + [f"--config {k}" for k in cli if k != "params"]
    source = f"{source} with overrides from {', '.join(described)}"
    # checked here to name the overrides in an error; the file written holds what was given, not the
    # filled defaults (a job fills them when it loads the file)
    _semantic_checks(fill_defaults(raw, source), source, check_rewards=True)
    target = resolved_path(raw)
    if not target.is_file():
        _write(target, raw, source)
    # what the jobs will read validates too; engine=True as common.smk asks, so its load is cached
    load_params(target, engine=True)
    return str(target)


def resolved_path(raw: dict) -> Path:
    return Path(raw["experiment"]["results_dir"]) / RESOLVED_DIR / f"resolved-{canonical_hash(raw)[:16]}.yaml"


def _write(target: Path, raw: dict, source: str) -> None:
    text = (f"# Written by the Snakefile from {source}.\n# Jobs of invocations with these values read this "
            "file; do not edit (run snakemake with other overrides instead).\n"
            + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
