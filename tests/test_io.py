"""framework.io: files are replaced whole or not at all."""

from __future__ import annotations

import os

import pytest

from framework.io import atomic_save, atomic_write_text


def test_a_failing_save_leaves_the_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"the earlier, good model")

    def half_written(tmp):
        tmp.write_bytes(b"half a mod")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_save(target, half_written, suffix=".keras")
    assert target.read_bytes() == b"the earlier, good model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_a_save_writes_a_uniquely_named_temp_file_with_the_suffix_then_replaces(tmp_path):
    target = tmp_path / "epoch-3.weights.h5"
    seen = []

    def save(tmp):
        seen.append(tmp)
        tmp.write_bytes(b"weights")

    atomic_save(target, save, suffix=".weights.h5")
    atomic_save(target, save, suffix=".weights.h5")
    assert target.read_bytes() == b"weights"
    assert all(p.name.endswith(".weights.h5") and p.parent == tmp_path for p in seen)
    assert [p.name for p in tmp_path.iterdir()] == ["epoch-3.weights.h5"]
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_atomic_write_text_replaces_the_file(tmp_path):
    target = tmp_path / "sub" / "report.md"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two" and [p.name for p in target.parent.iterdir()] == ["report.md"]
