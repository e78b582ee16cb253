"""The DAG on a real SLURM cluster through the installed profile (`snakemake --profile slurm`).

Needs a running cluster: `bash .ci/slurm-up.sh` (CI does it; SPURIOUS_REQUIRE_SLURM=1 turns the skip
into a failure there). The profile is installed with the documented command into a temporary
XDG_CONFIG_HOME, so the bare name `slurm` resolves exactly as it does for a user.

1. The MINI DAG (smoke parameters, two conditions: 10 sbatch jobs + 3 local rules) runs end to end
   under a hard timeout; sacct shows every job COMPLETED with the partition/account of the profile and
   the memory/time/CPUs of params.yaml; analysis/metrics.csv equals the local executor's.
2. A train job killed by SLURM at its time limit leaves a log and no complete-looking output; the
   rerun resumes from the last checkpoint in the state dir instead of starting over.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e import infra

pytestmark = pytest.mark.slurm
# Hard limit of the whole MINI run through SLURM (measured: see README); CI's own limit is above it.
SLURM_TIMEOUT_S = float(os.environ.get("SPURIOUS_SLURM_TIMEOUT_S", "1800"))
JOB_NAME_PREFIX = "spurious"  # slurm-jobname-prefix in the profile


def _cluster_or_skip() -> None:
    problem = None
    if not shutil.which("sbatch"):
        problem = "no sbatch on PATH"
    else:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, check=False)
        acct = subprocess.run(["sacct", "-n", "-X", "-j", "1"], capture_output=True, text=True, check=False)
        if "UP" not in ping.stdout:
            problem = f"slurmctld is not up: {ping.stdout.strip()} {ping.stderr.strip()}"
        elif acct.returncode != 0:
            problem = f"sacct does not work (no slurmdbd?): {acct.stderr.strip()}"
    if problem:
        message = f"{problem}; start the CI cluster with `bash .ci/slurm-up.sh`"
        if os.environ.get("SPURIOUS_REQUIRE_SLURM") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _install_profile(root: Path, xdg: Path) -> None:
    infra.run(["make", "-s", "install-slurm-profile", f"SLURM_PROFILE_DIR={xdg}/snakemake/slurm",
               "SLURM_PARTITION=debug", "SLURM_ACCOUNT=ci"], root, timeout=60)


def _sacct(since: str) -> pd.DataFrame:
    fields = ["JobIDRaw", "JobName", "State", "Account", "Partition", "Timelimit", "ReqMem", "AllocCPUS"]
    out = subprocess.run(["sacct", "-X", "-n", "-P", "-S", since, "-E", "now", f"--format={','.join(fields)}"],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split("|") for line in out.splitlines() if line.strip()]
    frame = pd.DataFrame(rows, columns=fields)
    return frame[frame["JobName"].str.startswith(JOB_NAME_PREFIX)]


def _slurm_logs(root: Path) -> dict[str, str]:
    """SLURM job id -> rule, from .snakemake/slurm_logs/rule_<rule>/<wildcards>/<jobid>.log."""
    logs = {}
    for log in (root / ".snakemake" / "slurm_logs").rglob("*.log"):
        rule = next(p for p in log.relative_to(root / ".snakemake" / "slurm_logs").parts if p.startswith("rule_"))
        logs[log.stem] = rule.removeprefix("rule_")
    return logs


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 2))


@pytest.fixture(scope="module")
def cluster():
    _cluster_or_skip()


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    root = infra.checkout(tmp_path_factory.mktemp("slurm-mini"), infra.MINI)
    xdg = tmp_path_factory.mktemp("xdg")
    _install_profile(root, xdg)
    since = _now()
    t0 = time.monotonic()
    proc = infra.run(["snakemake", "--profile", "slurm", "--slurm-init-seconds-before-status-checks", "1"],
                     root, timeout=SLURM_TIMEOUT_S, XDG_CONFIG_HOME=str(xdg))
    wall = time.monotonic() - t0
    time.sleep(2)  # the last job's accounting record
    jobs = _sacct(since)
    print(f"\n[slurm] MINI DAG through `snakemake --profile slurm`: {wall:.1f} s wall, {len(jobs)} sbatch jobs")
    print(jobs.to_string(index=False))
    return root, xdg, proc.stdout, jobs


def test_real_sbatch_jobs_completed(slurm_run):
    root, _, out, jobs = slurm_run
    by_id = _slurm_logs(root)
    ours = jobs[jobs["JobIDRaw"].isin(by_id)]
    rules = sorted(by_id[j] for j in ours["JobIDRaw"])
    assert rules == sorted(["base", "labels", "train", "train", "evaluate_base", "evaluate", "evaluate",
                            "grade_base", "grade", "grade"]), (rules, out[-3000:])
    assert set(ours["State"]) == {"COMPLETED"}, ours
    # localrules never reach SLURM
    assert not {"data", "analyze", "report"} & set(by_id.values())


def test_site_and_params_resources_reach_sbatch(slurm_run):
    root, _, _, jobs = slurm_run
    by_id = _slurm_logs(root)
    resources = infra.params(infra.MINI)["resources"]
    family = {"base": "base", "labels": "labels", "train": "train", "evaluate_base": "evaluate",
              "evaluate": "evaluate", "grade_base": "grade", "grade": "grade"}
    for _, job in jobs[jobs["JobIDRaw"].isin(by_id)].iterrows():
        spec = resources[family[by_id[job["JobIDRaw"]]]]
        assert job["Account"] == "ci" and job["Partition"] == "debug", job.to_dict()
        hours, minutes = divmod(spec["runtime_min"], 60)
        assert job["Timelimit"] == f"{hours:02d}:{minutes:02d}:00", job.to_dict()
        assert re.fullmatch(rf"{spec['mem_mb']}M", job["ReqMem"]), job.to_dict()
        assert int(job["AllocCPUS"]) == spec["cpus"], job.to_dict()


def test_slurm_metrics_equal_the_local_run(slurm_run, tmp_path_factory):
    root = slurm_run[0]
    local = infra.mini_local_run(tmp_path_factory)
    pd.testing.assert_frame_equal(infra.metrics(root, infra.MINI), infra.metrics(local, infra.MINI))


def test_slurm_rerun_has_nothing_to_do(slurm_run):
    root, xdg, _, _ = slurm_run
    dry = infra.run(["snakemake", "--profile", "slurm", "-n"], root, timeout=300, XDG_CONFIG_HOME=str(xdg))
    assert "Nothing to be done" in dry.stdout, dry.stdout[-3000:]


# ---- a job killed by SLURM ---------------------------------------------------------------------------
# Long enough never to finish inside its 1-minute limit, a checkpoint after every rollout step.
# Far more training than two 1-minute attempts can finish even on an idle machine (~0.25 s per rollout
# step there): the job must always hit its time limit.
KILL = {**infra.MINI, "train": {"steps": 2000, "save_every": 5},
        "resources": {"train": {"runtime_min": 1}}}


def _exported(state: Path) -> list[int]:
    return sorted(int(p.name[4:]) for p in (state / "export").glob("step*") if p.is_dir())


def test_killed_job_leaves_a_log_no_output_and_resumes(cluster, tmp_path_factory):
    from spurious_rewards import paths

    local = infra.mini_local_run(tmp_path_factory)
    root = infra.checkout(tmp_path_factory.mktemp("slurm-kill"), KILL)
    # data and base model from the local run (same parameters), mtimes kept: only train runs here
    r_local, r = infra.results(local, infra.MINI), infra.results(root, KILL)
    for sub in ("data", "models"):
        shutil.copytree(r_local / sub, r / sub, symlinks=True)
    # mtimes of the copies need not be in DAG order (dvc commit in that clone rewrites files): mark the
    # base model up to date locally, so that only the train job goes to SLURM
    infra.run(["snakemake", "--touch", "--cores", "1", str(paths.base_model(r, "toy").relative_to(root))],
              root, timeout=300)
    xdg = tmp_path_factory.mktemp("xdg-kill")
    _install_profile(root, xdg)
    target = str(paths.train_metrics(r, "toy", "ground_truth", 1).relative_to(root))
    outputs = [paths.checkpoints_dir(r, "toy", "ground_truth", 1), paths.train_metrics(r, "toy", "ground_truth", 1)]
    state = paths.train_state_dir(r, "toy", "ground_truth", 1)
    log = r / "logs" / "train" / "toy" / "ground_truth" / "seed1.log"
    cmd = ["snakemake", target, "--profile", "slurm", "--slurm-init-seconds-before-status-checks", "1"]

    attempts = []
    for attempt in (1, 2):
        since = _now()
        proc = infra.run(cmd, root, timeout=600, check=False, XDG_CONFIG_HOME=str(xdg))
        jobs = _sacct(since)
        attempts.append((proc, jobs, _exported(state), log.read_text(encoding="utf-8")))
        assert proc.returncode != 0, proc.stdout[-3000:]
        assert "TIMEOUT" in proc.stdout, proc.stdout[-3000:]  # the executor names SLURM's verdict
        assert list(jobs["State"]) == ["TIMEOUT"], jobs
        assert not any(p.exists() for p in outputs), "a killed job left an output that looks complete"
        assert _exported(state), f"attempt {attempt}: no checkpoint was saved before the time limit"
        # the SLURM log says why; the job's own log shows how far it got
        (slurm_log,) = (root / ".snakemake" / "slurm_logs" / "rule_train").rglob(f"{jobs['JobIDRaw'].iloc[0]}.log")
        assert "DUE TO TIME LIMIT" in slurm_log.read_text(encoding="utf-8")
        assert "exported" in attempts[-1][3], attempts[-1][3][-3000:]

    (_, _, first, log1), (_, _, second, log2) = attempts
    assert "resuming from" not in log1
    assert "resuming from" in log2, log2[-3000:]          # the rerun continued from the state dir ...
    assert max(second) > max(first), (first, second)      # ... and got further than the first attempt
