"""The layout shows the architecture: one module per command under commands/, named as the command and
its stages, and library packages beneath that never import a command."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from spurious_rewards import cli, stages

PACKAGE = Path(cli.__file__).parent


def test_commands_folder_holds_exactly_the_cli_commands():
    on_disk = {p.stem for p in (PACKAGE / "commands").glob("*.py")} - {"__init__"}
    assert on_disk == {c.replace("-", "_") for c in cli.COMMANDS}


def test_every_command_module_defines_the_command_interface():
    for command in cli.COMMANDS:
        module = importlib.import_module(cli.command_module(command))
        assert callable(module.configure_parser) and callable(module.main), command


def test_stage_names_are_command_names():
    # evaluate_base / grade_base are the --base forms of evaluate / grade
    for stage in stages.STAGES:
        assert stage.name_on_cli in cli.COMMANDS, stage.name
        assert stage.entry_module == f"spurious_rewards.commands.{stage.name_on_cli}", stage.name


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]) if base else ".".join(parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_no_library_module_imports_a_command():
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "commands" or rel.name in ("cli.py", "__main__.py"):
            continue
        hits = sorted(m for m in _imported_modules(path) if m.startswith("spurious_rewards.commands"))
        if hits:
            offenders[rel.as_posix()] = hits
    assert offenders == {}


def test_the_layering_check_sees_lazy_and_relative_imports(tmp_path):
    module = PACKAGE / "grading" / "_probe_for_layout_test.py"
    try:
        module.write_text("def f():\n    from ..commands import grade\n", encoding="utf-8")
        assert "spurious_rewards.commands.grade" in _imported_modules(module)
    finally:
        module.unlink()
