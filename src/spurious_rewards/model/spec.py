"""One resolved model spec per model: the keys of params.models.<m> that the stages act on (labels,
train, evaluate and grade read them from here). Their defaults are the schema's, filled by load_params."""

from __future__ import annotations

from dataclasses import dataclass

from spurious_rewards.config import Params

PARAMS = ("models.{model}",)


@dataclass(frozen=True)
class ModelSpec:
    """params.models.<name>, resolved.

    prompt_template: chat (the model's chat template) unless set; answer_region: explicit, else
    after_answer_tag for the R1 templates; torch_dtype: for generation,
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
        # a tiny model has no path (the base stage builds it); an hf model's is checked at load
        path=raw["path"] if hf else None,
        prompt_template=raw["prompt_template"],
        system_prompt=raw["system_prompt"],
        # unset: after_answer_tag for the R1 templates (as the paper's `_r1_style` verifiers of its
        # base-Llama runs), else full; the schema fills it (params.schema.yaml, models)
        answer_region=raw["answer_region"],
        torch_dtype=raw["torch_dtype"],
        revision=raw["revision"] if hf else None,
        trust_remote_code=raw["trust_remote_code"],
    )
