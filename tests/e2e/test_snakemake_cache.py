"""Snakemake's between-workflow output cache for the expensive deterministic rules (base, labels).

Workflow 1 builds the base model and the majority-vote labels with `--cache base labels`: Snakemake
moves the outputs into $SNAKEMAKE_OUTPUT_CACHE and symlinks them back. Workflow 2, another checkout
with the same parameters, gets both by symlink without running either job (their logs stay empty).
The cache key covers the rule's command, its params (the `fingerprint` of the params.yaml keys the
stage reads) and the whole upstream chain; it does not cover the package's code (README).
Local executor only: the SLURM executor ignores the cache for rules it submits.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.e2e import infra

pytestmark = pytest.mark.e2e
# A barely pre-trained model and few labelled prompts: the cache does not care about quality.
OVERRIDES = {**infra.MINI, "models": {"toy": {"pretrain": {"corpus_size": 600, "steps": 20}}},
             "labels": {"max_prompts": 8}}
CACHED = ("base", "labels")


def _target(root):
    return str((infra.results(root, OVERRIDES) / "labels" / "toy" / "majority_vote.jsonl")
               .relative_to(root))


@pytest.fixture(scope="module")
def two_workflows(tmp_path_factory):
    cache = tmp_path_factory.mktemp("smk-output-cache")
    runs = []
    for name in ("wf1", "wf2"):
        root = infra.checkout(tmp_path_factory.mktemp(name), OVERRIDES)
        t0 = time.monotonic()
        proc = infra.run(["snakemake", _target(root), "--cores", "2", "--cache", *CACHED], root,
                         timeout=1200, SNAKEMAKE_OUTPUT_CACHE=str(cache))
        runs.append((root, proc.stdout, round(time.monotonic() - t0, 1)))
    print(f"\n[snakemake cache] wall times (s): first {runs[0][2]}, second {runs[1][2]}")
    return cache, runs


def _outputs(root):
    r = infra.results(root, OVERRIDES)
    return [r / "models" / "toy" / "base", r / "labels" / "toy" / "majority_vote.jsonl",
            r / "labels" / "toy" / "incorrect.jsonl", r / "labels" / "toy" / "samples.parquet"]


def test_first_workflow_fills_the_cache(two_workflows):
    cache, [(root, out, _), _] = two_workflows
    assert "to cache" in out, out[-3000:]
    assert any(cache.iterdir())
    for rule in CACHED:
        assert (infra.results(root, OVERRIDES) / "logs" / rule / "toy.log").stat().st_size > 0, f"{rule} did not run"


def test_second_workflow_symlinks_instead_of_recomputing(two_workflows):
    cache, [(root1, _, _), (root2, out, _)] = two_workflows
    assert "from cache" in out, out[-3000:]
    for rule in CACHED:  # the jobs never ran: Snakemake only creates their (empty) log files
        log = infra.results(root2, OVERRIDES) / "logs" / rule / "toy.log"
        assert not log.exists() or log.stat().st_size == 0, (rule, log.read_text(encoding="utf-8")[-2000:])
    for path1, path2 in zip(_outputs(root1), _outputs(root2)):
        if path2.is_dir():  # a cached directory comes back as a folder of symlinks
            entries = sorted(e for e in path2.iterdir() if e.name != ".snakemake_timestamp")
            assert entries and all(e.is_symlink() for e in entries), path2
            targets = {os.path.realpath(e) for e in entries}
        else:
            assert path2.is_symlink(), path2
            targets = {os.path.realpath(path2)}
        assert all(t.startswith(str(cache)) for t in targets), targets
        if path1.is_file():
            assert path1.read_bytes() == path2.read_bytes()


def test_second_workflow_continues_from_cached_outputs(two_workflows):
    """Downstream rules run on the symlinked base model and labels; nothing upstream reruns."""
    _, [_, (root2, _, _)] = two_workflows
    dry = infra.run(["snakemake", _target(root2), "-n", "--cores", "2", "--cache", *CACHED], root2,
                    timeout=600, SNAKEMAKE_OUTPUT_CACHE=str(two_workflows[0]))
    assert "Nothing to be done" in dry.stdout, dry.stdout[-3000:]
