"""Command line: `python -m spurious_rewards <command> [options]`.

Every Snakemake rule and DVC stage calls one of these commands, so any step can be rerun by hand with
the command printed at the top of its log. Commands are imported lazily: `score` or `export-dvc`
never pay for importing torch.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# command -> one-line help. Each command is the module spurious_rewards.commands.<command, "-" as "_">,
# which defines configure_parser(parser) and main(args); the stage table names its stages the same way.
COMMANDS: dict[str, str] = {
    "data": "build the training prompts and benchmarks",
    "base": "build (tiny) or reference (hf) a base model",
    "fetch": "download the Hub models and datasets a parameter file names",
    "hub-cache": "put a local model folder into the Hugging Face cache as a Hub repository",
    "labels": "majority-vote and incorrect labels from the base model",
    "train": "GRPO training of one (model, condition, seed)",
    "evaluate": "generate completions for every checkpoint",
    "grade": "grade completions with every grader",
    "analyze": "metrics and code-reasoning analysis",
    "report": "Markdown report with figures",
    "score": "score a JSONL of completions with one reward",
    "rewards": "list the reward registry",
    "export-dvc": "render dvc.yaml from the stage table",
    "validate": "validate a parameter file and print the sweep",
}


def command_module(command: str) -> str:
    """The module that implements `command`."""
    return "spurious_rewards.commands." + command.replace("-", "_")


def _peek_command(argv: list[str]) -> str | None:
    for token in argv:
        if not token.startswith("-"):
            return token
    return None


def build_parser(only: str | None = None) -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = argparse.ArgumentParser(prog="python -m spurious_rewards", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    modules: dict[str, object] = {}
    for name, help_text in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            module = importlib.import_module(command_module(name))
            module.configure_parser(sp)
            modules[name] = module
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # HF_HUB_OFFLINE is the caller's choice (the real path needs the Hub or a fetched cache); local
    # model paths are checked before transformers could retry them against the Hub (model/hub.py).
    # Usage pings are not: TRL's trainers report themselves to the Hub (and huggingface_hub then
    # fetches its agent registry) even when every model is local, which an offline node would wait on.
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from spurious_rewards import progress

    progress.quiet_library_bars()
    command = _peek_command(argv)
    parser, modules = build_parser(only=command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from spurious_rewards.config import ParamsError
    from spurious_rewards.io import DataError

    print("+ python -m spurious_rewards " + " ".join(argv), file=sys.stderr, flush=True)
    try:
        return int(modules[args.command].main(args) or 0)
    except (ParamsError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
