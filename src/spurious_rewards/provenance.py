"""Provenance records: what produced a number, written next to every output.

A record holds the git commit (and whether the tree was dirty), the parameter file and its hash, the
hash of the sections the stage depends on, package versions, the device, seeds, and whatever the stage
adds (prompt-template hash, grader and its version, generation backend, batch layout ...).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from spurious_rewards.io import write_json

TRACKED_PACKAGES = (
    "spurious-rewards", "torch", "transformers", "trl", "accelerate", "datasets", "tokenizers",
    "vllm", "math-verify", "latex2sympy2_extended", "antlr4-python3-runtime", "sympy", "numpy",
    "pandas", "pyarrow", "deepspeed",
)


def package_versions(names=TRACKED_PACKAGES) -> dict[str, str | None]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@lru_cache(maxsize=1)
def git_state() -> dict[str, Any]:
    repo = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                                 timeout=10, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    sha = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"sha": sha, "dirty": bool(status) if status is not None else None}


def device_info() -> dict[str, Any]:
    info: dict[str, Any] = {"host_platform": platform.platform(), "python": platform.python_version()}
    try:
        import torch
    except ImportError:
        return info
    info["torch_threads"] = torch.get_num_threads()
    if torch.cuda.is_available():
        info["device"] = "cuda"
        info["device_count"] = torch.cuda.device_count()
        info["device_name"] = torch.cuda.get_device_name(0)
    else:
        info["device"] = "cpu"
        info["device_count"] = 1
        info["device_name"] = platform.processor() or platform.machine()
    return info


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_hash(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def record(params, stage: str, *, sections: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    """Build a provenance record for `stage`. `sections` are the params keys the stage reads."""
    rec: dict[str, Any] = {
        "stage": stage,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "git": git_state(),
        "params_file": params.path,
        "params_hash": params.hash,
        "packages": package_versions(),
        "device": device_info(),
    }
    if sections:
        rec["params_sections"] = list(sections)
        rec["params_sections_hash"] = params.section_hash(*sections)
    rec.update(extra)
    return rec


def provenance_path(output: str | Path) -> Path:
    """`x/metrics.csv` -> `x/metrics.csv.provenance.json`; a folder gets `provenance.json` inside."""
    output = Path(output)
    if output.is_dir():
        return output / "provenance.json"
    return output.with_name(output.name + ".provenance.json")


def write(output: str | Path, rec: dict[str, Any]) -> Path:
    path = provenance_path(output)
    write_json(path, rec)
    return path
