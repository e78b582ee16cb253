"""Two clones share results through a DVC remote instead of recomputing them.

Clone A runs the DAG with Snakemake, records it with `dvc commit dvc.yaml`, commits dvc.lock to git and runs
`dvc push` to a local-directory remote (the default remote `shared` of .dvc/config, pointed at a temp
folder with `dvc remote modify --local`, as a user points it at S3/GCS/SSH). Clone B is a `git clone`
of that commit: after `dvc pull`, neither `dvc repro --allow-missing dvc.yaml` nor `snakemake -n` (after
`snakemake --touch`) finds anything to run, and the pulled results equal A's.

Intermediate checkpoints (`cache: false` in the stage table) are referenced by hash in dvc.lock but
never pushed: B lacks them on purpose, which is why DVC needs --allow-missing ("skip stages whose
only change is missing data"). Plain `dvc repro` would retrain to recreate them.
Every DVC command names the root dvc.yaml: without a target DVC also walks presets/paper/dvc.yaml.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e import infra

pytestmark = pytest.mark.e2e
GIT = ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.invalid"]


@pytest.fixture(scope="module")
def clones(tmp_path_factory):
    a = infra.mini_local_run(tmp_path_factory)
    remote = tmp_path_factory.mktemp("dvc-remote")
    timings = {}

    def timed(name, cmd, cwd, timeout=600):
        t0 = time.monotonic()
        proc = infra.run(cmd, cwd, timeout=timeout)
        timings[name] = round(time.monotonic() - t0, 2)
        return proc

    infra.run(["dvc", "remote", "modify", "--local", "shared", "url", str(remote)], a, timeout=60)
    timed("dvc commit", ["dvc", "commit", "--force", "dvc.yaml"], a)
    status = infra.run(["dvc", "status", "dvc.yaml"], a, timeout=300)
    assert "up to date" in status.stdout, status.stdout
    infra.run(["git", "add", "-A"], a, timeout=60)
    infra.run([*GIT, "commit", "-q", "-m", "results of the mini DAG"], a, timeout=60)
    push = timed("dvc push", ["dvc", "push", "dvc.yaml"], a)

    b = tmp_path_factory.mktemp("clone-b") / "repo"
    infra.run(["git", "clone", "-q", str(a), str(b)], b.parent, timeout=120)
    infra.run(["dvc", "remote", "modify", "--local", "shared", "url", str(remote)], b, timeout=60)
    pull = timed("dvc pull", ["dvc", "pull", "dvc.yaml"], b)
    print(f"\n[dvc sharing] wall times (s): {timings}\n  push: {push.stdout.strip()[-200:]}\n"
          f"  pull: {pull.stdout.strip()[-200:]}")
    return a, b, remote


def test_remote_holds_the_shared_artifacts(clones):
    _, _, remote = clones
    assert any((remote / "files" / "md5").rglob("*")), "dvc push uploaded nothing"


def test_second_clone_has_nothing_to_reproduce(clones):
    _, b, _ = clones
    repro = infra.run(["dvc", "repro", "--allow-missing", "dvc.yaml"], b, timeout=600)
    assert "Data and pipelines are up to date" in repro.stdout, repro.stdout
    assert "Running stage" not in repro.stdout, repro.stdout


def test_only_intermediate_checkpoints_are_missing(clones):
    """What B lacks is exactly what dvc.lock references by hash: the `cache: false` checkpoints."""
    _, b, _ = clones
    status = json.loads(infra.run(["dvc", "status", "--json", "dvc.yaml"], b, timeout=300).stdout or "{}")
    missing = set()
    for stage, changes in status.items():
        for change in changes:
            assert isinstance(change, dict) and set(change) <= {"changed outs", "changed deps"}, (stage, change)
            for path, state in [*change.get("changed outs", {}).items(), *change.get("changed deps", {}).items()]:
                assert state == "deleted", (stage, path, state)
                missing.add(path)
    from spurious_rewards import paths

    p = infra.params(infra.MINI)
    expected = {str(paths.checkpoints_dir(p["experiment"]["results_dir"], m, c, s))
                for m in p["experiment"]["models"] for c in p["experiment"]["conditions"]
                for s in p["experiment"]["seeds"]}
    assert missing == expected, sorted(missing ^ expected)


def test_second_clone_snakemake_has_nothing_to_do(clones):
    _, b, _ = clones
    # dvc pull sets mtimes in checkout order; --touch re-aligns them without running anything
    infra.run(["snakemake", "--touch", "--cores", "1"], b, timeout=600)
    dry = infra.run(["snakemake", "-n", "--cores", "1"], b, timeout=600)
    assert "Nothing to be done" in dry.stdout, dry.stdout[-4000:]
    # importing the package wrote byte code into B's src/: DVC must still see unchanged sources
    repro = infra.run(["dvc", "repro", "--allow-missing", "dvc.yaml"], b, timeout=600)
    assert "Data and pipelines are up to date" in repro.stdout, repro.stdout


def test_pulled_results_equal_the_producers(clones):
    a, b, _ = clones
    assert (infra.results(b, infra.MINI) / "analysis" / "metrics.csv").read_bytes() == \
        (infra.results(a, infra.MINI) / "analysis" / "metrics.csv").read_bytes()
    for rel in ("labels/toy/majority_vote.jsonl", "eval/toy/base/grades.parquet"):
        assert (infra.results(b, infra.MINI) / rel).read_bytes() == \
            (infra.results(a, infra.MINI) / rel).read_bytes(), rel
