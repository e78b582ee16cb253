"""Hub models by id and revision, offline from a fetched cache; local paths never reach the Hub.

The Hub cache is written by hand in huggingface_hub's own layout (tests/unit/fake_hub.py) from the
tiny model; every command runs in a subprocess so that HF_HOME / HF_HUB_OFFLINE / HF_ENDPOINT are read
fresh, as on a compute node.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from spurious_rewards.config import _merge
from tests.unit import fake_hub, tiny_lm

REPO = Path(__file__).resolve().parents[2]
SHA_A = "a" * 8 + "0123456789abcdef0123456789abcdef"
SHA_B = "b" * 8 + "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return tiny_lm.save_tiny(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
def hf_home(tmp_path, tiny) -> Path:
    home = tmp_path / "hf"
    fake_hub.add_model(home, "org/tiny", tiny, SHA_A, refs=("main", "v1.0"))
    return home


def _env(hf_home: Path | None, offline: bool = True, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(PYTHONPATH=f"{REPO / 'src'}:{REPO}", TOKENIZERS_PARALLELISM="false", **extra)
    if hf_home is not None:
        env["HF_HOME"] = str(hf_home)
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return env


def _cli(args: list[str], env: dict, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spurious_rewards", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


def _params(tmp_path: Path, models: dict) -> Path:
    raw = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    raw = _merge(raw, {"experiment": {"results_dir": str(tmp_path / "results"), "models": list(models)},
                       "models": models})
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def test_is_local_tells_paths_from_hub_ids(tmp_path):
    from spurious_rewards.model.hub import is_local

    assert not is_local("Qwen/Qwen2.5-Math-7B")
    assert not is_local("gpt2")
    assert is_local("/abs/model") and is_local("./m") and is_local("../m") and is_local("~/m")
    assert is_local("results/default/models/toy/base")  # three parts: never a Hub id
    assert is_local(str(tmp_path))


def test_huggingface_hub_resolves_the_fake_cache_offline(hf_home):
    code = ("from huggingface_hub import snapshot_download; from spurious_rewards.model import hub;"
            "print(snapshot_download('org/tiny', revision='main', local_files_only=True));"
            "print(hub.resolve_revision('org/tiny', 'main')); print(hub.resolve_revision('org/tiny', 'v1.0'))")
    out = _python(code, _env(hf_home))
    assert out.returncode == 0, out.stderr
    snapshot, main, tag = out.stdout.split()
    assert Path(snapshot) == hf_home / "hub" / "models--org--tiny" / "snapshots" / SHA_A
    assert main == tag == SHA_A


def test_base_stage_records_the_resolved_commit_and_loads_offline(tmp_path, hf_home, tiny):
    params = _params(tmp_path, {"hubtiny": {"kind": "hf", "path": "org/tiny", "revision": "main",
                                            "prompt_template": "chat"}})
    token = "hf_NeverWrittenAnywhere0123456789"
    out = _cli(["-v", "base", "--params", str(params), "--model", "hubtiny"], _env(hf_home, HF_TOKEN=token))
    assert out.returncode == 0, out.stderr
    base = tmp_path / "results" / "models" / "hubtiny" / "base"
    # the token is read by huggingface_hub only: not in the outputs, the provenance or the log
    assert token not in out.stdout + out.stderr
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    ref = json.loads((base / "reference.json").read_text())
    assert ref == {"path": "org/tiny", "revision": SHA_A, "requested_revision": "main"}
    prov = json.loads((base / "provenance.json").read_text())
    assert prov["summary"]["revision"] == SHA_A and prov["summary"]["requested_revision"] == "main"

    # The model loads by id and SHA from the cache, offline, and is the tiny model itself.
    code = ("import sys; from spurious_rewards.model.loading import load_model, load_tokenizer;"
            f"m = load_model({str(base)!r}); t = load_tokenizer({str(base)!r});"
            "print(sum(float(p.double().sum()) for p in m.parameters()), len(t))")
    loaded = _python(code, _env(hf_home))
    assert loaded.returncode == 0, loaded.stderr
    ref_sum = _python(code.replace(str(base), str(tiny)), _env(None))
    assert loaded.stdout.split() == ref_sum.stdout.split()

    # main moves to a new commit: the rebuilt reference (hence dvc.lock) names the new SHA.
    fake_hub.add_model(hf_home, "org/tiny", tiny, SHA_B, refs=("main",))
    assert _cli(["base", "--params", str(params), "--model", "hubtiny"], _env(hf_home)).returncode == 0
    assert json.loads((base / "reference.json").read_text())["revision"] == SHA_B


def test_base_stage_fails_clearly_for_an_uncached_model(tmp_path, hf_home):
    params = _params(tmp_path, {"absent": {"kind": "hf", "path": "org/absent", "revision": "main"}})
    out = _cli(["base", "--params", str(params), "--model", "absent"], _env(hf_home))
    assert out.returncode == 2
    assert "model org/absent (revision main) is not in the Hugging Face cache" in out.stderr
    assert "python -m spurious_rewards fetch" in out.stderr
    assert not (tmp_path / "results" / "models" / "absent" / "base").exists()


def test_fetch_offline_checks_presence_and_names_what_is_missing(tmp_path, hf_home):
    models = {"hubtiny": {"kind": "hf", "path": "org/tiny", "revision": "v1.0"},
              "pinned": {"kind": "hf", "path": "org/tiny", "revision": SHA_A},
              "absent": {"kind": "hf", "path": "org/absent", "revision": None}}
    out = _cli(["fetch", "--params", str(_params(tmp_path, models))], _env(hf_home))
    assert out.returncode == 2
    assert f"ok      model org/tiny @ {SHA_A} <- v1.0" in out.stdout
    assert f"ok      model org/tiny @ {SHA_A} (pinned)" in out.stdout
    assert "MISSING model org/absent (models.absent)" in out.stdout
    assert "1 of 3 Hub item(s) unavailable" in out.stderr
    assert "models.absent: model org/absent (revision main) is not in the Hugging Face cache" in out.stderr
    del models["absent"]
    ok = _cli(["fetch", "--params", str(_params(tmp_path, models))], _env(hf_home))
    assert ok.returncode == 0, ok.stderr


def test_fetch_offline_rejects_a_snapshot_without_weights(tmp_path, tiny):
    home = tmp_path / "hf"
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "config.json").write_bytes((tiny / "config.json").read_bytes())
    fake_hub.add_model(home, "org/partial", partial, SHA_A)
    params = _params(tmp_path, {"p": {"kind": "hf", "path": "org/partial", "revision": None}})
    out = _cli(["fetch", "--params", str(params)], _env(home))
    assert out.returncode == 2 and "org/partial" in out.stderr and "no weights" in out.stderr


def test_local_models_and_the_toy_params_never_reach_the_hub(tmp_path, tiny):
    """Online mode (HF_HUB_OFFLINE unset) with the Hub endpoint pointed at a recording server."""
    with fake_hub.recording_endpoint() as (url, seen):
        env = _env(tmp_path / "hf", offline=False, HF_ENDPOINT=url)
        code = ("import time; from spurious_rewards.io import DataError;"
                "from spurious_rewards.model.loading import load_model, load_tokenizer;"
                f"load_model({str(tiny)!r}); load_tokenizer({str(tiny)!r});"
                "t = time.time()\n"
                "for f in (load_tokenizer, load_model):\n"
                "    try: f('missing/model')\n"
                "    except DataError as e: print('DataError', e)\n"
                "print('seconds', time.time() - t)")
        out = _python(code, env)
        fetch = _cli(["fetch", "--params", "params.yaml"], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("DataError missing/model: model folder not found") == 2
    assert float(out.stdout.split("seconds")[1]) < 2.0
    assert fetch.returncode == 0 and "fetch: 0 Hub item(s)" in fetch.stdout, fetch.stderr
    assert seen == []


def test_fetch_offline_names_a_missing_hub_dataset(tmp_path, hf_home):
    path = _params(tmp_path, {"hubtiny": {"kind": "hf", "path": "org/tiny", "revision": None}})
    raw = yaml.safe_load(path.read_text())
    raw["data"]["benchmarks"]["gsm"] = {"source": "hf", "dataset": "org/absent-set", "split": "test",
                                        "samples": 1, "temperature": 0.0, "max_new_tokens": 8}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    out = _cli(["fetch", "--params", str(path)], _env(hf_home))
    assert out.returncode == 2
    assert f"ok      model org/tiny @ {SHA_A} <- main" in out.stdout
    assert "MISSING dataset org/absent-set (data.benchmarks.gsm)" in out.stdout
    assert "data.benchmarks.gsm: dataset org/absent-set (revision main) is not in the Hugging Face cache" in out.stderr
