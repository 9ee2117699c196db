"""Fixtures shared across test packages: the default demo database, built once per session."""

from __future__ import annotations

import pytest

from data import db


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory):
    """The full default demo (江西, 60 months to 2026-10, scale 1), as the app builds it."""
    from data.demo import build_demo

    path = tmp_path_factory.mktemp("cockpit") / "cockpit.duckdb"
    build_demo(path)
    return path


@pytest.fixture
def demo_env(demo_db_path, monkeypatch):
    """Point the data layer at the default demo database."""
    monkeypatch.setenv("COCKPIT_DB", str(demo_db_path))
    db.reset_reader()
    yield demo_db_path
    db.reset_reader()
