"""Build the smoke parameter file (params.yaml + tests/smoke/overrides.yaml) and a scratch checkout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from spurious_rewards.config import _merge

REPO = Path(__file__).resolve().parents[2]


def smoke_params() -> dict:
    base = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    overrides = yaml.safe_load((REPO / "tests" / "smoke" / "overrides.yaml").read_text(encoding="utf-8"))
    return _merge(base, overrides)


def scratch_checkout(dest: Path, params: dict | None = None) -> Path:
    """Copy what git would commit (tracked + untracked-not-ignored) into dest, as a fresh clone would,
    with `params` (default: the smoke parameters) as its params.yaml."""
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, files):
        src = REPO / name.decode()
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree
        target = dest / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(src.readlink())
        else:
            shutil.copy2(src, target)
    params = smoke_params() if params is None else params
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    return dest
