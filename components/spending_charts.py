"""Figures and cards of the 资金 page: execution curves against 序时进度, execution bars,
a project's monthly payments. Data in, figures out; no queries inside.

Figures are plain dicts (with the cockpit template inlined): building ``go.Figure``
objects validated every property and took most of the page's render time.
"""

from __future__ import annotations

import itertools
from functools import cache
from typing import Any

import pandas as pd
from dash import html

from components.cards import create_kpi_card
from components.theme import (
    ACCENT,
    PRIMARY,
    RAG_COLOURS,
    SCREEN,
    SEQUENTIAL,
    TEAL,
    TEMPLATE,
    primary_tint,
    template_json,
)
from metrics.display import KpiDisplay
from metrics.format import fmt_value

MONTHS = [f"{m}月" for m in range(1, 13)]
# the selected year in the primary colour, earlier years in fading blue-greys
YEAR_COLOURS = [PRIMARY, SEQUENTIAL[2], "#b3bfcc"]
KIND_COLOURS = {"建设": PRIMARY, "运维": TEAL}


def create_spending_card(kpi: KpiDisplay, *, card_id: str) -> html.Div:
    """A KPI card with, for a KPI against 序时进度, the gap to it in words under the value."""
    return create_kpi_card(kpi, card_id=card_id, note=kpi.target_kind == "time_progress")


@cache
def _template() -> dict[str, Any]:
    return TEMPLATE.to_plotly_json()


def _figure(data: list[dict], layout: dict) -> dict[str, Any]:
    return {"data": data, "layout": {"template": _template(), **layout}}


def _list(values) -> list:
    """Plain JSON values: NaN becomes null."""
    return [None if v is None or (isinstance(v, float) and v != v) else v for v in values]


def create_execution_curve(curves: pd.DataFrame, progress: pd.DataFrame, *, year: int, height: int = 430,
                           forecast: pd.DataFrame | None = None, wall: bool = False) -> dict[str, Any]:
    """累计 execution by month, one line per year (``year`` bold, earlier years lighter), each
    labelled with its year at its last point, against the 序时进度 straight line; ``forecast``
    (month_no, mean, lo80/hi80, lo95/hi95) continues ``year`` dashed with its bands.

    ``wall``: the big screen's variant (its dark theme and type): ``year`` alone, named 执行率 and
    filled down to the axis, no year labels, a tick every quarter."""
    data = [{
        "type": "scatter", "mode": "lines", "name": "序时进度",
        "x": [MONTHS[m - 1] for m in progress["month_no"]], "y": _list(progress["value"]),
        "line": {"color": SCREEN["target"], "dash": "dash", "width": 3} if wall else
                {"color": ACCENT, "dash": "dash", "width": 1.5},
        "text": [fmt_value(v, "%") for v in progress["value"]], "hovertemplate": "序时进度 %{text}<extra></extra>",
    }]
    annotations = []
    years = [year] if wall else sorted(curves["year"].unique(), reverse=True)
    for i, y in enumerate(years):
        d = curves[curves["year"] == y].sort_values("month_no")
        colour = YEAR_COLOURS[min(i, len(YEAR_COLOURS) - 1)]
        text = [f"累计执行率 {fmt_value(v, '%', digits=2)}<br>累计支付 {fmt_value(p, '万元', digits=2)}"
                f" / 年度预算 {fmt_value(b, '万元', digits=2)}"
                for v, p, b in zip(d["value"], d["paid"], d["budget"], strict=True)]
        data.append({
            "type": "scatter", "mode": "lines+markers", "name": f"{y}年",
            "x": [MONTHS[m - 1] for m in d["month_no"]], "y": _list(d["value"]),
            "line": {"color": colour, "width": 3 if y == year else 1.8}, "marker": {"size": 6 if y == year else 4},
            "text": text, "hovertemplate": f"{y}年 %{{x}}<br>%{{text}}<extra></extra>",
        })
        if wall:
            data[-1].update(name="执行率", fill="tozeroy", fillcolor=SCREEN["fill"],
                            line={"color": SCREEN["cyan"], "width": 4}, marker={"size": 7})
            continue
        last = d.iloc[-1]
        annotations.append({"x": MONTHS[int(last["month_no"]) - 1], "y": float(last["value"]), "text": f"{y}年",
                            "showarrow": False, "xanchor": "left", "xshift": 8,
                            "font": {"color": colour, "size": 12}})
    if forecast is not None and len(forecast):
        data += _forecast_traces(curves[curves["year"] == year].sort_values("month_no"), forecast, year)
    _spread_labels(annotations)
    top = max(100.0, float(curves["value"].max()) if len(curves) else 100.0)
    xaxis = {"type": "category", "categoryorder": "array", "categoryarray": MONTHS, "range": [-0.4, 11.8]}
    if wall:
        quarters = [MONTHS[m] for m in (0, 3, 6, 9, 11)]
        return {"data": data, "layout": {
            "template": template_json(wall=True), "height": height, "margin": {"l": 78, "r": 14, "t": 16, "b": 36},
            "xaxis": {**xaxis, "range": [-0.6, 11.4], "tickmode": "array", "tickvals": quarters, "ticktext": quarters},
            "yaxis": {"range": [0, top * 1.05], "tickvals": [0, 50, 100], "ticksuffix": "%"},
        }}
    return _figure(data, {
        "height": height, "hovermode": "closest", "annotations": annotations,
        "legend": {"orientation": "h", "y": -0.14, "x": 0}, "margin": {"l": 56, "r": 48, "t": 16, "b": 56},
        "xaxis": xaxis,
        "yaxis": {"title": {"text": "累计执行率（%）"}, "range": [0, top * 1.05], "ticksuffix": "%"},
    })


