"""One resolved model spec per model (model/spec.py), read by labels, train, evaluate and grade."""

from __future__ import annotations

import copy

import pytest

from spurious_rewards.commands import evaluate
from spurious_rewards.config import Params, ParamsError, fill_defaults, load_params
from spurious_rewards.model.spec import ModelSpec, resolve_spec
from spurious_rewards.training import grpo_config
from tests.conftest import REPO


@pytest.fixture
def params():
    base = load_params(REPO / "params.yaml")
    raw = copy.deepcopy(base.raw)
    raw["models"]["big"] = {"kind": "hf", "path": "org/llama", "revision": "abc123",
                            "trust_remote_code": True, "torch_dtype": "bfloat16", "prompt_template": "r1",
                            "system_prompt": "Be brief."}
    raw["models"]["toy_pinned"] = {**raw["models"]["toy"], "revision": "ignored-for-tiny"}
    return Params(raw=fill_defaults(raw, base.path), path=base.path)


def test_defaults_are_filled_in_one_place(params):
    toy = resolve_spec(params, "toy")
    assert toy == ModelSpec(name="toy", kind="tiny", path=None, prompt_template="chat",
                            system_prompt=None, answer_region="full", torch_dtype="float32", revision=None,
                            trust_remote_code=False)
    assert resolve_spec(params, "toy_pinned").revision is None  # a tiny model is built here, never pinned


def test_explicit_values_and_derived_answer_region(params):
    big = resolve_spec(params, "big")
    assert (big.prompt_template, big.system_prompt, big.torch_dtype, big.revision, big.trust_remote_code) == (
        "r1", "Be brief.", "bfloat16", "abc123", True)
    assert big.answer_region == "after_answer_tag"  # the R1 template's default, as the paper's _r1_style
    with pytest.raises(ParamsError, match="models.nope"):
        resolve_spec(params, "nope")


def test_stages_read_the_resolved_spec(params):
    settings = evaluate.backend_settings(params, "big")
    assert settings["dtype"] == "bfloat16" and settings["trust_remote_code"] is True
    assert evaluate.backend_settings(params, "toy")["dtype"] == "float32"
    kwargs = grpo_config.grpo_kwargs(params, "big", "random", 1, output_dir="/tmp/x", device="cpu")
    # training keeps float32 master weights whatever torch_dtype says
    assert kwargs["model_init_kwargs"]["dtype"] == "float32"
