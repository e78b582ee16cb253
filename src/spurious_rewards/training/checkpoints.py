"""Resume state of one run and the declared outputs built from it.

Layout of paths.train_state_dir(...) (never a declared output, so Snakemake/DVC never delete it):

    trl/checkpoint-<global_step>/    TRL's full checkpoint (weights, optimizer, scheduler, RNG,
                                     trainer_state.json with the log history), used only to resume
        COMPLETE                     written after the save returned: no mark = half-written, ignored
    export/step<rollout_step>/       model-only copy (config, weights, tokenizer), loadable by the
                                     evaluate stage; built with io.atomic_dir, so complete by name
    tensorboard/                     TensorBoard event files
    settings.json                    what the state was trained with (the job's parameters and its
                                     training set): a rerun with other settings starts afresh

At the end the declared outputs are materialised from `export/` by hardlink (copy across devices):
paths.checkpoints_dir(...) holds one step folder per saved rollout step (never step 0: the base model
is step 0 and is evaluated on its own).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

from spurious_rewards import paths
from spurious_rewards.io import atomic_dir

log = logging.getLogger(__name__)

MARK = "COMPLETE"
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


def mark_complete(checkpoint: Path, **info) -> None:
    """Called once the save has returned; written atomically (rename), so the mark itself is whole."""
    tmp = Path(checkpoint) / f".{MARK}.tmp"
    tmp.write_text(json.dumps(info, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, Path(checkpoint) / MARK)


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


def latest_complete(state_dir: Path, clean: bool = True) -> Path | None:
    """Newest complete checkpoint; with clean, delete folders without the mark (half-written)."""
    best = None
    for ckpt in checkpoints(state_dir):
        if is_complete(ckpt):
            best = ckpt
        elif clean:
            log.warning("removing incomplete checkpoint %s (no %s mark)", ckpt, MARK)
            shutil.rmtree(ckpt, ignore_errors=True)
    return best


def prune(state_dir: Path, keep: Path) -> None:
    """Delete every other TRL checkpoint: resuming needs only the newest complete one."""
    for ckpt in checkpoints(state_dir):
        if ckpt != Path(keep) and global_step_of(ckpt) < global_step_of(keep):
            shutil.rmtree(ckpt, ignore_errors=True)


def _link_or_copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        dst.mkdir()
        for child in src.iterdir():
            _link_or_copy(child, dst / child.name)
        return
    try:
        os.link(src, dst)
    except OSError:  # another filesystem, or links unsupported
        shutil.copy2(src, dst)


def export(checkpoint: Path, state_dir: Path, rollout_step: int, global_step: int) -> Path:
    """Model-only copy of a TRL checkpoint as export/stepNNNNNN (atomic; replaces an older one)."""
    dest = export_dir(state_dir) / paths.step_name(rollout_step)
    with atomic_dir(dest) as tmp:
        for item in Path(checkpoint).iterdir():
            if not RESUME_ONLY.match(item.name):
                _link_or_copy(item, tmp / item.name)
        (tmp / "checkpoint.json").write_text(json.dumps(
            {"rollout_step": rollout_step, "global_step": global_step}, sort_keys=True) + "\n", encoding="utf-8")
    return dest


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


def _materialise(dest: Path, sources: dict[str, Path], provenance: dict | None) -> Path:
    """Build `dest` atomically with each source linked (or copied) in under its name."""
    from spurious_rewards import provenance as prov

    with atomic_dir(dest) as tmp:
        for name, source in sources.items():
            _link_or_copy(source, tmp / name)
        if provenance is not None:
            prov.write(tmp, provenance)
    return Path(dest)


def materialise(state_dir: Path, dest: Path, steps: list[int], provenance: dict | None = None) -> Path:
    """Build the declared checkpoints folder atomically from the exported step folders."""
    missing = [s for s in steps if not (export_dir(state_dir) / paths.step_name(s)).is_dir()]
    if missing:
        raise RuntimeError(f"{export_dir(state_dir)}: exported checkpoints missing for rollout steps {missing}")
    return _materialise(dest, {paths.step_name(s): export_dir(state_dir) / paths.step_name(s) for s in steps},
                        provenance)


def materialise_final(state_dir: Path, dest: Path, step: int, provenance: dict | None = None) -> Path:
    """The last exported step as its own folder (the run's final model, shared through DVC)."""
    source = export_dir(state_dir) / paths.step_name(step)
    if not source.is_dir():
        raise RuntimeError(f"{source}: the final checkpoint was not exported")
    return _materialise(dest, {item.name: item for item in source.iterdir()}, provenance)
