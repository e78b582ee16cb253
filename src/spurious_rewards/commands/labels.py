"""`labels`: majority-vote labels and the incorrect-label subset (paper §1.3).

For each training prompt, k answers are sampled from the base model (64 at temperature 1.0 in the
paper preset), empty answers are dropped and the most common answer wins (voting.py): counted as exact
extracted strings with ties to the first seen (labels.vote: exact, the paper's count), or after
grouping the answers the configured grader calls equivalent (labels.vote: cluster). The incorrect
subset keeps the rows whose majority answer is not equivalent to the ground truth.

Departures from the paper, by parameter:
- labels.prompt: `raw` samples on the bare problem text as the paper does; `template` renders the
  model's prompt template first. The tiny model only knows chat-formatted text, so the toy default
  uses `template`; the paper preset uses `raw`.
- labels.keep_empty: prompts whose k answers are all empty get the label '' and stay, as in the
  paper, where its grader then pays every response with no extractable answer (and the row also lands
  in the incorrect subset). Off by default: that label rewards giving no answer, and math_verify and
  paper_fixed match nothing to ''; those prompts are dropped and counted in the provenance record.
  Label files read with labels.source: path follow the same rule.
- labels.vote: cluster by default, so one answer written several ways is not outvoted.
- labels.source: path reads already-labelled files (e.g. the paper's DeepScaleR_mv_labeled_<model>)
  instead of sampling.
"""

from __future__ import annotations

import argparse
import logging

import pandas as pd

from spurious_rewards import paths, progress, prompts, provenance
from spurious_rewards.cliargs import add_model, add_params
from spurious_rewards.config import Params, load_params
from spurious_rewards.data import loaders
from spurious_rewards.io import DataError, read_jsonl, write_jsonl, write_parquet

# The parameter keys this module reads (codegraph: the stage table derives fingerprints and DVC params).
PARAMS = ("labels", "grader", "models.{model}", "evaluate.backend", "evaluate.batch_size", "evaluate.vllm",
          "experiment.device")

log = logging.getLogger(__name__)

# Wall-time bound per extracted answer (the grading pool's default; math-verify needs well under 1 s).
EXTRACT_TIMEOUT_S = 5.0
# answers per extraction call: the log shows progress after each
EXTRACT_CHUNK = 20000


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_params(parser)
    add_model(parser)


def _from_files(params: Params, model: str) -> tuple[list[dict], list[dict], dict]:
    spec = params.model(model)
    mv_path, wrong_path = spec["labels_path"], spec["incorrect_labels_path"]
    if not mv_path or not wrong_path:
        raise DataError(f"{params.path}: key models.{model}.labels_path / incorrect_labels_path: "
                        "labels.source is path, so both files are needed")
    keep_empty = params.section("labels")["keep_empty"]
    majority = loaders.load_files([mv_path], allow_empty=True)
    incorrect = loaders.load_files([wrong_path], allow_empty=True)
    unlabelled = sum(not row["answer"] for row in majority)
    if not keep_empty:
        majority = [row for row in majority if row["answer"]]
        incorrect = [row for row in incorrect if row["answer"]]
    return majority, incorrect, {"source": "path", "files": [mv_path, wrong_path], "unlabelled": unlabelled}


