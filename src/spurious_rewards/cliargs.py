"""Arguments shared by the stage commands, so every stage spells them the same way."""

from __future__ import annotations

import argparse


def add_params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--params", default="params.yaml",
                        help="parameter file (default: params.yaml; the paper: presets/paper.yaml)")


def add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="a model name from the parameter file")


def add_run(parser: argparse.ArgumentParser, allow_base: bool = False) -> None:
    """--model, --condition, --seed; with allow_base, --base selects the base model (step 0) instead."""
    add_model(parser)
    parser.add_argument("--condition", help="a condition name from the parameter file")
    parser.add_argument("--seed", type=int, help="a training seed from the parameter file")
    if allow_base:
        parser.add_argument("--base", action="store_true", help="the base model (step 0) instead of a run")


def check_run(args: argparse.Namespace, allow_base: bool = False) -> None:
    if allow_base and getattr(args, "base", False):
        if args.condition is not None or args.seed is not None:
            raise SystemExit("error: --base takes no --condition/--seed")
        return
    if args.condition is None or args.seed is None:
        raise SystemExit("error: --condition and --seed are required" + (" (or --base)" if allow_base else ""))
