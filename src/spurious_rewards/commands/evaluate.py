"""`evaluate`: completions of the base model (step 0, `--base`) or of every checkpoint of one run, on
every benchmark. One code path for both, so the step-0 baseline is decoded exactly like the trained
checkpoints (same prompt rendering, decoding settings and backend; a common complaint about published
baselines).

For the base model it also runs the paper's prompting intervention (Table 3): the response is forced
to start with `evaluate.forced_prefix` (appended to the rendered prompt), stored as variant
"forced_prefix". The `completion` column holds only what the model generated after the prefix, so the
code detector measures the model's own text; `response_prefix` holds the prefix.

Resume: one shard per (checkpoint, benchmark, variant) under paths.eval_state_dir, written atomically
and named by a hash of everything that shapes its text (checkpoint fingerprint, benchmark file hash,
rendered-prompt template, decoding settings, backend and batch size). A rerun reuses a shard only when
that hash matches, so a settings change regenerates instead of silently reusing old text.

Departures from the paper: the paper used vLLM with 4 (or 2) prompt shards; greedy outputs depend on
the backend, batch layout and GPU, so ours are reproducible for the recorded backend/batch/device, not
bit-identical to the paper's. The paper's curves come from in-training evaluation every step; we
evaluate the saved checkpoints (every train.save_every steps, plus each step of train.save_final_window).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from spurious_rewards import cliargs, io, paths, progress, prompts, provenance
from spurious_rewards.config import Params, canonical_hash, load_params
from spurious_rewards.data.benchmarks import DEFAULT, FORCED, load_benchmark
from spurious_rewards.paths import BASE_CONDITION, BASE_SEED

# The parameter keys this module reads (codegraph: the stage table derives fingerprints and DVC params).
PARAMS = ("evaluate", "data.benchmarks", "models.{model}", "conditions.{condition}", "experiment.device",
          "experiment.torch_threads")

log = logging.getLogger(__name__)

COLUMNS = ["model", "condition", "seed", "step", "benchmark", "variant", "problem_id", "sample_index",
           "prompt", "response_prefix", "completion", "answer", "n_tokens", "finish_reason", "source"]
# Weights smaller than this are hashed in full; larger ones by name/size/mtime (a 15 GB model).
_FULL_HASH_BYTES = 256 << 20


@dataclass(frozen=True)
class Checkpoint:
    step: int
    path: Path


@dataclass(frozen=True)
class Target:
    """What one evaluate call covers: the base model or one run."""

    model: str
    condition: str
    seed: int
    run: str
    checkpoints: tuple[Checkpoint, ...]
    variants: tuple[str, ...]


def configure_parser(parser) -> None:
    cliargs.add_params(parser)
    cliargs.add_run(parser, allow_base=True)


# -- inputs ---------------------------------------------------------------------------------------
def list_checkpoints(ckpt_dir: Path) -> list[Checkpoint]:
    """Every stepNNNNNN folder, in step order; each must be loadable."""
    from spurious_rewards.model.loading import check_loadable

    if not ckpt_dir.is_dir():
        raise io.DataError(f"{ckpt_dir}: checkpoints folder not found (has the run been trained?)")
    found = []
    for child in sorted(ckpt_dir.iterdir()):
        if child.is_dir() and not child.name.startswith("."):
            try:
                found.append(Checkpoint(paths.parse_step(child.name), child))
            except ValueError:
                continue  # trainer state, temporary folders ...
    if not found:
        raise io.DataError(f"{ckpt_dir}: no checkpoint folders (expected stepNNNNNN sub-folders)")
    for ckpt in found:
        check_loadable(ckpt.path)
    return sorted(found, key=lambda c: c.step)


def target_for(params: Params, args) -> Target:
    cliargs.check_run(args, allow_base=True)
    r = params.results_dir
    params.model(args.model)  # ParamsError naming the key for an unknown model
    forced = params.section("evaluate")["forced_prefix"]
    if getattr(args, "base", False):
        from spurious_rewards.model.loading import check_loadable

        base = paths.base_model(r, args.model)
        check_loadable(base)
        variants = (DEFAULT, FORCED) if forced else (DEFAULT,)
        return Target(args.model, BASE_CONDITION, BASE_SEED, paths.BASE_RUN, (Checkpoint(0, base),), variants)
    params.condition(args.condition)
    ckpts = list_checkpoints(paths.checkpoints_dir(r, args.model, args.condition, args.seed))
    return Target(args.model, args.condition, int(args.seed), paths.run_id(args.condition, args.seed),
                  tuple(ckpts), (DEFAULT,))


def checkpoint_fingerprint(folder: Path) -> str:
    """Identity of a checkpoint's weights, so a retrained checkpoint never reuses old shards."""
    from spurious_rewards.model.loading import REFERENCE_FILE

    parts = []
    for f in sorted(folder.iterdir()):
        if not f.is_file():
            continue
        if f.name in (REFERENCE_FILE, "config.json", "generation_config.json"):
            parts.append((f.name, provenance.file_hash(f)))
        elif f.suffix in (".safetensors", ".bin"):
            st = f.stat()
            small = st.st_size <= _FULL_HASH_BYTES
            ident = provenance.file_hash(f) if small else f"{st.st_size}:{st.st_mtime_ns}"
            parts.append((f.name, ident))
    return canonical_hash(parts)


