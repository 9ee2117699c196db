"""督办 · the key tasks of the work plan: status, progress and overdue flags as of a month end.

A task is overdue (逾期) when it is not 已完成 and its deadline falls before the last day of
the month in view; 长期 tasks have no deadline and are never overdue. The status and the
progress note are the latest reported; the month only sets the day the deadlines are
judged against. Tasks carry no department code, so only the region part of a scope applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from data import db
from data.scope import Scope, require
from metrics.compile import named_sql
from metrics.errors import UserError
from metrics.page_state import PageContext, page_context
from metrics.periods import parse_month
from metrics.regions import get_region

STATUSES = ("未开始", "推进中", "已完成", "持续推进")
OVERDUE = "逾期"  # a status filter that selects the overdue tasks
ALL = "全部"  # the "no filter" choice of the status and lead-unit pickers
_NUMERALS = "一二三四五六七八九十"


class TaskParamError(UserError, ValueError):
    """A status, lead unit or task in the URL that the 督办 page does not know."""


def numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (the numbering of the work plan)."""
    if n <= 10:
        return _NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _NUMERALS[tens - 1]) + "十" + (_NUMERALS[ones - 1] if ones else "")


def as_of_day(month) -> date:
    """The last day of ``month``: deadlines before it have passed."""
    return (pd.Timestamp(parse_month(month)) + pd.offsets.MonthEnd(0)).date()


def _params(region: str, month, scope: Scope, status: str | None = None, lead: str | None = None) -> dict[str, object]:
    scope = require(scope)
    get_region(region, scope=scope)
    return {"region": region, "as_of": as_of_day(month), "status": status, "lead": lead, **scope.params()}


def task_list(region: str, month, *, scope: Scope, status: str | None = None, lead: str | None = None
              ) -> pd.DataFrame:
    """The visible tasks in ``region`` (and below) with ``is_overdue`` and ``days_overdue`` as of
    the end of ``month``; optionally only one status (or ``逾期``) and one lead unit."""
    df = db.query(named_sql("tasks_list.sql"), _params(region, month, scope, status, lead))
    df["number"] = [numeral(int(n)) for n in df["task_id"]]
    df["deadline"] = pd.to_datetime(df["deadline"]).dt.date
    df["lead_list"] = [list(x) for x in df["lead_list"]]
    return df


def task_summary(region: str, month, *, scope: Scope, lead: str | None = None) -> dict[str, int]:
    """Counts of the visible tasks: total, 已完成, 推进中, 逾期 (as of the end of ``month``) and 长期."""
    df = task_list(region, month, scope=scope, lead=lead)
    return {
        "total": len(df),
        "done": int((df["status"] == "已完成").sum()),
        "in_progress": int((df["status"] == "推进中").sum()),
        "overdue": int(df["is_overdue"].sum()),
        "long_term": int(df["deadline"].isna().sum()),
    }


def tasks_by_lead(region: str, month, *, scope: Scope, status: str | None = None) -> pd.DataFrame:
    """Tasks per lead unit (a task led jointly counts for each unit): tasks, done, open
    (not done, not overdue) and overdue as of the end of ``month``; most tasks first."""
    df = db.query(named_sql("tasks_by_lead.sql"), _params(region, month, scope, status))
    return df.astype(dict.fromkeys(("tasks", "done", "overdue", "open"), "int64"))


def _choice(value: str | None) -> str | None:
    return None if value in (None, "", ALL) else value


@dataclass(frozen=True, eq=False)
class TasksPage(PageContext):
    """What the 督办 page draws (besides its header, dated by the overdue day): the filters
    as validated, the selected task, the summary cards, the lead-unit bars and the table."""

    as_of_day: date
    status: str | None
    lead: str | None
    task: dict | None
    summary: dict[str, int]
    by_lead: pd.DataFrame
    tasks: pd.DataFrame
    lead_units: list[str]
    source: str | None


def tasks_page(region=None, month=None, status=None, lead=None, task=None, *, scope: Scope) -> TasksPage:
    """Everything the 督办 page shows, after validating the URL state.

    Cross-filtering: the summary cards (a split by status) follow the lead-unit filter, the
    lead-unit bars follow the status filter, and the table follows both.
    """
    scope = require(scope)
    ctx = page_context(region, month, "month", scope=scope)
    day = as_of_day(ctx["month"])
    status, lead = _choice(status), _choice(lead)
    if status is not None and status not in (*STATUSES, OVERDUE):
        raise TaskParamError(f"未知的任务状态：{status!r}（可选：{'、'.join((*STATUSES, OVERDUE))}）")
    units = tasks_by_lead(ctx["region"], day, scope=scope)
    if lead is not None and lead not in set(units["lead_unit"]):
        raise TaskParamError(f"未知的牵头单位：{lead!r}（{ctx['region_name']}的督办任务中没有这个牵头单位）")
    everything = task_list(ctx["region"], day, scope=scope)
    selected = None
    if task not in (None, ""):
        ids = everything["task_id"].astype(str).tolist()
        if str(task) not in ids:
            raise TaskParamError(f"未找到督办任务：{task!r}（{ctx['region_name']}共有 {len(ids)} 项任务）")
        selected = everything.iloc[ids.index(str(task))].to_dict()
    # the header reads "截至2023年7月31日（逾期判定日）"
    header = {**ctx, "period_label": f"截至{day.year}年{day.month}月{day.day}日", "period_name": "逾期判定日"}
    return TasksPage(
        **header,
        as_of_day=day,
        status=status,
        lead=lead,
        task=selected,
        summary=task_summary(ctx["region"], day, scope=scope, lead=lead),
        by_lead=units if status is None else tasks_by_lead(ctx["region"], day, scope=scope, status=status),
        tasks=task_list(ctx["region"], day, scope=scope, status=status, lead=lead),
        lead_units=units["lead_unit"].tolist(),
        source=everything["source"].iloc[0] if len(everything) else None,
    )
