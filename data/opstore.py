"""The operational store: what happened, kept apart from the analytical DuckDB file.

The analytical file is read-only and replaced by every publish, so the history of imports
(failed attempts included) and the registry of published versions live here. SQLAlchemy
Core, so the same code runs on the embedded SQLite (WAL) and on PostgreSQL in production
(``COCKPIT_OPSTORE_URL``): the import history, the version registry, users, sessions, device
tokens and the audit log. Later: 批示, subscriptions.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    CursorResult,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)

metadata = MetaData()

import_log = Table(
    "import_log",
    metadata,
    Column("import_id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("kind", String(16), nullable=False),      # 导入 / 填报 / 演示 / 回滚 / 升级
    Column("source_name", String(255), nullable=False),
    Column("sha256", String(64)),
    Column("family", String(255)),                  # comma-separated: the demo publishes six
    Column("months", Text),                          # comma-separated YYYY-MM
    Column("regions", Text),                         # comma-separated county codes
    Column("rows", Integer, nullable=False, default=0),
    Column("actor", String(128), nullable=False),
    Column("outcome", String(16), nullable=False),   # see OUTCOMES
    Column("base_version", Integer),
    Column("version", Integer),                      # the version it published
    Column("summary", Text),                         # JSON: counts and the first messages
)

data_version = Table(
    "data_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("store", String(128), primary_key=True),  # the pointer's name: one opstore may serve several
    Column("status", String(16), nullable=False),    # 发布中 / 已发布 / 已放弃
    Column("created_at", DateTime, nullable=False),
    Column("import_id", Integer),
    Column("data_version", String(64)),
)

# ---------------------------------------------------------------- identity (web/auth.py, data/identity.py)

users = Table(
    "users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("password_hash", String(255)),            # argon2; NULL for accounts that only sign in by SSO
    Column("role", String(16), nullable=False),      # see data.identity.ROLES
    Column("region_code", String(6), nullable=False),
    Column("dept_code", String(32)),                 # department users only
    Column("totp_secret", String(64)),               # the optional second factor
    Column("totp_last_step", Integer),               # the 30-second step last accepted: a code works once
    Column("oidc_subject", String(255), unique=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),  # sha256 of the cookie's random token
    Column("user_id", Integer),                             # a person's session …
    Column("device_id", Integer),                           # … or a wall display's (device_tokens)
    Column("created_at", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Column("ip", String(64)),
    Column("user_agent", String(255)),
)

device_tokens = Table(
    "device_tokens",
    metadata,
    Column("token_id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256; the token is shown once
    Column("name", String(128), nullable=False),
    Column("region_code", String(6), nullable=False),
    Column("playlist", Text, nullable=False, default=""),          # the /screen query string
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_used", DateTime),
    Column("revoked_at", DateTime),
)

# append-only and hash-chained (data/audit.py): each row's hash covers its content and the
# previous row's hash, so a changed or deleted row breaks the chain from there on
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(16)),
    Column("action", String(32), nullable=False),
    Column("target", String(255)),
    Column("region", String(6)),
    Column("month", String(7)),
    Column("outcome", String(8), nullable=False),
    Column("ip", String(64)),
    Column("detail", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

OUTCOMES = ("校验中", "待发布", "已发布", "内容未变化", "已拒绝", "已放弃", "失败")

_SCHEMA_LOCK_KEY = 20231206  # PostgreSQL advisory lock held while creating the tables
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def default_url() -> str:
    """``$COCKPIT_OPSTORE_URL``, else a SQLite file beside the database pointer."""
    url = os.environ.get("COCKPIT_OPSTORE_URL")
    if url:
        return url
    from data.db import pointer_path

    p = pointer_path()
    return f"sqlite:///{p.with_name(p.stem + '.ops.sqlite')}"


def engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (created once per process, tables created if missing)."""
    url = url or default_url()
    with _lock:
        eng = _engines.get(url)
        if eng is None:
            eng = _create(url)
            _engines[url] = eng
        return eng


