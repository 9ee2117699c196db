"""KPI cards: pure functions from a display model (``metrics/display.py``) to a component
tree. Every word, rounding and colour token comes from the model; no queries inside."""

from __future__ import annotations

from dash import html

from components.sparkline import create_sparkline
from metrics.display import ChangeDisplay, KpiDisplay


def _delta(change: ChangeDisplay) -> html.Span:
    """A 同比/环比 chip: the model's text, coloured by its tone (good / bad / flat / none)."""
    return html.Span(f"{change.name} {change.text}", className=f"kpi-delta kpi-delta--{change.tone}")


def create_kpi_card(
    kpi: KpiDisplay,
    *,
    series: list[float | None] | None = None,
    card_id: str | None = None,
    note: bool = False,
) -> html.Div:
    """A KPI card: value and unit, period (累计/当月), target and RAG, 环比 and 同比, an optional
    sparkline, and the 口径, 依据 and freshness on hover. A model with freshness says it in
    the foot (a late family's card carries 「数据未按期更新」); ``note`` adds the gap to the
    target in words under the value (the 资金 page's 「低于序时进度 29.7 个百分点」)."""
    children = [
        html.Div(
            [html.Span(kpi.name, className="kpi-name"),
             html.Span(kpi.period_name, className="kpi-period", title=kpi.period_label)],
            className="kpi-head",
        ),
        html.Div(kpi.value_text, className="kpi-value"),
    ]
    if note and kpi.gap_text:
        children.append(html.Div(kpi.gap_text, className=f"kpi-gap kpi-gap--{kpi.rag_token}"))
    children += [
        html.Div(
            [html.Span(kpi.target_text, className="kpi-target"),
             html.Span(kpi.rag_label, className=f"kpi-rag kpi-rag--{kpi.rag_token}")],
            className="kpi-meta",
        ),
        html.Div([_delta(kpi.mom), _delta(kpi.yoy)], className="kpi-deltas"),
    ]
    if series:
        children.append(create_sparkline(series, rag=kpi.rag))
    if kpi.fresh_text is None:
        children.append(html.Div(kpi.foot_text, className="kpi-asof"))
    else:
        children.append(html.Div(kpi.period_label, className="kpi-asof"))
        foot = [html.Span(kpi.fresh_text, className="kpi-fresh-text")]
        if kpi.late:
            foot.append(html.Span(kpi.late_text, className="kpi-late"))
        children.append(html.Div(foot, className="kpi-fresh"))
    props = {"id": card_id} if card_id else {}
    late = " kpi-card--late" if kpi.late else ""
    return html.Div(children, className=f"kpi-card kpi-card--{kpi.rag_token}{late}", title=kpi.tooltip, **props)


def create_empty(message: str = "暂无数据") -> html.Div:
    """The placeholder shown instead of a chart when there is nothing to draw."""
    return html.Div(message, className="empty-state")