# -- settings -------------------------------------------------------------------------------------
def backend_settings(params: Params, model: str) -> dict:
    """The arguments of make_generator: they shape outputs, so they enter every shard hash."""
    from spurious_rewards.model.loading import resolve_device
    from spurious_rewards.model.spec import resolve_spec

    ev = params.section("evaluate")
    spec = resolve_spec(params, model)
    settings = {"backend": ev["backend"], "device": resolve_device(params.experiment["device"]),
                "batch_size": int(ev["batch_size"]),
                "dtype": spec.torch_dtype, "trust_remote_code": spec.trust_remote_code}
    if ev["backend"] == "vllm":
        settings["vllm_options"] = dict(ev["vllm"])
    return settings


def shard_settings(*, fingerprint: str, bench: str, bench_sha: str, bench_settings: dict, variant: str,
                   prefix: str, template: str, template_hash: str, system_prompt, stop, seed: int,
                   backend: dict) -> dict:
    return {"checkpoint": fingerprint, "benchmark": bench, "benchmark_sha256": bench_sha,
            "variant": variant, "response_prefix": prefix, "prompt_template": template,
            "template_hash": template_hash, "system_prompt": system_prompt, "stop": stop, "seed": seed,
            "add_special_tokens": prompts.adds_special_tokens(template), **bench_settings, "backend": backend}


def shard_path(state_dir: Path, step: int, bench: str, variant: str, settings_hash: str) -> Path:
    return state_dir / paths.step_name(step) / f"{bench}.{variant}.{settings_hash[:16]}.parquet"


# -- generation -----------------------------------------------------------------------------------
def shard_rows(target: Target, step: int, bench: str, variant: str, rows: list[dict], prompts_text,
               prefix: str, samples_out) -> list[dict]:
    out = []
    for row, prompt, samples in zip(rows, prompts_text, samples_out):
        for k, sample in enumerate(samples):
            out.append({"model": target.model, "condition": target.condition, "seed": target.seed,
                        "step": step, "benchmark": bench, "variant": variant,
                        "problem_id": str(row["id"]), "sample_index": k, "prompt": prompt,
                        "response_prefix": prefix, "completion": sample.text,
                        "answer": str(row["answer"]), "n_tokens": int(sample.n_tokens),
                        "finish_reason": sample.finish_reason, "source": str(row.get("source", ""))})
    return out


class _LazyGenerator:
    """Builds the generator only if some shard of the checkpoint is missing."""

    def __init__(self, path: Path, backend: dict, attn: str | None):
        self.path, self.backend, self.attn, self.gen = path, backend, attn, None

    def get(self):
        if self.gen is None:
            from spurious_rewards.generation import make_generator

            b = self.backend
            self.gen = make_generator(b["backend"], self.path, device=b["device"], batch_size=b["batch_size"],
                                      dtype=b["dtype"], attn_implementation=self.attn,
                                      trust_remote_code=b["trust_remote_code"],
                                      vllm_options=b.get("vllm_options"))
        return self.gen

    def close(self):
        if self.gen is not None:
            self.gen.close()
            self.gen = None


