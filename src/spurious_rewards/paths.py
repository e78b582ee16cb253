"""Where every artifact lives. The stage table (stages.py) and the stage code both ask this module,
so a path is written down once.

Layout under `experiment.results_dir` (R):

    R/data/train.jsonl, R/data/one_shot.jsonl, R/data/benchmarks/<bench>.jsonl
    R/models/<model>/base/                      tokenizer + weights (tiny) or reference.json (hf)
    R/labels/<model>/{majority_vote,incorrect}.jsonl, samples.parquet
    R/checkpoints/<model>/<condition>/seed<k>/step000010/         one loadable model per checkpoint
    R/runs/<model>/<condition>/seed<k>/train_metrics.csv         per-step metrics (tidy)
    R/eval/<model>/<run>/completions.parquet    run = base | <condition>/seed<k>
    R/eval/<model>/<run>/grades.parquet
    R/analysis/*.csv, R/report/report.md, R/report/figures/*.png
    R/state/...                                 resume state (never a declared output, so neither
                                                engine deletes it before a rerun)
    R/logs/...                                  one log per job
"""

from __future__ import annotations

from pathlib import Path

BASE_RUN = "base"
# the condition and seed the step-0 (base model) rows carry in every table
BASE_CONDITION = "base"
BASE_SEED = -1
# the `validate` stage's output, <results_dir>/params.valid
STAMP = "params.valid"


def _r(results_dir: str | Path) -> Path:
    return Path(results_dir)


def step_name(step: int) -> str:
    return f"step{step:06d}"


def parse_step(name: str) -> int:
    if not name.startswith("step") or not name[4:].isdigit():
        raise ValueError(f"not a checkpoint folder name: {name!r} (expected step000010 style)")
    return int(name[4:])


def run_id(condition: str, seed: int) -> str:
    return f"{condition}/seed{seed}"


# -- data -----------------------------------------------------------------------------------------
def data_dir(r) -> Path:
    return _r(r) / "data"


def train_data(r) -> Path:
    return data_dir(r) / "train.jsonl"


def one_shot_data(r) -> Path:
    return data_dir(r) / "one_shot.jsonl"


def benchmarks_dir(r) -> Path:
    return data_dir(r) / "benchmarks"


def benchmark_data(r, bench: str) -> Path:
    return benchmarks_dir(r) / f"{bench}.jsonl"


# -- models and labels ----------------------------------------------------------------------------
def base_model(r, model: str) -> Path:
    return _r(r) / "models" / model / "base"


def labels_dir(r, model: str) -> Path:
    return _r(r) / "labels" / model


def labels_file(r, model: str, kind: str) -> Path:
    return labels_dir(r, model) / f"{kind}.jsonl"


def label_samples(r, model: str) -> Path:
    return labels_dir(r, model) / "samples.parquet"


def training_set(r, model: str, labels: str) -> Path:
    """The prompt set a condition trains on, by its `labels` kind."""
    if labels == "ground_truth":
        return train_data(r)
    if labels == "one_shot":
        return one_shot_data(r)
    if labels in ("majority_vote", "incorrect"):
        return labels_file(r, model, labels)
    raise ValueError(f"unknown labels kind {labels!r}")


# -- training -------------------------------------------------------------------------------------
def run_dir(r, model: str, condition: str, seed: int) -> Path:
    return _r(r) / "runs" / model / condition / f"seed{seed}"


def checkpoints_dir(r, model: str, condition: str, seed: int) -> Path:
    # Not under runs/: intermediate checkpoints are referenced by hash in dvc.lock, never pushed, and
    # analyze depends on the whole runs/ folder (a clone without them must still see runs/ unchanged).
    return _r(r) / "checkpoints" / model / condition / f"seed{seed}"


def final_model(r, model: str, condition: str, seed: int) -> Path:
    """The last checkpoint again, as its own output: DVC caches and shares it (the step folders are
    referenced by hash only)."""
    return run_dir(r, model, condition, seed) / "final"


def train_metrics(r, model: str, condition: str, seed: int) -> Path:
    return run_dir(r, model, condition, seed) / "train_metrics.csv"


def train_state_dir(r, model: str, condition: str, seed: int) -> Path:
    return _r(r) / "state" / "train" / model / condition / f"seed{seed}"


# -- evaluation -----------------------------------------------------------------------------------
def eval_dir(r, model: str, run: str) -> Path:
    return _r(r) / "eval" / model / run


def completions(r, model: str, run: str) -> Path:
    return eval_dir(r, model, run) / "completions.parquet"


def grades(r, model: str, run: str) -> Path:
    return eval_dir(r, model, run) / "grades.parquet"


def eval_state_dir(r, model: str, run: str) -> Path:
    return _r(r) / "state" / "eval" / model / run


# -- analysis and report --------------------------------------------------------------------------
# DVC-native results of analyze, beside (not inside) the analysis folder: DVC outputs may not overlap.
DVC_SUMMARY = "dvc/summary.json"
DVC_RUNS = "dvc/runs.json"
DVC_PLOTS = "dvc/plots"


def analysis_dir(r) -> Path:
    return _r(r) / "analysis"


def metrics_table(r) -> Path:
    return analysis_dir(r) / "metrics.csv"


def report_dir(r) -> Path:
    return _r(r) / "report"


def report_markdown(r) -> Path:
    return report_dir(r) / "report.md"


def logs_dir(r) -> Path:
    return _r(r) / "logs"
