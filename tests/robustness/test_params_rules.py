"""Validation refuses what would later run as shell code, escape the checkout or crash a stage.

Each case names the file and the key (ParamsError); the CLI turns that into one line and exit code 2.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import pytest
import yaml

from spurious_rewards.config import ParamsError, load_params
from tests.conftest import committed_text
from tests.robustness.hostile import FIELDS, PAYLOADS, plant


@pytest.fixture
def raw(repo):
    return yaml.safe_load(committed_text("params.yaml"))


def _write(tmp_path, raw, name="params.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return str(path)


def _refused(path: str, key: str) -> str:
    with pytest.raises(ParamsError) as err:
        load_params(path)
    msg = str(err.value)
    assert path in msg and key in msg, msg
    return msg


def _refused_by_validate(path: str, key: str, capsys) -> str:
    """Through `validate`, which applies the engines' rules (dvc.yaml and common.smk run the same)."""
    from spurious_rewards import cli

    capsys.readouterr()
    assert cli.main(["validate", "--params", path]) == 2
    err = capsys.readouterr().err
    assert path in err and key in err, err
    return err


# -- item 1: names and paths that reach a shell ----------------------------------------------------

@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("field", FIELDS)
def test_hostile_value_is_refused_naming_the_key(tmp_path, raw, field, payload):
    bad, key = plant(raw, field, PAYLOADS[payload])
    _refused(_write(tmp_path, bad), key)


@pytest.mark.parametrize("field", ["model", "condition", "benchmark"])
def test_name_with_a_trailing_newline_is_refused(tmp_path, raw, field):
    # JSON Schema's `pattern` ($ before a final newline) accepts "toy\n"
    bad, key = plant(raw, field, "toy\n")
    _refused(_write(tmp_path, bad), key)


def test_plain_names_pass(tmp_path, raw):
    bad, _ = plant(raw, "model", "toy-2_b")
    bad, _ = plant(bad, "condition", "GT-1")
    assert load_params(_write(tmp_path, bad)).models[0] == "toy-2_b"


# -- item 2: results_dir stays inside the checkout -------------------------------------------------

@pytest.mark.parametrize("value", ["/tmp/results", "../results", "results/../..", "results/..", ".",
                                   "./results", "results/", "", ".git/r", ".dvc", "src", "src/results",
                                   "workflow/r", "tests", "presets/x", "envs", "config", "bench",
                                   "requirements", "Snakefile", "dvc.yaml", "results//x"])
def test_results_dir_outside_the_checkout_or_in_its_sources_is_refused(tmp_path, raw, value, capsys):
    raw["experiment"]["results_dir"] = value
    _refused_by_validate(_write(tmp_path, raw), "experiment.results_dir", capsys)


@pytest.mark.parametrize("value", ["results", "results/default", "out_2/run.1", "results/src"])
def test_results_dir_inside_the_checkout_passes(tmp_path, raw, value, capsys):
    from spurious_rewards import cli

    raw["experiment"]["results_dir"] = value
    assert cli.main(["validate", "--params", _write(tmp_path, raw)]) == 0
    assert str(load_params(_write(tmp_path, raw)).results_dir) == value


def test_absolute_results_dir_only_outside_the_engines(tmp_path, raw, capsys):
    """The stages accept a temporary folder (unit tests); Snakemake, DVC and `validate` do not."""
    raw["experiment"]["results_dir"] = str(tmp_path / "results")
    path = _write(tmp_path, raw)
    assert load_params(path).results_dir == tmp_path / "results"
    _refused_by_validate(path, "experiment.results_dir", capsys)
    raw["experiment"]["results_dir"] = str(tmp_path / "a b")
    _refused(_write(tmp_path, raw), "experiment.results_dir")


# -- item 5: what validation let through and a stage crashed on later ----------------------------

@pytest.mark.parametrize("key", ["train.learning_rate", "train.max_grad_norm", "train.beta",
                                 "models.toy.pretrain.learning_rate", "data.benchmarks.arith.temperature",
                                 "conditions.random.reward_options.gamma"])
@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_non_finite_number_is_refused(tmp_path, raw, key, value):
    node = raw
    *parents, leaf = key.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = 98765.4321
    text = yaml.safe_dump(raw, sort_keys=False)
    assert text.count("98765.4321") == 1
    text = text.replace("98765.4321", value)
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    msg = _refused(str(path), key)
    assert "finite" in msg or "nan" in msg.lower() or "inf" in msg.lower(), msg


@pytest.mark.parametrize("key", ["experiment.seeds", "data.synthetic.seed", "labels.seed", "evaluate.seed",
                                 "models.toy.pretrain.seed"])
@pytest.mark.parametrize("value", [-1, 2**32, 2**40])
def test_seed_outside_uint32_is_refused(tmp_path, raw, key, value):
    node = raw
    *parents, leaf = key.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = [value] if leaf == "seeds" else value
    _refused(_write(tmp_path, raw), key)