def run(params: Params, target: Target) -> Path:
    import pandas as pd

    from spurious_rewards.model.loading import load_tokenizer
    from spurious_rewards.model.spec import resolve_spec

    r = params.results_dir
    ev = params.section("evaluate")
    spec = resolve_spec(params, target.model)
    template, system_prompt = spec.prompt_template, spec.system_prompt
    stop = prompts.stop_strings(template)
    special_tokens = prompts.adds_special_tokens(template)
    prefix_text = ev["forced_prefix"]
    seed = int(ev["seed"])
    backend = backend_settings(params, target.model)
    if backend["device"] == "cpu":
        import torch

        torch.set_num_threads(params.experiment["torch_threads"])
    benches = {name: load_benchmark(params, name) for name in params.benchmarks}
    bench_sha = {name: provenance.file_hash(path) for name, (_, _, path) in benches.items()}
    state_dir = paths.eval_state_dir(r, target.model, target.run)

    frames, shard_log, describes, template_hashes = [], [], [], set()
    fingerprints: dict[int, str] = {}  # hashing a checkpoint reads its weights: once per checkpoint
    shown = progress.bar(len(target.checkpoints) * len(benches) * len(target.variants),
                         f"evaluate {target.model}/{target.run}: shard (checkpoint x benchmark x variant)",
                         unit="shards")
    for ckpt in target.checkpoints:
        tokenizer = load_tokenizer(ckpt.path, trust_remote_code=backend["trust_remote_code"])
        t_hash = prompts.template_hash(tokenizer, template, system_prompt)
        template_hashes.add(t_hash)
        fingerprint = fingerprints[ckpt.step] = checkpoint_fingerprint(ckpt.path)
        lazy = _LazyGenerator(ckpt.path, backend, None)
        try:
            for bench, (bset, rows, _) in benches.items():
                rendered = [prompts.render(tokenizer, row["prompt"], template, system_prompt) for row in rows]
                for variant in target.variants:
                    prefix = prefix_text if variant == FORCED else ""
                    settings = shard_settings(fingerprint=fingerprint, bench=bench,
                                              bench_sha=bench_sha[bench], bench_settings=bset, variant=variant, prefix=prefix,
                                              template=template, template_hash=t_hash,
                                              system_prompt=system_prompt, stop=stop, seed=seed,
                                              backend=backend)
                    s_hash = canonical_hash(settings)
                    shard = shard_path(state_dir, ckpt.step, bench, variant, s_hash)
                    meta = shard.with_suffix(".json")
                    entry = {"step": ckpt.step, "benchmark": bench, "variant": variant,
                             "settings_hash": s_hash, "shard": str(shard)}
                    reused = read_shard(shard, meta) if shard.is_file() and meta.is_file() else None
                    if reused is not None:
                        frames.append(reused[0])
                        describes.append(reused[1])
                        shard_log.append({**entry, "resumed": True})
                        log.info("step %d %s/%s: reusing %s", ckpt.step, bench, variant, shard.name)
                        shown.update()
                        continue
                    texts = [p + prefix for p in rendered]
                    gen = lazy.get()
                    t0 = time.monotonic()
                    out = gen.generate(texts, samples=bset["samples"], temperature=bset["temperature"],
                                       top_p=bset["top_p"], max_new_tokens=bset["max_new_tokens"],
                                       seed=seed, stop=stop, add_special_tokens=special_tokens)
                    seconds = time.monotonic() - t0
                    records = shard_rows(target, ckpt.step, bench, variant, rows, texts, prefix, out)
                    frame = pd.DataFrame(records, columns=COLUMNS)
                    describe = gen.describe()
                    # Metadata first, parquet last: the parquet's presence marks a finished shard.
                    io.write_json(meta, {"settings": settings, "settings_hash": s_hash,
                                         "backend_describe": describe, "seconds": seconds,
                                         "rows": len(frame)})
                    io.write_parquet(shard, frame)
                    frames.append(frame)
                    describes.append(describe)
                    shard_log.append({**entry, "resumed": False, "seconds": round(seconds, 3)})
                    log.info("step %d %s/%s: %d completions in %.1f s", ckpt.step, bench, variant,
                             len(frame), seconds)
                    shown.update()
        finally:
            lazy.close()
    shown.close()

    result = pd.concat(frames, ignore_index=True)[COLUMNS]
    output = paths.completions(r, target.model, target.run)
    rec = provenance.record(
        params, "evaluate", sections=("evaluate", "data", "models"),
        model=target.model, run=target.run, condition=target.condition, train_seed=target.seed,
        seeds={"evaluate.seed": seed, "train_seed": target.seed},
        checkpoints=[{"step": c.step, "path": str(c.path), "fingerprint": fingerprints[c.step],
                      **_loaded_from(c.path)} for c in target.checkpoints],
        prompt_template=template, system_prompt=system_prompt, template_hashes=sorted(template_hashes),
        stop=stop, forced_prefix=prefix_text if FORCED in target.variants else None,
        benchmarks={name: {"file": str(path), "sha256": bench_sha[name], "rows": len(rows),
                           "sources": sorted({str(row.get("source", "")) for row in rows}),
                           "data_spec": {k: v for k, v in params.benchmarks[name].items()},
                           "decoding": bset}
                    for name, (bset, rows, path) in benches.items()},
        backend=backend, backend_describe=_unique(describes), shards=shard_log, rows=len(result))
    output.parent.mkdir(parents=True, exist_ok=True)
    provenance.write(output, rec)
    io.write_parquet(output, result)
    log.info("wrote %s (%d rows)", output, len(result))
    return output


def _loaded_from(folder: Path) -> dict:
    """What the generator loaded for a checkpoint: a Hub base model's id and the commit its revision
    resolved to (base's reference.json), or the local folder (revision None)."""
    from spurious_rewards.model.loading import resolve

    source, revision = resolve(folder)
    return {"loaded": source, "revision": revision}


def read_shard(shard: Path, meta: Path):
    """(frame, backend description) of a finished shard; None, with a warning, if either file is unreadable.

    The shard is then generated again: a damaged cache entry must neither stop the run nor silently
    drop the backend description from the provenance record.
    """
    import json

    try:
        record = json.loads(meta.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or not isinstance(record.get("backend_describe"), dict):
            raise ValueError("no backend_describe object")
        return io.read_parquet(shard), record["backend_describe"]
    except (OSError, ValueError) as exc:  # DataError is a ValueError
        log.warning("%s: unreadable shard record (%s); regenerating the shard", meta, exc)
        return None


def _unique(items: list) -> list:
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def main(args) -> int:
    params = load_params(args.params, check_rewards=False)
    run(params, target_for(params, args))
    return 0
