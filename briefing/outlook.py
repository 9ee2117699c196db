"""下一步/预测: the chance of meeting each year-end target, as seen from the briefing's month.

The forecast engine answers where it can (``metrics.forecasting.kpi_attainment``, cached on
disk) from the history up to the briefing's month only, so a June briefing never peeks at
July. Where the engine has no answer, the linear pace is given.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TypedDict

from data.scope import Scope
from metrics.forecasting import YearEnd, kpi_attainment

ENGINE_ERRORS = (ValueError, LookupError, ArithmeticError, RuntimeError)


class LinearPace(TypedDict):
    """:func:`linear_pace`: the monthly value needed (None unless ``status`` is needed/met),
    the status (needed, met, complete, no_target, no_data) and the months left."""

    needed: float | None
    status: str
    months_remaining: int


def linear_pace(current: float | None, target: float | None, months_done: int, *, kind: str,
                higher_is_better: bool = True) -> LinearPace:
    """The monthly value needed from next month on, at an even pace, to end the year on target.

    ``kind``: ``rate`` (a 累计 rate: months weigh equally), ``sum`` (a 累计 total) or ``level``.
    """
    remaining = 12 - months_done
    out: LinearPace = {"needed": None, "status": "needed", "months_remaining": remaining}
    if current is None or target is None:
        out["status"] = "no_target" if target is None else "no_data"
        return out
    met = current >= target if higher_is_better else current <= target
    if remaining <= 0:
        out["status"] = "complete"
        return out
    if kind == "rate":
        out["needed"] = (target * 12 - current * months_done) / remaining
    elif kind == "sum":
        out["needed"] = (target - current) / remaining
    else:
        out["needed"] = (target - current) / remaining
    if met and kind != "sum":
        out["status"] = "met"
    return out


def _engine(kpi_id: str, region: str, month: date, scope: Scope) -> YearEnd | None:
    """The engine's year-end figures as seen from ``month`` (None: no data for the KPI)."""
    return kpi_attainment(kpi_id, region, scope=scope, year=month.year, as_of=month).year_end


def _num(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def attainments(kpis: list[dict], region: str, month: date, *, scope: Scope) -> list[dict]:
    """One row per headline KPI: probability (engine) or the linear pace, with the pace needed."""
    rows = []
    for k in kpis:
        row = {"kpi_id": k["kpi_id"], "name": k["name"], "unit": k["unit"], "target": k["target"],
               "current": k["ytd_value"], "higher_is_better": k["higher_is_better"], "source": "linear",
               "probability": None, "expected": None, "needed": None, "needed_kind": None}
        try:
            a = _engine(k["kpi_id"], region, month, scope)
        except ENGINE_ERRORS:
            a = None
        if a is not None:
            row.update(source="engine", probability=_num(a.probability), expected=_num(a.expected),
                       needed=_num(a.needed), needed_kind=a.needed_kind,
                       status=a.needed_status, months_remaining=a.months_remaining,
                       target=_num(a.target) if a.target is not None else k["target"])
        else:
            kind = "rate" if k["unit"] == "%" else ("sum" if k["change_unit"] == "%" else "level")
            pace = linear_pace(k["ytd_value"], k["target"], month.month, kind=kind,
                               higher_is_better=k["higher_is_better"])
            row.update(needed=pace["needed"], status=pace["status"], months_remaining=pace["months_remaining"],
                       needed_kind="monthly_rate" if kind == "rate" else "monthly_flow")
        rows.append(row)
    return rows
