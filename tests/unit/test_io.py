"""Atomic writes: a failure leaves either the previous output or nothing, never a partial one."""

from __future__ import annotations

import os

import pytest

from spurious_rewards.io import DataError, atomic_dir, atomic_path, read_jsonl, write_jsonl


def test_atomic_path_failure_leaves_no_file(tmp_path):
    target = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("killed")
    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_atomic_path_keeps_old_content_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_text("new")
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_atomic_dir_replaces_whole_folder(tmp_path):
    target = tmp_path / "analysis"
    target.mkdir()
    (target / "stale.csv").write_text("x")
    with atomic_dir(target) as tmp:
        (tmp / "metrics.csv").write_text("a,b\n")
    assert sorted(os.listdir(target)) == ["metrics.csv"]
    assert sorted(os.listdir(tmp_path)) == ["analysis"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o700)  # readable by others (shared caches)


def test_atomic_dir_failure_keeps_previous(tmp_path):
    target = tmp_path / "report"
    target.mkdir()
    (target / "report.md").write_text("v1")
    with pytest.raises(ValueError):
        with atomic_dir(target) as tmp:
            (tmp / "report.md").write_text("v2 half")
            raise ValueError
    assert (target / "report.md").read_text() == "v1"
    assert sorted(os.listdir(tmp_path)) == ["report"]


def test_jsonl_round_trip_and_errors_name_the_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    assert write_jsonl(path, [{"id": 1, "answer": "2"}, {"id": 2, "answer": "3"}]) == 2
    assert read_jsonl(path, required=("id", "answer"))[1] == {"id": 2, "answer": "3"}
    path.write_text('{"id": 1, "answer": "2"}\n{"id": 2}\n')
    with pytest.raises(DataError, match=r"rows\.jsonl: line 2: missing field\(s\) answer"):
        read_jsonl(path, required=("id", "answer"))
    path.write_text('{"id": 1}\nnot json\n')
    with pytest.raises(DataError, match=r"rows\.jsonl: line 2: not valid JSON"):
        read_jsonl(path)
