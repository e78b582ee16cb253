"""Stage inputs are derived: code deps from the import graph, parameters from the modules' PARAMS.

Perturbing any declared key changes the stage's fingerprint (Snakemake) and the values DVC tracks;
a key the stage's code reads but no reached module declares fails the scan (tests/unit/param_reads.py,
a static scan: it sees every branch, also the GPU-only ones a CPU run never takes; its limits are
in its docstring).
"""

from __future__ import annotations

import copy
import re
import shutil

import pytest
import yaml

from spurious_rewards import codegraph, stages
from spurious_rewards.commands import export_dvc as dvc_export
from spurious_rewards.config import Params, load_params
from tests.conftest import committed_text
from tests.unit import param_reads

# Read by every stage but deciding where files go or how much hardware a job gets, not what it
# computes: the engines track outputs by path, and a new core count must not rerun the sweep.
UNTRACKED = ("experiment.results_dir", "resources")
WC = {"model": "toy", "condition": "random", "seed": 1}


def _rel(stage):
    return {p.relative_to(codegraph.PACKAGE_DIR).as_posix() for p in stage.code_files}


def _covered(key: str, declared) -> bool:
    return any(key == d or key.startswith(d + ".") for d in declared)


def _undeclared_reads(stage, declared) -> dict[str, list[str]]:
    out = {}
    for path in stage.code_files:
        untracked = (*UNTRACKED, *_module_constant(path, "UNTRACKED_PARAMS"))
        missing = sorted(k for k in param_reads.reads(path)
                         if not _covered(k, declared) and not _covered(k, untracked))
        if missing:
            out[path.relative_to(codegraph.PACKAGE_DIR).as_posix()] = missing
    return out


def _module_constant(path, name):
    import ast

    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    return ()


# -- code dependencies ---------------------------------------------------------------------------

def test_the_known_misses_are_code_deps_now():
    labels, train, grade = (_rel(stages.stage(n)) for n in ("labels", "train", "grade"))
    assert {"grading/__init__.py", "grading/base.py", "prompts.py", "model/loading.py", "voting.py",
            "generation/hf.py", "commands/labels.py"} <= labels
    assert {"prompts.py", "commands/train.py", "training/grpo_config.py", "rewards.py"} <= train
    assert {"data/benchmarks.py", "commands/grade.py", "grading/pool.py"} <= grade
    for stage in stages.STAGES:
        assert {"config.py", "__init__.py", "cli.py"} <= _rel(stage), stage.name
    # and only what is reached: data never runs training code
    assert not any(f.startswith("training/") for f in _rel(stages.stage("data")))


def test_dvc_depends_on_the_derived_code_files(repo):
    doc = yaml.safe_load((repo / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    for stage in stages.STAGES:
        deps = doc[stage.name]["deps"]
        assert set(stage.code_deps) <= set(deps), stage.name
        assert all((repo / d).is_file() for d in stage.code_deps), stage.name
        # no hand-kept src folder left beside the derived files
        assert [d for d in deps if d.startswith("src/")] == list(stage.code_deps), stage.name


def _package(root, files: dict[str, str]):
    for rel, text in files.items():
        path = root / "spurious_rewards" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "spurious_rewards"


def test_lazy_relative_and_parent_package_imports_are_followed(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "", "__main__.py": "from spurious_rewards import cli\n", "cli.py": "",
        "config.py": "def f():\n    from spurious_rewards import rewards\n",
        "rewards.py": "",
        "stage.py": "def main():\n    from spurious_rewards.sub.deep import thing\n    from . import helper\n",
        "helper.py": "", "unused.py": "",
        "sub/__init__.py": "", "sub/deep.py": "from .leaf import x\n", "sub/leaf.py": "x = 1\n"})
    got = {p.relative_to(root).as_posix() for p in codegraph.reached_files("spurious_rewards.stage", root)}
    assert got == {"__init__.py", "__main__.py", "cli.py", "config.py", "rewards.py", "stage.py",
                   "helper.py", "sub/__init__.py", "sub/deep.py", "sub/leaf.py"}


def test_an_import_marked_not_a_dependency_is_not_followed(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "", "__main__.py": "", "config.py": "", "heavy.py": "", "light.py": "",
        "stage.py": ("def main():\n    from spurious_rewards import heavy  # codegraph: not a dependency (why)\n"
                     "    from spurious_rewards import light\n")})
    got = {p.relative_to(root).as_posix() for p in codegraph.reached_files("spurious_rewards.stage", root)}
    assert "light.py" in got and "heavy.py" not in got


