"""Resume state of one run and the declared outputs built from it.

Layout of paths.train_state_dir(...) (never a declared output, so Snakemake/DVC never delete it):

    trl/checkpoint-<global_step>/    TRL's full checkpoint (weights, optimizer, scheduler, RNG,
                                     trainer_state.json with the log history), used only to resume
        COMPLETE                     written after the save returned: no mark = half-written, ignored.
                                     It lists every file with its size and sha256 (what it vouches for)
    trl/checkpoint-<n>.corrupt/      a marked checkpoint whose files no longer match its mark, moved
                                     aside on resume (kept for inspection; safe to delete)
    export/step<rollout_step>/       model-only copy (config, weights, tokenizer), loadable by the
                                     evaluate stage; built with io.atomic_dir, so complete by name;
        checkpoint.json              its steps and the size and sha256 of every file beside it
    tensorboard/                     TensorBoard event files
    settings.json                    what the state was trained with (the job's parameters and its
                                     training set): a rerun with other settings starts afresh

Integrity: resume verifies the newest marked checkpoint against its mark (a full read: ~1 s per GB) and
falls back to the previous one, which pruning keeps for that reason (two TRL checkpoints on disk, not
one); with none left the run starts again from the base model, with a warning. Every copy out of a
checkpoint is a real copy, never a hardlink: a hardlink shares the inode, so one damaged file would
damage the resume state, the export and the declared outputs at once. The declared outputs are
materialised from `export/` after verifying it: paths.checkpoints_dir(...) holds one step folder per
saved rollout step (never step 0: the base model is step 0 and is evaluated on its own), and
paths.final_model(...) the last one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from pathlib import Path

from spurious_rewards import paths
from spurious_rewards.io import DataError, atomic_dir, honour_umask

log = logging.getLogger(__name__)

MARK = "COMPLETE"
EXPORT_INFO = "checkpoint.json"
CORRUPT_SUFFIX = ".corrupt"
_CKPT = re.compile(r"^checkpoint-(\d+)$")
# Files of a TRL checkpoint that only resuming needs; everything else is the loadable model.
RESUME_ONLY = re.compile(r"^(optimizer\.pt|scheduler\.pt|scaler\.pt|rng_state.*\.pth|trainer_state\.json|"
                         r"training_args\.bin|latest|zero_to_fp32\.py|global_step\d+|COMPLETE)$")


def trl_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "trl"


def export_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "export"


def tensorboard_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "tensorboard"


def global_step_of(checkpoint: Path) -> int | None:
    m = _CKPT.match(Path(checkpoint).name)
    return int(m.group(1)) if m else None


def is_complete(checkpoint: Path) -> bool:
    return (Path(checkpoint) / MARK).is_file()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, dict]:
    """{relative path: {size, sha256}} of every file under `folder` except the top-level names in skip."""
    folder = Path(folder)
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in skip and not path.name.startswith("."):
            out[rel] = {"size": path.stat().st_size, "sha256": _sha256(path)}
    return out


def check_manifest(folder: Path, files: dict[str, dict], shown: Path | None = None) -> str | None:
    """None if every listed file has its recorded size and hash, else what is wrong, naming the file
    (under `shown` when `folder` is a copy of it)."""
    folder = Path(folder)
    for rel, want in sorted(files.items()):
        path, name = folder / rel, Path(shown or folder) / rel
        if not isinstance(want, dict) or not {"size", "sha256"} <= set(want):
            return f"{name}: malformed record {want!r}"
        if not path.is_file():
            return f"{name}: missing"
        size = path.stat().st_size
        if size != want["size"]:
            return f"{name}: {size} bytes, {want['size']} recorded"
        if _sha256(path) != want["sha256"]:
            return f"{name}: content differs from the recorded sha256"
    return None


def mark_complete(checkpoint: Path, **info) -> None:
    """Called once the save has returned; written atomically (rename), so the mark itself is whole.

    The mark lists what it vouches for: the size and sha256 of every file of the checkpoint. The saved
    files get the umask's permissions first (safetensors writes 0600), so the hashes cover final files.
    """
    checkpoint = Path(checkpoint)
    honour_umask(checkpoint)
    info = {**info, "files": manifest(checkpoint, skip=(MARK,))}
    tmp = checkpoint / f".{MARK}.tmp"
    tmp.write_text(json.dumps(info, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, checkpoint / MARK)


def read_mark(checkpoint: Path) -> dict | None:
    try:
        mark = json.loads((Path(checkpoint) / MARK).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return mark if isinstance(mark, dict) else None


def verify(checkpoint: Path) -> str | None:
    """None if the checkpoint matches its COMPLETE mark, else why not."""
    mark = read_mark(checkpoint)
    if mark is None:
        return f"{Path(checkpoint) / MARK}: unreadable"
    if "files" not in mark:  # written before marks recorded hashes: nothing to check against
        log.warning("%s: an old mark without file hashes; resuming from it unverified", Path(checkpoint) / MARK)
        return None
    if not isinstance(mark["files"], dict):
        return f"{Path(checkpoint) / MARK}: 'files' is not a mapping"
    return check_manifest(checkpoint, mark["files"])


def set_aside(checkpoint: Path) -> Path:
    """Rename a bad checkpoint out of the resume path (checkpoint-N.corrupt[.k]); returns the new name."""
    checkpoint = Path(checkpoint)
    dest = checkpoint.with_name(checkpoint.name + CORRUPT_SUFFIX)
    k = 1
    while dest.exists():
        dest = checkpoint.with_name(f"{checkpoint.name}{CORRUPT_SUFFIX}.{k}")
        k += 1
    os.replace(checkpoint, dest)
    return dest


def checkpoints(state_dir: Path) -> list[Path]:
    """TRL checkpoint folders, oldest first."""
    root = trl_dir(state_dir)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and global_step_of(p) is not None]
    return sorted(found, key=global_step_of)


def settings_path(state_dir: Path) -> Path:
    return Path(state_dir) / "settings.json"


def reset_if_changed(state_dir: Path, settings: dict) -> bool:
    """Drop the resume state when it was trained with other settings; record the current ones.

    Without this, a rerun after a parameter change (`dvc exp run -S train.learning_rate=...`, an edited
    params.yaml) would "resume" the finished old run and re-export its results unchanged. Returns True
    when old state was dropped. Main process only.
    """
    path = settings_path(state_dir)
    current = json.loads(json.dumps(settings, sort_keys=True, default=str))
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = None
    dropped = False
    stale = [d for d in (trl_dir(state_dir), export_dir(state_dir)) if d.exists()]
    if recorded != current and stale:
        log.warning("%s: resume state was trained with other settings (%s); starting afresh",
                    state_dir, "none recorded" if recorded is None else "changed")
        for d in stale:
            shutil.rmtree(d)
        dropped = True
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(current, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return dropped


def latest_complete(state_dir: Path, clean: bool = True, check: bool | None = None) -> Path | None:
    """Newest complete checkpoint that matches its mark.

    With clean (the main process only): folders without the mark (half-written) are deleted, and a
    marked checkpoint whose files no longer match the mark is set aside with a warning, the next older
    one being tried instead. `check` (default: clean) verifies the hashes; other ranks call this after
    the main process has cleaned up, so the newest marked checkpoint is then the verified one.
    """
    check = clean if check is None else check
    found = checkpoints(state_dir)
    if clean:
        for ckpt in found:
            if not is_complete(ckpt):
                log.warning("removing incomplete checkpoint %s (no %s mark)", ckpt, MARK)
                shutil.rmtree(ckpt, ignore_errors=True)
    for ckpt in reversed([c for c in found if is_complete(c)]):
        problem = verify(ckpt) if check else None
        if problem is None:
            return ckpt
        if not clean:
            continue
        moved = set_aside(ckpt)
        log.warning("checkpoint %s does not match its %s mark (%s); moved aside to %s, resuming from the "
                    "one before it", ckpt, MARK, problem, moved)
    if clean and found:
        log.warning("no usable checkpoint left in %s: training starts again from the base model",
                    trl_dir(state_dir))
    return None


def prune(state_dir: Path, keep: Path) -> None:
    """Delete old TRL checkpoints, keeping `keep` and the newest complete one before it.

    The one before is the fallback if `keep` is damaged after its mark was written (resume verifies).
    """
    older = [c for c in checkpoints(state_dir) if global_step_of(c) < global_step_of(keep)]
    fallback = next((c for c in reversed(older) if is_complete(c)), None)
    for ckpt in older:
        if ckpt != fallback:
            shutil.rmtree(ckpt, ignore_errors=True)


def _copy(src: Path, dst: Path) -> None:
    """A real copy (never a hardlink: a shared inode would share any later damage)."""
    if src.is_dir():
        shutil.copytree(src, dst, copy_function=shutil.copy2)
    else:
        shutil.copy2(src, dst)


def export(checkpoint: Path, state_dir: Path, rollout_step: int, global_step: int) -> Path:
    """Model-only copy of a TRL checkpoint as export/stepNNNNNN (atomic; replaces an older one).

    The copy is checked against the checkpoint's mark, and its own manifest goes into checkpoint.json.
    """
    dest = export_dir(state_dir) / paths.step_name(rollout_step)
    mark = read_mark(checkpoint) or {}
    with atomic_dir(dest) as tmp:
        for item in Path(checkpoint).iterdir():
            if not RESUME_ONLY.match(item.name) and not item.name.startswith("."):
                _copy(item, tmp / item.name)
        files = manifest(tmp)
        differ = sorted(k for k, v in (mark.get("files") or {}).items() if k in files and files[k] != v)
        if differ:
            raise DataError(f"{checkpoint}: exporting rollout step {rollout_step}: {', '.join(differ)} "
                            f"differ from the {MARK} mark")
        (tmp / EXPORT_INFO).write_text(json.dumps(
            {"rollout_step": rollout_step, "global_step": global_step, "files": files}, sort_keys=True) + "\n",
            encoding="utf-8")
        honour_umask(tmp)
    return dest


def verify_export(folder: Path, state_dir: Path, shown: Path | None = None) -> None:
    """DataError naming the file if an exported step (or a copy of `shown`) does not match its checkpoint.json."""
    info_path = Path(shown or folder) / EXPORT_INFO
    redo = (f"it cannot be rebuilt from the pruned TRL state, so rerun the training from scratch "
            f"(delete {state_dir})")
    try:
        info = json.loads((Path(folder) / EXPORT_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise DataError(f"{info_path}: unreadable; {redo}") from None
    if not isinstance(info, dict) or "files" not in info:  # exported before hashes were recorded
        log.warning("%s: no file hashes recorded (an older export); materialised unverified", info_path)
        return
    files = info["files"]
    if not isinstance(files, dict):
        raise DataError(f"{info_path}: 'files' is not a mapping; {redo}")
    problem = check_manifest(folder, files, shown)
    if problem:
        raise DataError(f"exported checkpoint damaged: {problem}; {redo}")


def exported_steps(state_dir: Path) -> list[int]:
    root = export_dir(state_dir)
    if not root.is_dir():
        return []
    steps = []
    for p in root.iterdir():
        try:
            steps.append(paths.parse_step(p.name))
        except ValueError:
            continue  # atomic_dir temporaries
    return sorted(steps)


def _materialise(dest: Path, sources: dict[str, Path], provenance: dict | None, state_dir: Path,
                 step_folders: dict[str, Path]) -> Path:
    """Build `dest` atomically with each source copied in under its name.

    Each copied step folder (name in dest, '' = dest itself -> the export it came from) is verified
    against its checkpoint.json before the rename: a damaged export or a bad copy never becomes a
    declared output.
    """
    from spurious_rewards import provenance as prov

    with atomic_dir(dest) as tmp:
        for name, source in sources.items():
            _copy(source, tmp / name)
        for folder, source in step_folders.items():
            verify_export(tmp / folder, state_dir, shown=source)
        if provenance is not None:
            prov.write(tmp, provenance)
    return Path(dest)


def materialise(state_dir: Path, dest: Path, steps: list[int], provenance: dict | None = None) -> Path:
    """Build the declared checkpoints folder atomically from the exported step folders."""
    missing = [s for s in steps if not (export_dir(state_dir) / paths.step_name(s)).is_dir()]
    if missing:
        raise RuntimeError(f"{export_dir(state_dir)}: exported checkpoints missing for rollout steps {missing}")
    return _materialise(dest, {paths.step_name(s): export_dir(state_dir) / paths.step_name(s) for s in steps},
                        provenance, state_dir,
                        {paths.step_name(s): export_dir(state_dir) / paths.step_name(s) for s in steps})


def materialise_final(state_dir: Path, dest: Path, step: int, provenance: dict | None = None) -> Path:
    """The last exported step as its own folder (the run's final model, shared through DVC)."""
    source = export_dir(state_dir) / paths.step_name(step)
    if not source.is_dir():
        raise RuntimeError(f"{source}: the final checkpoint was not exported")
    return _materialise(dest, {item.name: item for item in source.iterdir()}, provenance, state_dir, {"": source})
