"""`validate`: check a parameter file against the schema and the registry, and print the sweep."""

from __future__ import annotations

import argparse
import json

from spurious_rewards.cliargs import add_params
from spurious_rewards.config import load_params


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_params(parser)


def main(args: argparse.Namespace) -> int:
    params = load_params(args.params)
    print(json.dumps({"params": params.path, "params_hash": params.hash,
                      "results_dir": str(params.results_dir), "runs": len(params.runs()),
                      "models": params.models, "conditions": params.conditions, "seeds": params.seeds},
                     indent=2))
    return 0
