"""The audit log: append-only and hash-chained, in the operational store.

Each row's hash is sha256 over the previous row's hash and the row's own content, in a
canonical form; :func:`verify` walks the chain and names the first row that was changed,
inserted or deleted. Appends are serialised (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a
transaction-scoped advisory lock), so concurrent workers cannot fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text

from data import opstore
from data.opstore import audit_log

GENESIS = "0" * 64
_FIELDS = ("seq", "at", "actor", "role", "action", "target", "region", "month", "outcome", "ip", "detail")
_ADVISORY_KEY = 20231205  # any constant shared by every writer of this log


def _digest(prev_hash: str, row: dict) -> str:
    body = {k: row.get(k) for k in _FIELDS}
    if isinstance(body["at"], datetime):
        body["at"] = body["at"].isoformat(timespec="microseconds")
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def record(action: str, *, actor: str, outcome: str, role: str | None = None, target: str | None = None,
           region: str | None = None, month: str | None = None, ip: str | None = None,
           detail: dict | None = None, url: str | None = None) -> int:
    """Append one event; return its sequence number."""
    eng = opstore.engine(url)
    row = {"at": datetime.now(), "actor": actor[:64], "role": role, "action": action[:32],
           "target": None if target is None else str(target)[:255], "region": region,
           "month": None if month is None else str(month)[:7], "outcome": outcome[:8], "ip": ip,
           "detail": None if detail is None else json.dumps(detail, ensure_ascii=False, sort_keys=True,
                                                           default=str)}
    with eng.connect() as con:
        if eng.dialect.name == "sqlite":
            con.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            con.begin()
            con.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
        try:
            last = con.execute(select(audit_log.c.seq, audit_log.c.hash)
                               .order_by(audit_log.c.seq.desc()).limit(1)).first()
            seq = (last.seq + 1) if last else 1
            prev = last.hash if last else GENESIS
            row["seq"] = seq
            con.execute(audit_log.insert().values(**row, prev_hash=prev, hash=_digest(prev, row)))
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return seq


@dataclass(frozen=True)
class Broken:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"第 {self.seq} 条审计记录{self.reason}"


def verify(url: str | None = None) -> list[Broken]:
    """Every place where the chain does not hold (empty: intact)."""
    problems: list[Broken] = []
    prev, expected = GENESIS, 1
    with opstore.engine(url).connect() as con:
        for r in con.execute(select(audit_log).order_by(audit_log.c.seq)):
            row = dict(r._mapping)
            if row["seq"] != expected:
                problems.append(Broken(expected, f"缺失（下一条为第 {row['seq']} 条），疑似被删除"))
            if row["prev_hash"] != prev:
                problems.append(Broken(row["seq"], "的前序哈希不符，前一条记录被改动或删除"))
            if _digest(row["prev_hash"], row) != row["hash"]:
                problems.append(Broken(row["seq"], "的内容与哈希不符，已被改动"))
            prev, expected = row["hash"], row["seq"] + 1
    return problems


def search(*, actor: str | None = None, action: str | None = None, since: datetime | None = None,
           until: datetime | None = None, limit: int = 500, url: str | None = None) -> list[dict]:
    """Rows matching the filters, newest first."""
    q = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    if actor:
        q = q.where(audit_log.c.actor == actor)
    if action:
        q = q.where(audit_log.c.action == action)
    if since:
        q = q.where(audit_log.c.at >= since)
    if until:
        q = q.where(audit_log.c.at < until)
    with opstore.engine(url).connect() as con:
        return [dict(r._mapping) for r in con.execute(q)]
