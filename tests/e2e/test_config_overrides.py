"""`snakemake --configfile` / `--config` in a scratch checkout: selected, applied to every job, or refused.

Dry runs plus one real `data` job (seconds), so not marked e2e.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.smoke import scratch_checkout


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    return scratch_checkout(tmp_path_factory.mktemp("overrides"))


def _snakemake(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(root / "src"))
    snakemake = Path(sys.executable).with_name("snakemake")
    return subprocess.run([str(snakemake), "--cores", "1", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


def _job_counts(out: str) -> dict[str, int]:
    table = out.split("Job stats:", 1)[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def test_configfile_selects_a_params_file_like_params(checkout, shared_data):
    # the paper preset's data files are declared inputs: link them as the README says
    (checkout / "external").mkdir(exist_ok=True)
    for name in ("rethink_rlvr", "one_shot_rlvr"):
        if not (checkout / "external" / name).exists():
            (checkout / "external" / name).symlink_to(shared_data / name)
    by_file = _snakemake(checkout, "-n", "--configfile", "presets/paper.yaml")
    by_key = _snakemake(checkout, "-n", "--config", "params=presets/paper.yaml")
    assert by_file.returncode == 0 and by_key.returncode == 0, by_file.stderr + by_file.stdout
    paper = _job_counts(by_file.stdout)
    assert paper == _job_counts(by_key.stdout)
    assert paper != _job_counts(_snakemake(checkout, "-n").stdout)  # not the default DAG
    assert "results/paper/report" in by_file.stdout


@pytest.mark.parametrize("args, names", [
    (["--config", "foo=1"], ["'foo'", "not a section", "--config params=FILE"]),
    (["--config", "train={stepz: 1}"], ["train", "stepz"]),
    (["--config", "experiment={seeds: many}"], ["experiment.seeds", "'many'"]),
])
def test_bad_overrides_fail_naming_the_key(checkout, args, names):
    out = _snakemake(checkout, "-n", *args)
    assert out.returncode != 0
    for name in names:
        assert name in out.stderr + out.stdout, out.stderr


def test_overrides_reach_every_job_and_its_fingerprint(checkout):
    target = "results/smoke/data/train.jsonl"
    out = _snakemake(checkout, target, "--config", "data={train: {n: 40}}")
    assert out.returncode == 0, out.stderr
    rows = (checkout / target).read_text().splitlines()
    assert len(rows) == 40  # the smoke params say 200
    record = json.loads((checkout / (target + ".provenance.json")).read_text())
    params_path = next(v for k, v in record.items() if "param" in k and isinstance(v, str)
                       and v.endswith(".yaml"))
    assert re.fullmatch(r"results/smoke/params/resolved-[0-9a-f]{16}\.yaml", params_path), record
    # the same overrides: nothing to do; without them the fingerprint differs and data reruns
    assert "Nothing to be done" in _snakemake(checkout, "-n", target, "--config", "data={train: {n: 40}}").stdout
    again = _snakemake(checkout, "-n", target)
    assert "data" in _job_counts(again.stdout) and "params have changed since last execution" in again.stdout.lower()
