"""Multi-GPU: re-execute `python -m spurious_rewards train ...` under `accelerate launch`.

The Snakemake rule's command stays `python -m spurious_rewards train ...` for every run; when the run
needs several processes (world_size > 1) or a DeepSpeed/accelerate config, the stage replaces itself
(os.execvpe, so SLURM's signals reach the launcher, which forwards them) with

    accelerate launch --config_file <config> --num_processes <world_size> -m spurious_rewards train ...

The child processes see LOCAL_RANK / ACCELERATE_* (set by accelerate) and our own marker, and train.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

LAUNCHED_ENV = "SPURIOUS_REWARDS_LAUNCHED"
# Set by `accelerate launch` in every child (LOCAL_RANK only for distributed launches).
_ACCELERATE_MARKERS = ("LOCAL_RANK", "ACCELERATE_MIXED_PRECISION", "ACCELERATE_DYNAMO_BACKEND", LAUNCHED_ENV)


def under_launcher(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return any(k in env for k in _ACCELERATE_MARKERS)


def needs_launch(world_size: int, accelerate_config: str | None, env: Mapping[str, str] | None = None) -> bool:
    return (world_size > 1 or bool(accelerate_config)) and not under_launcher(env)


def stage_argv(args) -> list[str]:
    """The `train` arguments of this invocation, rebuilt from the parsed namespace."""
    argv = ["train", "--params", str(args.params), "--model", args.model, "--condition", args.condition,
            "--seed", str(args.seed)]
    return (["--verbose"] if getattr(args, "verbose", False) else []) + argv


def command(stage_args: list[str], world_size: int, accelerate_config: str | None) -> list[str]:
    """The accelerate launch command line (as an argv list)."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    if accelerate_config:
        cmd += ["--config_file", str(Path(accelerate_config))]
    elif world_size > 1:
        cmd += ["--multi_gpu"]
    cmd += ["--num_processes", str(world_size), "-m", "spurious_rewards", *stage_args]
    return cmd


def exec_launch(cmd: list[str]) -> None:  # pragma: no cover - replaces the process
    env = dict(os.environ, **{LAUNCHED_ENV: "1"})
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(cmd[0], cmd, env)
