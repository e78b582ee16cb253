"""Put a local model folder into a Hugging Face cache as a Hub repository, in huggingface_hub's layout:

    <cache>/models--<org>--<name>/blobs/<sha256 of the file>
                                 /snapshots/<commit>/<file> -> ../../blobs/<sha256>
                                 /refs/<branch>                (holds the commit)

so that `org/name` at a branch (or the commit itself) resolves with HF_HUB_OFFLINE=1 through
huggingface_hub's own lookup (`snapshot_download(..., local_files_only=True)`, `from_pretrained`,
vLLM): the same code path as a model fetched from the Hub, with no network. huggingface_hub has no
public function that writes a local folder into its cache, so the layout is written here; where to
write comes from huggingface_hub (`constants.HF_HUB_CACHE`, i.e. HF_HOME/hub unless HF_HUB_CACHE is set).

The commit is a content hash (SHA-1 over each file's path and SHA-256), 40 hex digits like a git commit:
the same files give the same commit, so a rebuilt cache keeps the revision a run recorded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from spurious_rewards.io import DataError


def repo_folder(cache: Path, repo_id: str) -> Path:
    return Path(cache) / ("models--" + repo_id.replace("/", "--"))


def content_commit(files: dict[str, str]) -> str:
    """A 40-hex commit id for {relative path: sha256}, stable across rebuilds of the same files."""
    digest = hashlib.sha1()
    for rel in sorted(files):
        digest.update(f"{rel}\0{files[rel]}\n".encode())
    return digest.hexdigest()


def add_model(cache: Path, repo_id: str, folder: Path, commit: str | None = None,
              refs: tuple[str, ...] = ("main",), replace: dict[str, bytes] | None = None,
              skip: tuple[str, ...] = ()) -> tuple[str, Path]:
    """Put the files of `folder` into `cache` (a hub cache folder, e.g. HF_HOME/hub) as `repo_id`;
    `replace` gives new contents for some relative paths (added if absent), `skip` leaves files out.
    Every ref in `refs` then points at the commit. Returns (commit, snapshot folder)."""
    if repo_id.count("/") != 1:
        raise DataError(f"hub cache: {repo_id!r} is not a Hub id of the form org/name")
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"hub cache: {folder} is not a folder")
    contents: dict[str, bytes] = {}
    for src in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = src.relative_to(folder).as_posix()
        if rel not in skip:
            contents[rel] = src.read_bytes()
    contents.update(replace or {})
    hashes = {rel: hashlib.sha256(data).hexdigest() for rel, data in contents.items()}
    commit = commit or content_commit(hashes)
    repo = repo_folder(cache, repo_id)
    snapshot = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    if snapshot.exists():
        shutil.rmtree(snapshot)  # a half-written snapshot of an earlier attempt
    for rel, data in contents.items():
        blob = repo / "blobs" / hashes[rel]
        if not blob.exists():
            tmp = blob.with_name(blob.name + ".incomplete")
            tmp.write_bytes(data)
            os.replace(tmp, blob)
        link = snapshot / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir(exist_ok=True)
    for ref in refs:
        (repo / "refs" / ref).write_text(commit, encoding="utf-8")
    return commit, snapshot
