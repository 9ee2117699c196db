"""Demo accounts (data/demo_accounts.py): one per role on the first start against the demo
database, passwords shown once and kept in a file only its owner can read; never elsewhere."""

from __future__ import annotations

import io
import os
import stat

import duckdb
import pytest

from data import db, identity, opstore
from data.demo_accounts import accounts_file, ensure_demo_accounts
from tests.intake_demo import build_small_demo, copy_store


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return build_small_demo(tmp_path_factory.mktemp("demo-accounts"))


@pytest.fixture
def pointer(small, tmp_path, monkeypatch):
    """A private copy of the small demo (its operational store has no account yet)."""
    copy = copy_store(small, tmp_path / "copy")
    monkeypatch.setenv("COCKPIT_DB", str(copy))
    monkeypatch.delenv("COCKPIT_OPSTORE_URL", raising=False)
    db.reset_reader()
    yield copy
    db.reset_reader()
    opstore.dispose()


def test_the_first_start_on_the_demo_makes_one_account_per_role(pointer):
    out = io.StringIO()
    made = ensure_demo_accounts(out=out)
    assert sorted(a["role"] for a in made) == sorted(["leader", "analyst", "leader", "dept", "reporter", "admin"])
    by_name = {a["username"]: a for a in made}
    assert by_name["demo-leader"]["region"] == "360000"
    assert by_name["demo-analyst"]["region"] == "360100"
    assert by_name["demo-county"]["region"] == "360102" and by_name["demo-county"]["role"] == "leader"
    assert by_name["demo-dept"]["dept"]
    printed = out.getvalue()
    path = accounts_file()
    assert path == pointer.parent / "demo-accounts.txt"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and os.stat(path).st_uid == os.getuid()
    kept = path.read_text("utf-8")
    for a in made:
        assert a["password"] in printed and a["password"] in kept
        assert identity.authenticate(a["username"], a["password"]).role == a["role"]
        assert identity.password_problems(a["password"], a["username"]) == []
    assert str(path) in printed


def test_the_next_start_makes_nothing_and_prints_nothing(pointer):
    ensure_demo_accounts(out=io.StringIO())
    before = accounts_file().read_text("utf-8")
    out = io.StringIO()
    assert ensure_demo_accounts(out=out) is None
    assert out.getvalue() == "" and accounts_file().read_text("utf-8") == before
    assert len(identity.list_users()) == 6


def test_a_store_with_an_account_gets_no_demo_accounts(pointer):
    identity.create_user("admin", role="admin", region="360000", password="Strong-Enough-2026", actor="测试")
    assert ensure_demo_accounts(out=io.StringIO()) is None
    assert not accounts_file().exists()


def test_a_database_that_did_not_come_from_the_demo_never_gets_them(pointer):
    version = os.path.realpath(pointer)
    db.reset_reader()
    os.chmod(version, 0o600)
    with duckdb.connect(version) as con:
        con.execute("DELETE FROM meta WHERE key = 'generator_version'")
    db.reset_reader()
    out = io.StringIO()
    assert ensure_demo_accounts(out=out) is None
    assert identity.list_users() == [] and not accounts_file().exists() and out.getvalue() == ""
