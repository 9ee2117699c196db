"""The Plotly template of the light cockpit theme, built from the colour tokens
(``palette/tokens.toml``, theme ``light``): the pages' CSS variables come from the same file."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from palette import load_palette, rgba

LIGHT = load_palette().light
PRIMARY = LIGHT["primary"]
ACCENT = LIGHT["accent"]
INK = LIGHT["ink"]
MUTED = LIGHT["muted"]
GRID = LIGHT["grid"]
TEAL = LIGHT["teal"]
RAG_COLOURS = {rag: LIGHT.rag(rag) for rag in ("green", "amber", "red")} | {None: LIGHT.rag(None)}
SEQUENTIAL = list(LIGHT.list("sequential"))
COLORWAY = list(LIGHT.list("colorway"))
FONT_FAMILY = load_palette().fonts["sans"]


def primary_tint(alpha: float) -> str:
    """The primary colour at ``alpha``: forecast bands, sparkline fills."""
    return rgba(PRIMARY, alpha)


GRAPH_CONFIG = {"locale": "zh-CN", "displaylogo": False,
                "modeBarButtonsToRemove": ["lasso2d", "select2d"]}

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT_FAMILY, "color": INK, "size": 13},
        colorway=COLORWAY,
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
