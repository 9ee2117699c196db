"""The Plotly templates of the cockpit, built from the colour tokens (``palette/tokens.toml``):
the light theme of the pages (``light``, whose CSS variables come from the same file) and the
dark wall theme of the big screen (``screen``, the ``wall=True`` variant of the chart builders)."""

from __future__ import annotations

from typing import Any

import orjson
import plotly.graph_objects as go
import plotly.io as pio
from plotly.io.json import to_json_plotly

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
SCREEN = load_palette().screen  # the wall's colours
WALL_FONT_SIZE = 24  # the smallest type on the wall's 1920×1080 canvas, read from five metres


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


# the wall: transparent panels on its dark background, large type, faint grid, no legend (each
# panel's heading names what it shows); the client sets each figure's size to its panel's
WALL_TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT_FAMILY, "color": SCREEN["ink"], "size": WALL_FONT_SIZE},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 80, "r": 16, "t": 8, "b": 40},
        showlegend=False,
        separators=".,",
        xaxis={"gridcolor": SCREEN["grid"], "showline": True, "linecolor": SCREEN["axis"], "zeroline": False},
        yaxis={"gridcolor": SCREEN["grid"], "showline": True, "linecolor": SCREEN["axis"], "zeroline": False},
    )
)
pio.templates["cockpit-wall"] = WALL_TEMPLATE
WALL_TEMPLATE_JSON = WALL_TEMPLATE.to_plotly_json()
# a MapLibre style with no tiles, glyphs or sprites: nothing to fetch, the wall's panel shows through
WALL_MAP_STYLE = {"version": 8, "sources": {}, "layers": [
    {"id": "background", "type": "background", "paint": {"background-color": "rgba(0,0,0,0)"}}]}


def template_json(wall: bool = False) -> dict[str, Any]:
    """The cockpit template (or the wall's) as a plain dict, to inline in a figure's layout."""
    return WALL_TEMPLATE_JSON if wall else TEMPLATE_JSON


def fast_figure(data: list[dict], layout: dict, *, wall: bool = False) -> go.Figure:
    """A figure from plain dicts, the cockpit template (``wall``: the wall's) inlined, without
    Plotly's per-property validation (which costs ~10 ms a figure: the overview draws a dozen
    per click). For figures whose dicts are written in this code base, never for outside input."""
    return go.Figure({"data": data, "layout": {"template": template_json(wall), **layout}}, _validate=False)


def figure_json(fig) -> dict[str, Any]:
    """A figure (``go.Figure`` or its dict) as plain JSON data, as Dash would send it: numpy arrays
    as Plotly's typed arrays, dates as ISO strings, NaN as null (what ``/api/screen`` carries)."""
    return orjson.loads(to_json_plotly(fig, engine="orjson"))
