"""Scratch checkouts of a repository and the smoke parameters, for the end-to-end tests and benchmarks.

A scratch checkout is what a fresh clone would hold (git's tracked plus untracked-not-ignored files) with
its own params.yaml, so a test or benchmark can run the engines without touching the working tree.
The smoke parameters are the repository's params.yaml merged with tests/smoke/overrides.yaml.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from spurious_rewards.config import _merge

SMOKE_OVERRIDES = Path("tests") / "smoke" / "overrides.yaml"


def smoke_params(repo: Path) -> dict:
    """The smoke parameter dict of `repo`: its params.yaml with tests/smoke/overrides.yaml merged in."""
    base = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    overrides = yaml.safe_load((repo / SMOKE_OVERRIDES).read_text(encoding="utf-8"))
    return _merge(base, overrides)


def scratch_checkout(repo: Path, dest: Path, params: dict | None = None) -> Path:
    """Copy what git would commit in `repo` (tracked + untracked-not-ignored) into dest, as a fresh clone
    would, with `params` (default: the smoke parameters) as its params.yaml."""
    files = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, files):
        src = repo / name.decode()
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree
        target = dest / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(src.readlink())
        else:
            shutil.copy2(src, target)
    params = smoke_params(repo) if params is None else params
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    return dest


def scratch_env(root: Path, **extra: str) -> dict:
    """The environment of a command run in checkout `root`: this interpreter's tools first, offline, and
    the checkout's own package on PYTHONPATH."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "HF_HUB_OFFLINE": "1",
            "DVC_NO_ANALYTICS": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(root / "src"),
            **extra}
