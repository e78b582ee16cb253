"""What a stage's code is: the package modules its entry point imports, and the keys they declare.

The stage table derives each stage's code dependencies and parameters from here, so the code that
runs a stage decides when it reruns (no hand-kept lists to drift). Everything is read from the
source with `ast`, nothing is imported: export-dvc and Snakemake's DAG build never pay for torch.

Imports are followed wherever they appear, also inside functions (lazy imports run too), and every
package `__init__.py` on the way counts, because importing a submodule runs it. Not seen: imports by
computed name (`importlib.import_module(variable)`), and files a module reads at run time other than
Python source (the schema, prompt files).

An import that runs but must not count (a check only some callers make, the stage table read by a
stage) carries the marker NOT_A_DEPENDENCY on its line, followed by the reason; the exclusion is then
visible where it is made, and tests/unit/test_stage_inputs.py lists every one.

Parameters: a module that reads parameter keys declares them in a module-level
`PARAMS = ("section.key", "models.{model}", ...)` tuple of string literals; a stage's parameters are
the union over the modules it reaches. tests/unit/test_stage_inputs.py checks each declaration
against what the code reads.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = "spurious_rewards"
PACKAGE_DIR = Path(__file__).resolve().parent
# cli.main runs before every stage (environment defaults, error-to-exit-code mapping), and the
# parameter file is loaded and checked by config for every stage.
ALWAYS = (f"{PACKAGE}.__main__", f"{PACKAGE}.config")
NOT_A_DEPENDENCY = "# codegraph: not a dependency"


def module_file(name: str, root: Path = PACKAGE_DIR) -> Path | None:
    """The source file of a `spurious_rewards.*` module, or None when it is not one."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = root.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = [PACKAGE, *rel.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@cache
def _excluded_lines(path: Path) -> frozenset[int]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(i for i, line in enumerate(lines, start=1) if NOT_A_DEPENDENCY in line)


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def imported_modules(path: Path, root: Path = PACKAGE_DIR) -> set[str]:
    """Every `spurious_rewards.*` module this file imports, anywhere in it, with parent packages."""
    this = _module_name(path, root)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    found: set[str] = set()
    excluded = _excluded_lines(path)
    for node in ast.walk(_parse(path)):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and node.lineno in excluded:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[:len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # `from pkg import x`: x is a submodule or a name defined in pkg (then pkg is enough)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == PACKAGE and module_file(name, root) is not None:
                found.update(n for n in _with_parents(name) if module_file(n, root) is not None)
    return found


def reached_files(entry: str, root: Path = PACKAGE_DIR) -> list[Path]:
    """The source files run when `entry` runs as a stage: its import closure plus ALWAYS's."""
    todo = [n for start in (entry, *ALWAYS) for n in _with_parents(start)]
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = module_file(name, root)
        if path is None:
            raise ValueError(f"{name}: no such module under {root}")
        seen[name] = path
        todo.extend(imported_modules(path, root) - seen.keys())
    return sorted(seen.values())


def declared_params(path: Path) -> tuple[str, ...]:
    """The module-level `PARAMS` tuple of a source file (empty when it declares none)."""
    for node in _parse(path).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PARAMS"
                                                for t in node.targets):
            value = ast.literal_eval(node.value)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{path}: PARAMS must be a tuple of strings")
            return value
    return ()


def files_hash(files: list[Path], root: Path = PACKAGE_DIR) -> str:
    """sha256 over (path relative to the package, content) of each file: moving the checkout keeps it."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
