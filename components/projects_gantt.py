"""The Gantt timeline of one owner unit's projects (no queries inside; a plain Plotly dict)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from components.projects_charts import STATUS_COLOURS, template
from components.theme import ACCENT, INK
from metrics.format import fmt_value

_DAY_MS = 86_400_000
STATUS_ORDER = ("前期", "未开工", "建设中", "试运行", "已验收", "逾期", "已终止")


def _short(name: str, width: int = 18) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def _day(value) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _hover(row: dict, period_text: str) -> str:
    start = "批复" if pd.notna(row["approved_on"]) else "申报"
    end = "至今（未完成）" if row["is_ongoing"] else _day(row["bar_end"])
    return (f"{row['project_id']} · {row['tier']} · {fmt_value(row['approved_budget'], '万元')}<br>"
            f"当前阶段：{row['stage_label']}（{period_text}）<br>"
            f"{start} {_day(row['bar_start'])} → {end}<br>计划完工：{_day(row['planned_finish']) or '—'}")


def create_gantt(df: pd.DataFrame, *, as_of: date, period_text: str) -> dict[str, Any]:
    """One bar per project from approval (or application) to completion, final acceptance
    or termination (to ``as_of`` while ongoing), coloured by status, with the planned
    finish as a marker and overdue bars outlined; ``customdata[0]`` is the project id."""
    rows = df.to_dict("records")
    data = []
    for status in STATUS_ORDER:
        part = [r for r in rows if r["status"] == status]
        if not part:
            continue
        overdue = status == "逾期"
        data.append({
            "type": "bar", "orientation": "h", "name": status, "y": [r["project_id"] for r in part],
            # a bar is its length in ms from a date base; a same-day bar still gets one day
            "x": [max((pd.Timestamp(r["bar_end"]) - pd.Timestamp(r["bar_start"])).days, 1) * _DAY_MS for r in part],
            "base": [_day(r["bar_start"]) for r in part],
            "marker": {"color": STATUS_COLOURS[status],
                       "line": {"color": "#8a1f17" if overdue else "rgba(0,0,0,0)", "width": 2 if overdue else 0},
                       # hatched, so a terminated bar never reads as a grey 前期 one
                       **({"pattern": {"shape": "/", "fgcolor": "#7d8793", "size": 6}} if status == "已终止" else {})},
            "customdata": [[r["project_id"], r["name"]] for r in part],
            "hovertext": [_hover(r, period_text) for r in part],
            "hovertemplate": "<b>%{customdata[1]}</b><br>%{hovertext}<extra></extra>",
        })
    planned = [r for r in rows if pd.notna(r["planned_finish"])]
    data.append({
        "type": "scatter", "mode": "markers", "name": "计划完工", "y": [r["project_id"] for r in planned],
        "x": [_day(r["planned_finish"]) for r in planned],
        "marker": {"symbol": "diamond", "size": 10, "color": INK, "line": {"color": "#fff", "width": 1}},
        "customdata": [[r["project_id"], r["name"]] for r in planned],
        "hovertemplate": "<b>%{customdata[1]}</b><br>计划完工 %{x|%Y-%m-%d}<extra></extra>",
    })
    ids = [r["project_id"] for r in rows]
    month_end = pd.Timestamp(as_of).strftime("%Y-%m-%d")
    layout = {
        "template": template(), "barmode": "overlay", "height": max(240, 34 * len(rows) + 110), "bargap": 0.35,
        "margin": {"l": 16, "r": 24, "t": 40, "b": 30},
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "font": {"size": 12}},
        "xaxis": {"type": "date", "tickformat": "%Y-%m", "hoverformat": "%Y-%m-%d"},
        "yaxis": {"autorange": "reversed", "automargin": True, "categoryorder": "array", "categoryarray": ids,
                  "tickmode": "array", "tickvals": ids, "ticktext": [_short(r["name"]) for r in rows]},
        # the selected month end: bars of ongoing projects stop here
        "shapes": [{"type": "line", "xref": "x", "x0": month_end, "x1": month_end, "yref": "paper", "y0": 0, "y1": 1,
                    "line": {"color": ACCENT, "dash": "dash", "width": 1}}],
        "annotations": [{"xref": "x", "x": month_end, "yref": "paper", "y": 1.0, "yanchor": "bottom",
                         "text": period_text, "showarrow": False, "font": {"size": 11, "color": ACCENT}}],
    }
    return {"data": data, "layout": layout}
