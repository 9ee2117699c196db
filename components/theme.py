"""Colours and the Plotly template of the light cockpit theme."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

PRIMARY = "#1f4e9c"
ACCENT = "#c8102e"
INK = "#1d2733"
MUTED = "#6b7785"
GRID = "#e6eaf0"
RAG_COLOURS = {"green": "#2e8b57", "amber": "#e6a23c", "red": "#d64541", None: "#9aa5b1"}
SEQUENTIAL = ["#e8f0fb", "#b9cfee", "#7fa6dc", "#4a7cc4", "#1f4e9c", "#12336b"]
FONT_FAMILY = "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"

GRAPH_CONFIG = {"locale": "zh-CN", "displaylogo": False,
                "modeBarButtonsToRemove": ["lasso2d", "select2d"]}

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT_FAMILY, "color": INK, "size": 13},
        colorway=[PRIMARY, ACCENT, "#2a9d8f", "#e9c46a", "#8e6fbf", "#f4a261", "#5c7c99"],
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 48, "r": 16, "t": 36, "b": 40},
        hoverlabel={"font": {"family": FONT_FAMILY}},
        separators=".,",
        xaxis={"gridcolor": GRID, "zeroline": False},
        yaxis={"gridcolor": GRID, "zeroline": False},
    )
)
pio.templates["cockpit"] = TEMPLATE
TEMPLATE_JSON = TEMPLATE.to_plotly_json()


def fast_figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain dicts, the cockpit template inlined, without Plotly's per-property
    validation (which costs ~10 ms a figure: the overview draws a dozen per click).
    For figures whose dicts are written in this code base, never for outside input."""
    return go.Figure({"data": data, "layout": {"template": TEMPLATE_JSON, **layout}}, _validate=False)
