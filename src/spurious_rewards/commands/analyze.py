"""`analyze`: every grades file of the sweep (the base model per model + every run) and every run's
training metrics -> the analysis folder (written as one folder, atomically): the tables of every
registered analysis (analysis/registry.py; the built-in ones in analysis/plugins/) and provenance.json.

  metrics.csv          tidy: model, condition, seed, step, benchmark, variant, grader, metric, value, n
  summary.csv          per model/condition/benchmark/grader/metric: step-0, smoothed final, delta, CI
  code_reasoning.csv   code frequency and code/language accuracy per step
  switch.csv           strategy switches between analysis.switch_from and switch_to (paper Table 2)
  prompting.csv        base model, default prompt vs forced prefix (paper Table 3)
  train_metrics.csv    the runs' training metrics, long form: model, condition, seed, step, metric, value
  provenance.json

Step 0 of every (condition, seed) is the base model's evaluation (condition "base" in the grades),
copied into each run's curve; a run's own step-0 checkpoint, if it saved one, is dropped so the
baseline is one evaluation. Rows with condition "base" are kept as well (both prompt variants).
"""

from __future__ import annotations

import json
import logging
import warnings

import pandas as pd

from spurious_rewards import cliargs, io, paths, provenance
from spurious_rewards.analysis import registry
from spurious_rewards.analysis.plugin import AnalysisContext

# The metrics analysis' table builders stay importable from here (tests and scripts use them).
from spurious_rewards.analysis.plugins.metrics_summary import (  # noqa: F401
    GROUP,
    METRIC_COLUMNS,
    metrics_table,
    per_problem,
    summary_table,
)
from spurious_rewards.config import Params, ParamsError, load_params
from spurious_rewards.training.grpo_config import plan

# The parameter keys this module reads (codegraph: the stage table derives fingerprints and DVC params).
PARAMS = ("analysis", "grader", "experiment.models", "experiment.conditions", "experiment.seeds", "models",
          "conditions", "data.benchmarks", "train.steps", "train.prompts_per_step",
          "train.generations_per_prompt", "train.optimizer_batch")

log = logging.getLogger(__name__)

GRADE_COLUMNS = GROUP + ["problem_id", "sample_index", "correct", "has_python", "has_code_block",
                         "n_tokens", "finish_reason", "grader_version"]


def configure_parser(parser) -> None:
    cliargs.add_params(parser)


# -- inputs ---------------------------------------------------------------------------------------
def read_grades(path) -> pd.DataFrame:
    if not path.is_file():
        raise io.DataError(f"{path}: grades file not found (run grade first)")
    frame = io.read_parquet(path)
    missing = [c for c in GRADE_COLUMNS if c not in frame.columns]
    if missing:
        raise io.DataError(f"{path}: missing column(s) {', '.join(missing)}")
    return frame


def read_train_metrics(path, model: str, condition: str, seed: int) -> pd.DataFrame:
    """A run's training metrics in long form; accepts a tidy (step, metric, value) or a wide CSV."""
    if not path.is_file():
        raise io.DataError(f"{path}: training metrics not found (a declared output of train)")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise io.DataError(f"{path}: not a readable CSV ({exc})") from None
    if "step" not in frame.columns:
        raise io.DataError(f"{path}: no 'step' column")
    if {"metric", "value"} <= set(frame.columns):
        long = frame[["step", "metric", "value"]].copy()
    else:
        # training/metrics.py writes one row per optimizer update; `rollout_step` is the paper's step
        # (and what checkpoint names count), so it becomes the step here.
        step_col = "rollout_step" if "rollout_step" in frame.columns else "step"
        skip = {"model", "condition", "seed", "step", "rollout_step", "update_in_rollout", "epoch"}
        value_cols = [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]
        long = (frame.rename(columns={step_col: "_step"})
                .melt(id_vars=["_step"], value_vars=value_cols, var_name="metric", value_name="value")
                .rename(columns={"_step": "step"}))
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    long.insert(0, "seed", seed)
    long.insert(0, "condition", condition)
    long.insert(0, "model", model)
    return long.dropna(subset=["value"])


def load_sweep(params: Params) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    r = params.results_dir
    frames, files = [], []
    for model in params.models:
        path = paths.grades(r, model, paths.BASE_RUN)
        files.append(str(path))
        frames.append(read_grades(path))
    for model, cond, seed in params.runs():
        path = paths.grades(r, model, paths.run_id(cond, seed))
        files.append(str(path))
        g = read_grades(path)
        own_step0 = g["step"] == 0
        if own_step0.any():
            log.info("%s: dropping the run's own step-0 rows; step 0 is the base evaluation", path)
        frames.append(g[~own_step0])
    grades = pd.concat(frames, ignore_index=True)
    train = [read_train_metrics(paths.train_metrics(r, m, c, s), m, c, s) for m, c, s in params.runs()]
    files += [str(paths.train_metrics(r, m, c, s)) for m, c, s in params.runs()]
    train_frame = (pd.concat(train, ignore_index=True) if train
                   else pd.DataFrame(columns=["model", "condition", "seed", "step", "metric", "value"]))
    return grades, train_frame, files


