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


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """An empty operational store on each backend (#12): a SQLite file, and a fresh schema in the
    PostgreSQL database that ``scripts/test.sh`` starts (skipped only when COCKPIT_TEST_PG_URL is unset)."""
    import os
    import secrets

    from sqlalchemy import create_engine, make_url, text

    from data import opstore

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ops.sqlite'}"
        opstore.dispose()
        return
    base = os.environ.get("COCKPIT_TEST_PG_URL", "").strip()
    if not base:
        # CI runs scripts/test.sh, which always sets it: there a missing server is a failure, not a skip
        (pytest.fail if os.environ.get("CI") else pytest.skip)(
            "COCKPIT_TEST_PG_URL 未设置（bash scripts/test.sh 会启动 PostgreSQL 并设置它）")
    schema = f"test_{secrets.token_hex(6)}"
    admin = create_engine(base)
    with admin.begin() as con:
        con.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    opstore.dispose()
    with admin.begin() as con:
        con.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
