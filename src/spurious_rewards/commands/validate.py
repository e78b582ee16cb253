"""`validate`: check a parameter file against the schema and the registry, and print the sweep.

It applies the engines' rules (a relative results_dir inside the checkout). dvc.yaml runs it as the
first command of every stage and as the `params` stage, which depends on the parameter file itself, so
`dvc repro` refuses an invalid file even when every other stage is cached; `--stamp` writes that
stage's output (constant content, so a valid edit reruns nothing downstream by itself).
"""

from __future__ import annotations

import argparse
import json

from spurious_rewards.cliargs import add_params
from spurious_rewards.config import check_params_path, load_params
from spurious_rewards.paths import STAMP


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_params(parser)
    parser.add_argument("--quiet", action="store_true", help="print nothing when the file is valid")
    parser.add_argument("--stamp", action="store_true",
                        help=f"write <results_dir>/{STAMP} when valid (the DVC `params` stage)")


def write_stamp(results_dir) -> None:
    """The `validate` stage's output. Snakemake writes it too (onstart), after validating at parse
    time, so that `dvc commit` after a Snakemake run finds every output of dvc.yaml."""
    from pathlib import Path

    from spurious_rewards.io import write_text

    stamp = Path(results_dir) / STAMP
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != "valid\n":
        write_text(stamp, "valid\n")


def main(args: argparse.Namespace) -> int:
    check_params_path(args.params, where="--params")
    params = load_params(args.params, engine=True)
    if args.stamp:
        write_stamp(params.results_dir)
    if not args.quiet:
        print(json.dumps({"params": params.path, "params_hash": params.hash,
                          "results_dir": str(params.results_dir), "runs": len(params.runs()),
                          "models": params.models, "conditions": params.conditions,
                          "seeds": params.seeds}, indent=2))
    return 0
