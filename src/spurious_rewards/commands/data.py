"""`data`: write the RL prompt set, the one-shot set and every benchmark as {id, prompt, answer, source}.

Synthetic benchmarks are drawn first and their prompts excluded from the training set, so the toy
world has no train/test overlap. Real sources are read as they are (DeepScaleR and MATH-500 do not
overlap by construction of the paper's data).
"""

from __future__ import annotations

import argparse
import logging

from spurious_rewards import paths, provenance
from spurious_rewards.cliargs import add_params
from spurious_rewards.config import Params, load_params
from spurious_rewards.data import loaders, synthetic
from spurious_rewards.io import DataError, atomic_dir, write_jsonl

# The parameter keys this module reads (codegraph: the stage table derives fingerprints and DVC params).
PARAMS = ("data",)

log = logging.getLogger(__name__)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_params(parser)


def _synthetic(params: Params, spec: dict, split: str, exclude: set[str]) -> list[dict]:
    synth = params.section("data")["synthetic"]
    problems = synthetic.generate(spec["n"], seed=synth["seed"], split=split, difficulty=spec["difficulty"],
                                  add_max=synth["add_max"], mul_max=synth["mul_max"],
                                  exclude=exclude)
    return [p.record() for p in problems]


def build_benchmarks(params: Params) -> dict[str, list[dict]]:
    out = {}
    for name, spec in params.benchmarks.items():
        where = f"{params.path}: data.benchmarks.{name}"
        if spec["source"] == "synthetic":
            out[name] = _synthetic(params, spec, f"bench-{name}", set())
        else:
            out[name] = loaders.load_source(spec, where)
    return out


def build_train(params: Params, benchmarks: dict[str, list[dict]]) -> list[dict]:
    spec = params.section("data")["train"]
    if spec["source"] == "synthetic":
        held_out = {r["prompt"] for rows in benchmarks.values() for r in rows}
        return _synthetic(params, spec, "train", held_out)
    return loaders.load_source(spec, f"{params.path}: data.train")


def build_one_shot(params: Params, train: list[dict]) -> list[dict]:
    """The one-shot set: one example repeated (the paper's pi1 x 128 by default)."""
    spec = params.section("data")["one_shot"]
    repeat = spec["repeat"]
    if spec["source"] == "synthetic":
        example = {"prompt": train[0]["prompt"], "answer": train[0]["answer"], "source": "one_shot"}
    elif spec["source"] == "path":
        from spurious_rewards.data.one_shot import load_one_shot

        try:
            example = {**load_one_shot(spec["path"], spec["id"]), "source": "one_shot"}
        except ValueError as exc:  # voting's errors name the file; exit 2 like every bad input
            raise DataError(f"{params.path}: data.one_shot: {exc}") from None
    else:
        rows = loaders.load_hf(spec["dataset"], spec["split"], None, spec["revision"])
        example = {"prompt": rows[0]["prompt"], "answer": rows[0]["answer"], "source": "one_shot"}
    return [{"id": f"one_shot-{i}", **example} for i in range(repeat)]


def main(args: argparse.Namespace) -> int:
    params = load_params(args.params, check_rewards=False)
    r = params.results_dir
    benchmarks = build_benchmarks(params)
    train = build_train(params, benchmarks)
    one_shot = build_one_shot(params, train)
    rec = provenance.record(params, "data", sections=("data",),
                            counts={"train": len(train), "one_shot": len(one_shot),
                                    **{f"benchmark:{k}": len(v) for k, v in benchmarks.items()}})
    with atomic_dir(paths.benchmarks_dir(r)) as tmp:
        for name, rows in benchmarks.items():
            write_jsonl(tmp / f"{name}.jsonl", rows)
        provenance.write(tmp, rec)
    write_jsonl(paths.train_data(r), train)
    write_jsonl(paths.one_shot_data(r), one_shot)
    provenance.write(paths.train_data(r), rec)
    log.info("data: %d training prompts, %d one-shot rows, benchmarks %s", len(train), len(one_shot),
             {k: len(v) for k, v in benchmarks.items()})
    return 0
