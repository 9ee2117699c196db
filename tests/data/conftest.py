"""Shared fixtures for data tests: a small demo database built once per session."""

from __future__ import annotations

import pytest

# a small demo: three years, a quarter of the item catalogue; fast but a full panel
SMALL = {"months": 36, "end_month": "2026-10", "_item_limit": 45}


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """Path of a small demo database, built once per test session."""
    from data.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(path, **SMALL)
    return path
