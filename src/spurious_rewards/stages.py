"""The stage table: the one description of the DAG.

The Snakemake rules (workflow/rules/*.smk) take their inputs, outputs, params, resources, conda env
and command from here, and `python -m spurious_rewards export-dvc` renders the same table into
dvc.yaml. Output templates are relative to `experiment.results_dir` and use the wildcards
{model}, {condition}, {seed}.

Data inputs come in two forms. `inputs` gives the exact files a job reads for a concrete parameter
set (Snakemake builds its DAG from them). `dvc_deps` gives the same dependencies as templates that
DVC's own `matrix` expansion can fill in; where the exact input depends on a parameter value (the
labels a condition trains on), DVC depends on the enclosing folder instead, which can only
over-trigger.

Code and parameters are not listed here: they are derived from the stage's command module
(spurious_rewards.commands.<command>) by codegraph. `code_files` is every package module its import graph reaches,
`params` the union of the `PARAMS` those modules declare (keys templated on a wildcard the stage
does not have, such as `conditions.{condition}` for evaluate_base, drop out). DVC depends on both;
Snakemake sees both through `fingerprint`, a rule param, so editing a module a stage imports or a
key it reads reruns the stage in either engine.
Local data files named by the parameter file (`source: path`) are inputs of `data` in both engines:
through `inputs` for Snakemake and `source_deps` (rendered per parameter file) for DVC. So are modules
of your own that it names, when they lie in the checkout: a reward by dotted path (`train`) and
`analysis.plugins` (`analyze`, `report`). Only the named module's file counts, not what it imports;
for DVC a train stage depends on every such reward of the sweep (its matrix has one deps list).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from spurious_rewards import codegraph, paths
from spurious_rewards.config import Params

PY = "python -m spurious_rewards"


@dataclass(frozen=True)
class Output:
    key: str
    template: str
    directory: bool = False
    # DVC: False keeps only the hash in dvc.lock (intermediate checkpoints); True caches the content.
    cache: bool = True
    persist: bool = False
    # DVC: how dvc.yaml declares the output: "outs", "metrics" (`dvc metrics show/diff`, `dvc exp show`)
    # or "plots" (`dvc plots show/diff`; `plot` gives its x, y, title, ...). Snakemake ignores both.
    kind: str = "outs"
    plot: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        if self.kind not in ("outs", "metrics", "plots"):
            raise ValueError(f"output {self.key}: kind must be outs, metrics or plots, not {self.kind!r}")
        if self.plot and self.kind != "plots":
            raise ValueError(f"output {self.key}: plot properties on a {self.kind} output")


def _no_dvc_deps(params: Params) -> list[str]:
    return []


@dataclass(frozen=True)
class Stage:
    name: str
    help: str
    wildcards: tuple[str, ...]
    outputs: tuple[Output, ...]
    inputs: Callable[[Params, dict], dict[str, object]]
    dvc_deps: tuple[str, ...]
    args: tuple[str, ...]
    resources: str
    # conda env of the rule; stages that can use a GPU name a second env (vLLM, CUDA) for GPU runs
    env: str
    gpu_env: str | None = None
    # Dependencies that the parameter file names (the data stage's source files), for dvc.yaml.
    source_deps: Callable[[Params], list[str]] = _no_dvc_deps

    def env_for(self, params: Params) -> str:
        """The GPU env when the run is on CUDA (experiment.device) or the stage's resources ask for GPUs."""
        gpu = (params.experiment["device"] == "cuda"
               or bool(params.section("resources")[self.resources]["gpus"]))
        return self.gpu_env if gpu and self.gpu_env else self.env

    def output_paths(self, params: Params, **wc) -> dict[str, str]:
        root = params.results_dir
        return {o.key: str(root / o.template.format(**wc)) for o in self.outputs}

    def command(self, params_file: str, params_word: str | None = None, **wc) -> str:
        """The job's shell command. `wc` maps each wildcard to the engine's placeholder, which must
        quote the value itself (Snakemake `{wildcards.model:q}`, DVC `'${item.model}'`). params_word,
        if given, is the shell word standing for the parameter file, used verbatim (Snakemake's
        `"$SPURIOUS_REWARDS_PARAMS"`); otherwise the file's path, quoted."""
        return " ".join([PY, self.name_on_cli, "--params", params_word or shlex.quote(params_file),
                         *(a.format(**wc) for a in self.args)])

    @property
    def name_on_cli(self) -> str:
        return self.name.removesuffix("_base")

    @property
    def entry_module(self) -> str:
        from spurious_rewards.cli import command_module

        return command_module(self.name_on_cli)

    @cached_property
    def code_files(self) -> tuple[Path, ...]:
        """The package's source files this stage runs (its command module's import closure)."""
        return tuple(codegraph.reached_files(self.entry_module))

    @cached_property
    def code_hash(self) -> str:
        return codegraph.files_hash(list(self.code_files))

    @property
    def code_deps(self) -> tuple[str, ...]:
        """code_files relative to the repository root, as DVC lists them."""
        root = codegraph.PACKAGE_DIR.parent.parent
        return tuple(path.relative_to(root).as_posix() for path in self.code_files)

    @cached_property
    def declared_params(self) -> tuple[str, ...]:
        """Every key the reached modules declare, before dropping other stages' wildcards."""
        keys: dict[str, None] = {}
        for path in self.code_files:
            keys.update(dict.fromkeys(codegraph.declared_params(path)))
        return tuple(keys)

    @property
    def params(self) -> tuple[str, ...]:
        """The parameter keys a job of this stage reads; a key covered by a shorter one is left out."""
        own = [k for k in self.declared_params
               if set(re.findall(r"{(\w+)}", k)) <= set(self.wildcards)]
        return tuple(k for k in own if not any(k.startswith(o + ".") for o in own))

    def log_template(self) -> str:
        suffix = "/".join("{%s}" % w if w != "seed" else "seed{seed}" for w in self.wildcards)
        return f"logs/{self.name}/{suffix}.log" if suffix else f"logs/{self.name}.log"


