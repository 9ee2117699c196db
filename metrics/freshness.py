"""How fresh each fact family's data is, and whether it is late (「数据未按期更新」).

The publisher records each family's latest month in ``fact_freshness``;
``data/intake/schedule.toml`` says when the next month is due. Every client (cards, the
wall, the briefing) renders the :class:`Freshness` built here and derives no wording.
"""

from __future__ import annotations

import calendar
import os
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from data import db
from metrics.cache import memo
from metrics.catalogue import load_catalogue
from metrics.compile import named_sql

SCHEDULE_PATH = Path(__file__).resolve().parents[1] / "data" / "intake" / "schedule.toml"
LATE_TEXT = "数据未按期更新"
TODAY_ENV = "COCKPIT_TODAY"


@dataclass(frozen=True)
class Family:
    name: str
    label: str
    due_day: int
    as_of: str  # table.column of the published file holding the family's latest month


@dataclass(frozen=True)
class Schedule:
    families: dict[str, Family]
    facts: dict[str, str]  # catalogue fact → family


@dataclass(frozen=True)
class Freshness:
    family: str
    label: str
    as_of_month: date | None
    updated_at: datetime | None
    due: date  # when the month after as_of_month was due
    late: bool
    text: str  # 数据截至 2026-10 · 更新于 11-05
    late_text: str  # 数据未按期更新, or ""

    def to_dict(self) -> dict[str, str | bool | None]:
        """JSON-able (dates as ISO strings)."""
        return {"family": self.family, "label": self.label,
                "as_of_month": self.as_of_month.strftime("%Y-%m") if self.as_of_month else None,
                "updated_at": self.updated_at.isoformat(timespec="minutes") if self.updated_at else None,
                "due": self.due.isoformat(), "late": self.late, "text": self.text, "late_text": self.late_text}


@lru_cache(maxsize=4)
def load_schedule(path: Path = SCHEDULE_PATH) -> Schedule:
    """The families and their due days, and the family of each catalogue fact."""
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    families = {name: Family(name, f["label"], int(f["due_day"]), f["as_of"]) for name, f in raw["family"].items()}
    for f in families.values():
        if not 1 <= f.due_day <= 31:
            raise ValueError(f"schedule.toml：{f.name} 的 due_day 应在 1—31 之间，而不是 {f.due_day}")
    facts = dict(raw.get("fact", {}))
    unknown = {v for v in facts.values() if v not in families}
    if unknown:
        raise ValueError(f"schedule.toml：[fact] 引用了未声明的数据类别 {sorted(unknown)}")
    return Schedule(families, facts)


def today() -> date:
    """The one clock: ``$COCKPIT_TODAY`` (YYYY-MM-DD) when set, so tests and demos are repeatable."""
    raw = os.environ.get(TODAY_ENV)
    if not raw:
        return date.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{TODAY_ENV} 应为 YYYY-MM-DD 格式的日期，收到：{raw}") from None


_clock = today  # the ``today`` parameters below shadow the function


def _month_plus(month: date, n: int) -> date:
    y, m = divmod(month.year * 12 + month.month - 1 + n, 12)
    return date(y, m + 1, 1)


def due_date(as_of_month: date, due_day: int) -> date:
    """When the month after ``as_of_month`` is due: day ``due_day`` of the month after that
    (a due day past the month's end means its last day)."""
    m = _month_plus(as_of_month.replace(day=1), 2)
    return m.replace(day=min(due_day, calendar.monthrange(m.year, m.month)[1]))


def _text(as_of_month: date | None, updated_at: datetime | None, now: date) -> str:
    parts = [f"数据截至 {as_of_month:%Y-%m}" if as_of_month else "暂无数据"]
    if updated_at is not None:  # the year only when it is not this year's
        parts.append(f"更新于 {updated_at:%m-%d}" if updated_at.year == now.year else f"更新于 {updated_at:%Y-%m-%d}")
    return " · ".join(parts)


def freshness(family: Family, as_of_month: date | None, updated_at: datetime | None, now: date) -> Freshness:
    """One family's freshness as of ``now``."""
    # published empty: the month of publication is the first one that falls due
    basis = as_of_month or _month_plus((updated_at or datetime.combine(now, datetime.min.time())).date(), -1)
    due = due_date(basis, family.due_day)
    late = now > due
    return Freshness(family.name, family.label, as_of_month, updated_at, due, late,
                     _text(as_of_month, updated_at, now), LATE_TEXT if late else "")


def _value(x):
    return None if x is None or pd.isna(x) else pd.Timestamp(x).to_pydatetime()


@memo(maxsize=8)
def _rows() -> tuple[tuple[str, date | None, datetime | None], ...]:
    try:
        df = db.query(named_sql("freshness.sql"))
    except duckdb.CatalogException:  # a version from before migration 004 records no freshness
        return ()
    out = []
    for r in df.itertuples():
        month = _value(r.as_of_month)
        out.append((r.family, month.date() if month else None, _value(r.updated_at)))
    return tuple(out)


def family_freshness(today: date | None = None) -> dict[str, Freshness]:
    """Every scheduled family that has a freshness row (others are absent: nothing is shown)."""
    now = today or _clock()
    families = load_schedule().families
    return {name: freshness(families[name], month, updated, now)
            for name, month, updated in _rows() if name in families}


def kpi_family(kpi_id: str) -> str:
    """The family that feeds a KPI (its catalogue fact, through schedule.toml's [fact])."""
    fact = load_catalogue().kpi(kpi_id).fact
    try:
        return load_schedule().facts[fact]
    except KeyError:
        raise LookupError(f"schedule.toml 未声明事实表 {fact} 属于哪个数据类别") from None


def kpi_freshness(kpi_id: str, today: date | None = None) -> Freshness | None:
    """The freshness of the family behind ``kpi_id``; None when that family has no row."""
    return family_freshness(today).get(kpi_family(kpi_id))


def kpis_freshness(kpi_ids, today: date | None = None) -> list[Freshness]:
    """The freshness of the families behind ``kpi_ids``, once each, in order of first use."""
    every = family_freshness(today)
    names = dict.fromkeys(kpi_family(k) for k in kpi_ids)
    return [every[n] for n in names if n in every]


def freshness_groups(items: list[Freshness]) -> list[tuple[str, str, str]]:
    """(labels, text, late_text): families that read alike share one entry (政务服务、12345 热线)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for f in items:
        groups.setdefault((f.text, f.late_text), []).append(f.label)
    return [("、".join(labels), text, late) for (text, late), labels in groups.items()]

