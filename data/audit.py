"""The audit log: append-only and hash-chained, in the operational store.

Each row's hash is sha256 over the previous row's hash and the row's own content, in a
canonical form; :func:`verify` walks the chain and names every row that was changed,
inserted or deleted. Appends are serialised (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a
transaction-scoped advisory lock), so concurrent workers cannot fork the chain.

Retention (等保三级: at least six months): :func:`prune` deletes the oldest rows, never any
younger than :func:`retention_days` (``$COCKPIT_AUDIT_RETENTION_DAYS``, at least 180), and in
the same transaction records an anchor in ``audit_anchor``: the sequence number and hash of the
last row it deleted. :func:`verify` then starts from the newest anchor instead of the genesis
hash, so the rows kept still form one verifiable chain.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TextIO, TypedDict

from sqlalchemy import Column, DateTime, Engine, Integer, String, Table, func, select, text

from data import opstore
from data.opstore import audit_log

GENESIS = "0" * 64
_FIELDS = ("seq", "at", "actor", "role", "action", "target", "region", "month", "outcome", "ip", "detail")
_ADVISORY_KEY = 20231205  # any constant shared by every writer of this log

MIN_RETENTION_DAYS = 180  # 等保三级: audit records are kept for at least six months
PRUNE_ACTION = "审计清理"

# one row per prune: the last row it deleted, from which verify() continues the chain
audit_anchor = Table(
    "audit_anchor",
    opstore.metadata,
    Column("anchor_id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("before", DateTime, nullable=False),       # rows older than this were deleted
    Column("rows", Integer, nullable=False),          # how many
    Column("last_seq", Integer, nullable=False),      # the last deleted row …
    Column("last_hash", String(64), nullable=False),  # … and its hash: the kept chain's start
)


class AuditError(Exception):
    """A request the audit log refuses (a prune inside the retention period, a broken chain)."""


def _now() -> datetime:
    return datetime.now()


# ---------------------------------------------------------------- the anchor table exists on every engine

_ready: dict[int, Engine] = {}  # the engines are kept, so an id is never reused for another
_ready_lock = threading.Lock()


def _engine(url: str | None) -> Engine:
    """The store's engine, with ``audit_anchor`` created (the engine may predate this module's import)."""
    eng = opstore.engine(url)
    if _ready.get(id(eng)) is not eng:
        with _ready_lock:
            if _ready.get(id(eng)) is not eng:
                with _locked(eng) as con:
                    audit_anchor.create(con, checkfirst=True)
                _ready[id(eng)] = eng
    return eng


@contextmanager
def _locked(eng: Engine):
    """A transaction holding the log's write lock (every append, prune and schema change takes it)."""
    with eng.connect() as con:
        if eng.dialect.name == "sqlite":
            con.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            con.begin()
            con.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
        try:
            yield con
            con.commit()
        except BaseException:
            con.rollback()
            raise


# ---------------------------------------------------------------- appending


def _digest(prev_hash: str, row: dict) -> str:
    body = {k: row.get(k) for k in _FIELDS}
    if isinstance(body["at"], datetime):
        body["at"] = body["at"].isoformat(timespec="microseconds")
    return hashlib.sha256((prev_hash + _canonical(body)).encode("utf-8")).hexdigest()


_SORTED = tuple(sorted(_FIELDS))
_KEYS = tuple(json.dumps(k) + ":" for k in _SORTED)
_encode = json.encoder.encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses


def _canonical(body: dict) -> str:
    """``json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))``, built by
    hand for the str/int/None values a row holds (verify walks every row: this is its hot path)."""
    values = [body[k] for k in _SORTED]
    out = []
    for v in values:
        if v is None:
            out.append("null")
        elif type(v) is str:
            out.append(_encode(v))
        elif type(v) is int:
            out.append(str(v))
        else:  # anything else (never written by record()): the library's own rendering
            return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return _TEMPLATE % tuple(out)


