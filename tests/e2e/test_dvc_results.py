"""DVC's everyday commands on a run: metrics, plots and experiments (issue 17, item 1).

A tiny clone (one condition, a few problems) is run by `dvc repro dvc.yaml` and committed to git;
then `dvc metrics show/diff` and `dvc plots show/diff` must print the numbers analyze declared, and
`dvc exp run -S train.learning_rate=...` must run an experiment that `dvc exp show` compares. Every DVC
command names the root dvc.yaml or works from it, as in tests/e2e/test_dvc_sharing.py.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e import infra

pytestmark = pytest.mark.e2e
GIT = ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.invalid"]
# The smoke configuration cut further: the DAG's shape (every stage) at the least CPU time.
# The random reward: its rewards vary within every group, so each step updates the policy (a reward of 0
# for every rollout, as ground truth gives on a barely trained model, would leave it unchanged).
TINY = {"experiment": {"conditions": ["random"]},
        "data": {"train": {"n": 60},
                 "benchmarks": {"arith": {"n": 12}, "arith_hard": {"n": 4, "samples": 2}}},
        "models": {"toy": {"pretrain": {"corpus_size": 600, "steps": 30}}},
        "labels": {"samples_per_prompt": 2, "max_prompts": 8}}
LR = "3e-3"


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    root = infra.checkout(tmp_path_factory.mktemp("dvc-results") / "repo", TINY)
    infra.run(["dvc", "repro", "dvc.yaml"], root, timeout=1500)
    infra.run(["git", "add", "-A"], root, timeout=60)
    infra.run([*GIT, "commit", "-q", "-m", "baseline"], root, timeout=60)
    return root


def test_metrics_show_prints_the_summary_and_per_run_metrics(clone):
    shown = json.loads(infra.run(["dvc", "metrics", "show", "--json"], clone, timeout=120).stdout)
    data = next(iter(shown.values()))["data"]
    r = infra.results(clone, TINY).relative_to(clone)
    summary = data[f"{r}/dvc/summary.json"]["data"]["toy"]["random"]
    assert set(summary) == {"arith", "arith_hard"}
    arith = summary["arith"]
    assert arith["final_step"] == 2 and arith["n_seeds"] == 1
    assert arith["delta_ci_low"] <= arith["delta"] <= arith["delta_ci_high"]
    run = data[f"{r}/dvc/runs.json"]["data"]["toy"]["random"]["seed1"]
    assert run["train"]["step"] == 2 and {"reward", "entropy", "code_frequency", "clip_ratio"} <= set(run["train"])
    table = infra.run(["dvc", "metrics", "show"], clone, timeout=120).stdout
    assert "toy.random.arith.delta" in table, table
    print("\n[dvc metrics show]\n" + table)


def test_plots_show_json_has_every_declared_plot(clone):
    shown = json.loads(infra.run(["dvc", "plots", "show", "--json"], clone, timeout=300).stdout)
    ids = set(shown["data"])
    r = infra.results(clone, TINY).relative_to(clone)
    for name, bench in (("accuracy", "/arith.csv"), ("code_frequency", "/arith.csv"),
                        ("train_reward", ".csv"), ("clip_ratio", ".csv")):
        assert f"{r}/dvc/plots/{name}/toy/random{bench}" in ids, (name, sorted(ids))
    acc = shown["data"][f"{r}/dvc/plots/accuracy/toy/random/arith.csv"][0]["content"]
    assert [float(v["step"]) for v in acc["data"]["values"]] == [0.0, 1.0, 2.0]
    assert acc["encoding"]["x"]["title"] == "rollout step"


def test_exp_run_with_a_changed_learning_rate_is_compared_by_exp_show(clone):
    infra.run(["dvc", "exp", "run", "-S", f"train.learning_rate={LR}", "dvc.yaml"], clone, timeout=1200)
    table = infra.run(["dvc", "exp", "show", "--no-pager", "--md"], clone, timeout=120).stdout
    print("\n[dvc exp show]\n" + table)
    rows = json.loads(infra.run(["dvc", "exp", "show", "--json"], clone, timeout=120).stdout)
    # rows: the workspace, then the baseline commit with its experiments
    baseline = next(r for r in rows if r["rev"] != "workspace")
    exps = [rev for e in baseline.get("experiments") or [] for rev in e["revs"]]
    assert len(exps) == 1, rows

    def lr_and_metrics(rev):
        data = rev["data"]
        return data["params"]["params.yaml"]["data"]["train"]["learning_rate"], data["metrics"]

    base_lr, base_metrics = lr_and_metrics(baseline)
    exp_lr, exp_metrics = lr_and_metrics(exps[0])
    assert float(exp_lr) == float(LR) != float(base_lr)
    assert set(exp_metrics) == set(base_metrics) and any(k.endswith("dvc/runs.json") for k in exp_metrics)
    assert exp_metrics != base_metrics
    # after the experiment the workspace holds its results: metrics diff and plots diff against HEAD
    diff = infra.run(["dvc", "metrics", "diff", "HEAD", "--json"], clone, timeout=120).stdout
    assert json.loads(diff), "metrics diff found no change after a different learning rate"
    out = clone / "plots-diff"
    infra.run(["dvc", "plots", "diff", "HEAD", "-o", str(out)], clone, timeout=300)
    assert (out / "index.html").is_file()
