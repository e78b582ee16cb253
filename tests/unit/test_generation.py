"""HF generation backend on a tiny random Qwen2 built from config."""

from __future__ import annotations

import pytest

from spurious_rewards import prompts
from spurious_rewards.generation import Sample, make_generator
from spurious_rewards.generation.base import truncate_at_stop
from spurious_rewards.generation.hf import HFGenerator
from tests.unit.tiny_lm import build_model, build_tokenizer


@pytest.fixture(scope="module")
def gen():
    tok = build_tokenizer()
    return HFGenerator(build_model(tok, seed=3), tok, device="cpu", batch_size=3)


@pytest.fixture(scope="module")
def texts(gen):
    return [prompts.render(gen.tokenizer, f"What is {i} plus {i * 3}? " + "x" * i) for i in range(5)]


def test_greedy_is_deterministic_and_samples_are_counted(gen, texts):
    a = gen.generate(texts, samples=2, temperature=0.0, max_new_tokens=12, seed=0)
    b = gen.generate(texts, samples=2, temperature=0.0, max_new_tokens=12, seed=99)
    assert a == b
    assert len(a) == len(texts) and all(len(row) == 2 for row in a)
    assert all(isinstance(s, Sample) and s.finish_reason in ("stop", "length") for row in a for s in row)
    assert all(1 <= s.n_tokens <= 12 for row in a for s in row)


def test_greedy_matches_unbatched(gen, texts):
    batched = gen.generate(texts, samples=1, temperature=0.0, max_new_tokens=10, seed=0)
    single = [gen.generate([t], samples=1, temperature=0.0, max_new_tokens=10, seed=0)[0] for t in texts]
    assert [r[0].text for r in batched] == [r[0].text for r in single]


def test_seeded_sampling_is_reproducible(gen, texts):
    a = gen.generate(texts, samples=3, temperature=1.0, top_p=0.95, max_new_tokens=10, seed=7)
    b = gen.generate(texts, samples=3, temperature=1.0, top_p=0.95, max_new_tokens=10, seed=7)
    c = gen.generate(texts, samples=3, temperature=1.0, top_p=0.95, max_new_tokens=10, seed=8)
    assert a == b
    assert a != c
    assert all(len(row) == 3 for row in a)
    assert len({s.text for row in a for s in row}) > 1  # samples differ from each other


def test_stop_strings_are_honoured(gen, texts):
    free = gen.generate(texts[:1], samples=1, temperature=1.0, max_new_tokens=24, seed=5)[0][0]
    assert free.finish_reason == "length" and len(free.text) > 6
    stop = free.text[4:6]
    cut = gen.generate(texts[:1], samples=1, temperature=1.0, max_new_tokens=24, seed=5, stop=[stop])[0][0]
    assert cut.finish_reason == "stop"
    assert cut.text == free.text[: free.text.find(stop)]
    assert stop not in cut.text
    assert cut.n_tokens < free.n_tokens


def test_eos_ends_a_sample(gen):
    eos = gen.eos_token_ids[0]
    sample = gen._finish([5, 6, eos, gen.pad_token_id, gen.pad_token_id], None)
    assert sample == Sample(text=gen._decode([5, 6]), n_tokens=3, finish_reason="stop")
    assert gen._finish([5, 6, 7], None).finish_reason == "length"


def test_truncate_at_stop_takes_the_earliest():
    assert truncate_at_stop("a</b>c</a>", ["</a>", "</b>"]) == ("a", True)
    assert truncate_at_stop("abc", None) == ("abc", False)


def test_describe_and_bad_requests(gen, texts):
    d = gen.describe()
    assert d["backend"] == "hf" and d["batch_size"] == 3 and d["device"] == "cpu"
    assert d["batch_order"] == "prompt_length_desc"
    with pytest.raises(ValueError):
        gen.generate(texts, samples=0, temperature=0.0, max_new_tokens=4, seed=0)
    assert gen.generate([], samples=1, temperature=0.0, max_new_tokens=4, seed=0) == []


def test_vllm_backend_fails_clearly_without_vllm(tmp_path):
    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401
        pytest.skip("vllm is installed here")
    except ImportError:
        pass
    with pytest.raises(RuntimeError, match="vllm is not installed: .*make setup-vllm"):
        make_generator("vllm", tmp_path, device="cuda", batch_size=4)
    with pytest.raises(ValueError, match="unknown generation backend"):
        make_generator("tgi", tmp_path, device="cpu", batch_size=4)


def test_prompts_are_tokenised_as_trl_tokenises_them_for_training(gen):
    """A tokenizer that prepends a BOS (Llama, OLMo): an R1 (plain-text) prompt gets it, as TRL's
    GRPOTrainer gives it in training; a chat prompt gets only what its template writes."""
    import copy

    from tokenizers.processors import TemplateProcessing

    tok = copy.deepcopy(gen.tokenizer)
    bos, bos_id = tok.eos_token, tok.eos_token_id  # any special token stands in for a BOS
    tok.backend_tokenizer.post_processor = TemplateProcessing(single=f"{bos} $A", special_tokens=[(bos, bos_id)])
    g = HFGenerator(gen.model, tok, device="cpu", batch_size=3)
    seen: list[list[int]] = []
    real = g._batch_tensors
    g._batch_tensors = lambda rows: (seen.extend(rows), real(rows))[1]

    problem = "What is 2 plus 3?"
    r1 = prompts.render(tok, problem, "r1")
    trl_r1 = tok(text=[r1])["input_ids"][0]  # GRPOTrainer._tokenize_prompts, plain-text branch
    g.generate([r1], samples=1, temperature=0.0, max_new_tokens=2, seed=0,
               add_special_tokens=prompts.adds_special_tokens("r1"))
    assert seen[-1] == trl_r1 and trl_r1[0] == bos_id

    chat = prompts.render(tok, problem, "chat")
    trl_chat = tok.apply_chat_template(conversation=[prompts.messages(problem)], add_generation_prompt=True,
                                       tokenize=True, return_dict=True)["input_ids"][0]  # conversational branch
    g.generate([chat], samples=1, temperature=0.0, max_new_tokens=2, seed=0,
               add_special_tokens=prompts.adds_special_tokens("chat"))
    assert seen[-1] == list(trl_chat) and seen[-1][0] != bos_id
