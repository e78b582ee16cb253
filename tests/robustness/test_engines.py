"""No value from a parameter file runs as shell code, through Snakemake or DVC run directly.

Each case writes a hostile params.yaml into a scratch checkout and runs the engine as a user would,
without `validate` first: Snakemake must refuse at parse time (exit 2, the file and the key named, no
job started), DVC must stop at its `validate` stage or at the first command of the stage. Either way
the marker file that the payload would create must never appear. The default cases are fast (they fail
before any job); the full field x payload matrix is marked e2e.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.e2e import infra
from tests.e2e.smoke import scratch_checkout, smoke_params
from tests.robustness.hostile import FIELDS, MARKER, PAYLOADS, plant

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _markers(root: Path) -> list[Path]:
    return list(root.rglob(MARKER))


def _write(root: Path, raw: dict, name: str = "params.yaml") -> None:
    (root / name).write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def _assert_refused(proc, root: Path, *named: str) -> None:
    out = proc.stdout
    assert not _markers(root), f"the payload ran:\n{out[-3000:]}"
    assert proc.returncode != 0, out[-3000:]
    for text in named:
        assert text in out, f"{text!r} not named:\n{out[-3000:]}"


# -- Snakemake -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def smk(tmp_path_factory) -> Path:
    return scratch_checkout(tmp_path_factory.mktemp("smk"))


def _snakemake(root: Path, *args: str):
    # a real run, not -n: a dry run never executes a shell command
    return infra.run(["snakemake", "--cores", "1", *args], root, timeout=300, check=False)


def _smk_case(root: Path, field: str, payload: str):
    bad, key = plant(smoke_params(), field, payload)
    _write(root, bad)
    proc = _snakemake(root, "data")
    _assert_refused(proc, root, "params.yaml", key)
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert "common.smk" not in proc.stdout and "Traceback" not in proc.stdout, proc.stdout[-3000:]


@pytest.mark.parametrize("field", FIELDS)
def test_snakemake_refuses_a_hostile_value_before_any_job(smk, field):
    _smk_case(smk, field, PAYLOADS["semicolon"])


@pytest.mark.e2e
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("field", FIELDS)
def test_snakemake_hostile_matrix(smk, field, payload):
    _smk_case(smk, field, PAYLOADS[payload])


@pytest.mark.parametrize("payload", ["semicolon", "subshell", "space"])
def test_snakemake_refuses_a_hostile_params_path(smk, payload):
    name = PAYLOADS[payload] + ".yaml"
    _write(smk, smoke_params(), name)
    proc = _snakemake(smk, "--config", f"params={name}", "--", "data")
    _assert_refused(proc, smk, "--config params")


@pytest.mark.parametrize("edit,key", [
    ({"train": {"learning_rate": float("nan")}}, "train.learning_rate"),
    ({"experiment": {"seeds": [2**32]}}, "experiment.seeds[0]"),
    ({"train": {"learning_rte": 1e-4}}, "learning_rte"),
])
def test_snakemake_names_the_params_file_and_key_not_common_smk(smk, edit, key):
    _write(smk, infra.params(edit), "bad_params.yaml")
    proc = infra.run(["snakemake", "-n", "--cores", "1", "--config", "params=bad_params.yaml"], smk,
                     timeout=300, check=False)
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert "bad_params.yaml" in proc.stdout and key in proc.stdout, proc.stdout[-3000:]
    assert "common.smk" not in proc.stdout and "Traceback" not in proc.stdout, proc.stdout[-3000:]


# -- DVC -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dvc(tmp_path_factory) -> Path:
    """A checkout whose `data` stage is already cached, as in the reported attack."""
    root = scratch_checkout(tmp_path_factory.mktemp("dvc"))
    proc = infra.run(["dvc", "repro", "data"], root, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return root


@pytest.fixture
def dvc_clean(dvc):
    """Restore the valid smoke parameters after each case."""
    yield dvc
    _write(dvc, smoke_params())
    for marker in _markers(dvc):
        shutil.rmtree(marker) if marker.is_dir() else marker.unlink()


def _dvc_case(root: Path, field: str, payload: str, *target: str):
    bad, key = plant(smoke_params(), field, payload)
    _write(root, bad)
    proc = infra.run(["dvc", "repro", *(target or ("dvc.yaml",))], root, timeout=300, check=False)
    _assert_refused(proc, root, key)
    assert "Running stage 'base" not in proc.stdout, proc.stdout[-3000:]


def test_dvc_refuses_a_hostile_model_name_with_data_cached(dvc_clean):
    _dvc_case(dvc_clean, "model", PAYLOADS["semicolon"])


@pytest.mark.parametrize("payload", ["single_quote", "subshell"])
def test_dvc_single_stage_repro_validates_before_the_shell_sees_the_value(dvc_clean, payload):
    """`dvc repro -s` skips the upstream `validate` stage: the stage's own first command refuses."""
    value = PAYLOADS[payload]
    bad, key = plant(smoke_params(), "model", value)
    _write(dvc_clean, bad)
    proc = infra.run(["dvc", "repro", "-s", f"dvc.yaml:base@{value}"], dvc_clean, timeout=300, check=False)
    _assert_refused(proc, dvc_clean, key)


@pytest.mark.e2e
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("field", FIELDS)
def test_dvc_hostile_matrix(dvc_clean, field, payload):
    _dvc_case(dvc_clean, field, PAYLOADS[payload])


def test_dvc_refuses_an_invalid_file_even_when_every_stage_is_cached(dvc_clean):
    raw = smoke_params()
    raw["train"]["learning_rate"] = float("nan")  # dumped as .nan
    _write(dvc_clean, raw)
    proc = infra.run(["dvc", "repro", "data"], dvc_clean, timeout=300, check=False)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "train.learning_rate" in proc.stdout, proc.stdout[-3000:]


def test_dvc_valid_edit_reruns_nothing_but_the_validation(dvc_clean):
    raw = smoke_params()
    raw["analysis"]["bootstrap_samples"] = 123
    _write(dvc_clean, raw)
    proc = infra.run(["dvc", "repro", "data"], dvc_clean, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Running stage 'data'" not in proc.stdout, proc.stdout[-3000:]


# -- results_dir stays inside the checkout ---------------------------------------------------------

def _outside(root: Path, kind: str) -> tuple[str, Path]:
    """A results_dir outside the checkout (relative with '..' or absolute) and where it points."""
    target = root.parent / f"outside-{kind}"
    return (f"../{target.name}" if kind == "relative" else str(target)), target


@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_snakemake_never_writes_outside_the_checkout(smk, kind):
    value, target = _outside(smk, kind)
    raw = smoke_params()
    raw["experiment"]["results_dir"] = value
    _write(smk, raw)
    proc = _snakemake(smk, "data")
    assert proc.returncode == 2 and "experiment.results_dir" in proc.stdout, proc.stdout[-3000:]
    assert not target.exists()


@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_dvc_never_writes_outside_the_checkout(dvc_clean, kind):
    value, target = _outside(dvc_clean, kind)
    raw = smoke_params()
    raw["experiment"]["results_dir"] = value
    _write(dvc_clean, raw)
    proc = infra.run(["dvc", "repro", "dvc.yaml"], dvc_clean, timeout=300, check=False)
    assert proc.returncode != 0 and "experiment.results_dir" in proc.stdout, proc.stdout[-3000:]
    assert not target.exists()