def _r(params: Params):
    return params.results_dir


DATA_HINT = ("the data files a parameter file names must exist before the data stage runs; for "
             "presets/paper.yaml link the paper's data under external/: `ln -s <Rethink_RLVR>/code/data "
             "external/rethink_rlvr` and `ln -s <One-Shot-RLVR> external/one_shot_rlvr` "
             "(README, \"The paper preset\")")


def data_sources(params: Params) -> list[tuple[str, str]]:
    """(parameter key, path) of every local file or folder the data stage reads (`source: path`)."""
    data = params.section("data")
    specs = [("data.train", data["train"]), ("data.one_shot", data["one_shot"])]
    specs += [(f"data.benchmarks.{name}", spec) for name, spec in data["benchmarks"].items()]
    out = []
    for where, spec in specs:
        if spec["source"] != "path":
            continue
        if spec.get("paths"):
            out += [(f"{where}.paths[{i}]", p) for i, p in enumerate(spec["paths"])]
        else:
            out.append((f"{where}.path", spec["path"]))
    return out


def _data_inputs(params: Params, wc: dict) -> dict[str, object]:
    """The source files themselves (a folder stands for its train.json/test.json), so that a changed
    file reruns `data`; a missing one stops the DAG here, before any job, naming the file and the key."""
    from pathlib import Path

    from spurious_rewards.data.loaders import expand_source
    from spurious_rewards.io import DataError

    sources = data_sources(params)
    missing = [f"{params.path}: {where}: {path} not found" for where, path in sources if not Path(path).exists()]
    if missing:
        raise DataError("\n  ".join(missing) + f"\n  ({DATA_HINT})")
    files = [str(f) for _, path in sources for f in expand_source(Path(path))]
    return {"sources": files} if files else {}


def _data_dvc_deps(params: Params) -> list[str]:
    # As declared (a folder stays a folder, which DVC hashes whole), so dvc.yaml does not depend on
    # what exists on disk when it is rendered.
    return [path for _, path in data_sources(params)]


def user_module_file(module: str) -> str | None:
    """The source file of a module of your own, relative to the checkout (where both engines run), or
    None when it is not in the checkout (an installed package: its version is the environment's)."""
    base = Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.as_posix()
    return None


