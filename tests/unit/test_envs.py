"""Offline validation of the per-rule conda environments (envs/*.yaml).

No conda can run here (no frontend, no conda channel reachable), so CI runs every rule in the
project environment and this test checks what can be checked without solving:
  * each file is a conda environment YAML (known keys, channels, a non-empty dependency list);
  * every conda dependency is a valid match spec, every pip entry a valid PEP 508 requirement;
  * everything is pinned: conda packages carry a version, pip packages `==` (except pip itself and the
    project, installed from the checkout);
  * the pins agree with requirements/lock-cpu.txt (the tested CPU set) and, for GPU-only packages that
    the CPU lock lacks (vllm, deepspeed), with pyproject's `gpu` extra;
  * every rule of the workflow names a conda env, and that file exists, under the CPU default and under
    a GPU parameter set (the GPU variants *-gpu.yaml); CPU envs hold no vLLM/DeepSpeed;
  * (marked `pypi`, needs PyPI, minutes) each env's pip set resolves from wheels with pip's dry run.
Users create the envs with `snakemake --software-deployment-method conda` (README).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import tomllib
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
ENVS = sorted((REPO / "envs").glob("*.yaml"))
KEYS = {"name", "channels", "dependencies", "variables", "prefix"}
# The project itself: an editable install of the checkout (a local path, not a registry package).
LOCAL_PIP = re.compile(r"^(-e\s+)?\.{1,2}(/.*)?$")

# Conda match-spec subset used by env files: [channel::]name[ version[ build]], where version is a
# comma/pipe-joined list of [op]version with op in = == != >= <= > < ~= and * wildcards.
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_VER = r"(?:==|!=|>=|<=|~=|>|<|=)?\s*[0-9A-Za-z_.*+!]+"
_VERSPEC = rf"{_VER}(?:\s*[,|]\s*{_VER})*"
MATCH_SPEC = re.compile(rf"^(?:(?P<channel>[A-Za-z0-9_.\-/]+)::)?(?P<name>{_NAME})"
                        rf"(?:\s*(?P<version>{_VERSPEC})(?:\s+(?P<build>[A-Za-z0-9_.*]+))?)?$")


def _load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{path.name}: top level must be a mapping"
    return doc


def _split(doc: dict) -> tuple[list[str], list[str]]:
    conda, pip = [], []
    for dep in doc["dependencies"]:
        if isinstance(dep, dict):
            assert set(dep) == {"pip"} and isinstance(dep["pip"], list), f"bad dependency {dep!r}"
            pip += [str(p) for p in dep["pip"]]
        else:
            conda.append(str(dep))
    return conda, pip


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements" / "lock-cpu.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def _gpu_extra() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project.get("optional-dependencies", {}).get("gpu", [])]
    gpu_txt = REPO / "requirements" / "gpu.txt"
    if gpu_txt.is_file():
        for line in gpu_txt.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                reqs.append(Requirement(line))
    return {canonicalize_name(r.name): r for r in reqs}


def test_there_are_env_files():
    assert ENVS, "envs/*.yaml missing"


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_file_structure(path):
    doc = _load(path)
    assert set(doc) <= KEYS, f"unknown keys {set(doc) - KEYS}"
    channels = doc.get("channels", [])
    assert isinstance(channels, list) and channels and all(isinstance(c, str) for c in channels)
    # anaconda's `defaults` channel has licence terms and mixes badly with conda-forge
    assert "defaults" not in channels
    assert isinstance(doc.get("dependencies"), list) and doc["dependencies"]
    assert sum(isinstance(d, dict) for d in doc["dependencies"]) <= 1, "one pip: section at most"


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_conda_specs_are_valid_and_pinned(path):
    conda, pip = _split(_load(path))
    names = []
    for spec in conda:
        m = MATCH_SPEC.match(spec.strip())
        assert m, f"{path.name}: not a conda match spec: {spec!r}"
        assert m["version"], f"{path.name}: conda package not pinned: {spec!r}"
        names.append(m["name"])
    try:  # the real parser, when py-rattler is installed
        from rattler import MatchSpec
    except ImportError:
        pass
    else:
        for spec in conda:
            MatchSpec(spec)
    assert "python" in names, f"{path.name}: pin python"
    if pip:
        assert "pip" in names, f"{path.name}: a pip: section needs pip as a conda dependency"


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_pip_specs_are_valid_and_pinned(path):
    _, pip = _split(_load(path))
    for entry in pip:
        if LOCAL_PIP.match(entry.strip()):
            continue
        assert not entry.startswith("-"), f"{path.name}: pip option {entry!r} (pin packages instead)"
        try:
            req = Requirement(entry)
        except InvalidRequirement as err:
            pytest.fail(f"{path.name}: invalid pip requirement {entry!r}: {err}")
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{path.name}: pin with ==: {entry!r}"


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_pins_match_the_tested_lock(path):
    lock, gpu = _lock(), _gpu_extra()
    _, pip = _split(_load(path))
    for entry in pip:
        if LOCAL_PIP.match(entry.strip()):
            continue
        req = Requirement(entry)
        name, version = canonicalize_name(req.name), next(iter(req.specifier)).version
        if name in lock:
            assert version == lock[name], (f"{path.name}: {req.name}=={version} but requirements/"
                                           f"lock-cpu.txt has {lock[name]}")
        else:
            assert name in gpu, (f"{path.name}: {req.name} is neither in requirements/lock-cpu.txt nor in "
                                 "the gpu extra of pyproject.toml / requirements/gpu.txt")
            assert gpu[name].specifier.contains(version, prereleases=True), (
                f"{path.name}: {req.name}=={version} outside the gpu extra's {gpu[name]}")


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_python_matches_requires_python(path):
    conda, _ = _split(_load(path))
    (python,) = [s for s in conda if MATCH_SPEC.match(s)["name"] == "python"]
    version = MATCH_SPEC.match(python)["version"].lstrip("=<>!~ ").rstrip(".*")
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    from packaging.specifiers import SpecifierSet

    assert SpecifierSet(project["requires-python"]).contains(version), (python, project["requires-python"])


def _rules(params_file: str | None = None) -> list:
    """The rules as Snakemake itself parses them (no conda needed to read `conda:` directives)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    config = ConfigSettings(config={"params": params_file} if params_file else {})
    cwd = os.getcwd()
    try:
        with SnakemakeApi(OutputSettings()) as api:
            workflow = api.workflow(resource_settings=ResourceSettings(cores=1), config_settings=config,
                                    snakefile=REPO / "Snakefile", workdir=REPO)
            return list(workflow._workflow.rules)
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def workflow_envs() -> dict[str, dict[str, Path]]:
    """rule -> env file, for the CPU default (params.yaml) and a GPU parameter set (the paper preset)."""
    out = {}
    for label, params_file in (("cpu", None), ("gpu", "presets/paper.yaml")):
        envs = {}
        for rule in _rules(params_file):
            if rule.name == "all" or rule.norun:
                continue
            assert rule.conda_env, f"rule {rule.name} has no conda: directive"
            env = Path(str(rule.conda_env))
            envs[rule.name] = (Path(rule.basedir) / env).resolve() if not env.is_absolute() else env
        out[label] = envs
    return out


