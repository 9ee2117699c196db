"""KPI cards: pure functions from a KPI result to a component tree (no queries inside)."""

from __future__ import annotations

from dash import html

from components.sparkline import create_sparkline
from metrics.format import DASH, fmt_change, fmt_value, rag_label
from metrics.freshness import Freshness

_ARROWS = {1: "▲", -1: "▼", 0: "■"}


def _delta(label: str, change, change_unit: str, *, higher_is_better: bool) -> html.Span:
    """A 同比/环比 chip, coloured good/bad by direction; zero-safe."""
    if change is None:
        return html.Span([label, " ", DASH], className="kpi-delta kpi-delta--none")
    change = round(change, 1)  # the sign follows what is shown: −0.04 reads as 0.0, not ▼
    sign = (change > 0) - (change < 0)
    good = sign == 0 or (sign > 0) == higher_is_better
    return html.Span(
        [label, " ", _ARROWS[sign], " ", fmt_change(change, change_unit).lstrip("+−±")],
        className=f"kpi-delta kpi-delta--{'good' if good else 'bad'}",
    )


def create_kpi_card(
    result: dict,
    *,
    caliber: str,
    source: str,
    higher_is_better: bool = True,
    series: list[float | None] | None = None,
    card_id: str | None = None,
    freshness: Freshness | None = None,
) -> html.Div:
    """A KPI card: value and unit, period (累计/当月), target and RAG, 同比/环比, sparkline,
    and the 口径 and as-of date on hover. With ``freshness`` the foot says how fresh the KPI's
    data is, and a late family's card carries the 「数据未按期更新」 badge."""
    rag = result.get("rag")
    unit = result["unit"]
    fresh = freshness.text + (f" · {freshness.late_text}" if freshness.late else "") if freshness else None
    tooltip = f"口径：{caliber}\n依据：{source}\n" + (fresh or f"数据截至：{result['as_of']}")
    target = result.get("target")
    children = [
        html.Div(
            [html.Span(result["name"], className="kpi-name"),
             html.Span(result["period_name"], className="kpi-period", title=result["period_label"])],
            className="kpi-head",
        ),
        html.Div(fmt_value(result.get("value"), unit), className="kpi-value"),
        html.Div(
            [html.Span(f"目标 {fmt_value(target, unit)}" if target is not None else "无目标", className="kpi-target"),
             html.Span(rag_label(rag), className=f"kpi-rag kpi-rag--{rag or 'none'}")],
            className="kpi-meta",
        ),
        html.Div(
            [_delta("环比", result.get("mom_change"), result["change_unit"], higher_is_better=higher_is_better),
             _delta("同比", result.get("yoy_change"), result["change_unit"], higher_is_better=higher_is_better)],
            className="kpi-deltas",
        ),
    ]
    if series:
        children.append(create_sparkline(series, rag=rag))
    if freshness is None:
        children.append(html.Div(f"{result['period_label']} · 数据截至 {result['as_of']}", className="kpi-asof"))
    else:
        children.append(html.Div(result["period_label"], className="kpi-asof"))
        foot = [html.Span(freshness.text, className="kpi-fresh-text")]
        if freshness.late:
            foot.append(html.Span(freshness.late_text, className="kpi-late"))
        children.append(html.Div(foot, className="kpi-fresh"))
    props = {"id": card_id} if card_id else {}
    late = " kpi-card--late" if freshness is not None and freshness.late else ""
    return html.Div(children, className=f"kpi-card kpi-card--{rag or 'none'}{late}", title=tooltip, **props)


def create_empty(message: str = "暂无数据") -> html.Div:
    """The placeholder shown instead of a chart when there is nothing to draw."""
    return html.Div(message, className="empty-state")