def reward_module_files(params: Params, conditions: list[str]) -> list[str]:
    """The checkout's files of the rewards these conditions name by dotted path (`module:attribute`)."""
    files: dict[str, None] = {}
    for condition in conditions:
        reward = params.condition(condition)["reward"]
        if ":" in reward:
            found = user_module_file(reward.split(":", 1)[0])
            if found:
                files[found] = None
    return list(files)


def analysis_module_files(params: Params) -> list[str]:
    """The checkout's files of the analysis plugins `analysis.plugins` names."""
    found = (user_module_file(m) for m in params.section("analysis")["plugins"])
    return list(dict.fromkeys(f for f in found if f))


def _train_dvc_deps(params: Params) -> list[str]:
    return reward_module_files(params, list(params.conditions))


def _benchmark_files(params: Params) -> str:
    # The benchmarks are one folder output of `data`: engines cannot depend on files inside it.
    return str(paths.benchmarks_dir(_r(params)))


def _base_inputs(params: Params, wc: dict) -> dict[str, object]:
    return {"train": str(paths.train_data(_r(params))), "benchmarks": _benchmark_files(params)}


def _labels_inputs(params: Params, wc: dict) -> dict[str, object]:
    return {"base": str(paths.base_model(_r(params), wc["model"])),
            "train": str(paths.train_data(_r(params)))}


def _train_inputs(params: Params, wc: dict) -> dict[str, object]:
    labels = params.condition(wc["condition"])["labels"]
    inputs: dict[str, object] = {"base": str(paths.base_model(_r(params), wc["model"])),
                                 "dataset": str(paths.training_set(_r(params), wc["model"], labels))}
    reward_code = reward_module_files(params, [wc["condition"]])
    if reward_code:
        inputs["reward_code"] = reward_code
    return inputs


def _evaluate_base_inputs(params: Params, wc: dict) -> dict[str, object]:
    return {"model": str(paths.base_model(_r(params), wc["model"])),
            "benchmarks": _benchmark_files(params)}


def _evaluate_inputs(params: Params, wc: dict) -> dict[str, object]:
    r = _r(params)
    return {"checkpoints": str(paths.checkpoints_dir(r, wc["model"], wc["condition"], int(wc["seed"]))),
            "benchmarks": _benchmark_files(params)}


def _grade_base_inputs(params: Params, wc: dict) -> dict[str, object]:
    # the benchmarks let grade check that no (problem, sample) row is missing
    return {"completions": str(paths.completions(_r(params), wc["model"], paths.BASE_RUN)),
            "benchmarks": _benchmark_files(params)}


def _grade_inputs(params: Params, wc: dict) -> dict[str, object]:
    run = paths.run_id(wc["condition"], int(wc["seed"]))
    return {"completions": str(paths.completions(_r(params), wc["model"], run)),
            "benchmarks": _benchmark_files(params)}


def _analyze_inputs(params: Params, wc: dict) -> dict[str, object]:
    r = _r(params)
    runs = [(m, paths.BASE_RUN) for m in params.models]
    runs += [(m, paths.run_id(c, s)) for m, c, s in params.runs()]
    grades = [str(paths.grades(r, m, run)) for m, run in runs]
    # analyze copies backend and grader versions from these records into its own provenance
    records = [str(paths.grades(r, m, run)) + PROV for m, run in runs]
    records += [str(paths.completions(r, m, run)) + PROV for m, run in runs]
    metrics = [str(paths.train_metrics(r, m, c, s)) for m, c, s in params.runs()]
    inputs: dict[str, object] = {"grades": grades, "records": records, "train_metrics": metrics}
    return {**inputs, **_analysis_code(params)}


def _analysis_code(params: Params) -> dict[str, object]:
    files = analysis_module_files(params)
    return {"analysis_code": files} if files else {}


def _report_inputs(params: Params, wc: dict) -> dict[str, object]:
    return {"analysis": str(paths.analysis_dir(_r(params))), **_analysis_code(params)}


