"""The whole DAG end to end on the smoke configuration, through Snakemake and through DVC.

Both engines run the same stage table in separate scratch checkouts; their metrics must be identical
(the pipeline is deterministic on CPU for fixed seeds). Then each engine must find nothing to redo.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e import infra
from tests.e2e.smoke import scratch_checkout, smoke_params

pytestmark = pytest.mark.e2e
RESULTS = Path(smoke_params()["experiment"]["results_dir"])


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return infra.run(cmd, cwd, timeout=1500)


@pytest.fixture(scope="module")
def snakemake_run(tmp_path_factory) -> Path:
    root = scratch_checkout(tmp_path_factory.mktemp("snakemake"))
    _run(["snakemake", "--cores", "2"], root)
    return root


@pytest.fixture(scope="module")
def dvc_run(tmp_path_factory) -> Path:
    root = scratch_checkout(tmp_path_factory.mktemp("dvc"))
    _run(["dvc", "repro", "dvc.yaml"], root)
    return root


def _metrics(root: Path) -> pd.DataFrame:
    frame = pd.read_csv(root / RESULTS / "analysis" / "metrics.csv")
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_snakemake_builds_the_report_with_every_checkpoint(snakemake_run):
    report = snakemake_run / RESULTS / "report"
    text = (report / "report.md").read_text(encoding="utf-8")
    pngs = sorted((report / "figures").glob("*.png"))
    assert len(pngs) >= 2 and all(p.stat().st_size > 1000 for p in pngs)
    for png in pngs:
        assert f"figures/{png.name}" in text
    metrics = _metrics(snakemake_run)
    params = smoke_params()
    steps = sorted(metrics["step"].unique())
    assert steps == list(range(0, params["train"]["steps"] + 1)), steps
    assert set(metrics["condition"]) >= set(params["experiment"]["conditions"])
    assert set(metrics["grader"]) == set(params["analysis"]["graders"])


def test_dvc_and_snakemake_give_identical_metrics(snakemake_run, dvc_run):
    pd.testing.assert_frame_equal(_metrics(snakemake_run), _metrics(dvc_run))


def test_no_op_reruns(snakemake_run, dvc_run):
    dry = _run(["snakemake", "-n", "--cores", "2"], snakemake_run)
    assert "Nothing to be done" in dry.stdout
    status = _run(["dvc", "status", "dvc.yaml"], dvc_run)
    assert "up to date" in status.stdout
