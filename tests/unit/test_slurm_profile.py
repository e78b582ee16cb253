"""The SLURM profile parses as Snakemake parses it, installs under the name `slurm`, and keeps the
failure policy of the README: SLURM requeues preempted jobs, Snakemake does not retry (never both),
incomplete jobs are rerun. No cluster needed (tests/slurm/ runs it for real)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "workflow" / "profiles" / "slurm" / "config.yaml"


def _profile() -> dict:
    return yaml.safe_load(PROFILE.read_text(encoding="utf-8"))


def test_failure_policy_requeue_xor_retry():
    p = _profile()
    assert p["executor"] == "slurm"
    assert p["rerun-incomplete"] is True
    requeue = bool(p.get("slurm-requeue"))
    retries = int(p.get("retries", 0))
    assert requeue != (retries > 0), "requeue or retries, not both (executor-plugin-slurm #109)"
    assert not p.get("slurm-no-requeue")


def test_site_settings_stay_out_of_the_experiment():
    p = _profile()
    # partition/account are set at install time; per-rule cpus/mem/runtime/gpus come from params.yaml
    assert "slurm_partition" not in p["default-resources"]
    assert "slurm_account" not in p["default-resources"]
    text = PROFILE.read_text(encoding="utf-8")
    assert "  #slurm_partition: " in text and "  #slurm_account: " in text  # install-time placeholders
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    for family, spec in params["resources"].items():
        assert {"cpus", "mem_mb", "runtime_min", "gpus"} <= set(spec), family


def test_every_profile_key_is_a_snakemake_option(tmp_path):
    """Snakemake's own parser reads the profile: an unknown or misspelt key fails here."""
    from snakemake.cli import get_argument_parser

    parser = get_argument_parser(profiles=[str(PROFILE.parent)])
    args = parser.parse_args([])
    assert args.executor == "slurm"
    assert args.rerun_incomplete is True
    assert int(args.retries) == 0
    # plugin options live under their own names; the parser accepted them if it got here
    assert any("slurm_partition" not in r for r in args.default_resources)


def test_install_target_writes_site_settings(tmp_path):
    dest = tmp_path / "xdg" / "snakemake" / "slurm"
    subprocess.run(["make", "-s", "install-slurm-profile", f"SLURM_PROFILE_DIR={dest}",
                    "SLURM_PARTITION=debug", "SLURM_ACCOUNT=ci"], cwd=REPO, check=True,
                   capture_output=True, env={**os.environ, "MAKEFLAGS": ""})
    installed = yaml.safe_load((dest / "config.yaml").read_text(encoding="utf-8"))
    assert installed["default-resources"]["slurm_partition"] == "debug"
    assert installed["default-resources"]["slurm_account"] == "ci"
    assert {k: v for k, v in installed.items() if k != "default-resources"} == \
        {k: v for k, v in _profile().items() if k != "default-resources"}

    # `snakemake --profile slurm` (the bare name) resolves to the installed copy via XDG_CONFIG_HOME
    from snakemake import cli

    old = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)  # ./slurm would win over the user config dir
        found = cli.get_profile_dir("slurm")
    finally:
        os.chdir(cwd)
        if old is None:
            os.environ.pop("XDG_CONFIG_HOME")
        else:
            os.environ["XDG_CONFIG_HOME"] = old
    assert found is not None and found[1] == dest / "config.yaml"