def _sample(params: Params, model: str) -> tuple[list[dict], list[dict], dict, pd.DataFrame]:
    from spurious_rewards.generation import make_generator
    from spurious_rewards.grading import get_grader
    from spurious_rewards.grading.pool import extract_many
    from spurious_rewards.model.loading import resolve_device
    from spurious_rewards.model.spec import resolve_spec
    from spurious_rewards.voting import is_incorrect, majority_vote

    spec, model_spec = params.section("labels"), resolve_spec(params, model)
    r = params.results_dir
    rows = read_jsonl(paths.train_data(r), required=("id", "prompt", "answer"), answer_field="answer")
    if spec["max_prompts"]:  # null: every prompt
        rows = rows[: spec["max_prompts"]]
    evaluate = params.section("evaluate")
    generator = make_generator(evaluate["backend"], paths.base_model(r, model),
                               device=resolve_device(params.experiment["device"]),
                               batch_size=evaluate["batch_size"],
                               trust_remote_code=model_spec.trust_remote_code,
                               vllm_options=evaluate["vllm"])
    template = model_spec.prompt_template
    if spec["prompt"] == "raw":
        texts = [row["prompt"] for row in rows]
    else:
        texts = [prompts.render(generator.tokenizer, row["prompt"], template, model_spec.system_prompt)
                 for row in rows]
    k = spec["samples_per_prompt"]
    outputs = generator.generate(texts, samples=k, temperature=spec["temperature"], top_p=spec["top_p"],
                                 max_new_tokens=spec["max_new_tokens"], seed=spec["seed"],
                                 stop=prompts.stop_strings(template),
                                 add_special_tokens=spec["prompt"] == "raw" or prompts.adds_special_tokens(template))
    grader = get_grader(params.section("grader"))
    # Extraction parses raw model output, the step that can hang on a pathological completion, so it
    # runs in worker processes with a hard bound per answer (a timed-out answer casts no vote). The
    # equivalence checks below compare short extracted strings and stay in this process.
    # The vote reads the answer the model gives, in the region training rewards and evaluation grade
    # (an R1 model's text after <answer>): a \\boxed{} inside its reasoning is not its answer.
    texts_out = [prompts.answer_text(s.text, model_spec.answer_region) for samples in outputs for s in samples]
    answers_all: list = []
    with progress.bar(len(texts_out), f"labels {model}: answers extracted", unit="answers") as shown:
        for start in range(0, len(texts_out), EXTRACT_CHUNK):
            chunk = texts_out[start:start + EXTRACT_CHUNK]
            answers_all += extract_many(chunk, params.section("grader"),
                                        workers=params.section("resources")["labels"]["cpus"],
                                        timeout_s=EXTRACT_TIMEOUT_S)
            shown.update(len(chunk))
    extracted = iter(answers_all)
    vote_method, keep_empty = spec["vote"], spec["keep_empty"]
    majority, incorrect, sample_rows, unlabelled = [], [], [], 0
    for row, samples in zip(rows, outputs):
        answers = [next(extracted) for _ in samples]
        vote = majority_vote(answers, grader, method=vote_method)
        for index, (sample, answer) in enumerate(zip(samples, answers)):
            sample_rows.append({"id": row["id"], "sample_index": index, "completion": sample.text,
                                "extracted": answer, "gold": row["answer"],
                                "correct": bool(answer) and grader.is_equivalent(answer, row["answer"])})
        if not vote.label:
            unlabelled += 1
            if not keep_empty:
                continue
        labelled = {"id": row["id"], "prompt": row["prompt"], "answer": vote.label,
                    "source": f"majority_vote:{model}", "votes": vote.votes, "n_valid": vote.n_valid,
                    "ground_truth": row["answer"]}
        majority.append(labelled)
        if is_incorrect(vote.label, row["answer"], grader):
            incorrect.append({**labelled, "source": f"incorrect:{model}"})
    info = {"source": "generate", "prompts": len(rows), "samples_per_prompt": k, "unlabelled": unlabelled,
            "majority_agreement": 1 - len(incorrect) / max(len(majority), 1),
            "grader": {"name": grader.name, "version": grader.version},
            "vote": vote_method, "keep_empty": keep_empty, "answer_region": model_spec.answer_region,
            "generator": generator.describe(),
            "prompt_mode": spec["prompt"],
            "prompt_template_hash": prompts.template_hash(generator.tokenizer, template,
                                                           model_spec.system_prompt)}
    generator.close()
    return majority, incorrect, info, pd.DataFrame(sample_rows)


def main(args: argparse.Namespace) -> int:
    params = load_params(args.params, check_rewards=False)
    r = params.results_dir
    if params.section("labels")["source"] == "path":
        majority, incorrect, info = _from_files(params, args.model)
        samples = pd.DataFrame(columns=["id", "sample_index", "completion", "extracted", "gold", "correct"])
    else:
        majority, incorrect, info, samples = _sample(params, args.model)
    if not majority:
        raise DataError(f"labels for {args.model}: no prompt received a majority label")
    if not incorrect:
        # An empty training set would crash GRPO later with a less clear message.
        raise DataError(f"labels for {args.model}: every majority label is correct, so the incorrect-label "
                        "set is empty; label more prompts (labels.max_prompts) or sample more")
    rec = provenance.record(params, "labels", sections=("labels", "grader", "models"), model=args.model,
                            counts={"majority_vote": len(majority), "incorrect": len(incorrect)},
                            seeds={"labels": params.section("labels")["seed"]}, **info)
    write_parquet(paths.label_samples(r, args.model), samples)
    write_jsonl(paths.labels_file(r, args.model, "incorrect"), incorrect)
    write_jsonl(paths.labels_file(r, args.model, "majority_vote"), majority)
    provenance.write(paths.labels_file(r, args.model, "majority_vote"), rec)
    log.info("labels %s: %d majority-vote rows, %d incorrect (agreement with ground truth %.3f)",
             args.model, len(majority), len(incorrect), info.get("majority_agreement", float("nan")))
    return 0