def test_every_rule_names_an_existing_env_file(workflow_envs):
    used = set()
    for label, envs in workflow_envs.items():
        for rule, path in envs.items():
            assert path.is_file(), f"rule {rule} ({label}): conda env {path} does not exist"
            assert path.parent == REPO / "envs", f"rule {rule}: env outside envs/: {path}"
            used.add(path)
    unused = {p.resolve() for p in ENVS} - used
    assert not unused, f"env files no rule uses: {sorted(p.name for p in unused)}"


def test_params_choose_the_cpu_or_gpu_env(workflow_envs):
    cpu, gpu = ({rule: path.name for rule, path in workflow_envs[k].items()} for k in ("cpu", "gpu"))
    assert {cpu[r] for r in ("base", "train")} == {"train.yaml"}
    assert {cpu[r] for r in ("labels", "evaluate_base", "evaluate")} == {"eval.yaml"}
    assert {gpu[r] for r in ("base", "train")} == {"train-gpu.yaml"}
    assert {gpu[r] for r in ("labels", "evaluate_base", "evaluate")} == {"eval-gpu.yaml"}
    # CPU-only rules keep their one env
    for rule in ("data", "grade", "grade_base", "analyze", "report"):
        assert cpu[rule] == gpu[rule]


# GPU-only packages: never in a CPU env; DeepSpeed in no env (PyPI has no wheel of it).
GPU_ONLY = {"vllm", "deepspeed"}


def _pip_names(path: Path) -> dict[str, str]:
    _, pip = _split(_load(path))
    return {canonicalize_name(Requirement(e).name): e for e in pip if not LOCAL_PIP.match(e.strip())}


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_cpu_envs_hold_no_gpu_packages_and_gpu_envs_extend_them(path):
    names = _pip_names(path)
    assert "deepspeed" not in names, f"{path.name}: deepspeed has no wheel (see envs/train-gpu.yaml)"
    if path.stem.endswith("-gpu"):
        cpu = _pip_names(path.with_name(path.stem.removesuffix("-gpu") + ".yaml"))
        assert {k: v for k, v in names.items() if k not in GPU_ONLY} == cpu, f"{path.name} drifted from its CPU twin"
        assert "vllm" in names
    else:
        assert not GPU_ONLY & set(names), f"{path.name}: GPU-only packages {GPU_ONLY & set(names)} in a CPU env"


