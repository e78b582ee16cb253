"""The smoke parameter file (params.yaml + tests/smoke/overrides.yaml) and scratch checkouts of this
repository (spurious_rewards.scratch, which the benchmarks share)."""

from __future__ import annotations

from pathlib import Path

from spurious_rewards import scratch

REPO = Path(__file__).resolve().parents[2]


def smoke_params() -> dict:
    return scratch.smoke_params(REPO)


def scratch_checkout(dest: Path, params: dict | None = None) -> Path:
    """Copy what git would commit into dest, as a fresh clone would, with `params` (default: the smoke
    parameters) as its params.yaml."""
    return scratch.scratch_checkout(REPO, dest, params)