def test_largest_uint32_seed_passes(tmp_path, raw):
    raw["experiment"]["seeds"] = [0, 2**32 - 1]
    assert load_params(_write(tmp_path, raw)).seeds == [0, 2**32 - 1]


def test_duplicate_key_is_refused_naming_file_and_key(tmp_path, repo):
    text = committed_text("params.yaml")
    text = text.replace("  seeds: [1]\n", "  seeds: [1]\n  seeds: [2]\n", 1)
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    msg = _refused(str(path), "experiment.seeds")
    assert "twice" in msg


def test_duplicate_nested_key_is_named_with_its_full_path(tmp_path, repo):
    text = committed_text("params.yaml")
    text = text.replace("      warmup_steps: 50\n", "      warmup_steps: 50\n      warmup_steps: 5\n", 1)
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    _refused(str(path), "models.toy.pretrain.warmup_steps")


# 10^9 strings through nine lines of aliases, in the one free-form mapping of the file
BOMB = textwrap.dedent("""\
    x_a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
    x_b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
    x_c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
    x_d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
    x_e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
    x_f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
    x_g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
    x_h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
    x_i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
    """)


def test_alias_bomb_is_refused_at_once(tmp_path, repo):
    text = committed_text("params.yaml")
    anchor = "  random: {reward: random, labels: ground_truth, reward_options: {gamma: 0.5}}\n"
    assert anchor in text
    bomb = ("  random:\n    reward: random\n    labels: ground_truth\n    reward_options:\n      gamma: 0.5\n"
            + textwrap.indent(BOMB, " " * 6))
    path = tmp_path / "bomb.yaml"
    path.write_text(text.replace(anchor, bomb, 1), encoding="utf-8")
    code = ("import sys\nfrom spurious_rewards.config import ParamsError, load_params\n"
            "try:\n    load_params(sys.argv[1])\nexcept ParamsError as e:\n    print(e)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                          timeout=60)
    assert str(path) in proc.stdout, proc.stdout + proc.stderr
    assert "alias" in proc.stdout.replace(str(path), ""), proc.stdout + proc.stderr


def test_aliases_are_refused_in_a_real_parameter_file(tmp_path, repo):
    text = committed_text("params.yaml")
    text = text.replace("  seeds: [1]\n", "  seeds: &s [1]\n", 1) + "\n# reuse\n"
    text = text.replace("grader:", "x_unused: *s\ngrader:", 1)
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    msg = _refused(str(path), "line")
    assert "alias" in msg.replace(str(path), ""), msg


# every key the trainer reads with train[...] (training/grpo_config.py, commands/train.py)
TRAIN_KEYS_READ = ["steps", "save_every", "prompts_per_step", "generations_per_prompt", "optimizer_batch",
                   "learning_rate", "lr_scheduler", "warmup_ratio", "adam_beta1", "adam_beta2",
                   "weight_decay", "max_grad_norm", "clip", "epsilon", "beta", "loss_type", "scale_rewards",
                   "temperature", "top_p", "max_prompt_length", "max_completion_length", "precision",
                   "attn_implementation", "gradient_checkpointing", "use_vllm", "vllm_mode",
                   "vllm_gpu_memory_utilization", "world_size"]


@pytest.mark.parametrize("key", TRAIN_KEYS_READ)
def test_missing_train_key_is_refused(tmp_path, raw, key):
    del raw["train"][key]
    msg = _refused(_write(tmp_path, raw), "train")
    assert repr(key) in msg, msg


def test_every_train_key_read_by_the_trainer_is_required_or_defaulted(repo):
    """A new train[...] read without a schema entry that is required or has a `default:` fails here."""
    import re

    from spurious_rewards.config import load_schema

    schema = load_schema()["properties"]["train"]
    assert schema["required"] == TRAIN_KEYS_READ
    defaulted = {k for k, v in schema["properties"].items() if "default" in v}
    src = "".join((repo / "src" / "spurious_rewards" / name).read_text(encoding="utf-8")
                  for name in ("training/grpo_config.py", "commands/train.py"))
    read = set(re.findall(r'\btrain\["([a-z_0-9]+)"\]', src))
    assert read <= set(TRAIN_KEYS_READ) | defaulted, sorted(read - set(TRAIN_KEYS_READ) - defaulted)
    assert {"save_final_window", "advantage_whitening", "reward_text", "report_to", "trl"} <= read & defaulted


@pytest.mark.parametrize("source,key", [("path", "data.one_shot.path"), ("hf", "data.one_shot.dataset")])
def test_one_shot_source_without_its_location_is_refused(tmp_path, raw, source, key):
    raw["data"]["one_shot"] = {"source": source}
    _refused(_write(tmp_path, raw), key)


def test_cli_exits_2_with_one_line_naming_the_key(tmp_path, raw, repo):
    raw["train"]["learning_rate"] = math.inf
    path = _write(tmp_path, raw)
    proc = subprocess.run([sys.executable, "-m", "spurious_rewards", "validate", "--params", path],
                          capture_output=True, text=True, cwd=repo, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "train.learning_rate" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
