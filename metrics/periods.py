"""Period windows: 当月, 累计 (year to date), 季度 and 年度, with their 环比 and 同比 windows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from metrics.catalogue import PERIOD_LABELS, PERIODS
from metrics.errors import UserError

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
MIN_YEAR, MAX_YEAR = 1900, 2999  # year 0 is no date; a month near 9999 overflows add_months
_QUARTERS = ["一", "二", "三", "四"]


class PeriodError(UserError, ValueError):
    """A malformed month or an unknown period."""


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, the type of every page's ``month``: ``str()`` gives ``YYYY-MM``.

    :meth:`parse` is the one parser of a month typed by a viewer (a URL, a CLI argument);
    a malformed month raises :class:`PeriodError` with the Chinese message."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (isinstance(self.year, int) and isinstance(self.month, int)
                and 1 <= self.month <= 12 and MIN_YEAR <= self.year <= MAX_YEAR):
            raise PeriodError(f"月份格式不正确：{self.year!r}-{self.month!r}（应为 YYYY-MM，例如 2025-06）")

    @classmethod
    def parse(cls, value: str | date | Month) -> Month:
        """'2025-06' (or a date, or a Month) → Month(2025, 6); PeriodError otherwise."""
        if isinstance(value, Month):
            return value
        if isinstance(value, date):
            return cls(value.year, value.month)
        m = _MONTH.match(str(value).strip())
        if not m or not 1 <= int(m.group(2)) <= 12 or not MIN_YEAR <= int(m.group(1)) <= MAX_YEAR:
            raise PeriodError(f"月份格式不正确：{value!r}（应为 YYYY-MM，例如 2025-06）")
        return cls(int(m.group(1)), int(m.group(2)))

    @property
    def first_day(self) -> date:
        """The month's first day (the engine's month as a date)."""
        return date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def parse_month(value: str | date | Month) -> date:
    """'2025-06' (or a date or a :class:`Month`) → date(2025, 6, 1); a clear error otherwise."""
    if isinstance(value, date):
        return value.replace(day=1)
    return Month.parse(value).first_day


def add_months(d: date, n: int) -> date:
    k = d.year * 12 + d.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    def capped(self, last: date) -> Window:
        return Window(self.start, min(self.end, last))

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1


@dataclass(frozen=True)
class Periods:
    """The windows of one request: ``cur`` and its 环比 (``prev``) and 同比 (``ly``)."""

    period: str
    month: date
    cur: Window
    prev: Window | None
    ly: Window


def windows(period: str, month: date) -> Periods:
    """The windows for ``period`` at ``month``."""
    if period not in PERIODS:
        raise PeriodError(f"未知的统计期：{period!r}（可选：{'、'.join(PERIODS)}）")
    if period == "month":
        cur, prev = Window(month, month), Window(add_months(month, -1), add_months(month, -1))
    elif period == "ytd":
        before = add_months(month, -1)
        cur, prev = Window(month.replace(month=1), month), Window(before.replace(month=1), before)
    elif period == "quarter":
        start = month.replace(month=(month.month - 1) // 3 * 3 + 1)
        cur = Window(start, add_months(start, 2))
        prev = Window(add_months(start, -3), add_months(start, -1))
    else:  # year: 环比 does not apply
        cur, prev = Window(month.replace(month=1), month.replace(month=12)), None
    ly = Window(add_months(cur.start, -12), add_months(cur.end, -12))
    return Periods(period=period, month=month, cur=cur, prev=prev, ly=ly)


def label(period: str, window: Window) -> str:
    """Chinese label of a window: 2025年6月, 2025年1—6月, 2025年第二季度, 2025年."""
    s, e = window.start, window.end
    if period == "month":
        return f"{s.year}年{s.month}月"
    if period == "ytd":
        return f"{s.year}年1—{e.month}月" if e.month > 1 else f"{s.year}年1月"
    if period == "quarter":
        text = f"{s.year}年第{_QUARTERS[(s.month - 1) // 3]}季度"
        return text if window.months == 3 else f"{text}（截至{e.month}月）"
    return f"{s.year}年" if e.month == 12 else f"{s.year}年（截至{e.month}月）"


def period_name(period: str) -> str:
    """当月 / 累计 / 季度 / 年度."""
    return PERIOD_LABELS[period]


def time_progress(window: Window) -> float:
    """序时进度 at the end of a window, in percent (month ÷ 12)."""
    return window.end.month / 12 * 100
