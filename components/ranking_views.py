"""考核 page pieces: the ranking table with heat cells, the score map with a focused region,
the radar of a region's dimensions and the bar of dimension weights. No queries inside."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components.maps import create_choropleth
from components.theme import ACCENT, INK, MUTED, PRIMARY, primary_tint
from metrics.format import DASH, fmt_value

_LOW = (243, 247, 253)  # the light end of the blue scale; the dark end is the primary colour
_HIGH = tuple(int(PRIMARY[i:i + 2], 16) for i in (1, 3, 5))


def heat_style(score) -> dict[str, str]:
    """Background (light → dark blue over 0–100) and a readable text colour for a score cell."""
    if score is None or pd.isna(score):
        return {"backgroundColor": "#f5f6f8", "color": MUTED}
    t = min(max(float(score), 0.0), 100.0) / 100
    rgb = tuple(round(a + (b - a) * t) for a, b in zip(_LOW, _HIGH, strict=True))
    return {"backgroundColor": f"rgb{rgb}", "color": "#ffffff" if t > 0.6 else INK}


def fmt_points(change) -> str:
    """A signed change in 分: +0.2 分, −3.4 分, ±0.0 分; — when there is nothing to compare."""
    if change is None or pd.isna(change):
        return DASH
    change = round(float(change), 1)
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    return f"{sign}{abs(change):.1f} 分"


def rank_move(change) -> html.Span:
    """↑2 (moved up), ↓1 (down), — (same place or no previous rank)."""
    if change is None or pd.isna(change):
        return html.Span(DASH, className="ranking-move ranking-move--none", title="上月无排名")
    change = int(change)
    if change > 0:
        return html.Span(f"↑{change}", className="ranking-move ranking-move--up", title=f"较上月上升{change}位")
    if change < 0:
        return html.Span(f"↓{-change}", className="ranking-move ranking-move--down", title=f"较上月下降{-change}位")
    return html.Span("—", className="ranking-move ranking-move--same", title="与上月持平")


def create_ranking_table(index: pd.DataFrame, dims: list[dict], *, focus: str | None,
                         href: Callable[..., str]) -> html.Table:
    """Rank, ↑↓ change, region (a link that focuses it), score, change in 分, and one heat
    cell per dimension."""
    head = html.Thead(html.Tr(
        [html.Th("排名"), html.Th("升降"), html.Th("地区"), html.Th("综合得分"), html.Th("较上月")]
        + [html.Th(d["name"], title=f"权重 {d['weight']:.0%}", className="ranking-th-dim") for d in dims]))
    rows = []
    for _, r in index.iterrows():
        code, change = r["region_code"], r["score_change"]
        shown = 0 if pd.isna(change) else round(float(change), 1)  # the colour follows the rounded figure
        tone = "ranking-change--up" if shown > 0 else "ranking-change--down" if shown < 0 else ""
        heat = [html.Td(DASH if pd.isna(r[d["column"]]) else f"{r[d['column']]:.1f}", style=heat_style(r[d["column"]]),
                        className="ranking-heat",
                        title=f"{r['region_name']} · {d['name']}：{fmt_value(r[d['column']], '分')}")
                for d in dims]
        rows.append(html.Tr(
            [html.Td(DASH if pd.isna(r["rank"]) else int(r["rank"]), className="ranking-rank"),
             html.Td(rank_move(r["rank_change"])),
             html.Td(dcc.Link(r["region_name"], href=href(focus=code), id=f"ranking-link-{code}")),
             html.Td(fmt_value(r["score"], "分"), className="ranking-score"),
             html.Td(fmt_points(change), className=f"ranking-change {tone}"),
             *heat],
            className="ranking-row" + (" ranking-row--focus" if code == focus else ""), id=f"ranking-row-{code}"))
    return html.Table([head, html.Tbody(rows)], className="ranking-table", id="ranking-table")


def create_score_map(scores: pd.DataFrame, geojson: dict, *, focus: str | None, title: str,
                     height: int = 480, geojson_url: str | None = None) -> go.Figure:
    """The choropleth of scores (分) with the focused region outlined in red."""
    fig = create_choropleth(scores, geojson, unit="分", title=title, height=height, geojson_url=geojson_url)
    if focus:
        shapes = {"type": "FeatureCollection",
                  "features": [f for f in geojson["features"] if f["properties"]["code"] == focus]}
        fig.add_trace(go.Choroplethmap(
            geojson=shapes, featureidkey="properties.code", locations=[focus], z=[0],
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False,
            marker={"line": {"color": ACCENT, "width": 3}}, hoverinfo="skip", name="当前地区",
        ))
    return fig


def create_radar(focus_row: dict, average: dict, dims: list[dict], *, focus_name: str, group: str,
                 period: str) -> go.Figure:
    """The focused region's five dimension scores against the average of the ranked group."""
    names = [d["name"] for d in dims]
    mine = [focus_row.get(d["column"]) for d in dims]
    avg = [average.get(d["id"]) for d in dims]

    def closed(xs):
        return [None if x is None or pd.isna(x) else float(x) for x in xs + xs[:1]]

    fig = go.Figure()
    fig.add_trace(go.Scatterpolar(
        r=closed(avg), theta=names + names[:1], name=f"{group}平均", line={"color": MUTED, "dash": "dash"},
        text=[fmt_value(x, "分") for x in closed(avg)], hovertemplate="%{theta}<br>平均：%{text}<extra></extra>",
    ))
    fig.add_trace(go.Scatterpolar(
        r=closed(mine), theta=names + names[:1], name=focus_name, fill="toself",
        line={"color": PRIMARY}, fillcolor=primary_tint(0.18),
        text=[fmt_value(x, "分") for x in closed(mine)],
        hovertemplate=f"%{{theta}}<br>{focus_name}：%{{text}}<extra></extra>",
    ))
    fig.update_layout(
        template="cockpit", height=340, margin={"l": 70, "r": 70, "t": 30, "b": 30},
        polar={"radialaxis": {"range": [0, 100], "tickfont": {"size": 10}, "angle": 54, "tickangle": 54},
               "angularaxis": {"tickfont": {"size": 12}, "rotation": 90, "direction": "clockwise"}},
        legend={"orientation": "h", "y": -0.08, "x": 0.5, "xanchor": "center"},
        title={"text": f"{period}", "font": {"size": 12, "color": MUTED}, "x": 0.01, "y": 0.98},
        uirevision="ranking-radar",
    )
    return fig


def create_weight_bar(dims: list[dict], *, source: str) -> go.Figure:
    """Horizontal bars of the dimension weights (%), the KPIs of each in the hover; the page
    names the file the weights are configured in (``source``) under it."""
    data = dims[::-1]
    hover = ["<br>".join(f"· {k}（{w:.0%}）" for k, w in d["kpis"]) for d in data]
    fig = go.Figure(go.Bar(
        x=[d["weight"] * 100 for d in data], y=[d["name"] for d in data], orientation="h",
        marker={"color": PRIMARY},
        text=[f"{d['weight']:.0%}" for d in data], textposition="auto",
        customdata=hover, hovertemplate="<b>%{y}</b> 权重 %{text}<br>构成指标：<br>%{customdata}<extra></extra>",
    ))
    fig.update_layout(
        template="cockpit", height=290, margin={"l": 10, "r": 16, "t": 28, "b": 48},
        meta={"source": f"权重为配置项：{source}"},
        xaxis={"title": {"text": "权重（%）", "font": {"size": 12}},
               "range": [0, max(d["weight"] for d in dims) * 100 * 1.15]},
        yaxis={"automargin": True},
    )
    return fig
