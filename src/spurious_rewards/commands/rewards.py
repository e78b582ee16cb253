"""`rewards`: list the reward registry (names usable as `conditions.<c>.reward` and in `score`)."""

from __future__ import annotations

import argparse

from spurious_rewards.rewards import REWARDS


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = ("List every registered reward with its kind; any name also works as "
                          "<name>_without_python, and module:attribute names a reward factory of your own.")


def main(args: argparse.Namespace) -> int:
    width = max(len(name) for name in REWARDS)
    for name, spec in sorted(REWARDS.items()):
        label = "needs label" if spec.needs_label else "label-free"
        options = ", ".join(spec.options) if spec.options else "-"
        print(f"{name:<{width}}  {spec.kind:<15}  {label:<11}  options: {options:<34}  {spec.summary}")
    print(f"{'<X>_without_python':<{width}}  compound: reward X, and 0 when the response mentions python")
    print(f"{'module:attribute':<{width}}  a reward factory of your own (README: Add your own reward)")
    return 0