def _create(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # operational state is private to the install
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        eng = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_con, _record):  # WAL: readers never wait for the writer
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    else:
        if url.startswith(("postgresql://", "postgres://")):  # the driver in requirements.txt: psycopg 3
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        eng = create_engine(url, pool_pre_ping=True)
        if eng.dialect.name == "postgresql":
            with eng.begin() as con:  # workers starting together on an empty database: one creates the tables
                con.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_KEY})
                metadata.create_all(con)
                _add_new_columns(con)
            return eng
    with eng.begin() as con:
        metadata.create_all(con)
        _add_new_columns(con)
    return eng


def _add_new_columns(con) -> None:
    """Columns added to a table after an install created it (nullable, so adding is all it takes).
    Only additive changes happen here; a change that rewrites data would need a migration tool."""
    have = inspect(con)
    for table in metadata.sorted_tables:
        present = {c["name"] for c in have.get_columns(table.name)}
        for col in table.columns:
            if col.name not in present and col.nullable:
                kind = col.type.compile(dialect=con.dialect)
                con.execute(text(f'ALTER TABLE {table.name} ADD COLUMN {col.name} {kind}'))


def dispose() -> None:
    """Close every engine (tests; after a fork)."""
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()


# ---------------------------------------------------------------- import history


def log_start(*, kind: str, source_name: str, actor: str, sha256: str | None = None, family: str | None = None,
              base_version: int | None = None, url: str | None = None) -> int:
    """Record an attempt as it starts; return its id."""
    with engine(url).begin() as con:
        res = con.execute(insert(import_log).values(
            started_at=datetime.now(), kind=kind, source_name=source_name[:255], sha256=sha256, family=family,
            actor=actor, outcome="校验中", base_version=base_version, rows=0))
        return inserted_id(res)


def log_update(import_id: int, *, outcome: str, summary: dict | None = None, url: str | None = None,
               **fields) -> None:
    """Record how an attempt went on (validation result, preview, publish)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"未知的导入结果：{outcome}")
    values = {"outcome": outcome, **fields}
    if outcome not in ("校验中", "待发布"):
        values["finished_at"] = datetime.now()
    if summary is not None:
        values["summary"] = json.dumps(summary, ensure_ascii=False, default=str)
    with engine(url).begin() as con:
        con.execute(update(import_log).where(import_log.c.import_id == import_id).values(**values))


def history(limit: int = 50, url: str | None = None) -> list[dict]:
    """The newest attempts first."""
    q = select(import_log).order_by(import_log.c.import_id.desc()).limit(limit)
    with engine(url).connect() as con:
        rows = [dict(r._mapping) for r in con.execute(q)]
    for r in rows:
        r["summary"] = json.loads(r["summary"]) if r["summary"] else {}
    return rows


def get_import(import_id: int, url: str | None = None) -> dict[str, Any] | None:
    with engine(url).connect() as con:
        row = con.execute(select(import_log).where(import_log.c.import_id == import_id)).first()
    return dict(row._mapping) if row else None


# ---------------------------------------------------------------- version registry


def register_version(store: str, version: int, *, status: str, import_id: int | None, data_version_id: str,
                     url: str | None = None) -> None:
    with engine(url).begin() as con:
        con.execute(data_version.delete().where(data_version.c.store == store, data_version.c.version == version))
        con.execute(insert(data_version).values(store=store, version=version, status=status,
                                                created_at=datetime.now(), import_id=import_id,
                                                data_version=data_version_id))


def set_version_status(store: str, version: int, status: str, url: str | None = None) -> None:
    with engine(url).begin() as con:
        con.execute(update(data_version).where(data_version.c.store == store, data_version.c.version == version)
                    .values(status=status))


def versions(store: str, url: str | None = None) -> list[dict]:
    """Every registered version of ``store``, newest first."""
    q = (select(data_version).where(data_version.c.store == store).order_by(data_version.c.version.desc()))
    with engine(url).connect() as con:
        return [dict(r._mapping) for r in con.execute(q)]


def inserted_id(result: CursorResult) -> int:
    """The integer key an INSERT of one row was given."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("插入未返回主键")
    return int(key[0])
