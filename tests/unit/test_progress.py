"""Progress lines of long stages: counts, percentage and ETA, one line per update in a log file."""

from __future__ import annotations

import io
import os
import re
from types import SimpleNamespace

from spurious_rewards import progress


def test_bar_writes_one_line_per_update_with_counts_and_eta(monkeypatch):
    monkeypatch.setenv("SPURIOUS_PROGRESS_INTERVAL", "0")
    out = io.StringIO()
    with progress.bar(4, "grade x", unit="answers", stream=out) as shown:
        for _ in range(4):
            shown.update(1)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0].startswith("grade x: 0/4 answers (0%) elapsed 00:00, ETA ")
    counts = [int(re.search(r": (\d)/4 ", line).group(1)) for line in lines]
    assert counts[0] == 0 and counts[-1] == 4 and counts == sorted(counts)
    assert re.match(r"grade x: 4/4 answers \(100%\) elapsed \d\d:\d\d, ETA 00:00, ", lines[-1])


def test_interval_limits_the_lines(monkeypatch):
    monkeypatch.setenv("SPURIOUS_PROGRESS_INTERVAL", "3600")
    out = io.StringIO()
    with progress.bar(1000, "generate", unit="seq", stream=out) as shown:
        for _ in range(1000):
            shown.update(1)
    lines = out.getvalue().splitlines()
    # the first and the last line only: an hour never passed
    assert len(lines) == 2 and "0/1000" in lines[0] and "1000/1000" in lines[1]
    monkeypatch.setenv("SPURIOUS_PROGRESS_INTERVAL", "not a number")
    assert progress.interval() == progress.DEFAULT_INTERVAL_S


def test_trainer_callback_counts_rollout_steps_and_resumes(monkeypatch, capfd):
    monkeypatch.setenv("SPURIOUS_PROGRESS_INTERVAL", "0")
    # 2 optimizer updates per rollout step, 3 rollout steps; resumed after rollout step 1
    cb = progress.trainer_callback("train toy/random/seed1: rollout step", 3, step_of=lambda u: u // 2)
    state = SimpleNamespace(global_step=2, is_world_process_zero=True)
    cb.on_train_begin(None, state, None)
    for update in (3, 4, 5, 6):
        state.global_step = update
        cb.on_step_end(None, state, None)
    cb.on_train_end(None, state, None)
    err = capfd.readouterr().err.splitlines()
    counts = [re.search(r"rollout step: (\d)/3 step", line).group(1) for line in err]
    assert counts[0] == "1" and counts[-1] == "3" and sorted(counts) == counts
    # other ranks stay silent
    quiet = progress.trainer_callback("x", 3)
    quiet.on_train_begin(None, SimpleNamespace(global_step=0, is_world_process_zero=False), None)
    quiet.on_step_end(None, SimpleNamespace(global_step=1, is_world_process_zero=False), None)
    assert capfd.readouterr().err == ""


def test_library_bars_are_quiet_in_a_log_only(monkeypatch):
    for var in ("HF_DATASETS_DISABLE_PROGRESS_BARS", "HF_HUB_DISABLE_PROGRESS_BARS"):
        monkeypatch.setenv(var, "")  # so that monkeypatch restores the variable afterwards
        monkeypatch.delenv(var)

    class Tty(io.StringIO):
        def isatty(self):
            return True

    progress.quiet_library_bars(Tty())
    assert "HF_DATASETS_DISABLE_PROGRESS_BARS" not in os.environ
    progress.quiet_library_bars(io.StringIO())
    assert os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] == os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"


def test_tqdm_factory_takes_vllms_two_calls():
    """vLLM 0.32 calls `use_tqdm` twice: around its prompt iterable (`f(prompts, desc=...)`, which must
    iterate over them) and as the request bar (`f(total=n, ...)`)."""
    make = progress.tqdm_factory("generate (vLLM)", "prompt")
    assert list(make(iter(["a", "b"]), desc="Rendering prompts")) == ["a", "b"]
    shown = make(total=3, desc="Processed prompts", dynamic_ncols=True, postfix="")
    shown.update(3)
    assert shown.n == 3 and "elapsed" in shown.format_dict
    shown.close()
