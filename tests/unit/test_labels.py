"""The labels stage with a scripted generator: votes, the incorrect subset, bounded extraction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from spurious_rewards import paths
from spurious_rewards.commands import labels
from spurious_rewards.config import load_params
from spurious_rewards.generation.base import Sample
from spurious_rewards.grading import pool
from tests.unit.eval_fixtures import write_params

# Per training prompt: the samples the "model" returns, and the gold answer.
SCRIPT = [
    (["so \\boxed{4}", "\\boxed{4}", "\\boxed{5}", "no answer"], "4"),       # majority right
    (["\\boxed{7}", "it is \\boxed{7}", "\\boxed{8}", "\\boxed{9}"], "8"),    # majority wrong
    (["nothing", "", "still nothing", "?"], "3"),                            # no label at all
]


class ScriptedGenerator:
    tokenizer = None

    def generate(self, prompts, *, samples, **kw):
        assert samples == 4 and len(prompts) == len(SCRIPT)
        return [[Sample(text=t, n_tokens=3, finish_reason="stop") for t in texts] for texts, _ in SCRIPT]

    def describe(self):
        return {"backend": "scripted"}

    def close(self):
        pass


@pytest.fixture()
def params(tmp_path, monkeypatch):
    path = write_params(tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["models"]["toy"]["prompt_template"] = "r1"  # no tokenizer needed to render prompts
    raw["labels"].update(samples_per_prompt=4, prompt="raw", max_prompts=None)
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    params = load_params(path, check_rewards=False)
    train = paths.train_data(params.results_dir)
    train.parent.mkdir(parents=True, exist_ok=True)
    train.write_text("".join(json.dumps({"id": f"p{i}", "prompt": f"problem {i}", "answer": gold,
                                         "source": "synthetic"}) + "\n" for i, (_, gold) in enumerate(SCRIPT)),
                     encoding="utf-8")
    monkeypatch.setattr("spurious_rewards.generation.make_generator", lambda *a, **k: ScriptedGenerator())
    return params


def test_votes_and_incorrect_subset(params):
    majority, incorrect, info, samples = labels._sample(params, "toy")
    assert [(r["id"], r["answer"], r["votes"], r["n_valid"]) for r in majority] == [("p0", "4", 2, 3),
                                                                                      ("p1", "7", 2, 4)]
    assert [(r["id"], r["answer"], r["ground_truth"]) for r in incorrect] == [("p1", "7", "8")]
    assert info["unlabelled"] == 1 and info["majority_agreement"] == 0.5
    assert samples["correct"].tolist() == [True, True, False, False, False, False, True, False] + [False] * 4


def test_the_vote_reads_the_answer_region_of_an_r1_model(params, monkeypatch):
    # the reasoning boxes a wrong 5 three times; the answers (after <answer>) say 4: the label is 4
    r1 = ["<think> \\boxed{5} </think> <answer> \\boxed{4} </answer>"] * 3 + ["<answer> \\boxed{6} </answer>"]
    monkeypatch.setattr("tests.unit.test_labels.SCRIPT", [(r1, "4")] + SCRIPT[1:])
    path = Path(params.path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["models"]["toy"]["answer_region"] = "after_answer_tag"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    majority, _, info, samples = labels._sample(load_params(path, check_rewards=False), "toy")
    assert info["answer_region"] == "after_answer_tag"
    assert (majority[0]["id"], majority[0]["answer"], majority[0]["votes"]) == ("p0", "4", 3)
    assert samples["completion"].iloc[0] == r1[0]  # the samples keep the whole text


def test_extraction_goes_through_the_bounded_pool(params, monkeypatch, capfd):
    calls = []
    real = pool.extract_many

    def spy(texts, grader, workers, timeout_s):
        calls.append((len(texts), grader, workers, timeout_s))
        return real(texts, grader, workers=workers, timeout_s=timeout_s)

    monkeypatch.setattr("spurious_rewards.grading.pool.extract_many", spy)
    labels._sample(params, "toy")
    assert calls == [(12, params.raw["grader"], params.raw["resources"]["labels"]["cpus"],
                      labels.EXTRACT_TIMEOUT_S)]
    # in chunks, each followed by a progress line in the job's log
    calls.clear()
    monkeypatch.setattr(labels, "EXTRACT_CHUNK", 5)
    monkeypatch.setenv("SPURIOUS_PROGRESS_INTERVAL", "0")
    capfd.readouterr()
    first = labels._sample(params, "toy")[0]
    assert [c[0] for c in calls] == [5, 5, 2] and first == labels._sample(params, "toy")[0]
    err = capfd.readouterr().err
    assert "labels toy: answers extracted: 10/12 answers (83%)" in err and "12/12 answers (100%)" in err


def test_papers_exact_vote_and_empty_labels(params, monkeypatch):
    # Row p0 (gold 4): "4" and "{4}" are one answer to the grader, two strings to the paper's
    # Counter. Clustering (ours) picks 4; the exact count picks 3. Row p2 has no answer in any
    # sample: the paper keeps it with label ''.
    script = [([r"\boxed{4}", r"\boxed{{4}}", r"\boxed{3}", r"so \boxed{3}"], "4"), SCRIPT[1], SCRIPT[2]]
    monkeypatch.setattr(f"{__name__}.SCRIPT", script)
    params.raw["grader"] = "paper"

    params.raw["labels"].update(vote="cluster", keep_empty=False)
    majority, incorrect, info, _ = labels._sample(params, "toy")
    assert [(r["id"], r["answer"], r["votes"]) for r in majority] == [("p0", "4", 2), ("p1", "7", 2)]
    assert [r["id"] for r in incorrect] == ["p1"] and info["unlabelled"] == 1

    params.raw["labels"].update(vote="exact", keep_empty=True)
    majority, incorrect, info, _ = labels._sample(params, "toy")
    assert [(r["id"], r["answer"], r["votes"], r["n_valid"]) for r in majority] == [
        ("p0", "3", 2, 4), ("p1", "7", 2, 4), ("p2", "", 0, 0)]
    # '' is not the gold 3, so p2 is also an incorrect-label row, as in the paper.
    assert [(r["id"], r["answer"]) for r in incorrect] == [("p0", "3"), ("p1", "7"), ("p2", "")]
    assert info["unlabelled"] == 1 and info["vote"] == "exact" and info["keep_empty"] is True


def test_label_files_with_empty_labels(params, tmp_path):
    rows = [{"id": 0, "prompt": "p0", "answer": "4"}, {"id": 1, "prompt": "p1", "answer": ""}]
    mv, wrong = tmp_path / "mv.json", tmp_path / "wrong.json"
    mv.write_text(json.dumps(rows))
    wrong.write_text(json.dumps(rows[1:]))
    params.raw["models"]["toy"].update(labels_path=str(mv), incorrect_labels_path=str(wrong))
    params.raw["labels"]["keep_empty"] = True
    majority, incorrect, info = labels._from_files(params, "toy")
    assert [r["answer"] for r in majority] == ["4", ""] and [r["answer"] for r in incorrect] == [""]
    params.raw["labels"]["keep_empty"] = False
    majority, incorrect, info = labels._from_files(params, "toy")
    assert [r["answer"] for r in majority] == ["4"] and incorrect == [] and info["unlabelled"] == 1
