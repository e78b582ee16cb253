"""Scratch checkouts and timed commands for the benchmarks (spurious_rewards.scratch, shared with the
end-to-end tests)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from spurious_rewards import scratch  # noqa: E402  (the checkout's own package, found through src/)


def smoke_params() -> dict:
    return scratch.smoke_params(REPO)


def checkout(dest: Path, params: dict | None = None) -> Path:
    return scratch.scratch_checkout(REPO, dest, params)


def timed(cmd: list[str], cwd: Path, timeout: int = 3600) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=scratch.scratch_env(cwd), capture_output=True, text=True,
                          timeout=timeout, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return elapsed, proc


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))
