"""Shared test setup: offline Hugging Face, the repo root, and the paper's data beside the repo."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

# A bad local path would otherwise be retried against the Hub for ~45 s before failing.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the paper's data is not at {SHARED_DATA}")
    return SHARED_DATA


def committed_text(name: str) -> str:
    """A file of the checkout as its last commit has it: params.yaml is the user's to edit (the Quick
    start test shrinks it), but a test of the shipped default must see the shipped default."""
    proc = subprocess.run(["git", "-C", str(REPO), "show", f"HEAD:{name}"], capture_output=True, text=True)
    return proc.stdout if proc.returncode == 0 else (REPO / name).read_text(encoding="utf-8")
