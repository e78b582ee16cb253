"""transformers `generate` backend: batched, left-padded, KV cache, on CPU or GPU.

Batch layout: the (prompt, sample) pairs of one call are sorted by prompt length (longest first, ties
in prompt order) and cut into batches of `batch_size`, so padding is small and an out-of-memory error
shows up on the first batch. Greedy outputs of a causal LM with left padding can differ in the last
bits between batch layouts (padding changes the matmul shapes), so the layout is part of describe().
For sampling, each batch reseeds torch from (seed, batch index), so a call is reproducible on its own,
whatever ran before it in the process.

Departures from the paper: the paper evaluated with vLLM, whose greedy outputs also depend on batch
composition and GPU type (its README asks for the same GPU and --shards); our numbers are reproducible
for the same backend, batch size and device, which describe() records, not bit-identical to vLLM's.
Only temperature and top_p shape sampling: the model's generation_config defaults (top_k, repetition
penalty) are neutralised, as vLLM's SamplingParams do.
"""

from __future__ import annotations

from pathlib import Path

from spurious_rewards import progress
from spurious_rewards.generation.base import Generator, Sample, check_request, derived_seed, truncate_at_stop


def _eos_ids(tokenizer, model) -> list[int]:
    ids: list[int] = []
    if tokenizer.eos_token_id is not None:
        ids.append(int(tokenizer.eos_token_id))
    cfg = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for i in ([cfg] if isinstance(cfg, int) else (cfg or [])):
        if int(i) not in ids:
            ids.append(int(i))
    if not ids:
        raise ValueError("the tokenizer has no eos token and the model's generation_config names none")
    return ids


class HFGenerator(Generator):
    backend = "hf"
    batch_order = "prompt_length_desc"

    def __init__(self, model, tokenizer, *, device: str, batch_size: int, dtype: str = "float32",
                 attn_implementation: str | None = None, model_dir: str | Path | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.batch_size = int(batch_size)
        self.dtype = dtype
        self.attn_implementation = attn_implementation
        self.model_dir = None if model_dir is None else str(model_dir)
        self.eos_token_ids = _eos_ids(tokenizer, model)
        pad = tokenizer.pad_token_id
        self.pad_token_id = int(pad) if pad is not None else self.eos_token_ids[0]
        self.last_seed: int | None = None

    @classmethod
    def from_dir(cls, model_dir, *, device: str, batch_size: int, dtype: str = "float32",
                 attn_implementation: str | None = None, trust_remote_code: bool = False) -> HFGenerator:
        from spurious_rewards.model.loading import load_model, load_tokenizer

        tokenizer = load_tokenizer(model_dir, trust_remote_code=trust_remote_code)
        model = load_model(model_dir, device=device, dtype=dtype, attn_implementation=attn_implementation,
                           trust_remote_code=trust_remote_code)
        return cls(model, tokenizer, device=device, batch_size=batch_size, dtype=dtype,
                   attn_implementation=attn_implementation, model_dir=model_dir)

    # -- generation -------------------------------------------------------------------------------
    def _generation_config(self, temperature: float, top_p: float, max_new_tokens: int, stop):
        from transformers import GenerationConfig

        sampling = temperature > 0
        kwargs = dict(max_new_tokens=max_new_tokens, min_new_tokens=0, do_sample=sampling, num_beams=1,
                      repetition_penalty=1.0, use_cache=True, eos_token_id=self.eos_token_ids,
                      pad_token_id=self.pad_token_id, stop_strings=list(stop) if stop else None)
        if sampling:
            # top_k=0 switches off a top_k the checkpoint's generation_config may carry.
            kwargs.update(temperature=float(temperature), top_p=float(top_p), top_k=0)
        return GenerationConfig(**kwargs)

    def _batch_tensors(self, rows: list[list[int]]):
        import torch

        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):  # left padding: the last prompt token sits at the right edge
            if r:
                ids[i, width - len(r):] = torch.tensor(r, dtype=torch.long)
                mask[i, width - len(r):] = 1
        return ids.to(self.device), mask.to(self.device)

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def _finish(self, gen: list[int], stop: list[str] | None) -> Sample:
        eos = set(self.eos_token_ids)
        end = next((i for i, t in enumerate(gen) if t in eos), None)
        content = gen if end is None else gen[:end]
        text, stopped = truncate_at_stop(self._decode(content), stop)
        if stopped:
            # The shortest prefix whose text holds a stop string: where generation stopped (rows that
            # finish early are padded to the batch's length, so the raw length would overcount).
            lo, hi = 1, len(content)
            while lo < hi:
                mid = (lo + hi) // 2
                if truncate_at_stop(self._decode(content[:mid]), stop)[1]:
                    hi = mid
                else:
                    lo = mid + 1
            return Sample(text=text, n_tokens=lo, finish_reason="stop")
        if end is not None:
            return Sample(text=text, n_tokens=end + 1, finish_reason="stop")
        return Sample(text=text, n_tokens=len(gen), finish_reason="length")

    def generate(self, prompts, *, samples, temperature, top_p=1.0, max_new_tokens, seed, stop=None,
                 add_special_tokens=False):
        import torch

        check_request(prompts, samples, temperature, top_p, max_new_tokens)
        self.last_seed = int(seed)
        if not prompts:
            return []
        encoded = self.tokenizer(prompts, add_special_tokens=add_special_tokens)["input_ids"]
        # Greedy decoding gives every sample the same text: generate once, copy.
        draws = samples if temperature > 0 else 1
        pairs = [(p, s) for p in range(len(prompts)) for s in range(draws)]
        pairs.sort(key=lambda ps: (-len(encoded[ps[0]]), ps[0], ps[1]))
        config = self._generation_config(temperature, top_p, max_new_tokens, stop)
        out: list[list[Sample | None]] = [[None] * draws for _ in prompts]
        # longest prompts first, so the ETA errs on the long side
        shown = progress.bar(len(pairs), "generate", unit="seq")
        for b, start in enumerate(range(0, len(pairs), self.batch_size)):
            chunk = pairs[start:start + self.batch_size]
            ids, mask = self._batch_tensors([encoded[p] for p, _ in chunk])
            torch.manual_seed(derived_seed(seed, b))
            with torch.inference_mode():
                seqs = self.model.generate(input_ids=ids, attention_mask=mask, generation_config=config,
                                           tokenizer=self.tokenizer if stop else None)
            generated = seqs[:, ids.shape[1]:].tolist()
            for (p, s), gen in zip(chunk, generated):
                out[p][s] = self._finish(gen, stop)
            shown.update(len(chunk))
        shown.close()
        if draws == 1 and samples > 1:
            return [row * samples for row in out]
        return out

    def describe(self) -> dict:
        import torch

        return {"backend": self.backend, "model_dir": self.model_dir, "device": self.device,
                "device_count": torch.cuda.device_count() if self.device.startswith("cuda") else 1,
                "dtype": self.dtype, "batch_size": self.batch_size, "batch_order": self.batch_order,
                "attn_implementation": self.attn_implementation, "eos_token_ids": self.eos_token_ids,
                "pad_token_id": self.pad_token_id, "greedy_samples": "generated once, copied",
                "seeding": "torch.manual_seed(sha256(seed, batch index)) per batch",
                "seed": self.last_seed, "torch_threads": torch.get_num_threads()}

    def close(self) -> None:
        self.model = None
