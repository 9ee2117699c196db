"""Figures of the 项目 page: the lifecycle funnel and the tier/category split (no queries inside).

Figures are plain Plotly dicts (``{"data": [...], "layout": {...}}``) handed straight to
``dcc.Graph``: building them through ``go.Figure`` validation cost ~50–150 ms per figure,
most of a page render.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pandas as pd
import plotly.io as pio

from components.theme import MUTED, PRIMARY, RAG_COLOURS, SCREEN, TEAL, template_json
from metrics.format import fmt_value

# one colour per phase, shared by the funnel and the Gantt (逾期 is the alarm colour)
STATUS_COLOURS = {"前期": RAG_COLOURS[None], "未开工": "#e0b13e", "建设中": PRIMARY, "试运行": TEAL,
                  "已验收": RAG_COLOURS["green"], "逾期": RAG_COLOURS["red"], "已终止": "#c5cbd3"}
TERMINATED = "终止（另计）"


@lru_cache(maxsize=1)
def template() -> dict[str, Any]:
    """The cockpit theme as a plain dict (plotly.js cannot resolve a template by name)."""
    return pio.templates["cockpit"].to_plotly_json()


def phase_of(seq: int) -> str:
    """The colour class of a lifecycle stage by its order (终止 = 99)."""
    if seq >= 99:
        return "已终止"
    if seq >= 9:
        return "已验收"
    if seq >= 7:
        return "试运行"
    if seq >= 6:
        return "建设中"
    if seq >= 4:
        return "未开工"
    return "前期"


def _both(counts, budgets) -> list[str]:
    return [f"项目数 {fmt_value(c, '个')}<br>批复概算 {fmt_value(b, '万元')}"
            for c, b in zip(counts, budgets, strict=True)]


def create_stage_funnel(funnel: pd.DataFrame, *, measure: str, period_text: str,
                        wall: bool = False) -> dict[str, Any]:
    """Horizontal bars of projects by current stage, 申报 at the top and 终止 apart at the
    bottom; ``measure`` is ``count`` (个) or ``budget`` (万元); hover gives both exactly.

    ``wall``: the big screen's variant, a funnel of the same rows (the wall passes the stages
    grouped into phases, without 终止) in its dark theme, each bar labelled outside."""
    df = funnel.sort_values("seq")
    labels = [TERMINATED if t else lbl for lbl, t in zip(df["label"], df["terminated"], strict=True)]
    unit = "个" if measure == "count" else "万元"
    values = [float(v) for v in (df["count"] if measure == "count" else df["budget"])]
    n = len(labels)
    bar = {
        "type": "bar", "orientation": "h", "x": values, "y": labels,
        "marker": {"color": [STATUS_COLOURS[phase_of(s)] for s in df["seq"]]},
        "text": [fmt_value(v, unit) for v in values], "textposition": "outside", "cliponaxis": False,
        "customdata": [[s] for s in df["stage"]], "hovertext": _both(df["count"], df["budget"]),
        "hovertemplate": "<b>%{y}</b>（" + period_text + "）<br>%{hovertext}<extra></extra>",
    }
    if wall:
        return _wall_funnel(bar, n)
    layout = {
        "template": template(), "height": 30 * n + 50, "margin": {"l": 100, "r": 70, "t": 10, "b": 30},
        "showlegend": False,
        "xaxis": {"title": {"text": unit, "font": {"size": 12}}, "rangemode": "tozero", "tickformat": ",.0f"},
        "yaxis": {"autorange": "reversed", "automargin": True, "categoryorder": "array", "categoryarray": labels},
        # 终止 is not a stage of the flow: a dotted rule sets it apart
        "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": n - 1.5, "y1": n - 1.5,
                    "line": {"color": MUTED, "dash": "dot", "width": 1}}],
    }
    return {"data": [bar], "layout": layout}


def _wall_funnel(bar: dict[str, Any], n: int) -> dict[str, Any]:
    """The wall's funnel of ``bar``'s rows: one colour per row from the wall's ramp, the labels
    outside in its title colour, room on the right of the widest bar for its label."""
    ramp = SCREEN.list("funnel")
    top = max([*bar["x"], 1.0])
    label = {"color": SCREEN["title"]}
    trace = {
        **{k: bar[k] for k in ("x", "y", "text", "textposition", "cliponaxis", "customdata", "hovertext",
                               "hovertemplate")},
        "type": "funnel", "textinfo": "text", "textfont": label, "outsidetextfont": label,
        "marker": {"color": [ramp[min(i, len(ramp) - 1)] for i in range(n)],
                   "line": {"color": SCREEN["funnel-line"], "width": 1}},
        "connector": {"fillcolor": SCREEN["connector"], "line": {"width": 0}},
    }
    layout = {
        "template": template_json(wall=True), "margin": {"l": 118, "r": 10, "t": 4, "b": 4}, "funnelgap": 0.18,
        "yaxis": {"tickfont": {"color": SCREEN["text"]}, "gridcolor": "rgba(0,0,0,0)"},
        "xaxis": {"visible": False, "range": [-0.5 * top, 0.92 * top]},
    }
    return {"data": [trace], "layout": layout}


def create_split_bars(split: pd.DataFrame, *, title: str, selected: str | None = None,
                      height: int = 220) -> dict[str, Any]:
    """Two side-by-side bar panels per member (项目数 个 · 概算 万元); every bar carries its
    member in ``customdata`` for cross-filtering; members other than ``selected`` are faded."""
    opacity = [1.0 if selected in (None, m) else 0.3 for m in split["member"]]
    hover = _both(split["count"], split["budget"])
    members = split["member"].tolist()
    data = []
    for axis, field, unit, colour in (("", "count", "个", PRIMARY), ("2", "budget", "万元", TEAL)):
        values = [float(v) for v in split[field]]
        data.append({
            "type": "bar", "orientation": "h", "x": values, "y": members, "xaxis": f"x{axis}", "yaxis": f"y{axis}",
            "marker": {"color": colour, "opacity": opacity},
            "text": [fmt_value(v, unit) for v in values], "textposition": "auto", "insidetextanchor": "end",
            "customdata": [[m] for m in members], "hovertext": hover,
            "hovertemplate": "<b>%{y}</b>（" + title + "）<br>%{hovertext}<extra></extra>",
        })
    axis = {"showticklabels": False, "rangemode": "tozero"}
    heading = {"xref": "paper", "yref": "paper", "y": 1.0, "yanchor": "bottom", "showarrow": False,
               "font": {"size": 12, "color": MUTED}}
    layout = {
        "template": template(), "height": height, "showlegend": False,
        "margin": {"l": 70, "r": 16, "t": 28, "b": 24},
        "xaxis": {**axis, "domain": [0, 0.47]}, "xaxis2": {**axis, "domain": [0.53, 1]},
        "yaxis": {"autorange": "reversed", "automargin": True, "categoryorder": "array", "categoryarray": members},
        "yaxis2": {"matches": "y", "anchor": "x2", "showticklabels": False},
        "annotations": [{**heading, "x": 0.235, "text": "项目数（个）"},
                        {**heading, "x": 0.765, "text": "批复概算（万元）"}],
    }
    return {"data": data, "layout": layout}
