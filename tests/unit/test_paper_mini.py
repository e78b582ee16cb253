"""presets/paper-mini.yaml is presets/paper.yaml with only sizes shrunk (and the keys a CPU needs).

The two files are flattened to dotted keys and diffed; the keys that differ must be exactly the named
lists below, each with its reason. Anything else (a grader, the chat template, a condition, a
benchmark's samples or temperature, the backend, a data file) fails. `make paper-mini` runs the preset
end to end; tests/paper_mini_check.py (also tested here) checks its report.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from tests import paper_mini_check

ROOT = Path(__file__).resolve().parents[2]
PAPER, MINI = ROOT / "presets" / "paper.yaml", ROOT / "presets" / "paper-mini.yaml"
MINI_MODEL = "qwen2_5-math-tiny"
BENCHES = ("math500", "amc", "aime24", "aime25")

# Sizes: how much is run, never how.
ALLOWED_SIZE_KEYS = {
    "experiment.results_dir",  # its own results folder, so the two never share outputs
    "experiment.models",  # one (tiny) model instead of ten
    "experiment.seeds",  # one seed instead of three
    "data.train.limit",  # the first prompts of the DeepScaleR chunks, not all 40,308
    *(f"data.benchmarks.{b}.limit" for b in BENCHES),  # the first problems of each benchmark
    *(f"data.benchmarks.{b}.max_new_tokens" for b in BENCHES),
    "labels.max_new_tokens",
    "train.steps", "train.save_every", "train.save_final_window", "train.prompts_per_step",
    "train.generations_per_prompt", "train.optimizer_batch", "train.max_completion_length",
    "conditions.random_no_clip.train.steps", "conditions.random_650.train.steps",
    "analysis.switch_to", "analysis.smoothing_window",  # the last step, the last steps' window
    "analysis.notice",  # the report's banner: a plumbing check whose numbers mean nothing
}
# The model added under models: (checked below to be a Hub id with the paper's Qwen-Math settings).
ALLOWED_MODEL_PREFIX = f"models.{MINI_MODEL}."
# What a CPU needs instead of 8 GPUs.
ALLOWED_DEVICE_KEYS = {
    "experiment.device",  # cpu, not cuda
    "experiment.torch_threads",  # 2 cores
    "train.world_size", "train.accelerate_config",  # one process, no DeepSpeed ZeRO-3
    # vLLM's batch-invariant mode runs Triton kernels: on CPU the engine dies at its first step
    # ('function' object is not subscriptable in vllm/model_executor/determinism/batch_invariant.py)
    "evaluate.vllm.batch_invariant",
    # GRPO rollouts by HF generate: colocated vLLM rollouts run on CPU (tests/vllm/test_vllm_cpu.py) but
    # start an engine per run, ~50 s of each run's ~80 s on 2 cores (BENCHMARKS.md, paper-mini)
    "train.use_vllm",
    # one core per train and evaluate job, so that two run at a time on a 2-core runner (an engine's
    # start-up is mostly single-threaded); scheduling only, no effect on any number
    "resources.train.cpus", "resources.evaluate.cpus",
}


def flatten(tree, prefix: str = "") -> dict:
    """{dotted key: leaf value}; lists are leaves (compared whole)."""
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: tree}


def differing(a: dict, b: dict) -> set[str]:
    fa, fb = flatten(a), flatten(b)
    missing = object()
    return {k for k in fa.keys() | fb.keys() if fa.get(k, missing) != fb.get(k, missing)}


def unexplained(paper: dict, mini: dict) -> set[str]:
    return {k for k in differing(paper, mini)
            if k not in ALLOWED_SIZE_KEYS | ALLOWED_DEVICE_KEYS and not k.startswith(ALLOWED_MODEL_PREFIX)}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_only_size_and_device_keys_differ():
    paper, mini = load(PAPER), load(MINI)
    assert unexplained(paper, mini) == set()
    # and every listed key does differ: the lists name the real differences, nothing stale
    diff = differing(paper, mini)
    assert (ALLOWED_SIZE_KEYS | ALLOWED_DEVICE_KEYS) - diff == set()


def test_the_mini_model_is_a_hub_id_with_the_papers_qwen_math_settings():
    paper, mini = load(PAPER), load(MINI)
    entry = mini["models"][MINI_MODEL]
    from spurious_rewards.model.hub import is_local

    assert entry["kind"] == "hf" and not is_local(entry["path"])
    assert mini["experiment"]["models"] == [MINI_MODEL]
    qwen_math = paper["models"]["qwen2_5-math-7b"]
    assert {k: v for k, v in entry.items() if k != "path"} == {k: v for k, v in qwen_math.items() if k != "path"}


@pytest.mark.parametrize("key,value", [
    ("grader", "math_verify"),
    ("analysis.graders", ["paper"]),
    ("evaluate.backend", "hf"),
    ("labels.samples_per_prompt", 8),
    ("data.benchmarks.amc.samples", 4),
    ("data.benchmarks.aime25.temperature", 0.0),
    ("data.benchmarks.math500.path", "external/rethink_rlvr/MATH-TTT/train.json"),
    ("experiment.conditions", ["ground_truth"]),
    ("conditions.random_no_clip.train.clip", True),
    ("train.vllm_mode", "server"),
    (f"models.{MINI_MODEL}.prompt_template", "r1"),
])
def test_any_other_difference_fails(key, value):
    mini = copy.deepcopy(load(MINI))
    node = mini
    *parents, leaf = key.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value
    if key.startswith(ALLOWED_MODEL_PREFIX):
        # the model entry may differ from paper.yaml's (it is new), but not from Qwen-Math's settings
        with pytest.raises(AssertionError):
            entry, ref = mini["models"][MINI_MODEL], load(PAPER)["models"]["qwen2_5-math-7b"]
            assert {k: v for k, v in entry.items() if k != "path"} == {k: v for k, v in ref.items() if k != "path"}
    else:
        assert unexplained(load(PAPER), mini) == {key}


# -- the report check of `make paper-mini` --------------------------------------------------------------
COMMIT = "a" * 40


def _report(rows, backend="vllm", commit=COMMIT) -> tuple[str, dict]:
    lines = ["# report", "", "## Summary: accuracy, step 0 → final", "",
             "| model | condition | benchmark | grader | final (%) |", "|---|---|---|---|---:|"]
    lines += [f"| {m} | {c} | {b} | {g} | 0.0 |" for m, c, b, g in rows]
    lines += ["", "## Provenance", "", f"- base model tiny: org/tiny @ {commit} (the commit evaluate loaded)",
              "", f"- backend={backend}, device=cpu"]
    prov = {"upstream": {"backends": [{"backend": backend}], "hub_models": {"tiny": {"revision": commit}}}}
    return "\n".join(lines), prov


EXPECTED = {"models": {"tiny": COMMIT}, "conditions": ["ground_truth", "random"],
            "benchmarks": list(BENCHES), "graders": ["paper", "math_verify"]}
FULL = [("tiny", c, b, g) for c in EXPECTED["conditions"] for b in BENCHES for g in EXPECTED["graders"]]


def test_the_report_check_passes_a_complete_report():
    assert paper_mini_check.problems(*_report(FULL), EXPECTED) == []


def test_the_report_check_names_a_missing_row_backend_or_commit():
    missing = paper_mini_check.problems(*_report(FULL[1:]), EXPECTED)
    assert missing == ["report: no summary row for tiny/ground_truth on math500 by grader paper"]
    assert any("backends ['hf']" in p for p in paper_mini_check.problems(*_report(FULL, backend="hf"), EXPECTED))
    assert any("resolved to " + "b" * 40 in p
               for p in paper_mini_check.problems(*_report(FULL, commit="b" * 40), EXPECTED))


def test_the_report_check_wants_the_presets_notice_as_the_banner():
    notice = load(MINI)["analysis"]["notice"]
    expected = {**EXPECTED, "notice": notice}
    report, prov = _report(FULL)
    assert paper_mini_check.problems(report, prov, expected) == ["report: analysis.notice is not its banner"]
    report = report.replace("# report\n", "# report\n\n> **Notice.** " + " ".join(notice.split()) + "\n")
    assert paper_mini_check.problems(report, prov, expected) == []


# -- the offline Hub cache `make paper-mini` builds (`hub-cache`) ------------------------------------------
def _folder(root: Path, weights: bytes = b"w1") -> Path:
    root.mkdir(parents=True)
    (root / "config.json").write_text('{"model_type": "qwen2"}', encoding="utf-8")
    (root / "tokenizer_config.json").write_text('{"chat_template": "{{ old }}", "eos_token": "<|im_end|>"}',
                                                encoding="utf-8")
    (root / "model.safetensors").write_bytes(weights)
    (root / "provenance.json").write_text('{"created_utc": "now"}', encoding="utf-8")
    return root


def test_hub_cache_writes_the_hub_layout_that_huggingface_hub_resolves_offline(tmp_path):
    from huggingface_hub import snapshot_download

    from spurious_rewards.commands import hub_cache as command
    from spurious_rewards.model import hub_cache

    folder = _folder(tmp_path / "model")
    template = ROOT / "presets" / "paper-mini" / "qwen2_5_math_chat_template.jinja"
    cache = tmp_path / "hub"
    replace = command._chat_template_files(folder, template)
    commit, snapshot = hub_cache.add_model(cache, "org/tiny", folder, replace=replace, skip=command.SKIP)
    assert re.fullmatch(r"[0-9a-f]{40}", commit)
    repo = cache / "models--org--tiny"
    assert (repo / "refs" / "main").read_text(encoding="utf-8") == commit
    assert all(p.is_symlink() and p.resolve().parent == (repo / "blobs").resolve() for p in snapshot.iterdir())
    assert Path(snapshot_download("org/tiny", revision="main", cache_dir=cache, local_files_only=True)) == snapshot
    assert not (snapshot / "provenance.json").exists()
    assert (snapshot / "chat_template.jinja").read_bytes() == template.read_bytes()
    assert "chat_template" not in (snapshot / "tokenizer_config.json").read_text(encoding="utf-8")
    # content-addressed: the same files give the same commit, other weights another one
    assert hub_cache.add_model(cache, "org/tiny", folder, replace=replace, skip=command.SKIP)[0] == commit
    other = _folder(tmp_path / "other", weights=b"w2")
    assert hub_cache.add_model(cache, "org/tiny", other, replace=replace, skip=command.SKIP)[0] != commit


def test_the_qwen_math_template_renders_the_papers_prompt():
    from jinja2 import Template

    text = Template((ROOT / "presets" / "paper-mini" / "qwen2_5_math_chat_template.jinja").read_text(
        encoding="utf-8")).render(messages=[{"role": "user", "content": "1+1?"}], add_generation_prompt=True)
    assert text == ("<|im_start|>system\nPlease reason step by step, and put your final answer within "
                    "\\boxed{}.<|im_end|>\n<|im_start|>user\n1+1?<|im_end|>\n<|im_start|>assistant\n")