def test_every_exclusion_in_the_package_is_known_and_says_why():
    marked = {}
    for path in sorted(codegraph.PACKAGE_DIR.rglob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if codegraph.NOT_A_DEPENDENCY in line and "import" in line:
                reason = line.split(codegraph.NOT_A_DEPENDENCY, 1)[1].strip()
                assert reason.startswith("(") and len(reason) > 10, f"{path}: say why: {line}"
                marked[path.relative_to(codegraph.PACKAGE_DIR).as_posix()] = line.split("#")[0].strip()
    # a new exclusion is a decision about reruns: add it here on purpose
    assert marked == {"config.py": "from spurious_rewards import rewards",
                      "commands/train.py": "from spurious_rewards import stages"}
    assert "rewards.py" not in _rel(stages.stage("data")) and "rewards.py" in _rel(stages.stage("train"))


def test_any_byte_of_a_reached_file_changes_the_code_hash(tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(codegraph.PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__", "*.schema.yaml"))
    files = codegraph.reached_files("spurious_rewards.commands.labels", root)
    before = codegraph.files_hash(files, root)
    assert before == codegraph.files_hash(codegraph.reached_files("spurious_rewards.commands.labels"))
    with open(root / "grading" / "base.py", "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    assert codegraph.files_hash(files, root) != before


# -- parameters ----------------------------------------------------------------------------------

def test_the_known_param_misses_are_declared():
    assert {"evaluate.batch_size", "evaluate.vllm", "experiment.device"} <= set(stages.stage("labels").params)
    assert "conditions.{condition}" not in stages.stage("evaluate_base").params
    assert "conditions.{condition}" in stages.stage("evaluate").params


def _perturbed(raw: dict, dotted: str) -> dict:
    raw = copy.deepcopy(raw)
    *parents, last = dotted.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    old = node.get(last)
    node[last] = {**old, "_perturbed": 1} if isinstance(old, dict) else ["perturbed", old]
    return raw


def _dvc_values(entry: dict, raw: dict, wc: dict) -> dict:
    """The values DVC tracks for one matrix item: its params list, resolved in the parameter file."""
    out = {}
    for key in entry.get("params", []):
        key = re.sub(r"\$\{item\.(\w+)\}", lambda m: str(wc[m.group(1)]), key)
        out[key] = stages._lookup(raw, key)
    return out


@pytest.mark.parametrize("stage", stages.STAGES, ids=lambda s: s.name)
def test_perturbing_any_declared_key_changes_fingerprint_and_dvc_params(stage, repo):
    params = load_params(repo / "params.yaml", check_rewards=False)
    entry = yaml.safe_load(dvc_export.render("params.yaml", "dvc.yaml"))["stages"][stage.name]
    wc = {w: WC[w] for w in stage.wildcards}
    before = stages.fingerprint(params, stage, **wc)
    dvc_before = _dvc_values(entry, params.raw, wc)
    assert stage.params == tuple(stage.params), stage.name
    for key in stages.params_keys(stage, **wc):
        raw = _perturbed(params.raw, key)
        changed = Params(raw=raw, path="perturbed.yaml")
        assert stages.fingerprint(changed, stage, **wc) != before, (stage.name, key)
        assert _dvc_values(entry, raw, wc) != dvc_before, (stage.name, key)
    # and a key no reached module reads changes neither
    raw = _perturbed(params.raw, "resources")
    assert stages.fingerprint(Params(raw=raw), stage, **wc) == before


@pytest.mark.parametrize("stage", stages.STAGES, ids=lambda s: s.name)
def test_a_stage_reads_only_keys_it_declares(stage):
    assert _undeclared_reads(stage, stage.declared_params) == {}
    if not stage.wildcards:
        # a whole-sweep stage would silently drop a per-job key: it must declare the whole section
        assert stage.params == tuple(k for k in stage.declared_params
                                     if not any(k.startswith(o + ".") for o in stage.declared_params))


def test_the_read_check_catches_the_old_labels_declaration():
    old = ("labels", "grader", "models.{model}", "evaluate.backend")
    missing = _undeclared_reads(stages.stage("labels"), old)
    assert missing["commands/labels.py"] == ["evaluate.batch_size", "evaluate.vllm", "experiment.device"]


def test_the_scan_follows_names_and_reads_passed_values_whole(tmp_path):
    src = tmp_path / "m.py"
    src.write_text(
        "def f(params, name):\n"
        "    ev = params.section('evaluate')\n"
        "    spec, lab = params.model(name), params.section('labels')\n"
        "    use(ev['batch_size'], ev.get('vllm', {}).get('dtype'), spec.get('prompt_template', 'chat'))\n"
        "    use(lab, params.experiment['device'], params.raw['data']['synthetic']['seed'])\n"
        "    for b in params.benchmarks: pass\n"
        "    params.train(name, 'x')['steps']\n"
        "    h = params.hash\n", encoding="utf-8")
    assert param_reads.reads(src) == {
        "evaluate.batch_size", "evaluate.vllm.dtype", "models.{model}.prompt_template", "labels",
        "experiment.device", "data.synthetic.seed", "data.benchmarks", "train.steps",
        "models.{model}.train", "conditions.{condition}.train"}


# -- modules of your own -----------------------------------------------------------------------------

def test_a_reward_and_an_analysis_of_your_own_are_inputs_in_both_engines(tmp_path, monkeypatch, repo):
    import yaml

    monkeypatch.chdir(tmp_path)  # both engines run in the checkout; user modules resolve from there
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "mine" / "rewards.py").write_text("# a reward factory\n", encoding="utf-8")
    (tmp_path / "my_analysis.py").write_text("# an analysis\n", encoding="utf-8")
    raw = yaml.safe_load(committed_text("params.yaml"))
    raw["conditions"]["short"] = {"reward": "mine.rewards:length_penalty_without_python",
                                  "labels": "ground_truth"}
    raw["conditions"]["installed"] = {"reward": "json:loads", "labels": "ground_truth"}  # not in the checkout
    raw["experiment"]["conditions"] += ["short", "installed"]
    raw["analysis"]["plugins"] = ["my_analysis", "json"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    params = load_params(tmp_path / "params.yaml", check_rewards=False)

    train = stages.stage("train")
    wc = {"model": "toy", "seed": "1"}
    assert train.inputs(params, {**wc, "condition": "short"})["reward_code"] == ["mine/rewards.py"]
    assert "reward_code" not in train.inputs(params, {**wc, "condition": "installed"})
    assert "reward_code" not in train.inputs(params, {**wc, "condition": "random"})
    for name in ("analyze", "report"):
        assert stages.stage(name).inputs(params, {})["analysis_code"] == ["my_analysis.py"]

    dvc = yaml.safe_load(dvc_export.render("params.yaml", "dvc.yaml"))["stages"]
    assert "mine/rewards.py" in dvc["train"]["deps"]
    assert "my_analysis.py" in dvc["analyze"]["deps"] and "my_analysis.py" in dvc["report"]["deps"]
    assert not any("my_analysis" in d for d in dvc["labels"]["deps"])