def _forecast_traces(current: pd.DataFrame, forecast: pd.DataFrame, year: int) -> list[dict]:
    """Dashed forecast from the last reported month, with its 95% and 80% bands."""
    start = current.iloc[-1] if len(current) else None
    months = ([int(start["month_no"])] if start is not None else []) + [int(m) for m in forecast["month_no"]]
    x = [MONTHS[m - 1] for m in months]

    def joined(col):
        head = [float(start["value"])] if start is not None else []
        return head + _list(forecast[col])

    traces = []
    for lo, hi, alpha, name in (("lo95", "hi95", 0.12, "95% 区间"), ("lo80", "hi80", 0.22, "80% 区间")):
        traces.append({"type": "scatter", "mode": "lines", "x": x + x[::-1], "y": joined(hi) + joined(lo)[::-1],
                       "fill": "toself", "fillcolor": primary_tint(alpha), "line": {"width": 0},
                       "hoverinfo": "skip", "name": name})
    traces.append({"type": "scatter", "mode": "lines", "x": x, "y": joined("mean"), "name": f"{year}年预测",
                   "line": {"color": YEAR_COLOURS[0], "dash": "dash", "width": 2},
                   "text": [fmt_value(v, "%") for v in joined("mean")],
                   "hovertemplate": f"{year}年 %{{x}} 预测<br>累计执行率 %{{text}}<extra></extra>"})
    return traces


def _spread_labels(annotations: list[dict], *, near: float = 5.0, step: int = 14) -> None:
    """Move year labels that end at the same month within ``near`` points apart off each other."""
    by_x: dict[str, list[dict]] = {}
    for a in annotations:
        by_x.setdefault(a["x"], []).append(a)
    for group in by_x.values():
        group.sort(key=lambda a: a["y"], reverse=True)
        for upper, lower in itertools.pairwise(group):
            if upper["y"] - lower["y"] < near:
                upper["yshift"] = upper.get("yshift", 0) + step // 2
                lower["yshift"] = lower.get("yshift", 0) - step // 2


def create_execution_bars(df: pd.DataFrame, *, time_progress: float, selected: str | None = None,
                          height: int | None = None, left: int = 110) -> dict[str, Any]:
    """Horizontal bars of 累计 execution per member (worst at the top), coloured by the gap's
    RAG, with the 序时进度 line; ``selected`` is drawn full and the others faded. Hover: the
    exact rate, paid / budget in 万元 and the gap in 个百分点. ``customdata[0]`` is the member."""
    data = df.iloc[::-1]
    bars = {
        "type": "bar", "orientation": "h", "x": _list(data["value"]), "y": list(data["label"]),
        "marker": {"color": [RAG_COLOURS.get(r if isinstance(r, str) else None) for r in data["rag"]],
                   "opacity": [1.0 if selected in (None, m) else 0.35 for m in data["member"]]},
        "text": [fmt_value(v, "%") for v in data["value"]], "textposition": "outside", "cliponaxis": False,
        "customdata": [[m] for m in data["member"]],
        "hovertext": [f"累计执行率 {fmt_value(v, '%', digits=2)}<br>累计支付 {fmt_value(p, '万元', digits=2)}"
                      f" / 年度预算 {fmt_value(b, '万元', digits=2)}<br>{n}"
                      for v, p, b, n in zip(data["value"], data["paid"], data["budget"], data["note"], strict=True)],
        "hovertemplate": "<b>%{y}</b><br>%{hovertext}<extra></extra>",
    }
    values = data["value"].dropna()
    top = max(100.0, float(values.max()) if len(values) else 100.0)
    return _figure([bars], {
        "height": height or max(180, 26 * len(data) + 70), "showlegend": False,
        "margin": {"l": left, "r": 24, "t": 28, "b": 40}, "bargap": 0.25,
        "xaxis": {"title": {"text": "累计执行率（%）"}, "range": [0, top * 1.12], "ticksuffix": "%"},
        "yaxis": {"automargin": True},
        "shapes": [{"type": "line", "xref": "x", "yref": "paper", "x0": time_progress, "x1": time_progress,
                    "y0": 0, "y1": 1, "line": {"dash": "dash", "color": ACCENT, "width": 1.5}}],
        "annotations": [{"x": time_progress, "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom",
                         "showarrow": False, "text": f"序时进度 {fmt_value(time_progress, '%')}",
                         "font": {"color": ACCENT, "size": 12}}],
    })


def create_payment_bars(payments: pd.DataFrame, *, height: int = 240) -> dict[str, Any]:
    """A project's payments per month (当月, 万元), one segment per kind and fund source,
    stacked and coloured by kind (建设/运维)."""
    data = []
    for kind, colour in KIND_COLOURS.items():
        d = payments[payments["kind"] == kind]
        if d.empty:
            continue
        data.append({
            "type": "bar", "name": kind, "x": [m.strftime("%Y-%m-%d") for m in d["month"]],
            "y": _list(d["amount_wan"]), "marker": {"color": colour, "line": {"color": "#fff", "width": 1}},
            "text": [f"{kind} · {f}<br>当月支付 {fmt_value(v, '万元', digits=2)}"
                     for f, v in zip(d["fund_source"], d["amount_wan"], strict=True)], "textposition": "none",
            "hovertemplate": "%{x|%Y年%m月}<br>%{text}<extra></extra>",
        })
    return _figure(data, {
        "height": height, "barmode": "stack", "legend": {"orientation": "h", "y": -0.3},
        "margin": {"l": 56, "r": 16, "t": 12, "b": 56}, "yaxis": {"title": {"text": "当月支付（万元）"}},
        "xaxis": {"tickformat": "%Y年%m月", "type": "date"},
    })
