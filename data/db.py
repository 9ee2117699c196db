"""The one place that opens DuckDB connections.

Writers (the publisher, migrations) use :func:`connect_writer` on a staged file.
The web app and the metric engine read through :func:`query`, which runs on a
read-only connection with one cursor per thread. Parameters are always bound.

``$COCKPIT_DB`` names the *pointer* (see :mod:`data.versions`): a link to the current
version file. Readers resolve it on every call (a ``readlink``, microseconds) and open
the new version when a publish has switched it, so no restart is needed. A request can
pin the version it started on (:func:`pin`), so it finishes on that version.
"""

from __future__ import annotations

import contextvars
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_DB_PATH = REPO_ROOT / "data" / "cockpit.duckdb"

# a government intranet has no internet: a missing extension must fail fast
_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False, "autoload_known_extensions": False}

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


_pinned: contextvars.ContextVar[Path | None] = contextvars.ContextVar("cockpit_db_pinned", default=None)


def pointer_path() -> Path:
    """The database pointer: ``$COCKPIT_DB`` or ``data/cockpit.duckdb``."""
    return Path(os.environ.get("COCKPIT_DB", DEFAULT_DB_PATH))


def db_path() -> Path:
    """The file read now: the pinned version, else the one the pointer names."""
    pinned = _pinned.get()
    return pinned if pinned is not None else _pointed_at()


def _pointed_at() -> Path:
    p = pointer_path()
    return Path(os.path.realpath(p)) if p.is_symlink() else p


def pin(path: Path | str | None = None) -> contextvars.Token:
    """Read ``path`` (default: the current version) in this context until :func:`unpin`."""
    return _pinned.set(Path(path) if path is not None else _pointed_at())


def unpin(token: contextvars.Token) -> None:
    _pinned.reset(token)


@contextmanager
def reading(path: Path | str) -> Iterator[None]:
    """Read another database file (a staged version) inside the block."""
    token = _pinned.set(Path(path))
    try:
        yield
    finally:
        _pinned.reset(token)
        _close_reader(str(path))