_TEMPLATE = "{" + ",".join(k.replace("%", "%%") + "%s" for k in _KEYS) + "}"


def _clip(value, n: int) -> str | None:
    return None if value is None else str(value)[:n]


def record(action: str, *, actor: str, outcome: str, role: str | None = None, target: str | None = None,
           region: str | None = None, month: str | None = None, ip: str | None = None,
           detail: dict | None = None, url: str | None = None) -> int:
    """Append one event; return its sequence number."""
    eng = _engine(url)
    # every value is clipped to its column, so PostgreSQL (which enforces lengths) stores what was hashed
    row: dict[str, object] = {"actor": str(actor)[:64], "role": _clip(role, 16), "action": str(action)[:32],
           "target": _clip(target, 255), "region": _clip(region, 6), "month": _clip(month, 7),
           "outcome": str(outcome)[:8], "ip": _clip(ip, 64),
           "detail": None if detail is None else json.dumps(detail, ensure_ascii=False, sort_keys=True,
                                                           default=str)}
    with _locked(eng) as con:
        last = con.execute(select(audit_log.c.seq, audit_log.c.hash)
                           .order_by(audit_log.c.seq.desc()).limit(1)).first()
        if last is None:  # everything pruned: continue after the newest anchor
            last = con.execute(select(audit_anchor.c.last_seq.label("seq"), audit_anchor.c.last_hash.label("hash"))
                               .order_by(audit_anchor.c.last_seq.desc()).limit(1)).first()
        seq = (last.seq + 1) if last else 1
        prev = last.hash if last else GENESIS
        # the time is taken under the lock: sequence and time order agree, so a prune by time is a prefix
        row["seq"], row["at"] = seq, _now()
        con.execute(audit_log.insert().values(**row, prev_hash=prev, hash=_digest(prev, row)))
    return seq


# ---------------------------------------------------------------- verifying


@dataclass(frozen=True)
class Broken:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"第 {self.seq} 条审计记录{self.reason}"


@dataclass(frozen=True)
class Anchor:
    """Where the kept chain starts after a prune."""

    last_seq: int
    last_hash: str
    before: datetime
    rows: int
    created_at: datetime
    actor: str


@dataclass(frozen=True)
class Report:
    """A walk of the chain: how many rows, from which anchor, and every problem. A partial walk
    (``check(last=N)``) covers the newest rows only, from ``from_seq`` on."""

    rows: int
    problems: tuple[Broken, ...]
    anchor: Anchor | None
    from_seq: int | None = None  # a partial walk: the first row checked
    total: int | None = None     # a partial walk: every row in the log

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def partial(self) -> bool:
        return self.from_seq is not None

    def summary(self) -> str:
        """「审计日志完整（N 条）」, or how many problems were found."""
        if self.partial:
            if self.intact:
                return f"最近 {self.rows} 条审计日志完整（共 {self.total} 条，更早的记录请全量校验）"
            return (f"审计日志校验未通过：发现 {len(self.problems)} 处问题"
                    f"（校验了最近 {self.rows} 条，共 {self.total} 条）")
        if self.intact:
            return f"审计日志完整（{self.rows} 条）"
        return f"审计日志校验未通过：发现 {len(self.problems)} 处问题（共 {self.rows} 条）"

    def anchor_note(self) -> str | None:
        """Where the chain starts when older rows were pruned under the retention policy."""
        if self.anchor is None:
            return None
        a = self.anchor
        return (f"第 {a.last_seq} 条及以前的记录已按保留期清理（清理早于 {a.before:%Y-%m-%d} 的记录，"
                f"{a.created_at:%Y-%m-%d %H:%M} 由 {a.actor} 执行），校验自第 {a.last_seq + 1} 条起")


