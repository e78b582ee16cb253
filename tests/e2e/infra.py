"""Helpers for the infrastructure tests (SLURM, DVC sharing, Snakemake's output cache).

`checkout` makes a scratch clone with the smoke parameters plus extra overrides; every command runs
with PYTHONPATH pointing at that clone's own src/, as in a real clone (so byte code lands there and
DVC's source hashes see what a user's clone sees). `run` enforces a hard timeout: SIGINT first (Snakemake
then cancels its SLURM jobs), SIGKILL to the whole process group if that does not end it.
`mini_local_run` is the local-executor reference of the MINI configuration, built once per pytest
session and shared by the modules that need it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd

from spurious_rewards.config import _merge
from spurious_rewards.scratch import scratch_env
from tests.e2e.smoke import scratch_checkout, smoke_params

# The smoke configuration cut to two conditions: every rule type (labels included, through
# majority_vote) in 13 jobs instead of 19.
MINI = {"experiment": {"conditions": ["ground_truth", "majority_vote"]}}


def params(overrides: dict | None = None) -> dict:
    return _merge(smoke_params(), overrides or {})


def results(root: Path, overrides: dict | None = None) -> Path:
    return root / params(overrides)["experiment"]["results_dir"]


def checkout(dest: Path, overrides: dict | None = None) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    return scratch_checkout(dest, params(overrides))


def env(root: Path, **extra: str) -> dict:
    return scratch_env(root, **extra)


def run(cmd: list[str], cwd: Path, timeout: float, check: bool = True, **env_extra: str
        ) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(cmd, cwd=cwd, env=env(cwd, **env_extra), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        raise AssertionError(f"{' '.join(cmd)} exceeded its {timeout:.0f} s limit:\n{out[-6000:]}") from None
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, "")
    if check:
        assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-8000:]}"
    return result


def mini_local_run(tmp_path_factory) -> Path:
    """The MINI DAG with the local executor, built once per session (a marker file says it finished)."""
    root = tmp_path_factory.getbasetemp() / "mini-local"
    done = tmp_path_factory.getbasetemp() / "mini-local.done"  # outside the clone: not committed
    if not done.exists():
        if root.exists():
            import shutil

            shutil.rmtree(root)
        checkout(root, MINI)
        started = time.monotonic()
        run(["snakemake", "--cores", "2"], root, timeout=2400)
        done.write_text(f"{time.monotonic() - started:.1f}\n", encoding="utf-8")
    return root


def metrics(root: Path, overrides: dict | None = None) -> pd.DataFrame:
    frame = pd.read_csv(results(root, overrides) / "analysis" / "metrics.csv")
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)
