"""The layout shows the architecture: one module per command under commands/, named as the command and
its stages, and library packages beneath that never import a command."""

from __future__ import annotations

import importlib
from pathlib import Path

from spurious_rewards import cli, codegraph, stages

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


def test_no_library_module_imports_a_command():
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "commands" or rel.name in ("cli.py", "__main__.py"):
            continue
        # codegraph's scan: lazy and relative imports included (tests/unit/test_stage_inputs.py)
        hits = sorted(m for m in codegraph.imported_modules(path) if m.startswith("spurious_rewards.commands"))
        if hits:
            offenders[rel.as_posix()] = hits
    assert offenders == {}
