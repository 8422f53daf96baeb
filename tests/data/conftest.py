"""Fixtures shared by the data tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def offline_tfds(monkeypatch):
    """``tfds.builder`` as on a machine without internet: preparing a dataset fails to connect.

    Returns the list of ``(name, data_dir)`` the code under test asked the builder for."""
    tfds = pytest.importorskip("tensorflow_datasets")

    class Offline:
        data_dir_root = "/nowhere/tensorflow_datasets"

        def is_prepared(self):
            return False

        def download_and_prepare(self):
            raise ConnectionError("Failed to establish a new connection: [Errno 101] Network is unreachable")

    calls = []

    def fake_builder(name, data_dir=None):
        calls.append((name, data_dir))
        return Offline()

    monkeypatch.setattr(tfds, "builder", fake_builder)
    return calls
