"""The README's Quick start, in its own order, in a scratch clone: `make run`, then the tests, twice.

A new user runs `make run` first and `make test` second, so every test must pass in a checkout that
holds a finished run (results/, .snakemake/, logs). The default is shrunk to the smoke sizes (same
results folder, same DAG shape) to keep this in minutes. The nested suite is the unit suite: the e2e
tests build their own scratch checkouts, and running them here again would nest this test in itself.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e import infra
from tests.e2e.smoke import scratch_checkout, smoke_params

pytestmark = pytest.mark.e2e

VENV = Path(sys.executable).parent.parent


def _make(target: str, root: Path, timeout: float):
    # -o: the shared venv is already set up; never reinstall it from the scratch clone
    return infra.run(["make", "-o", f"{VENV}/.installed", target, f"VENV={VENV}"], root, timeout=timeout,
                     check=False, MAKEFLAGS="")


@pytest.mark.skipif(os.environ.get("SPURIOUS_NESTED_QUICKSTART") == "1", reason="already inside the Quick start test")
def test_quick_start_in_its_own_order(tmp_path):
    default_shrunk = smoke_params()
    default_shrunk["experiment"]["results_dir"] = "results/default"
    root = tmp_path / "clone"
    root.mkdir()
    scratch_checkout(root, default_shrunk)
    # a user's clone: the shipped params.yaml committed, then edited (here: shrunk) in the working copy
    shrunk = (root / "params.yaml").read_text(encoding="utf-8")
    (root / "params.yaml").write_text((REPO / "params.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    git = ["git", "-c", "user.name=quickstart", "-c", "user.email=quickstart@localhost"]
    subprocess.run([*git, "add", "-A"], cwd=root, check=True, capture_output=True)
    subprocess.run([*git, "commit", "-qm", "clone"], cwd=root, check=True, capture_output=True)
    (root / "params.yaml").write_text(shrunk, encoding="utf-8")
    if (REPO.parent / "shared").is_dir():  # the paper's data beside the clone, as beside this checkout
        (tmp_path / "shared").symlink_to(REPO.parent / "shared")

    run = _make("run", root, timeout=2400)
    assert run.returncode == 0, run.stdout[-6000:]
    assert (root / "results" / "default" / "report" / "report.md").is_file()
    assert (root / ".snakemake").is_dir()

    for attempt in (1, 2):
        tests = infra.run(["make", "-o", f"{VENV}/.installed", "test-fast", f"VENV={VENV}"], root,
                          timeout=1800, check=False, MAKEFLAGS="", SPURIOUS_NESTED_QUICKSTART="1")
        assert tests.returncode == 0, f"make test-fast, run {attempt}, after make run:\n{tests.stdout[-8000:]}"
        # the pytest summary, wherever make's own lines (e.g. "Leaving directory" under a parent make) fall
        summary = [line for line in tests.stdout.splitlines() if re.fullmatch(r"=+ .* in [\d.]+s.* =+", line.strip())]
        assert summary and " passed" in summary[-1] and "failed" not in summary[-1], tests.stdout[-2000:]