def with_baseline(grades: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The grades plus, for every run, a copy of its model's base evaluation as step 0."""
    base = grades[(grades["condition"] == "base") & (grades["variant"] == "default")]
    copies = []
    for model, cond, seed in params.runs():
        b = base[base["model"] == model].copy()
        b["condition"], b["seed"], b["step"] = cond, seed, 0
        copies.append(b)
    return pd.concat([grades, *copies], ignore_index=True)


# -- provenance -----------------------------------------------------------------------------------
def _sidecar(path) -> dict:
    """The provenance record of an upstream output: {} with a warning if absent, DataError if unreadable."""
    side = provenance.provenance_path(path)
    try:
        text = side.read_text(encoding="utf-8")
    except FileNotFoundError:
        log.warning("%s: no provenance record; its backends and graders are left out of the report", side)
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise io.DataError(f"{side}: unreadable provenance record ({exc})") from None
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise io.DataError(f"{side}: unreadable provenance record (not valid JSON: {exc})") from None
    if not isinstance(record, dict):
        raise io.DataError(f"{side}: unreadable provenance record (expected a JSON object)")
    return record


def upstream_provenance(params: Params) -> dict:
    """Backends and graders recorded by evaluate/grade next to their outputs."""
    r = params.results_dir
    runs = [(m, paths.BASE_RUN) for m in params.models]
    runs += [(m, paths.run_id(c, s)) for m, c, s in params.runs()]
    backends, graders, git, hub_models = [], [], set(), {}
    for model, run in runs:
        comp = _sidecar(paths.completions(r, model, run))
        # Hub base models as evaluate loaded them: the id and the commit its revision resolved to
        for ckpt in comp.get("checkpoints") or []:
            if isinstance(ckpt, dict) and ckpt.get("revision"):
                hub_models[model] = {"path": ckpt.get("loaded"), "revision": ckpt["revision"]}
        for d in comp.get("backend_describe") or []:
            d = {k: v for k, v in (d or {}).items() if k not in ("model_dir", "seed")}
            if d and d not in backends:
                backends.append(d)
        grades = _sidecar(paths.grades(r, model, run))
        for g in grades.get("graders") or []:
            if g not in graders:
                graders.append(g)
        for side in (comp, grades):
            if side.get("git", {}).get("sha"):
                git.add(side["git"]["sha"])
    return {"backends": backends, "graders": graders, "upstream_git_shas": sorted(git), "hub_models": hub_models}


def main(args) -> int:
    params = load_params(args.params, check_rewards=False)
    an = params.section("analysis")
    n_boot = int(an["bootstrap_samples"])
    confidence = float(an["confidence"])
    window = int(an["smoothing_window"])
    grades, train, files = load_sweep(params)
    graders = list(an["graders"])
    missing = sorted(set(graders) - set(grades["grader"]))
    if missing:
        raise io.DataError(f"grades lack grader(s) {', '.join(missing)} listed in analysis.graders "
                           "(re-run grade)")
    grades = grades[grades["grader"].isin(graders)]
    full = with_baseline(grades, params)
    plugins = list(an["plugins"])
    registry.load(plugins, f"{params.path}: key analysis.plugins", ParamsError)
    settings = {"bootstrap_samples": n_boot, "confidence": confidence, "smoothing_window": window,
                "switch_from": int(an["switch_from"]), "switch_to": an["switch_to"]}
    tables: dict[str, pd.DataFrame] = {}

    def context() -> AnalysisContext:
        return AnalysisContext(grades=grades, full=full, train=train, settings=settings,
                               results_dir=params.results_dir, primary_grader=params.raw["grader"],
                               tables=dict(tables))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for analysis in registry.analyses():
            if analysis.compute is None:
                continue
            out = analysis.compute(context())
            if set(out) != set(analysis.tables):
                raise ValueError(f"analysis {analysis.name!r} returned tables {sorted(out)}, "
                                 f"declared {sorted(analysis.tables)}")
            tables.update(out)
    versions = (grades[["grader", "grader_version"]].drop_duplicates()
                .sort_values("grader").to_dict("records"))
    rec = provenance.record(
        params, "analyze", sections=("analysis", "experiment"),
        inputs={f: provenance.file_hash(f) for f in files},
        graders=versions, primary_grader=params.raw["grader"],
        **({"notice": notice} if (notice := params.section("analysis")["notice"].strip()) else {}),
        models={m: {"kind": params.model(m)["kind"], "path": params.model(m).get("path")}
                for m in params.models},
        conditions={c: params.condition(c) for c in params.conditions}, seeds=params.seeds,
        benchmarks={b: {k: v for k, v in spec.items()} for b, spec in params.benchmarks.items()},
        train_steps={f"{m}/{c}": params.train(m, c)["steps"] for m, c, _ in params.runs()},
        # optimizer updates per rollout step: with one, pi_old == pi_theta and the clip cannot bind (the
        # report counts such a random run as unclipped, report/organism.py)
        updates_per_rollout={f"{m}/{c}": plan(params.train(m, c), f"{m}/{c}").updates_per_rollout
                             for m, c, _ in params.runs()},
        analysis={**settings, "bootstrap_seed": "sha256 of each group's key",
                  # the report imports these to render their sections (absent when none: older records)
                  **({"plugins": plugins} if plugins else {})},
        upstream=upstream_provenance(params))
    with io.atomic_dir(paths.analysis_dir(params.results_dir)) as tmp:
        for name, frame in tables.items():
            frame.to_csv(tmp / name, index=False)
        io.write_json(tmp / "provenance.json", rec)
    for analysis in registry.analyses():
        if analysis.publish is not None:
            analysis.publish(context(), tables)
    log.info("wrote %s", paths.analysis_dir(params.results_dir))
    return 0