@contextmanager
def connect_writer(path: Path | str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection, closed on exit. Only the publisher writes, to staged files."""
    target = str(path or db_path())
    with _reader_lock:  # one process may not hold a read-only and a writer handle on one file
        stale = _reader.pop(target, None)
        if target in _versions_seen:
            _versions_seen.remove(target)
    if stale is not None:
        stale.close()
        _local.__dict__.pop("cursor", None)
    con = duckdb.connect(target, config=_CONFIG)
    try:
        yield con
    finally:
        con.close()


def migrations() -> list[tuple[int, str, str]]:
    """The numbered migration files as (version, name, sql), in order."""
    found = []
    for f in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = _MIGRATION_NAME.match(f.name)
        if not m:
            raise ValueError(f"迁移文件名不合规范：{f.name}（应为 NNN_name.sql）")
        found.append((int(m.group(1)), f.stem, f.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"迁移版本号重复：{versions}")
    return found


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations not yet recorded in ``schema_version``; return those applied.

    Each migration runs in its own transaction together with its version row, so a
    failing file leaves the schema at the previous version.
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_version").fetchall()}
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


# ---------------------------------------------------------------- reading

_reader_lock = threading.Lock()
_reader: dict[str, duckdb.DuckDBPyConnection] = {}
_versions_seen: list[str] = []  # version files opened as current, newest last (at most 2 kept open)
_local = threading.local()
_version_hooks: list[Callable[[], None]] = []


def on_version_change(hook: Callable[[], None]) -> None:
    """Call ``hook`` (in the reading thread) whenever readers move to a new version."""
    _version_hooks.append(hook)


def _reader_connection() -> duckdb.DuckDBPyConnection:
    path = str(db_path())
    changed = False
    retired: list[duckdb.DuckDBPyConnection] = []
    with _reader_lock:
        con = _reader.get(path)
        if con is None:
            if not Path(path).exists():
                raise FileNotFoundError(f"数据库文件不存在：{path}（请先运行 python -m data.demo 生成演示数据）")
            con = duckdb.connect(path, read_only=True, config=_CONFIG)
            _reader[path] = con
            if path == str(_pointed_at()):
                changed = bool(_versions_seen)
                _versions_seen.append(path)
                # the previous version stays open for requests still pinned to it; older ones close
                while len(_versions_seen) > 2:
                    retired.append(_reader.pop(_versions_seen.pop(0)))
    for old in retired:
        old.close()
    if changed:
        for hook in _version_hooks:
            hook()
    return con


def _close_reader(path: str) -> None:
    with _reader_lock:
        con = None if path in _versions_seen else _reader.pop(path, None)
    if con is not None:
        con.close()
    cached = getattr(_local, "cursor", None)
    if cached is not None and cached[0] is con:
        _local.__dict__.pop("cursor", None)


def cursor() -> duckdb.DuckDBPyConnection:
    """This thread's read-only cursor on the database file."""
    con = _reader_connection()
    cached = getattr(_local, "cursor", None)
    if cached is None or cached[0] is not con:
        _local.cursor = (con, con.cursor())
    return _local.cursor[1]


def reset_reader() -> None:
    """Close the shared read-only connections (after a rebuild, or in tests)."""
    with _reader_lock:
        for con in _reader.values():
            con.close()
        _reader.clear()
        _versions_seen.clear()
    _local.__dict__.pop("cursor", None)


_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


def bind(sql: str, params: Mapping[str, object] | None) -> dict[str, object]:
    """The subset of ``params`` that ``sql`` names (DuckDB rejects unused ones)."""
    names = set(_PARAM.findall(_COMMENT.sub("", sql)))
    missing = names - set(params or {})
    if missing:
        raise KeyError(f"SQL 缺少绑定参数：{sorted(missing)}")
    return {k: v for k, v in (params or {}).items() if k in names}


def query(sql: str, params: Mapping[str, object] | None = None) -> pd.DataFrame:
    """Run one read-only statement with bound named parameters; return a DataFrame."""
    return cursor().execute(sql, bind(sql, params)).df()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> Any:
    """The first column of the one row a statement returns (aggregates always return a row)."""
    row = con.execute(sql, params).fetchone()
    if row is None:
        raise LookupError(f"查询未返回行：{sql[:60]}")
    return row[0]


def data_version() -> str:
    """An id of the data currently in the file; caches key on it."""
    row = cursor().execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
    return row[0] if row else "unversioned"


SCOPE_SQL = Path(__file__).resolve().parent / "scope.sql"
# {{scope(region_column[, dept_column])}}: column references only, so nothing but a name is spliced in
_SCOPE_CALL = re.compile(r"\{\{\s*scope\s*\((?P<args>[^{}]*)\)\s*\}\}")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def _scope_predicate(args: str, where: str) -> str:
    cols = [a.strip() for a in args.split(",")]
    if not 1 <= len(cols) <= 2 or not all(_COLUMN.match(c) for c in cols):
        raise ValueError(f"SQL 文件 {where} 的 scope 占位符无效：{{{{scope({args})}}}}（应为 scope(地区列[, 部门列])）")
    lines = [ln for ln in SCOPE_SQL.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("--")]
    if len(cols) == 1:
        lines = [ln for ln in lines if "{{dept}}" not in ln]
    text = "\n".join(lines).replace("{{region}}", cols[0])
    return text.replace("{{dept}}", cols[1]) if len(cols) == 2 else text


def expand_includes(sql: str, where: str = "SQL") -> str:
    """Expand each ``{{scope(...)}}`` into the one scope predicate (``data/scope.sql``)."""
    sql = _SCOPE_CALL.sub(lambda m: _scope_predicate(m.group("args"), where), sql)
    if re.search(r"\{\{\s*scope\b", sql):
        raise ValueError(f"SQL 文件 {where} 的 scope 占位符无效（应为 {{{{scope(地区列[, 部门列])}}}}）")
    return sql


@cache
def read_sql(path: Path) -> str:
    """The text of a ``.sql`` file, read once, with its ``{{scope(...)}}`` includes expanded."""
    return expand_includes(Path(path).read_text(encoding="utf-8"), Path(path).name)


def render_sql(path: Path, **slots: str) -> str:
    """A ``.sql`` template with its ``{{slot}}`` identifiers filled (never values: those are bound)."""
    sql = read_sql(path)
    for name, text in slots.items():
        sql = sql.replace("{{" + name + "}}", text)
    if "{{" in sql:
        raise ValueError(f"SQL 模板 {Path(path).name} 有未填充的占位符")
    return sql
