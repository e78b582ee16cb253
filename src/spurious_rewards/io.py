"""Atomic file and folder writes, and the JSONL reader every stage uses.

Nothing half-written ever carries a final name: files are written to a temporary sibling and renamed
(os.replace is atomic on POSIX within one filesystem); folders are built under a temporary sibling
and renamed into place. A killed job therefore leaves either the old output or none.
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


class DataError(ValueError):
    """Bad input data; the message names the file and the row or key."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _tmp_sibling(path: Path, suffix: str = "") -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    # mkstemp makes 0600 files; outputs are shared (DVC cache, cluster file systems), so honour umask.
    os.chmod(tmp, 0o666 & ~_umask())
    return Path(tmp)


def honour_umask(root: str | Path) -> None:
    """Give every file under `root` the umask's permissions (rw for all less the umask, exec bits kept).

    Some writers ignore the umask: safetensors (so transformers' save_pretrained and TRL's checkpoints)
    writes model.safetensors 0600, which a shared DVC cache or a colleague on the cluster cannot read.
    """
    mask = _umask()
    root = Path(root)
    for path in [root, *root.rglob("*")] if root.is_dir() else [root]:
        if path.is_file() and not path.is_symlink():
            mode = path.stat().st_mode & 0o777
            os.chmod(path, (0o666 | (mode & 0o111)) & ~mask)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary file path; on success rename it to `path`, on error delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_sibling(path, path.suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder; on success replace `path` with it, on error delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    count = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def describe_value(value: Any) -> str:
    """A short description of a value for an error message ("None (null)", "NaN", "list [1, 2]")."""
    if value is None:
        return "None (null)"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else repr(value)
    text = repr(value)
    return f"{type(value).__name__} {text[:40] + '...' if len(text) > 40 else text}"


def answer_text(value: Any, where: str, allow_empty: bool = False) -> str:
    """An answer or label as text; DataError naming `where` for anything else.

    Text and integers (numpy ones from parquet too) are answers; None, NaN, floats (2.0 and 1e-05 lose
    how the answer was written), booleans, lists and objects are refused rather than turned into the
    label "None", "nan" or "[1, 2]". allow_empty admits the empty text (the paper's empty
    majority-vote label), never None.
    """
    if isinstance(value, str):
        if not value.strip() and not allow_empty:
            raise DataError(f"{where}: empty answer")
        return value.strip()
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    raise DataError(f"{where}: answer must be text, got {describe_value(value)}")


def read_jsonl(path: str | Path, required: Iterable[str] = (), answer_field: str | None = None) -> list[dict]:
    """Read JSONL; a bad line or a row missing a required key raises DataError naming file and line.

    With answer_field, that field must be an answer (see answer_text) and is returned as text.
    """
    path = Path(path)
    required = tuple(required)
    rows = []
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(f"{path}: line {lineno}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: line {lineno}: not valid JSON ({exc.msg})") from None
            except RecursionError:
                raise DataError(f"{path}: line {lineno}: JSON nested too deeply") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}: line {lineno}: expected a JSON object")
            missing = [k for k in required if k not in row]
            if missing:
                raise DataError(f"{path}: line {lineno}: missing field(s) {', '.join(missing)}")
            if answer_field is not None and answer_field in row:
                ident = f" (id {row['id']})" if "id" in row else ""
                row[answer_field] = answer_text(row[answer_field], f"{path}: line {lineno}{ident}")
            rows.append(row)
    return rows


def read_parquet(path: str | Path):
    """pandas.read_parquet with a DataError naming the file for a corrupt or truncated one."""
    import pandas as pd
    import pyarrow as pa

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        return pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: not a readable parquet file ({first})") from None


def write_parquet(path: str | Path, frame) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_csv(path: str | Path, frame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
