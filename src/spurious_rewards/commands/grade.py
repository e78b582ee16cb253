"""`grade`: grade one completions file with every grader in `analysis.graders`.

The completions must be complete (every step x benchmark x variant x problem x sample present), so a
partial file can never turn into a plausible-looking accuracy. Each unique (completion, gold) pair is
graded once per grader in worker processes with a hard per-answer time bound (grading.pool): sympy can
hang on adversarial model output. Model output is data here: it is parsed, never executed.

Code detectors: `has_python` is the paper's (the case-insensitive substring "python", as in its
`contain_python_wo_backticks_reward_fn` and in-training `accuracy_has_code`); `has_code_block` is a
stricter fenced ```python block, reported beside it because the paper's captions say "code blocks".
"""

from __future__ import annotations

import logging

from spurious_rewards import cliargs, io, paths, progress, prompts, provenance
from spurious_rewards.analysis.code_reasoning import CODE_BLOCK, has_code_block, has_python
from spurious_rewards.config import Params, load_params
from spurious_rewards.data.benchmarks import DEFAULT, FORCED, load_benchmark
from spurious_rewards.model.spec import resolve_spec
from spurious_rewards.paths import BASE_CONDITION

# The parameter keys this module reads (codegraph: the stage table derives fingerprints and DVC params).
PARAMS = ("analysis.graders", "grader", "evaluate.forced_prefix", "data.benchmarks", "models.{model}")

log = logging.getLogger(__name__)

KEYS = ["model", "condition", "seed", "step", "benchmark", "variant", "problem_id", "sample_index"]
COLUMNS = KEYS + ["grader", "grader_version", "extracted", "correct", "has_python", "has_code_block",
                  "n_tokens", "n_chars", "finish_reason"]
REQUIRED = KEYS + ["completion", "answer", "n_tokens", "finish_reason"]
DEFAULT_TIMEOUT_S = 5.0
# answers per grading call: the log shows progress after each
GRADE_CHUNK = 2000


def configure_parser(parser) -> None:
    cliargs.add_params(parser)
    cliargs.add_run(parser, allow_base=True)


def read_completions(path) -> object:
    import pandas as pd

    if not path.is_file():
        raise io.DataError(f"{path}: completions file not found (run evaluate first)")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise io.DataError(f"{path}: not a readable parquet file ({exc})") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise io.DataError(f"{path}: missing column(s) {', '.join(missing)}")
    return frame


def check_complete(frame, params: Params, path, base: bool) -> None:
    """Every expected (step, benchmark, variant, problem, sample) row present exactly once."""
    dup = frame.duplicated(KEYS)
    if dup.any():
        row = frame.loc[dup, KEYS].iloc[0].to_dict()
        raise io.DataError(f"{path}: {int(dup.sum())} duplicate completion row(s), e.g. {row}")
    steps = sorted(frame["step"].unique())
    if not steps:
        raise io.DataError(f"{path}: no completions")
    forced = bool(params.section("evaluate")["forced_prefix"])
    variants = [DEFAULT, FORCED] if (base and forced) else [DEFAULT]
    present = set(map(tuple, frame[["step", "benchmark", "variant", "problem_id", "sample_index"]]
                      .astype({"problem_id": str}).itertuples(index=False, name=None)))
    for name in params.benchmarks:
        settings, rows, _ = load_benchmark(params, name)
        ids = [str(r["id"]) for r in rows]
        for step in steps:
            for variant in variants:
                missing = [(pid, k) for pid in ids for k in range(settings["samples"])
                           if (step, name, variant, pid, k) not in present]
                if missing:
                    pid, k = missing[0]
                    raise io.DataError(
                        f"{path}: incomplete: {len(missing)} completion(s) missing for step {step}, "
                        f"benchmark {name!r}, variant {variant!r} (first: problem {pid!r}, sample {k})")


