"""Figures and small pieces of the 政务服务 page (data in, components out; no queries)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components.theme import ACCENT, COLORWAY, INK
from metrics.format import fmt_value

CATEGORY_COLOURS = dict(zip(("咨询", "投诉", "求助", "建议", "举报"), COLORWAY, strict=False))  # the template's order


def highlight_region(fig: go.Figure, code: str) -> go.Figure:
    """Outline region ``code`` on a choropleth (the county in view among its neighbours).

    Per-location line widths on the existing traces: adding a trace would make plotly
    deep-copy every trace's boundaries."""
    for trace in fig.data:
        locations = list(trace.locations if trace.locations is not None else [])
        if code in locations:
            trace.marker.line.width = [3 if c == code else 0.8 for c in locations]
            trace.marker.line.color = [ACCENT if c == code else "#ffffff" for c in locations]
    return fig


def mark_bar(fig: go.Figure, codes: list[str], selected: str | None) -> go.Figure:
    """Outline the bar of the ``selected`` member (the active cross-filter)."""
    if selected:
        fig.update_traces(marker_line_color=INK, marker_line_width=[2.5 if c == selected else 0 for c in codes])
    return fig


def create_stacked_bar(df: pd.DataFrame, *, x: str, stack: str, value: str, unit: str, title: str = "",
                       height: int = 280) -> go.Figure:
    """Monthly bars stacked by ``stack``; hovers give each part and the month's total."""
    months = sorted(df[x].unique())
    totals = df.groupby(x)[value].sum()  # display only: the stack's height, shown in the hover
    order = list(CATEGORY_COLOURS)
    traces = []
    for name in sorted(df[stack].unique(), key=lambda n: order.index(n) if n in order else len(order)):
        part = df[df[stack] == name].set_index(x).reindex(months)[value]
        text = [f"{fmt_value(v, unit)}（合计 {fmt_value(totals.get(m), unit)}）"
                for v, m in zip(part, months, strict=True)]
        traces.append(go.Bar(x=pd.to_datetime(months), y=part.to_numpy(), name=name, text=text, textposition="none",
                             marker={"color": CATEGORY_COLOURS.get(name)},
                             hovertemplate=f"%{{x|%Y年%m月}} · {name}<br>%{{text}}<extra></extra>"))
    fig = go.Figure(data=traces)  # one validation pass: add_trace in a loop re-validates every trace
    fig.update_layout(
        template="cockpit", barmode="stack", height=height, title={"text": title, "font": {"size": 14}},
        legend={"orientation": "h", "y": -0.2, "traceorder": "normal"}, yaxis={"title": unit},
        xaxis={"tickformat": "%y年%m月"},
        margin={"l": 64, "r": 12, "t": 36 if title else 12, "b": 56}, hovermode="closest",
    )
    return fig


def create_filter_chip(label: str, href: str, chip_id: str) -> html.Span:
    """An active filter, with a ✕ link that removes it."""
    return html.Span([html.Span(label, className="chip-label"),
                      dcc.Link("✕", href=href, className="chip-remove", id=f"{chip_id}-remove", title="取消筛选")],
                     className="filter-chip", id=chip_id)