def latest_anchor(url: str | None = None) -> Anchor | None:
    """The newest prune's anchor (None: nothing was ever pruned)."""
    with _engine(url).connect() as con:
        r = con.execute(select(audit_anchor).order_by(audit_anchor.c.last_seq.desc()).limit(1)).first()
    if r is None:
        return None
    return Anchor(last_seq=r.last_seq, last_hash=r.last_hash, before=r.before, rows=r.rows,
                  created_at=r.created_at, actor=r.actor)


def check(url: str | None = None, *, last: int | None = None) -> Report:
    """Walk the chain from the genesis hash, or from the newest prune's anchor; ``last=N``: only
    the newest N rows (their links to each other; the first one's link backwards is trusted)."""
    anchor = latest_anchor(url)
    prev: str | None
    prev, expected = (anchor.last_hash, anchor.last_seq + 1) if anchor else (GENESIS, 1)
    problems: list[Broken] = []
    rows = 0
    columns = [audit_log.c[k] for k in (*_FIELDS, "prev_hash", "hash")]
    q = select(*columns).order_by(audit_log.c.seq)
    from_seq = total = None
    if last is not None:
        newest = last_seq(url)
        if newest - last + 1 > expected:
            from_seq = expected = newest - last + 1
            prev = None  # taken from the first row walked
            q = q.where(audit_log.c.seq >= from_seq)
            total = count(url=url)
    with _engine(url).connect() as con:
        result = con.execution_options(stream_results=True, yield_per=5000).execute(q)
        for r in result:
            row = dict(zip(_FIELDS, r[:-2], strict=True))
            seq, prev_hash, stored = row["seq"], r[-2], r[-1]
            if prev is None:
                prev = prev_hash
            rows += 1
            if anchor and seq <= anchor.last_seq:
                problems.append(Broken(seq, f"早于清理锚点（第 {anchor.last_seq} 条），本应已清理，疑似被插入"))
                continue
            if seq != expected:
                missing = f"第 {expected} 条" if seq == expected + 1 else f"第 {expected}–{seq - 1} 条"
                problems.append(Broken(expected, f"缺失：{missing}不见了（下一条为第 {seq} 条），疑似被删除"))
            if prev_hash != prev:
                problems.append(Broken(seq, "的前序哈希不符，前一条记录被改动或删除"))
            if _digest(prev_hash, row) != stored:
                problems.append(Broken(seq, "的内容与哈希不符，已被改动"))
            prev, expected = stored, seq + 1
    return Report(rows=rows, problems=tuple(problems), anchor=anchor, from_seq=from_seq, total=total)


def verify(url: str | None = None) -> list[Broken]:
    """Every place where the chain does not hold (empty: intact)."""
    return list(check(url).problems)


# ---------------------------------------------------------------- reading


def _filtered(q, actor: str | None, action: str | None, since: datetime | None, until: datetime | None):
    if actor:
        q = q.where(audit_log.c.actor == actor)
    if action:
        q = q.where(audit_log.c.action == action)
    if since:
        q = q.where(audit_log.c.at >= since)
    if until:
        q = q.where(audit_log.c.at < until)
    return q


def search(*, actor: str | None = None, action: str | None = None, since: datetime | None = None,
           until: datetime | None = None, limit: int | None = 500, url: str | None = None) -> list[dict]:
    """Rows matching the filters, newest first (``limit=None``: all of them)."""
    q = _filtered(select(audit_log).order_by(audit_log.c.seq.desc()), actor, action, since, until)
    if limit is not None:
        q = q.limit(limit)
    with _engine(url).connect() as con:
        return [dict(r._mapping) for r in con.execute(q)]


def count(*, actor: str | None = None, action: str | None = None, since: datetime | None = None,
          until: datetime | None = None, through: int | None = None, url: str | None = None) -> int:
    """How many rows match the filters (``through``: up to that sequence number)."""
    q = _filtered(select(func.count()).select_from(audit_log), actor, action, since, until)
    if through is not None:
        q = q.where(audit_log.c.seq <= through)
    with _engine(url).connect() as con:
        return int(con.execute(q).scalar_one())


