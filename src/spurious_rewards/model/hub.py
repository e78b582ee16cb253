"""Hugging Face Hub ids and revisions: local path or Hub id, branch/tag -> commit SHA, the local cache.

A model's `path` is either a local folder or a Hub id (`org/name`). Local paths never reach the Hub:
they are recognised before anything calls `from_pretrained`, so a missing folder fails at once instead
of being retried as a repo id. Hub revisions (a branch, a tag or a SHA) are resolved to the commit SHA
they point to: online through the Hub API, offline (`HF_HUB_OFFLINE=1`) through the `refs/` files of
the cache in `HF_HOME`, which `python -m spurious_rewards fetch` fills. The token, when one is needed
(gated models), is read by huggingface_hub from `HF_TOKEN`; nothing here reads, logs or writes it.
"""

from __future__ import annotations

import re
from pathlib import Path

from spurious_rewards.io import DataError

SHA = re.compile(r"^[0-9a-f]{40}$")
# Files a model snapshot does not need: original (non-HF) checkpoints, e.g. Llama's 16 GB
# original/consolidated.00.pth beside the safetensors, and other frameworks' weights.
MODEL_IGNORE = ["original/*", "*.pth", "*.pt", "*.gguf", "*.h5", "*.msgpack", "*.onnx", "*.ot"]
FETCH_HINT = ("run `python -m spurious_rewards fetch --params <file>` where the Hub is reachable "
              "(with HF_TOKEN set for gated models), into the same HF_HOME")


def is_local(path: str) -> bool:
    """True for a filesystem path, False for a Hub id such as `Qwen/Qwen2.5-Math-7B`."""
    if path.startswith(("/", "./", "../", "~")) or path in (".", ".."):
        return True
    # A Hub id is `name` or `org/name`; anything with more parts, or that exists here, is a path.
    return path.count("/") > 1 or Path(path).exists()


def offline() -> bool:
    from huggingface_hub import is_offline_mode

    return is_offline_mode()


def _cached_snapshot(repo_id: str, revision: str | None, repo_type: str) -> Path:
    """The cache folder `snapshots/<sha>` for repo_id at revision, without any network access."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, revision=revision, repo_type=repo_type,
                                      local_files_only=True))
    except LocalEntryNotFoundError:
        raise DataError(f"{repo_type} {repo_id} (revision {revision or 'main'}) is not in the Hugging Face "
                        f"cache {_cache_dir()}: {FETCH_HINT}") from None


def _cache_dir() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def resolve_revision(repo_id: str, revision: str | None, repo_type: str = "model") -> str:
    """The commit SHA that `revision` (None = main) names now: from the cache when offline."""
    if revision and SHA.match(revision) and not offline():
        return revision
    if offline():
        return _cached_snapshot(repo_id, revision, repo_type).name
    from huggingface_hub import HfApi

    try:
        info = HfApi().repo_info(repo_id, revision=revision, repo_type=repo_type)
    except Exception as exc:  # noqa: BLE001 - network, auth and not-found errors: name the repo
        raise DataError(f"{repo_type} {repo_id} (revision {revision or 'main'}): cannot resolve on the "
                        f"Hub: {type(exc).__name__}: {exc}") from None
    return info.sha


def fetch(repo_id: str, revision: str | None, repo_type: str = "model") -> tuple[str, Path]:
    """(commit SHA, snapshot folder): download into the cache, or offline check that it is there."""
    if offline():
        snapshot = _cached_snapshot(repo_id, revision, repo_type)
    else:
        from huggingface_hub import snapshot_download

        try:
            snapshot = Path(snapshot_download(
                repo_id, revision=revision, repo_type=repo_type,
                ignore_patterns=MODEL_IGNORE if repo_type == "model" else None))
        except Exception as exc:  # noqa: BLE001 - name the repo, whatever failed
            raise DataError(f"{repo_type} {repo_id} (revision {revision or 'main'}): download failed: "
                            f"{type(exc).__name__}: {exc}") from None
    if repo_type == "model":
        from spurious_rewards.model.loading import check_loadable

        try:
            check_loadable(snapshot)
        except DataError as exc:
            raise DataError(f"model {repo_id} (revision {revision or 'main'}): {exc}: {FETCH_HINT}") from None
    return snapshot.name, snapshot
