"""Fixtures shared by the data tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def fake_tfds(monkeypatch):
    """Replaces ``tfds.builder``: ``fake_tfds(prepared, download)`` makes every builder report
    ``is_prepared() == prepared`` and run ``download()`` as its ``download_and_prepare``.

    Returns the list of ``(name, data_dir)`` the code under test asked the builder for."""
    tfds = pytest.importorskip("tensorflow_datasets")
    calls = []

    def install(prepared: bool, download):
        class Fake:
            data_dir_root = "/nowhere/tensorflow_datasets"

            def is_prepared(self):
                return prepared

            def download_and_prepare(self):
                download()

        def fake_builder(name, data_dir=None):
            calls.append((name, data_dir))
            return Fake()

        monkeypatch.setattr(tfds, "builder", fake_builder)
        return calls

    return install


@pytest.fixture
def offline_tfds(fake_tfds):
    """``tfds.builder`` as on a machine without internet: preparing a dataset fails to connect.

    Returns the list of ``(name, data_dir)`` the code under test asked the builder for."""

    def unreachable():
        raise ConnectionError("Failed to establish a new connection: [Errno 101] Network is unreachable")

    return fake_tfds(False, unreachable)