RUN = ("model", "condition", "seed")
# Provenance records are outputs too, so DVC shares them with the numbers they describe.
PROV = ".provenance.json"
RUN_DIR = "runs/{model}/{condition}/seed{seed}"
CKPT_DIR = "checkpoints/{model}/{condition}/seed{seed}"
EVAL_RUN = "eval/{model}/{condition}/seed{seed}"

# The DVC plots analyze writes: (folder name, y column, title, y label); one CSV per model/condition
# (and benchmark), so `dvc plots show` gives one plot per condition and `dvc plots diff` overlays revisions.
DVC_PLOTS = (("accuracy", "accuracy", "accuracy vs rollout step (primary grader, seed mean)", "accuracy (%)"),
             ("code_frequency", "code_frequency", "code-reasoning frequency vs rollout step",
              "responses with 'python' (%)"),
             ("train_reward", "reward", "training reward vs rollout step (seed mean)", "reward"),
             ("clip_ratio", "clip_ratio", "PPO clip ratio (either side) vs rollout step",
              "clipped tokens (%)"))

STAGES: tuple[Stage, ...] = (
    Stage(
        name="data",
        help="Build the RL prompt set, the one-shot set and every benchmark in {id, prompt, answer, source}.",
        wildcards=(),
        outputs=(Output("train", "data/train.jsonl"),
                 Output("train_provenance", "data/train.jsonl" + PROV),
                 Output("one_shot", "data/one_shot.jsonl"),
                 Output("benchmarks", "data/benchmarks", directory=True)),
        inputs=_data_inputs,
        dvc_deps=(),
        source_deps=_data_dvc_deps,
        args=(),
        resources="data",
        env="envs/data.yaml",
    ),
    Stage(
        name="base",
        help="Build the base model: train the tiny tokenizer + model offline, or reference an HF model.",
        wildcards=("model",),
        outputs=(Output("model", "models/{model}/base", directory=True),),
        inputs=_base_inputs,
        dvc_deps=("{R}/data/train.jsonl", "{R}/data/benchmarks"),
        args=("--model", "{model}"),
        resources="base",
        env="envs/train.yaml",
        gpu_env="envs/train-gpu.yaml",
    ),
    Stage(
        name="labels",
        help="Majority-vote labels from k base-model samples per prompt, and the incorrect-label subset.",
        wildcards=("model",),
        outputs=(Output("majority_vote", "labels/{model}/majority_vote.jsonl"),
                 Output("provenance", "labels/{model}/majority_vote.jsonl" + PROV),
                 Output("incorrect", "labels/{model}/incorrect.jsonl"),
                 Output("samples", "labels/{model}/samples.parquet")),
        inputs=_labels_inputs,
        dvc_deps=("{R}/models/{model}/base", "{R}/data/train.jsonl"),
        args=("--model", "{model}"),
        resources="labels",
        env="envs/eval.yaml",
        gpu_env="envs/eval-gpu.yaml",
    ),
    Stage(
        name="train",
        help="GRPO (TRL) for one (model, condition, seed); a loadable checkpoint every save_every steps.",
        wildcards=RUN,
        outputs=(Output("checkpoints", CKPT_DIR, directory=True, cache=False),
                 Output("final", RUN_DIR + "/final", directory=True),
                 Output("metrics", RUN_DIR + "/train_metrics.csv"),
                 Output("provenance", RUN_DIR + "/train_metrics.csv" + PROV)),
        inputs=_train_inputs,
        source_deps=_train_dvc_deps,
        dvc_deps=("{R}/models/{model}/base", "{R}/data", "{R}/labels/{model}"),
        args=("--model", "{model}", "--condition", "{condition}", "--seed", "{seed}"),
        resources="train",
        env="envs/train.yaml",
        gpu_env="envs/train-gpu.yaml",
    ),
    Stage(
        name="evaluate_base",
        help="Generate completions of the base model (step 0) on every benchmark.",
        wildcards=("model",),
        outputs=(Output("completions", "eval/{model}/base/completions.parquet"),
                 Output("provenance", "eval/{model}/base/completions.parquet" + PROV)),
        inputs=_evaluate_base_inputs,
        dvc_deps=("{R}/models/{model}/base", "{R}/data/benchmarks"),
        args=("--model", "{model}", "--base"),
        resources="evaluate",
        env="envs/eval.yaml",
        gpu_env="envs/eval-gpu.yaml",
    ),
    Stage(
        name="evaluate",
        help="Generate completions of every checkpoint of one run on every benchmark.",
        wildcards=RUN,
        outputs=(Output("completions", EVAL_RUN + "/completions.parquet"),
                 Output("provenance", EVAL_RUN + "/completions.parquet" + PROV)),
        inputs=_evaluate_inputs,
        dvc_deps=("{R}/" + CKPT_DIR, "{R}/data/benchmarks"),
        args=("--model", "{model}", "--condition", "{condition}", "--seed", "{seed}"),
        resources="evaluate",
        env="envs/eval.yaml",
        gpu_env="envs/eval-gpu.yaml",
    ),
    Stage(
        name="grade_base",
        help="Grade the base model's completions with every grader.",
        wildcards=("model",),
        outputs=(Output("grades", "eval/{model}/base/grades.parquet"),
                 Output("provenance", "eval/{model}/base/grades.parquet" + PROV)),
        inputs=_grade_base_inputs,
        dvc_deps=("{R}/eval/{model}/base/completions.parquet", "{R}/data/benchmarks"),
        args=("--model", "{model}", "--base"),
        resources="grade",
        env="envs/grade.yaml",
    ),
    Stage(
        name="grade",
        help="Grade one run's completions with every grader.",
        wildcards=RUN,
        outputs=(Output("grades", EVAL_RUN + "/grades.parquet"),
                 Output("provenance", EVAL_RUN + "/grades.parquet" + PROV)),
        inputs=_grade_inputs,
        dvc_deps=("{R}/" + EVAL_RUN + "/completions.parquet", "{R}/data/benchmarks"),
        args=("--model", "{model}", "--condition", "{condition}", "--seed", "{seed}"),
        resources="grade",
        env="envs/grade.yaml",
    ),
    Stage(
        name="analyze",
        help="Accuracy, avg@k, pass@k, confidence intervals, code-reasoning frequency and switches.",
        wildcards=(),
        outputs=(Output("analysis", "analysis", directory=True),
                 # DVC-native copies of the headline numbers (analysis/dvc_results.py)
                 Output("summary_metrics", paths.DVC_SUMMARY, kind="metrics"),
                 Output("run_metrics", paths.DVC_RUNS, kind="metrics"),
                 *(Output(f"plot_{name}", f"{paths.DVC_PLOTS}/{name}", directory=True, kind="plots",
                          plot=(("x", "step"), ("y", y), ("title", title), ("x_label", "rollout step"),
                                ("y_label", y_label)))
                   for name, y, title, y_label in DVC_PLOTS)),
        inputs=_analyze_inputs,
        source_deps=analysis_module_files,
        dvc_deps=("{R}/eval", "{R}/runs"),
        args=(),
        resources="analyze",
        env="envs/analysis.yaml",
    ),
    Stage(
        name="report",
        help="The Markdown report with PNG figures and tables.",
        wildcards=(),
        outputs=(Output("report", "report", directory=True),),
        inputs=_report_inputs,
        source_deps=analysis_module_files,
        dvc_deps=("{R}/analysis",),
        args=(),
        resources="report",
        env="envs/analysis.yaml",
    ),
)

BY_NAME = {stage.name: stage for stage in STAGES}


def stage(name: str) -> Stage:
    return BY_NAME[name]


def params_keys(stage_: Stage, **wc) -> list[str]:
    return [key.format(**wc) for key in stage_.params]


def _lookup(raw: dict, dotted: str):
    node = raw
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def fingerprint(params: Params, stage_: Stage, **wc) -> str:
    """Hash of the parameter values and the source files a job depends on: Snakemake reruns the job
    when it changes (its `code` trigger sees only the shell command, not the modules it runs)."""
    from spurious_rewards.config import canonical_hash

    return canonical_hash({"params": {key: _lookup(params.raw, key) for key in params_keys(stage_, **wc)},
                           "code": stage_.code_hash})
