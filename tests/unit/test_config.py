"""params.yaml validation: the schema and the semantic checks name the file and the key."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from spurious_rewards.config import ParamsError, load_params


def _write(tmp_path, raw) -> str:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return str(path)


@pytest.fixture
def raw(repo):
    from tests.conftest import committed_text

    return yaml.safe_load(committed_text("params.yaml"))


def test_default_and_paper_presets_are_valid(repo):
    # params.yaml is the user's to edit (the Quick start test shrinks it): check its shape, not its sizes
    default = load_params(repo / "params.yaml")
    assert default.models == ["toy"]
    assert len(default.runs()) == len(default.conditions) * len(default.seeds) >= 1
    assert {"ground_truth", "majority_vote", "incorrect", "one_shot", "format", "random", "python"} <= \
        set(default.raw["conditions"])
    paper = load_params(repo / "presets" / "paper.yaml")
    assert len(paper.models) == 10 and len(paper.conditions) == 10 and len(paper.seeds) == 3
    assert paper.train("qwen2_5-math-7b", "random_no_clip")["clip"] is False
    assert paper.train("qwen2_5-math-7b", "random")["clip"] is True
    # the clipping ablations ran 650 steps in the paper (App. B.2), the clipped reference too
    steps = {c: paper.train("qwen2_5-math-7b", c)["steps"] for c in paper.raw["conditions"]}
    assert {c for c, n in steps.items() if n == 650} == {"random_no_clip", "random_650",
                                                          "random_minibatch_1024", "random_rollout_8"}
    assert steps["random"] == steps["ground_truth"] == 300


def test_unknown_key_is_named(tmp_path, raw):
    raw["train"]["learning_rte"] = 1e-4
    with pytest.raises(ParamsError) as err:
        load_params(_write(tmp_path, raw))
    assert "params.yaml: key train" in str(err.value)
    assert "learning_rte" in str(err.value)


def test_wrong_type_is_named(tmp_path, raw):
    raw["train"]["steps"] = "thirty"
    with pytest.raises(ParamsError, match=r"key train\.steps: 'thirty' is not of type 'integer'"):
        load_params(_write(tmp_path, raw))


def test_bad_value_is_named(tmp_path, raw):
    raw["conditions"]["random"]["reward_options"]["gamma"] = 1.5
    with pytest.raises(ParamsError, match=r"conditions\.random\.reward: .*gamma"):
        load_params(_write(tmp_path, raw))


def test_unknown_condition_is_named(tmp_path, raw):
    index = len(raw["experiment"]["conditions"])
    raw["experiment"]["conditions"].append("telepathy")
    with pytest.raises(ParamsError, match=rf"experiment\.conditions\[{index}\]: unknown condition 'telepathy'"):
        load_params(_write(tmp_path, raw))


def test_unknown_reward_is_named(tmp_path, raw):
    raw["conditions"]["format"]["reward"] = "vibes"
    with pytest.raises(ParamsError, match=r"conditions\.format\.reward: .*vibes"):
        load_params(_write(tmp_path, raw))


def test_batch_arithmetic_is_checked(tmp_path, raw):
    raw["train"]["optimizer_batch"] = 48
    with pytest.raises(ParamsError, match=r"train\.optimizer_batch"):
        load_params(_write(tmp_path, raw))


def test_batch_invariant_vllm_on_cpu_is_refused_before_the_engine_starts(tmp_path, raw):
    from spurious_rewards.generation import make_generator

    raw["experiment"]["device"] = "cpu"
    raw["evaluate"]["vllm"] = {"batch_invariant": True}
    with pytest.raises(ParamsError, match=r"evaluate\.vllm\.batch_invariant: needs a CUDA device"):
        load_params(_write(tmp_path, raw))
    raw["experiment"]["device"] = "cuda"
    assert load_params(_write(tmp_path, raw)).section("evaluate")["vllm"]["batch_invariant"] is True
    # device auto that resolves to cpu: the backend refuses before it imports vLLM (not installed here)
    with pytest.raises(RuntimeError, match="batch_invariant needs a CUDA device"):
        make_generator("vllm", tmp_path, device="cpu", batch_size=4,
                       vllm_options={"tensor_parallel_size": 1, "gpu_memory_utilization": 0.5,
                                     "batch_invariant": True})


def test_overrides_merge_per_key(tmp_path, raw):
    raw["conditions"]["random"]["train"] = {"clip": False}
    raw["models"]["toy"]["train"] = {"learning_rate": 1e-5}
    params = load_params(_write(tmp_path, raw))
    merged = params.train("toy", "random")
    assert merged["clip"] is False and merged["learning_rate"] == 1e-5
    assert merged["steps"] == raw["train"]["steps"]
    assert params.train("toy", "format")["clip"] is True


def test_hash_ignores_key_order(tmp_path, raw):
    first = load_params(_write(tmp_path, raw)).hash
    reordered = dict(reversed(list(raw.items())))
    (tmp_path / "b").mkdir()
    assert load_params(_write(tmp_path / "b", reordered)).hash == first


def test_cli_exits_nonzero_naming_file_and_key(tmp_path, raw, repo):
    raw["experiment"]["seeds"] = [1, -3]
    path = _write(tmp_path, raw)
    proc = subprocess.run([sys.executable, "-m", "spurious_rewards", "validate", "--params", path],
                          capture_output=True, text=True, cwd=repo)
    assert proc.returncode == 2
    assert f"{path}: key experiment.seeds[1]" in proc.stderr


# -- one set of defaults (the schema's `default:`), filled by load_params --------------------------

def _leaf_paths(node, prefix=()):
    """Every key path of a nested mapping, parents before their children."""
    for key, value in node.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _leaf_paths(value, (*prefix, key))


def _without(raw, path):
    import copy

    out = copy.deepcopy(raw)
    node = out
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return out


# One entry's own value in a map of named entries, where params.yaml's other entries use the default
# (arith is a normal benchmark, arith_hard a hard one; only random has options).
ENTRY_VALUES = {"data.benchmarks.arith_hard.difficulty", "conditions.random.reward_options"}


def _has(node, path):
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _defaulted_paths(raw):
    """The key paths of `raw` that may be left out (the schema fills them), each checked to be filled
    with the value `raw` holds."""
    from spurious_rewards.config import fill_defaults

    full = fill_defaults(raw, "params.yaml")
    found = []
    for path in _leaf_paths(raw):
        try:
            filled = fill_defaults(_without(raw, path), "params.yaml")
        except ParamsError:
            continue  # required: leaving it out is an error naming it (below)
        if not _has(filled, path):
            continue  # optional without a default (e.g. a synthetic source's n, checked by kind)
        dotted = ".".join(path)
        if dotted in ENTRY_VALUES:
            assert filled != full  # and so the default is not this entry's value
            continue
        assert filled == full, f"{dotted}: its default differs from params.yaml's value"
        found.append(dotted)
    return found


def _stripped(raw, defaulted):
    """`raw` without every key in `defaulted` (deepest first: a parent emptied of defaults goes too)."""
    stripped = raw
    for path in sorted(defaulted, key=lambda p: -p.count(".")):
        parts = tuple(path.split("."))
        node = stripped
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and parts[-1] in node:
            stripped = _without(stripped, parts)
    return stripped


def test_every_default_equals_params_yaml_and_fills_an_omitted_key(tmp_path, raw, repo):
    defaulted = _defaulted_paths(raw)
    # the defaults the code used to carry at its call sites, where they disagreed with params.yaml
    assert {"models.toy.pretrain.steps", "labels.max_new_tokens", "models.toy.prompt_template",
            "experiment.torch_threads", "train.advantage_whitening", "labels.vote", "labels.keep_empty",
            "models.toy.answer_region", "train.reward_text", "train.save_final_window", "train.report_to",
            "evaluate.forced_prefix", "data.synthetic.seed", "analysis.smoothing_window"} <= set(defaulted)
    # a file without any of them loads to exactly what params.yaml gives
    stripped = _stripped(raw, defaulted)
    assert "steps" not in stripped["models"]["toy"].get("pretrain", {})
    assert "max_new_tokens" not in stripped["labels"] and "torch_threads" not in stripped["experiment"]
    (tmp_path / "full").mkdir()
    full = load_params(_write(tmp_path / "full", raw))
    small = load_params(_write(tmp_path, stripped))
    assert small.raw == full.raw
    assert small.model("toy")["pretrain"]["steps"] == 1200  # the code said 900
    assert small.section("labels")["max_new_tokens"] == 64  # the code said 3072
    assert small.train("toy", "random")["trl"] == {} and small.condition("format")["reward_options"] == {}


def test_a_required_key_left_out_is_named(tmp_path, raw):
    del raw["labels"]["samples_per_prompt"]
    with pytest.raises(ParamsError, match=r"key labels: 'samples_per_prompt' is a required property"):
        load_params(_write(tmp_path, raw))


@pytest.mark.parametrize("section, wrong", [("labels", "max_new_token"), ("train", "reward_txt"),
                                            ("experiment", "torch_thread")])
def test_a_misspelled_defaulted_key_is_named_not_defaulted(tmp_path, raw, section, wrong):
    raw[section][wrong] = 3
    with pytest.raises(ParamsError) as err:
        load_params(_write(tmp_path, raw))
    msg = f"key {section}: Additional properties are not allowed ('{wrong}' was unexpected)"
    assert msg in str(err.value)


def test_misspelled_nested_model_key_is_named(tmp_path, raw):
    raw["models"]["toy"]["pretrain"]["step"] = 900
    with pytest.raises(ParamsError, match=r"key models\.toy\.pretrain: .*'step' was unexpected"):
        load_params(_write(tmp_path, raw))


def test_derived_and_kind_dependent_defaults(tmp_path, raw):
    raw["models"]["r1"] = {"kind": "hf", "path": "org/base", "prompt_template": "r1"}
    raw["models"]["r1_full"] = {"kind": "hf", "path": "org/base", "prompt_template": "r1",
                                "answer_region": "full"}
    raw["models"]["chat"] = {"kind": "hf", "path": "org/instruct"}
    params = load_params(_write(tmp_path, raw))
    assert params.model("r1")["answer_region"] == "after_answer_tag"  # the paper's _r1_style
    assert params.model("r1_full")["answer_region"] == "full"
    chat = params.model("chat")
    assert (chat["prompt_template"], chat["answer_region"], chat["torch_dtype"], chat["revision"]) == (
        "chat", "full", "float32", None)
    # the tiny model's build and pre-training keys go to tiny models only
    assert not {"pretrain", "architecture", "tokenizer"} & set(chat)
    assert params.model("toy")["architecture"]["hidden_size"] == 128


def test_the_filled_file_validates_and_the_input_is_not_changed(raw):
    import copy

    from spurious_rewards.config import fill_defaults, validate_against_schema

    before = copy.deepcopy(raw)
    filled = fill_defaults(raw, "params.yaml")
    assert raw == before and filled != raw
    validate_against_schema(filled, "filled")  # every default is a valid value


def test_loaded_and_validated_once_per_process(tmp_path, raw, monkeypatch):
    from spurious_rewards import config

    path = _write(tmp_path, raw)
    calls = []
    real = config.fill_defaults
    monkeypatch.setattr(config, "fill_defaults", lambda *a: calls.append(a[1]) or real(*a))
    first = load_params(path, check_rewards=False)
    second = load_params(path, check_rewards=False)
    assert len(calls) == 1 and first.raw == second.raw
    first.raw["train"]["steps"] = 999  # each caller has its own copy
    assert load_params(path, check_rewards=False).raw["train"]["steps"] == raw["train"]["steps"]
    assert len(calls) == 1
    load_params(path)  # a check the first load skipped (rewards) runs once more
    load_params(path, check_rewards=False)
    assert len(calls) == 2
    raw["train"]["steps"] = 40
    path = _write(tmp_path, raw)  # same path, new content: read again
    assert load_params(path).raw["train"]["steps"] == 40 and len(calls) == 3


def test_every_key_a_stage_reads_is_present_after_loading(tmp_path, raw):
    """The static scan of every stage's code (tests/unit/param_reads.py) against a file that leaves out
    every key it may: each key read is there, filled, except those only a source or model kind needs
    (config's semantic checks require them for that kind)."""
    from spurious_rewards import stages
    from tests.unit import param_reads

    by_kind = {"data.one_shot.path", "data.one_shot.dataset", "models.toy.path"}
    params = load_params(_write(tmp_path, _stripped(raw, _defaulted_paths(raw))))
    reads = {key.format(model="toy", condition="random")
             for stage in stages.STAGES for path in stage.code_files for key in param_reads.reads(path)}
    assert {"labels.max_new_tokens", "models.toy.pretrain.steps", "experiment.torch_threads"} <= reads
    assert sorted(k for k in reads - by_kind if not _has(params.raw, tuple(k.split(".")))) == []
