"""`base`: the model every run starts from (and step 0 of every curve).

kind: tiny -> train a tokenizer and pre-train a ~1M-parameter Qwen2 from config on synthetic solution
traces with TRL's SFTTrainer (loss on the assistant turn only), then save it as an HF folder.
kind: hf   -> write reference.json (HF id + the commit SHA its revision resolves to now); the weights
stay in the HF cache (`python -m spurious_rewards fetch`), loaded by whichever stage needs them. A
branch or tag is resolved here, so the reference, the provenance and dvc.lock name the exact commit,
and a moved branch shows up as a changed base (after `snakemake -R base` / `dvc repro -f -s base`).

Measured on 2 CPU cores (BENCHMARKS.md): the step count matters more than model size; finishing
the cosine schedule matters a lot, so the schedule always ends at `steps`.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import warnings
from pathlib import Path

from spurious_rewards import paths, progress, provenance
from spurious_rewards.cliargs import add_model, add_params
from spurious_rewards.config import Params, load_params
from spurious_rewards.io import DataError, atomic_dir, honour_umask, read_jsonl, write_json
from spurious_rewards.model import build, corpus
from spurious_rewards.model.loading import REFERENCE_FILE, resolve_device

# The parameter keys this module reads (codegraph: the stage table derives fingerprints and DVC params).
PARAMS = ("models.{model}", "data.synthetic", "data.benchmarks", "experiment.device",
          "experiment.torch_threads")

log = logging.getLogger(__name__)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_params(parser)
    add_model(parser)


def _held_out_prompts(params: Params) -> set[str]:
    r = params.results_dir
    held = {row["prompt"] for row in read_jsonl(paths.train_data(r), required=("prompt",))}
    for bench in params.benchmarks:
        held |= {row["prompt"] for row in read_jsonl(paths.benchmark_data(r, bench), required=("prompt",))}
    return held


def pretrain(params: Params, model_name: str, out_dir) -> dict:
    """Build and pre-train the tiny model into out_dir; return a summary for provenance."""
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    spec = params.model(model_name)
    pre = spec["pretrain"]
    synth = params.section("data")["synthetic"]
    seed = pre["seed"]
    torch.set_num_threads(params.experiment["torch_threads"])
    mix = corpus.StyleMix(**{f.name: pre[f.name] for f in dataclasses.fields(corpus.StyleMix)})
    # RL prompts and benchmark items never appear in pre-training, so gains cannot be memorisation.
    rows = corpus.build(pre["corpus_size"], mix, seed=seed, add_max=synth["add_max"],
                        mul_max=synth["mul_max"], exclude=_held_out_prompts(params),
                        hard_share=pre["hard_share"])
    texts = [build.chat_text(r["prompt"] + r["completion"]) for r in rows]
    vocab = spec["tokenizer"]["vocab_size"]
    tokenizer = build.train_tokenizer(texts, vocab_size=vocab)
    model = build.build_model(tokenizer, spec["architecture"], vocab, seed)
    device = resolve_device(params.experiment["device"])
    config = SFTConfig(
        output_dir=str(paths.train_state_dir(params.results_dir, model_name, "pretrain", seed)),
        max_steps=pre["steps"],
        per_device_train_batch_size=pre["batch_size"],
        learning_rate=pre["learning_rate"],
        warmup_steps=pre["warmup_steps"],
        lr_scheduler_type="cosine",
        weight_decay=0.0,
        max_length=128,
        completion_only_loss=True,
        seed=seed,
        data_seed=seed,
        bf16=False,
        use_cpu=device == "cpu",
        gradient_checkpointing=False,
        logging_steps=100,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    dataset = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in rows])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        shown = progress.trainer_callback(f"base {model_name}: pre-training step", config.max_steps)
        trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                             callbacks=[shown])
        result = trainer.train()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    codes = sum(r["style"] == "code" for r in rows)
    return {"parameters": sum(p.numel() for p in model.parameters()),
            "corpus": {"size": len(rows), "code_share": codes / len(rows),
                       "code_correct": sum(r["correct"] for r in rows if r["style"] == "code") / max(codes, 1),
                       "language_correct": sum(r["correct"] for r in rows if r["style"] == "language")
                       / max(len(rows) - codes, 1)},
            "final_train_loss": result.training_loss, "steps": result.global_step}


def hf_reference(name: str, spec: dict) -> dict:
    """reference.json for a `kind: hf` model: a Hub id with its revision resolved to a commit SHA."""
    from spurious_rewards.model import hub

    path, requested = spec["path"], spec["revision"]
    if hub.is_local(path):
        if not Path(path).expanduser().is_dir():
            raise DataError(f"models.{name}.path: {path} is a local path and no such folder exists")
        return {"path": path, "revision": None, "requested_revision": requested}
    return {"path": path, "revision": hub.resolve_revision(path, requested),
            "requested_revision": requested}


def main(args: argparse.Namespace) -> int:
    params = load_params(args.params, check_rewards=False)
    spec = params.model(args.model)
    out = paths.base_model(params.results_dir, args.model)
    # an hf model is not pre-trained here: no pretrain seed
    pretrain_seed = spec["pretrain"]["seed"] if spec["kind"] == "tiny" else None
    with atomic_dir(out) as tmp:
        if spec["kind"] == "hf":
            reference = hf_reference(args.model, spec)
            write_json(tmp / REFERENCE_FILE, reference)
            summary = {"reference": reference["path"], "revision": reference["revision"],
                       "requested_revision": reference["requested_revision"]}
        else:
            summary = pretrain(params, args.model, tmp)
        provenance.write(tmp, provenance.record(params, "base", sections=("models", "data"),
                                                model=args.model, summary=summary,
                                                seeds={"pretrain": pretrain_seed}))
        honour_umask(tmp)  # save_pretrained writes model.safetensors 0600
    log.info("base model %s -> %s: %s", args.model, out, summary)
    return 0
