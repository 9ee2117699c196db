"""The production start (gunicorn's ``on_starting``, ``scripts/serve.sh``, ``python -m data.prepare``)
settles the database and never runs demo code; only the embedded start (``scripts/start.sh``:
``python -m data.demo ensure``) builds the demo and makes the demo accounts."""

from __future__ import annotations

import io
import runpy
from pathlib import Path

import pytest

from data import db, demo, demo_accounts, opstore, prepare

REPO = Path(__file__).resolve().parents[2]
TINY = {"months": 3, "end_month": "2026-10", "_item_limit": 8}


def _refuse(*_a, **_k):
    raise AssertionError("the production start ran demo code")


@pytest.fixture
def no_demo_code(monkeypatch):
    for module, name in [(demo, "build_demo"), (demo, "ensure_database"), (demo, "ensure_demo"),
                         (demo_accounts, "ensure_demo_accounts")]:
        monkeypatch.setattr(module, name, _refuse)
    monkeypatch.setattr("web.hardening.check_startup", lambda: None)
    monkeypatch.delenv("COCKPIT_DB_PREPARED", raising=False)


@pytest.fixture
def on_starting():
    return runpy.run_path(str(REPO / "gunicorn.conf.py"))["on_starting"]


def test_gunicorn_settles_the_database_without_demo_code(no_demo_code, on_starting, monkeypatch):
    calls = []
    monkeypatch.setattr(prepare, "prepare_database", lambda path=None: calls.append(path) or True)
    on_starting(None)
    assert calls == [None]


def test_gunicorn_refuses_to_start_without_a_database_rather_than_build_a_demo(no_demo_code, on_starting,
                                                                             tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_DB", str(tmp_path / "cockpit.duckdb"))
    with pytest.raises(SystemExit, match="没有数据库"):
        on_starting(None)
    assert not (tmp_path / "cockpit.duckdb").exists()


def test_a_prepared_node_touches_nothing(no_demo_code, on_starting, monkeypatch):
    monkeypatch.setattr(prepare, "prepare_database", _refuse)
    monkeypatch.setenv("COCKPIT_DB_PREPARED", "1")
    on_starting(None)


def test_serve_sh_makes_no_demo_accounts_and_builds_a_demo_only_when_asked():
    text = (REPO / "scripts" / "serve.sh").read_text(encoding="utf-8")
    assert "demo_accounts" not in text and "ensure_database" not in text and "data.demo ensure" not in text
    assert "python3 -m data.prepare" in text
    builds = [line for line in text.splitlines() if "python3 -m data.demo" in line]
    assert builds == ['    env "${vars[@]}" python3 -m data.demo $DEMO_ARGS >> "$LOG_DIR/prepare.log" 2>&1 \\']
    assert '[ -n "$DEMO_ARGS" ]' in text  # the demo build is guarded by the trial setting


def test_the_embedded_start_prepares_the_demo_and_prints_its_accounts_once(tmp_path, monkeypatch):
    real = demo.build_demo
    monkeypatch.setattr(demo, "build_demo", lambda path: real(path, **TINY))
    monkeypatch.delenv("COCKPIT_OPSTORE_URL", raising=False)
    monkeypatch.setenv("COCKPIT_DB", str(tmp_path / "elsewhere.duckdb"))
    path = tmp_path / "cockpit.duckdb"
    first, again = io.StringIO(), io.StringIO()
    try:
        assert demo.ensure_demo(path, out=first) is True
        assert demo.ensure_demo(path, out=again) is False
    finally:
        db.reset_reader()
        opstore.dispose()
    assert "demo-leader" in first.getvalue() and again.getvalue() == ""
    assert not (tmp_path / "elsewhere.duckdb").exists()
    assert "python3 -m data.demo ensure" in (REPO / "scripts" / "start.sh").read_text(encoding="utf-8")