# Pure-Python sdists allowed where PyPI has no wheel of the pinned version (no compiler needed):
# antlr4 4.9.3 is math-verify's runtime in the tested lock; 4.13.2 has a wheel but grades
# \boxed{10\%} against 10 differently (measured), so the env keeps 4.9.3. word2number 1.1 (the paper
# grader's w2n) has never had a wheel: one pure-Python module.
SDIST_ALLOWED = {"antlr4-python3-runtime", "word2number"}


def _pypi_reachable() -> bool:
    import socket

    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


@pytest.mark.pypi
@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_resolves_from_wheels_on_pypi(path, tmp_path):
    """pip resolves each env's pip set from PyPI wheels for the env's CPython on this platform (the
    cluster's Linux x86_64), without building anything but the SDIST_ALLOWED pure-Python packages."""
    import json
    import platform
    import subprocess
    import sys

    if not (sys.platform == "linux" and platform.machine() == "x86_64"):
        pytest.skip("the envs target Linux x86_64")
    conda, _ = _split(_load(path))
    (python,) = [s for s in conda if MATCH_SPEC.match(s)["name"] == "python"]
    wanted = MATCH_SPEC.match(python)["version"].lstrip("=<>!~ ").rstrip(".*")
    # pip refuses --no-binary together with --python-version, so this interpreter stands in for the env's
    if "%d.%d" % sys.version_info[:2] != wanted:
        pytest.skip(f"needs Python {wanted} (the env's) to resolve for it")
    if not _pypi_reachable():
        pytest.skip("PyPI not reachable (offline)")
    reqs = list(_pip_names(path).values())
    report = tmp_path / "report.json"
    # --isolated: only PyPI, none of this machine's pip config (local indexes, find-links, constraints)
    cmd = [sys.executable, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed", "--quiet",
           "--only-binary=:all:", *(f"--no-binary={n}" for n in sorted(SDIST_ALLOWED)),
           "--report", str(report), *reqs]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"{path.name}: pip cannot resolve from wheels:\n{out.stderr[-3000:]}"
    installs = json.loads(report.read_text())["install"]
    sdists = {canonicalize_name(i["metadata"]["name"]) for i in installs
              if not i["download_info"]["url"].endswith(".whl")}
    assert sdists <= SDIST_ALLOWED, f"{path.name}: would build {sorted(sdists - SDIST_ALLOWED)} from source"
    names = {canonicalize_name(i["metadata"]["name"]) for i in installs}
    assert set(_pip_names(path)) <= names


# Where requirements/gpu.txt departs from the CPU lock, with the reason (its header says more).
GPU_CHANGED = {"numpy": "vLLM 0.31.0 -> mistral-common caps numpy < 2.4 on Python <= 3.12"}
GPU_DROPPED = {"snakemake-executor-plugin-slurm": "2.8.0 needs numpy >= 2.4.5, 2.6 needs pandas < 3"}


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"{path.name}: pin with ==: {line!r}"
            pins[canonicalize_name(req.name)] = spec.version
    return pins


def test_gpu_requirements_are_the_cpu_lock_plus_the_gpu_stack():
    gpu, lock = _pins(REPO / "requirements" / "gpu.txt"), _lock()
    missing = sorted(set(lock) - set(gpu))
    assert missing == sorted(GPU_DROPPED), f"requirements/gpu.txt lacks packages of the CPU lock: {missing}"
    differ = {n: (lock[n], gpu[n]) for n in lock if n in gpu and gpu[n] != lock[n]}
    assert set(differ) == set(GPU_CHANGED), f"gpu.txt pins differ from lock-cpu.txt: {differ}"
    assert "snakemake-executor-plugin-slurm-jobstep" in gpu and gpu["snakemake"] == lock["snakemake"]
    assert gpu["numpy"] == "2.3.5" and lock["numpy"] == "2.4.6"
    # the gpu extra of pyproject.toml admits exactly what gpu.txt installs
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extra = {canonicalize_name(r.name): r for r in map(Requirement, project["optional-dependencies"]["gpu"])}
    assert set(extra) == {"vllm", "deepspeed"}
    # the dropped package is an extra of its own, so that `pip install -e .[gpu]` can resolve
    deps = {canonicalize_name(Requirement(d).name) for d in project["dependencies"]}
    assert not deps & set(GPU_DROPPED)
    slurm = [Requirement(r) for r in project["optional-dependencies"]["slurm"]]
    assert [(canonicalize_name(r.name), str(r.specifier)) for r in slurm] == [
        ("snakemake-executor-plugin-slurm", "==" + lock["snakemake-executor-plugin-slurm"])]
    for name, req in extra.items():
        assert req.specifier.contains(gpu[name]), (name, str(req.specifier), gpu[name])
    assert (gpu["vllm"], gpu["deepspeed"], gpu["torch"]) == ("0.31.0", "0.18.2", "2.13.0")
    for dep in project["dependencies"]:
        req = Requirement(dep)
        assert req.specifier.contains(gpu[canonicalize_name(req.name)]), dep
