"""Rewrite a params file in place as the default shrunk to the smoke sizes (tests/smoke/overrides.yaml),
keeping the default's results folder: the state a user's `make run` leaves, in minutes."""

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.smoke import smoke_params  # noqa: E402

params = smoke_params()
params["experiment"]["results_dir"] = yaml.safe_load(Path(sys.argv[1]).read_text())["experiment"]["results_dir"]
Path(sys.argv[1]).write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
