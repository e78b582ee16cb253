"""One resolved model spec per model: the keys of params.models.<m> that the stages act on, with their
defaults filled in one place (labels, train, evaluate and grade read them from here)."""

from __future__ import annotations

from dataclasses import dataclass

from spurious_rewards import prompts
from spurious_rewards.config import Params

PARAMS = ("models.{model}",)


@dataclass(frozen=True)
class ModelSpec:
    """params.models.<name>, resolved.

    prompt_template: chat (the model's chat template) unless set; answer_region: explicit, else
    after_answer_tag for the R1 templates (prompts.answer_region); torch_dtype: for generation,
    float32 unless set (training keeps float32 master weights whatever it says); revision: hf models'
    only; trust_remote_code: off unless set (model repos are code).
    """

    name: str
    kind: str
    path: str | None
    prompt_template: str
    system_prompt: str | None
    answer_region: str
    torch_dtype: str
    revision: str | None
    trust_remote_code: bool


def resolve_spec(params: Params, name: str) -> ModelSpec:
    """The resolved spec of model `name` (ParamsError naming models.<name> if it is not defined)."""
    raw = params.model(name)
    hf = raw["kind"] == "hf"
    return ModelSpec(
        name=name,
        kind=raw["kind"],
        path=raw.get("path"),
        prompt_template=raw.get("prompt_template", "chat"),
        system_prompt=raw.get("system_prompt"),
        answer_region=prompts.answer_region(raw),
        torch_dtype=raw.get("torch_dtype") or "float32",
        revision=raw.get("revision") if hf else None,
        trust_remote_code=bool(raw.get("trust_remote_code", False)),
    )
