"""The generation interface shared by the HF and vLLM backends.

Every caller (evaluation, majority-vote labelling) asks for `samples` completions per prompt and gets
back, per prompt, a list of `Sample`s. Stop strings are cut from the returned text, as vLLM does by
default (`include_stop_str_in_output=False`), so both backends hand the graders the same text.
"""

from __future__ import annotations

import abc
import hashlib
from dataclasses import dataclass
from typing import Literal

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class Sample:
    text: str
    # Generated tokens, including the eos / the token that completed a stop string.
    n_tokens: int
    finish_reason: FinishReason


def truncate_at_stop(text: str, stop: list[str] | None) -> tuple[str, bool]:
    """Cut `text` before the earliest stop string; (text, whether one was found)."""
    if not stop:
        return text, False
    cuts = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    if not cuts:
        return text, False
    return text[: min(cuts)], True


def derived_seed(seed: int, *parts: int | str) -> int:
    """A stable 63-bit seed for one batch, so a batch's draws do not depend on earlier batches."""
    blob = "\x1f".join(str(p) for p in (seed, *parts)).encode("utf-8")
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "big") >> 1


def check_request(prompts: list[str], samples: int, temperature: float, top_p: float,
                  max_new_tokens: int) -> None:
    if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
        raise TypeError("prompts must be a list of str")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")


class Generator(abc.ABC):
    """Generates completions from one loaded model. Use as a context manager or call close()."""

    backend: str
    tokenizer: object

    @abc.abstractmethod
    def generate(self, prompts: list[str], *, samples: int, temperature: float, top_p: float = 1.0,
                 max_new_tokens: int, seed: int, stop: list[str] | None = None,
                 add_special_tokens: bool = False) -> list[list[Sample]]:
        """`samples` completions for each prompt, in prompt order; temperature 0 means greedy.

        `add_special_tokens`: whether tokenising a prompt adds the tokenizer's own special tokens (a BOS
        for Llama, OLMo); prompts.adds_special_tokens(template) says which, as training tokenises it.

        Outputs are a function of (inputs, settings, seed, batch layout); see describe().
        """

    @abc.abstractmethod
    def describe(self) -> dict:
        """What a reader needs to reproduce the numbers: backend, device, dtype, batch layout ..."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> Generator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
