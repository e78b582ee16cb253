"""The Snakemake rules are the stage table: one rule per stage, same names, no private Snakemake API."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from spurious_rewards import stages


def _snakemake(scratch: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "snakemake"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONPATH": str(scratch / "src"), **env}
    return subprocess.run([str(exe) if exe.exists() else shutil.which("snakemake"), *args], cwd=scratch,
                          capture_output=True, text=True, env=env, timeout=300)


def _scratch(tmp_path, repo):
    from tests.e2e.smoke import scratch_checkout

    return scratch_checkout(tmp_path / "clone", yaml.safe_load((repo / "params.yaml").read_text()))


def test_every_stage_is_a_rule_of_the_same_name(tmp_path, repo):
    proc = _snakemake(_scratch(tmp_path, repo), "--list-rules")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(proc.stdout.split()) == sorted([s.name for s in stages.STAGES] + ["all"])


def test_cache_base_labels_is_accepted_for_the_benchmarked_rules(tmp_path, repo):
    """Snakemake refuses `--cache` on a benchmarked rule (WorkflowError): the dry run passing shows that
    base and labels have no benchmark in this invocation."""
    scratch = _scratch(tmp_path, repo)
    cache = tmp_path / "cache"
    cache.mkdir()
    proc = _snakemake(scratch, "-n", "--forceall", "--cores", "2", "--cache", "base", "labels",
                      SNAKEMAKE_OUTPUT_CACHE=str(cache))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    written = re.findall(r"Output file (\S+) will be written to global between-workflow cache", proc.stdout)
    assert sorted(written) == ["results/default/labels/toy/majority_vote.jsonl", "results/default/models/toy/base"]


def test_each_rule_runs_its_own_stage_command(tmp_path, repo):
    """A job runs its own rule's command, not the last generated rule's (`shell:` is evaluated again
    when the job runs, so a loop variable there would name the last stage, `report`)."""
    scratch = _scratch(tmp_path, repo)
    proc = _snakemake(scratch, "--cores", "1", "results/default/data/train.jsonl", HF_HUB_OFFLINE="1")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert (scratch / "results" / "default" / "data" / "train.jsonl").stat().st_size > 0
    assert (scratch / "results" / "default" / "benchmarks" / "data.tsv").exists()


def test_rules_use_no_private_snakemake_attribute(repo):
    for path in [repo / "Snakefile", *sorted((repo / "workflow" / "rules").glob("*.smk"))]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\.\s*_[a-z]\w*\s*=", text), f"{path.name} assigns a private attribute"
        assert "rule_proxy.rule" not in text, path.name