def grade_frame(frame, graders: list[str], workers: int | None, timeout_s: float,
                answer_region: str = "full"):
    """Long table: one row per completion and grader.

    Correctness and the extracted answer come from the model's answer region (prompts.answer_text: the
    text after the last "<answer>" for R1-template models, as the paper's in-training `math_r1_style`
    evaluation); the code detectors and lengths look at the whole completion, as the paper's do.
    """
    import pandas as pd

    from spurious_rewards.grading import get_grader
    from spurious_rewards.grading import pool as grading_pool

    full_texts = frame["completion"].fillna("").astype(str).tolist()
    texts = [prompts.answer_text(t, answer_region) for t in full_texts]
    golds = frame["answer"].astype(str).tolist()
    # Greedy checkpoints repeat many answers; grade each distinct (completion, gold) pair once.
    unique = list(dict.fromkeys(zip(texts, golds)))
    base = frame[KEYS].copy()
    base["has_python"] = [has_python(t) for t in full_texts]
    base["has_code_block"] = [has_code_block(t) for t in full_texts]
    base["n_tokens"] = frame["n_tokens"].astype("int64").to_numpy()
    base["n_chars"] = [len(t) for t in full_texts]
    base["finish_reason"] = frame["finish_reason"].astype(str).to_numpy()
    parts, versions = [], {}
    shown = progress.bar(len(graders) * len(unique), f"grade ({', '.join(graders)}): unique answer",
                         unit="answers")
    for name in graders:
        grader = get_grader(name)
        versions[name] = grader.version
        correct, extracted = [], []
        # chunks on one pool (workers stay up) only so that the log shows progress between them
        with grading_pool.GradingPool(name, workers=workers, timeout_s=timeout_s) as pool:
            for start in range(0, len(unique), GRADE_CHUNK):
                chunk = unique[start:start + GRADE_CHUNK]
                texts_c = [t for t, _ in chunk]
                correct += pool.grade(texts_c, [g for _, g in chunk])
                extracted += pool.extract(texts_c)
                shown.update(len(chunk))
        by_pair = {pair: (bool(c), e) for pair, c, e in zip(unique, correct, extracted)}
        part = base.copy()
        part["grader"] = name
        part["grader_version"] = grader.version
        part["extracted"] = [by_pair[p][1] for p in zip(texts, golds)]
        part["correct"] = [by_pair[p][0] for p in zip(texts, golds)]
        parts.append(part[COLUMNS])
        log.info("grader %s: %d unique answers, accuracy %.3f", name, len(unique),
                 part["correct"].mean() if len(part) else float("nan"))
    shown.close()
    return pd.concat(parts, ignore_index=True), versions


def main(args) -> int:
    params = load_params(args.params, check_rewards=False)
    cliargs.check_run(args, allow_base=True)
    r = params.results_dir
    base = bool(getattr(args, "base", False))
    run = paths.BASE_RUN if base else paths.run_id(args.condition, args.seed)
    source = paths.completions(r, args.model, run)
    frame = read_completions(source)
    check_complete(frame, params, source, base)
    if base and set(frame["condition"]) != {BASE_CONDITION}:
        raise io.DataError(f"{source}: a base completions file must hold condition 'base' only")
    graders = list(params.section("analysis")["graders"])
    workers = int(params.section("resources")["grade"]["cpus"])
    region = resolve_spec(params, args.model).answer_region
    grades, versions = grade_frame(frame, graders, workers=workers, timeout_s=DEFAULT_TIMEOUT_S,
                                   answer_region=region)
    output = paths.grades(r, args.model, run)
    rec = provenance.record(params, "grade", sections=("analysis",), model=args.model, run=run,
                            completions={"file": str(source), "sha256": provenance.file_hash(source)},
                            graders=[{"name": g, "version": versions[g]} for g in graders],
                            timeout_s=DEFAULT_TIMEOUT_S, workers=workers, rows=len(grades),
                            answer_region=region,
                            detectors={"has_python": "case-insensitive substring 'python' (paper)",
                                       "has_code_block": CODE_BLOCK.pattern})
    provenance.write(output, rec)
    io.write_parquet(output, grades)
    log.info("wrote %s (%d rows)", output, len(grades))
    return 0
