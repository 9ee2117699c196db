"""The connection layer: migrations, read-only access, bound parameters."""

import duckdb
import pytest

from data import db


def test_migrations_apply_from_empty_and_record_their_versions(tmp_path):
    with db.connect_writer(tmp_path / "a.duckdb") as con:
        applied = db.migrate(con)
        versions = [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()]
    assert applied == versions == [v for v, _, _ in db.migrations()]
    assert len(versions) >= 3


def test_migrations_applied_twice_do_no_harm(tmp_path):
    with db.connect_writer(tmp_path / "a.duckdb") as con:
        db.migrate(con)
        con.execute("INSERT INTO department VALUES ('D01', '公安局', '公安')")
        assert db.migrate(con) == []
        assert con.execute("SELECT count(*) FROM department").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM project_stage").fetchone()[0] == 13


def test_a_failing_migration_leaves_the_previous_version(tmp_path, monkeypatch):
    broken = tmp_path / "migrations"
    broken.mkdir()
    for f in db.MIGRATIONS_DIR.glob("*.sql"):
        (broken / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (broken / "999_broken.sql").write_text("CREATE TABLE ok_part (x INT);\nSELECT * FROM no_such_table;",
                                           encoding="utf-8")
    monkeypatch.setattr(db, "MIGRATIONS_DIR", broken)
    with db.connect_writer(tmp_path / "a.duckdb") as con:
        with pytest.raises(duckdb.Error):
            db.migrate(con)
        assert 999 not in [r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()]
        tables = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'ok_part'")
        assert tables.fetchone() == (0,)


def test_the_reader_is_read_only(tmp_path, monkeypatch):
    path = tmp_path / "a.duckdb"
    with db.connect_writer(path) as con:
        db.migrate(con)
    monkeypatch.setenv("COCKPIT_DB", str(path))
    db.reset_reader()
    try:
        with pytest.raises(duckdb.Error, match="read-only"):
            db.cursor().execute("INSERT INTO department VALUES ('D01', 'x', 'x')")
    finally:
        db.reset_reader()


def test_a_missing_database_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_DB", str(tmp_path / "missing.duckdb"))
    db.reset_reader()
    with pytest.raises(FileNotFoundError, match="数据库文件不存在"):
        db.query("SELECT 1")


def test_only_the_parameters_a_statement_names_are_bound():
    assert db.bind("SELECT $a -- $b in a comment", {"a": 1, "b": 2, "c": 3}) == {"a": 1}
    with pytest.raises(KeyError, match="缺少绑定参数"):
        db.bind("SELECT $a, $z", {"a": 1})