def last_seq(url: str | None = None) -> int:
    """The newest row's sequence number (0: none)."""
    with _engine(url).connect() as con:
        return int(con.execute(select(func.max(audit_log.c.seq))).scalar() or 0)


def rows(*, actor: str | None = None, action: str | None = None, since: datetime | None = None,
         until: datetime | None = None, through: int | None = None, url: str | None = None) -> Iterator[dict]:
    """Rows matching the filters, oldest first, streamed (exports); ``through``: up to that
    sequence number (an export leaves out the rows written after it started, its own record too)."""
    q = _filtered(select(audit_log).order_by(audit_log.c.seq), actor, action, since, until)
    if through is not None:
        q = q.where(audit_log.c.seq <= through)
    with _engine(url).connect() as con:
        for r in con.execution_options(stream_results=True, yield_per=2000).execute(q):
            yield dict(r._mapping)


def distinct(column: str, url: str | None = None) -> list[str]:
    """The distinct values of ``actor`` or ``action`` (the admin page's filter choices)."""
    if column not in ("actor", "action"):
        raise ValueError(column)
    col = audit_log.c[column]
    with _engine(url).connect() as con:
        return [v for (v,) in con.execute(select(col).distinct().order_by(col)) if v]


def parse_time(value, *, end: bool = False) -> datetime:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM[:SS]`` (a filter's bound); a bare date as ``end``
    means the end of that day (the next midnight), so a range of dates includes its last day."""
    text_value = value.strip().replace("T", " ") if isinstance(value, str) else ""
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text_value, fmt)
        except ValueError:
            pass
    try:
        day = datetime.strptime(text_value, "%Y-%m-%d")
    except ValueError:
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        raise AuditError(f"日期格式应为 YYYY-MM-DD 或 YYYY-MM-DD HH:MM：{shown!r}") from None
    return day + timedelta(days=1) if end else day


class AuditFilters(TypedDict, total=False):
    """The keyword filters of :func:`search`, :func:`rows` and :func:`count` (:func:`filter_args`)."""

    actor: str
    action: str
    since: datetime
    until: datetime


def _text_filter(value) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 255:
        raise AuditError("用户和操作的筛选条件应为文字")
    return value


def filter_args(*, user=None, action=None, start=None, end=None) -> AuditFilters:
    """The keyword filters of :func:`search`, :func:`rows` and :func:`count` from a form or a URL:
    a user, an action, and a range of dates (both days included). :class:`AuditError` in Chinese
    for anything malformed."""
    out: AuditFilters = {}
    actor, act = _text_filter(user), _text_filter(action)
    if actor is not None:
        out["actor"] = actor
    if act is not None:
        out["action"] = act
    if start not in (None, ""):
        out["since"] = parse_time(start)
    if end not in (None, ""):
        out["until"] = parse_time(end, end=True)
    if out.get("since") and out.get("until") and out["since"] >= out["until"]:
        raise AuditError("开始日期应不晚于结束日期")
    return out


# ---------------------------------------------------------------- CSV export

CSV_COLUMNS = (("seq", "序号"), ("at", "时间"), ("actor", "用户"), ("role", "角色"), ("action", "操作"),
               ("target", "对象"), ("region", "地区代码"), ("region_name", "地区"), ("month", "月份"),
               ("outcome", "结果"), ("ip", "IP 地址"), ("detail", "详情"), ("prev_hash", "前序哈希"),
               ("hash", "哈希"))
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A value as a CSV cell that a spreadsheet will not run (``=…`` formulas get a leading ')."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    text_value = str(value)
    return "'" + text_value if text_value.startswith(_FORMULA) else text_value


def write_csv(records, out: TextIO, *, region_names: dict[str, str] | None = None, header: bool = True) -> int:
    """Write ``records`` (audit rows) as CSV with Chinese headers; return how many rows.

    ``out`` should be opened with ``encoding="utf-8-sig"`` (or start with a BOM) so that
    Excel reads the Chinese. ``header=False`` continues an export written in chunks."""
    names = region_names or {}
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow([title for _, title in CSV_COLUMNS])
    n = 0
    for r in records:
        r = {**r, "region_name": names.get(r.get("region") or "", "")}
        writer.writerow([csv_cell(r.get(key)) for key, _ in CSV_COLUMNS])
        n += 1
    return n


# ---------------------------------------------------------------- retention


def retention_days() -> int:
    """``$COCKPIT_AUDIT_RETENTION_DAYS`` (default 180); never less than 180."""
    raw = os.environ.get("COCKPIT_AUDIT_RETENTION_DAYS", "").strip()
    if not raw:
        return MIN_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError as exc:
        raise AuditError(f"COCKPIT_AUDIT_RETENTION_DAYS 应为整数天数：{raw}") from exc
    return max(days, MIN_RETENTION_DAYS)


def earliest_prunable(today: date | None = None) -> date:
    """The latest ``before`` date a prune may use today: nothing younger than the retention period goes."""
    return (today or _now().date()) - timedelta(days=retention_days())


def check_retention(before: date) -> None:
    """Raise :class:`AuditError` if pruning before ``before`` would delete rows inside the retention period."""
    limit = earliest_prunable()
    if before > limit:
        days = retention_days()
        raise AuditError(f"审计日志至少保留 {days} 天：清理日期不能晚于 {limit:%Y-%m-%d}（{days} 天前），"
                         f"拒绝清理 {before:%Y-%m-%d} 之前的记录")


@dataclass(frozen=True)
class Pruned:
    rows: int
    anchor: Anchor | None  # None: nothing was old enough


def prune(before: date, *, actor: str, url: str | None = None) -> Pruned:
    """Delete the rows older than ``before`` (a date at least the retention period ago).

    The chain must verify first (a prune never erases the evidence of tampering). The rows go
    in one transaction with the anchor that lets :func:`verify` start after them, and the prune
    itself is recorded in the log."""
    check_retention(before)
    report = check(url)
    if not report.intact:
        raise AuditError("审计日志校验未通过，拒绝清理（先查明被改动或删除的记录）：" +
                         "；".join(str(p) for p in report.problems[:5]))
    cutoff = datetime.combine(before, time.min)
    eng = _engine(url)
    with _locked(eng) as con:
        # the kept rows are those from the first row at or after the cutoff on: the pruned rows are a prefix
        first_kept = con.execute(select(func.min(audit_log.c.seq)).where(audit_log.c.at >= cutoff)).scalar()
        doomed = select(audit_log.c.seq, audit_log.c.hash).where(audit_log.c.at < cutoff)
        if first_kept is not None:
            doomed = doomed.where(audit_log.c.seq < first_kept)
        last = con.execute(doomed.order_by(audit_log.c.seq.desc()).limit(1)).first()
        if last is None:
            return Pruned(rows=0, anchor=None)
        n = con.execute(audit_log.delete().where(audit_log.c.seq <= last.seq)).rowcount
        created = _now()
        con.execute(audit_anchor.insert().values(created_at=created, actor=str(actor)[:64], before=cutoff, rows=n,
                                                 last_seq=last.seq, last_hash=last.hash))
    anchor = Anchor(last_seq=last.seq, last_hash=last.hash, before=cutoff, rows=n, created_at=created,
                    actor=str(actor)[:64])
    record(PRUNE_ACTION, actor=actor, outcome="成功", target=f"早于 {before:%Y-%m-%d}",
           detail={"rows": n, "last_seq": last.seq, "last_hash": last.hash, "retention_days": retention_days()},
           url=url)
    return Pruned(rows=n, anchor=anchor)

