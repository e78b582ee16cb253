"""The vLLM tests (marker `vllm`; run them in .venv-vllm: `make test-vllm`). Every module here skips where
`import vllm` fails, so the default install and `make test` are unchanged.

`smoke_checkout`: a scratch checkout with the smoke parameters and evaluate.backend: vllm, its data and
base stages run by this interpreter (the smoke toy model, 150 pre-training steps: about 3 min on 2 cores).
Set SPURIOUS_VLLM_CHECKOUT to a checkout that already holds them to skip that (the bench does the same).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from spurious_rewards import scratch

REPO = Path(__file__).resolve().parents[2]
STAGES = (["validate", "--params", "params.yaml", "--stamp"], ["data", "--params", "params.yaml"],
          ["base", "--params", "params.yaml", "--model", "toy"])


def vllm_params() -> dict:
    params = scratch.smoke_params(REPO)
    params["evaluate"]["backend"] = "vllm"
    return params


def build_checkout(dest: Path) -> Path:
    root = scratch.scratch_checkout(REPO, dest, vllm_params())
    for args in STAGES:
        subprocess.run([sys.executable, "-m", "spurious_rewards", *args], cwd=root,
                       env=scratch.scratch_env(root), check=True, capture_output=True, text=True)
    return root


@pytest.fixture(scope="session")
def smoke_checkout(tmp_path_factory) -> Path:
    pytest.importorskip("vllm")
    given = os.environ.get("SPURIOUS_VLLM_CHECKOUT")
    if given:
        return Path(given)
    return build_checkout(tmp_path_factory.mktemp("vllm-smoke"))
