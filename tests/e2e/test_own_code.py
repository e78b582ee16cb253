"""Each engine runs the checkout's own code, and editing a module a stage imports reruns that stage.

DVC: two scratch checkouts whose `data` stage differs by one printed marker, each run by `dvc repro`
with PYTHONPATH pointing at the OTHER checkout's src/ (the situation of a second clone, or of
`dvc exp run --temp`, where the installed package is another copy): each prints its own marker.
Snakemake: after a real `data` job, editing a module `data` imports makes `snakemake -n` plan it
again, with the reason; editing a module it does not import plans nothing.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e import infra

pytestmark = pytest.mark.e2e
DATA_STAGE = "src/spurious_rewards/commands/data.py"


def _mark(root, marker: str) -> None:
    with open(root / DATA_STAGE, "a", encoding="utf-8") as fh:
        fh.write(f"\nprint({marker!r}, flush=True)\n")


def test_dvc_runs_each_checkouts_own_code(tmp_path):
    a = infra.checkout(tmp_path / "a")
    b = infra.checkout(tmp_path / "b")
    _mark(a, "checkout-marker-A")
    _mark(b, "checkout-marker-B")
    for own, other, marker, foreign in ((a, b, "A", "B"), (b, a, "B", "A")):
        proc = infra.run(["dvc", "repro", "dvc.yaml:data"], own, timeout=300, PYTHONPATH=str(other / "src"))
        assert f"checkout-marker-{marker}" in proc.stdout, proc.stdout[-3000:]
        assert f"checkout-marker-{foreign}" not in proc.stdout, proc.stdout[-3000:]


def _dry_run(root, target: str) -> str:
    return infra.run(["snakemake", "-n", "--cores", "1", target], root, timeout=300).stdout


def test_snakemake_reruns_a_stage_when_a_module_it_imports_changes(tmp_path):
    root = infra.checkout(tmp_path / "c")
    target = str(infra.results(root).relative_to(root) / "data" / "train.jsonl")
    infra.run(["snakemake", "--cores", "1", target], root, timeout=300)
    assert "Nothing to be done" in _dry_run(root, target)

    # not imported by `data`: nothing to do
    with open(root / "src/spurious_rewards/training/advantage.py", "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    assert "Nothing to be done" in _dry_run(root, target)

    # imported (data -> commands.data -> data.synthetic): the data job is planned again, with the reason
    with open(root / "src/spurious_rewards/data/synthetic.py", "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    out = _dry_run(root, target)
    assert re.search(r"params have changed since last execution:\s+data\s", out), out[-3000:]
    assert "Nothing to be done" not in out
