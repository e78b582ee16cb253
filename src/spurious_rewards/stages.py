"""The stage table: the one description of the DAG.

The Snakemake rules (workflow/rules/*.smk) take their inputs, outputs, params, resources, conda env
and command from here, and `python -m spurious_rewards export-dvc` renders the same table into
dvc.yaml. Output templates are relative to `experiment.results_dir` and use the wildcards
{model}, {condition}, {seed}.

Inputs come in two forms. `inputs` gives the exact files a job reads for a concrete parameter set
(Snakemake builds its DAG from them). `dvc_deps` gives the same dependencies as templates that DVC's
own `matrix` expansion can fill in; where the exact input depends on a parameter value (the labels a
condition trains on), DVC depends on the enclosing folder instead, which can only over-trigger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from spurious_rewards import paths
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


@dataclass(frozen=True)
class Stage:
    name: str
    help: str
    wildcards: tuple[str, ...]
    outputs: tuple[Output, ...]
    inputs: Callable[[Params, dict], dict[str, object]]
    dvc_deps: tuple[str, ...]
    params: tuple[str, ...]
    args: tuple[str, ...]
    resources: str
    env: str
    code: tuple[str, ...] = field(default=())

    def output_paths(self, params: Params, **wc) -> dict[str, str]:
        root = params.results_dir
        return {o.key: str(root / o.template.format(**wc)) for o in self.outputs}

    def command(self, params_file: str, **wc) -> str:
        return " ".join([PY, self.name_on_cli, "--params", params_file,
                         *(a.format(**wc) for a in self.args)])

    @property
    def name_on_cli(self) -> str:
        return self.name.removesuffix("_base")

    def log_template(self) -> str:
        suffix = "/".join("{%s}" % w if w != "seed" else "seed{seed}" for w in self.wildcards)
        return f"logs/{self.name}/{suffix}.log" if suffix else f"logs/{self.name}.log"


def _r(params: Params):
    return params.results_dir


def _data_inputs(params: Params, wc: dict) -> dict[str, object]:
    return {}


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
    return {"base": str(paths.base_model(_r(params), wc["model"])),
            "dataset": str(paths.training_set(_r(params), wc["model"], labels))}


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
    return {"grades": grades, "records": records, "train_metrics": metrics}


def _report_inputs(params: Params, wc: dict) -> dict[str, object]:
    return {"analysis": str(paths.analysis_dir(_r(params)))}


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
        dvc_deps=("src/spurious_rewards/data",),
        params=("data",),
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
        dvc_deps=("src/spurious_rewards/model", "{R}/data/train.jsonl", "{R}/data/benchmarks"),
        params=("models.{model}", "data.synthetic", "experiment.device"),
        args=("--model", "{model}"),
        resources="base",
        env="envs/train.yaml",
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
        dvc_deps=("src/spurious_rewards/labels.py", "src/spurious_rewards/voting.py",
                  "src/spurious_rewards/generation", "{R}/models/{model}/base", "{R}/data/train.jsonl"),
        params=("labels", "grader", "models.{model}", "evaluate.backend"),
        args=("--model", "{model}"),
        resources="labels",
        env="envs/eval.yaml",
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
        dvc_deps=("src/spurious_rewards/training", "src/spurious_rewards/rewards.py",
                  "src/spurious_rewards/grading", "{R}/models/{model}/base", "{R}/data",
                  "{R}/labels/{model}"),
        params=("train", "models.{model}", "conditions.{condition}", "grader", "experiment.device"),
        args=("--model", "{model}", "--condition", "{condition}", "--seed", "{seed}"),
        resources="train",
        env="envs/train.yaml",
    ),
    Stage(
        name="evaluate_base",
        help="Generate completions of the base model (step 0) on every benchmark.",
        wildcards=("model",),
        outputs=(Output("completions", "eval/{model}/base/completions.parquet"),
                 Output("provenance", "eval/{model}/base/completions.parquet" + PROV)),
        inputs=_evaluate_base_inputs,
        dvc_deps=("src/spurious_rewards/evaluate.py", "src/spurious_rewards/generation",
                  "{R}/models/{model}/base", "{R}/data/benchmarks"),
        params=("evaluate", "data.benchmarks", "models.{model}"),
        args=("--model", "{model}", "--base"),
        resources="evaluate",
        env="envs/eval.yaml",
    ),
    Stage(
        name="evaluate",
        help="Generate completions of every checkpoint of one run on every benchmark.",
        wildcards=RUN,
        outputs=(Output("completions", EVAL_RUN + "/completions.parquet"),
                 Output("provenance", EVAL_RUN + "/completions.parquet" + PROV)),
        inputs=_evaluate_inputs,
        dvc_deps=("src/spurious_rewards/evaluate.py", "src/spurious_rewards/generation",
                  "{R}/" + CKPT_DIR, "{R}/data/benchmarks"),
        params=("evaluate", "data.benchmarks", "models.{model}"),
        args=("--model", "{model}", "--condition", "{condition}", "--seed", "{seed}"),
        resources="evaluate",
        env="envs/eval.yaml",
    ),
    Stage(
        name="grade_base",
        help="Grade the base model's completions with every grader.",
        wildcards=("model",),
        outputs=(Output("grades", "eval/{model}/base/grades.parquet"),
                 Output("provenance", "eval/{model}/base/grades.parquet" + PROV)),
        inputs=_grade_base_inputs,
        dvc_deps=("src/spurious_rewards/grading", "src/spurious_rewards/grade.py",
                  "{R}/eval/{model}/base/completions.parquet", "{R}/data/benchmarks"),
        params=("analysis.graders",),
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
        dvc_deps=("src/spurious_rewards/grading", "src/spurious_rewards/grade.py",
                  "{R}/" + EVAL_RUN + "/completions.parquet", "{R}/data/benchmarks"),
        params=("analysis.graders",),
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
        dvc_deps=("src/spurious_rewards/analysis", "{R}/eval", "{R}/runs"),
        # `grader` is the primary grader of the DVC metrics and the report
        params=("analysis", "experiment", "grader"),
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
        dvc_deps=("src/spurious_rewards/report", "{R}/analysis"),
        params=("analysis", "experiment"),
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
    """Hash of the parameter values a job depends on: Snakemake reruns the job when it changes."""
    from spurious_rewards.config import canonical_hash

    return canonical_hash({key: _lookup(params.raw, key) for key in params_keys(stage_, **wc)})
