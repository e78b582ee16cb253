"""Analyses are plugins: one module registers an analysis; analyze writes its table, report adds its
section (and figure) after the built-in ones, and a report of an analysis folder without its table
leaves it out."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap

import pandas as pd
import pytest
import yaml

from spurious_rewards import cli, io, paths
from spurious_rewards.analysis import registry
from spurious_rewards.analysis.plugin import Analysis
from spurious_rewards.commands import report as report_stage
from tests.unit.analysis_fixtures import MODELS, build_results

# The whole plugin: the README's "Add your own analysis" example.
PLUGIN = textwrap.dedent('''
    """Longest response per model and benchmark (base model and runs, default prompt)."""
    import matplotlib.pyplot as plt

    from spurious_rewards.analysis.plugin import Analysis
    from spurious_rewards.analysis.registry import register


    def compute(ctx):
        g = ctx.grades[ctx.grades["variant"] == "default"]
        return {"longest_response.csv": g.groupby(["model", "benchmark"], sort=True)["n_tokens"].max()
                .reset_index(name="longest")}


    def figures(tables, out_dir, ctx):
        t = tables["longest_response.csv"]
        fig, ax = plt.subplots()
        ax.bar(range(len(t)), t["longest"])
        fig.savefig(out_dir / "longest_response.png")
        plt.close(fig)
        return [out_dir / "longest_response.png"]


    def section(tables, figures, ctx):
        rows = [f"- {r.model} / {r.benchmark}: {r.longest} tokens"
                for r in tables["longest_response.csv"].itertuples()]
        return "\\n".join(["## Longest response", "", *rows, "", *[f"![longest]({f})" for f in figures]]) + "\\n"


    ANALYSIS = register(Analysis(name="longest_response", tables=("longest_response.csv",),
                                 compute=compute, figures=figures, section=section))
''')


@pytest.fixture()
def plugin(tmp_path, monkeypatch):
    """The module's name, importable; afterwards the registry is as before."""
    folder = tmp_path / "plugin"
    folder.mkdir()
    (folder / "my_longest_response.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    try:
        yield "my_longest_response"
    finally:
        _forget()


def _forget():
    """As in a new process: the module not imported, its analysis not registered."""
    registry.unregister("longest_response")
    sys.modules.pop("my_longest_response", None)


def _with_plugins(pf, plugins):
    raw = yaml.safe_load(pf.read_text(encoding="utf-8"))
    raw["analysis"]["plugins"] = plugins
    pf.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return pf


def _expected(results) -> pd.DataFrame:
    frames = [io.read_parquet(p) for p in sorted(results.glob("eval/**/grades.parquet"))]
    g = pd.concat(frames, ignore_index=True)
    g = g[g["variant"] == "default"]
    return g.groupby(["model", "benchmark"], sort=True)["n_tokens"].max().reset_index(name="longest")


def test_a_registered_analysis_writes_its_table_and_its_report_section(tmp_path, plugin):
    pf = _with_plugins(build_results(tmp_path / "run"), [plugin])
    results = tmp_path / "run" / "results"
    assert cli.main(["analyze", "--params", str(pf)]) == 0
    assert "longest_response" in [a.name for a in registry.analyses()]
    _forget()  # the report runs in another process: it imports what the analysis provenance names
    assert cli.main(["report", "--params", str(pf)]) == 0

    analysis = paths.analysis_dir(results)
    got = pd.read_csv(analysis / "longest_response.csv")
    expected = _expected(results)
    assert len(got) == 2 * len(MODELS) and got["longest"].between(5, 49).all()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # the built-in tables are still all there
    assert {"metrics.csv", "summary.csv", "code_reasoning.csv", "switch.csv", "prompting.csv",
            "train_metrics.csv", "provenance.json"} <= {p.name for p in analysis.iterdir()}

    report = paths.report_dir(results)
    md = (report / "report.md").read_text(encoding="utf-8")
    row = expected.iloc[0]
    assert f"- {row['model']} / {row['benchmark']}: {row['longest']} tokens" in md
    # after the built-in sections, before provenance; its figure is drawn and linked
    assert md.index("## Organism experiment") < md.index("## Longest response") < md.index("## Provenance")
    assert (report / "figures" / "longest_response.png").stat().st_size > 1000
    assert "![longest](figures/longest_response.png)" in md

    # the same report without the plugin (an older provenance record): its section is left out
    _forget()
    prov = json.loads((analysis / "provenance.json").read_text(encoding="utf-8"))
    assert prov["analysis"]["plugins"] == [plugin]
    del prov["analysis"]["plugins"]
    (analysis / "provenance.json").write_text(json.dumps(prov), encoding="utf-8")
    report_stage.build(analysis, tmp_path / "without")
    assert "## Longest response" not in (tmp_path / "without" / "report.md").read_text(encoding="utf-8")

    # the plugin registered, but an analysis folder written before it existed: left out as well
    importlib.import_module(plugin)
    (analysis / "longest_response.csv").unlink()
    report_stage.build(analysis, tmp_path / "old")
    old = (tmp_path / "old" / "report.md").read_text(encoding="utf-8")
    assert "## Longest response" not in old and "## Summary" in old and "## Provenance" in old
    assert not (tmp_path / "old" / "figures" / "longest_response.png").exists()


def test_register_refuses_a_second_writer_of_a_table_and_a_repeated_name():
    with pytest.raises(ValueError, match="summary.csv already written by analysis 'metrics'"):
        registry.register(Analysis(name="mine", tables=("summary.csv",)))
    with pytest.raises(ValueError, match="'metrics' is already registered"):
        registry.register(Analysis(name="metrics"))
    with pytest.raises(ValueError, match="plain"):
        registry.register(Analysis(name="mine", tables=("sub/x.csv",)))
    assert [a.name for a in registry.analyses()] == [a.name for a in registry.BUILTIN]


def test_analyze_refuses_tables_an_analysis_did_not_declare(tmp_path):
    pf = build_results(tmp_path / "run", models=("toy",))
    registry.register(Analysis(name="sloppy", tables=("a.csv",), compute=lambda ctx: {"b.csv": ctx.train}))
    try:
        with pytest.raises(ValueError, match="'sloppy' returned tables \\['b.csv'\\], declared \\['a.csv'\\]"):
            from spurious_rewards.commands import analyze as stage

            stage.main(type("Args", (), {"params": str(pf)})())
    finally:
        registry.unregister("sloppy")
    assert not paths.analysis_dir(tmp_path / "run" / "results").exists()


def test_a_plugin_module_that_does_not_import_exits_2_naming_the_key(tmp_path, capsys):
    pf = _with_plugins(build_results(tmp_path / "run", models=("toy",)), ["no_such_analysis_module"])
    assert cli.main(["analyze", "--params", str(pf)]) == 2
    err = capsys.readouterr().err
    assert "key analysis.plugins[0]: cannot import analysis module 'no_such_analysis_module'" in err
    assert not paths.analysis_dir(tmp_path / "run" / "results").exists()
