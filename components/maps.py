"""Choropleth maps drawn from boundaries and a KPI table (no queries inside).

Drawn with ``Choroplethmap`` on the ``white-bg`` style: no tiles, no topojson, nothing
fetched from the network.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from components.theme import SCREEN, SEQUENTIAL, WALL_MAP_STYLE, fast_figure
from metrics.format import fmt_value

# each shape's extent, by the identity of its geometry: data/geo.py builds a layer's shapes once
# and shares them read-only, so a map's bounds cost a lookup per shape, not a walk of every
# coordinate (~10 ms a county map). The entry holds the geometry, so its id is never reused.
_EXTENTS: dict[int, tuple[dict, tuple[float, float, float, float]]] = {}


def _extent(geometry: dict) -> tuple[float, float, float, float]:
    hit = _EXTENTS.get(id(geometry))
    if hit is not None and hit[0] is geometry:
        return hit[1]
    xs, ys = [], []

    def walk(coords):
        if isinstance(coords[0], (int, float)):
            xs.append(coords[0])
            ys.append(coords[1])
        else:
            for c in coords:
                walk(c)

    walk(geometry["coordinates"])
    box = (min(xs), min(ys), max(xs), max(ys))
    if len(_EXTENTS) < 20_000:  # a province has a few hundred shapes; a bound against misuse
        _EXTENTS[id(geometry)] = (geometry, box)
    return box


def _bounds(geojson: dict) -> tuple[float, float, float, float]:
    boxes = [_extent(f["geometry"]) for f in geojson["features"]]
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def view_for(geojson: dict, width: int = 720, height: int = 520) -> tuple[dict, float]:
    """Centre and zoom that fit the shapes in a ``width`` × ``height`` map (China without shapes)."""
    if not any(f.get("geometry") for f in geojson.get("features", [])):
        return {"lon": 105.0, "lat": 35.0}, 2.5
    x0, y0, x1, y1 = _bounds(geojson)
    zx = math.log2(width * 360 / (max(x1 - x0, 1e-6) * 512))
    zy = math.log2(height * 2 * math.pi / (max(_mercator_y(y1) - _mercator_y(y0), 1e-9) * 512))
    return {"lon": (x0 + x1) / 2, "lat": (y0 + y1) / 2}, min(zx, zy) - 0.15


def create_choropleth(
    df: pd.DataFrame,
    geojson: dict,
    *,
    value_col: str = "value",
    unit: str = "%",
    title: str = "",
    higher_is_better: bool = True,
    height: int = 520,
    width: int = 720,
    geojson_url: str | None = None,
    wall: bool = False,
) -> go.Figure:
    """A choropleth of ``df`` (region_code, region_name, value…) over ``geojson`` features.

    Regions without a value are drawn grey and say 暂无数据 on hover. With ``geojson_url``
    (see :mod:`web.boundary_routes`) the figure references the shapes by URL instead of
    carrying them: the browser fetches and caches them once.

    ``wall``: the big screen's variant (its dark theme and type, no tiles at all); the layout
    keeps ``width`` × ``height``, the size its centre and zoom fit (the wall rescales the zoom
    to its panel).
    """
    codes = [f["properties"]["code"] for f in geojson["features"]]
    names = {f["properties"]["code"]: f["properties"]["name"] for f in geojson["features"]}
    data = pd.DataFrame({"region_code": codes}).merge(df, on="region_code", how="left")
    data["region_name"] = data["region_code"].map(names)
    has = data[value_col].notna()
    ranks = data["rank"] if "rank" in data else pd.Series([None] * len(data))
    data["hover"] = [
        f"<b>{n}</b><br>{fmt_value(v, unit)}" + (f"<br>排名 第{int(r)}" if pd.notna(r) else "")
        for n, v, r in zip(data["region_name"], data[value_col], ranks, strict=True)
    ]
    ramp = list(SCREEN.list("map-scale")) if wall else SEQUENTIAL
    colours = ramp if higher_is_better else ramp[::-1]
    scale = [[i / (len(colours) - 1), c] for i, c in enumerate(colours)]
    center, zoom = view_for(geojson, width=width, height=height)
    with_value = set(data.loc[has, "region_code"])
    # each trace carries only its own shapes: the boundaries are the bulk of the payload
    shapes_with = {"type": "FeatureCollection",
                   "features": [f for f in geojson["features"] if f["properties"]["code"] in with_value]}
    shapes_without = {"type": "FeatureCollection",
                      "features": [f for f in geojson["features"] if f["properties"]["code"] not in with_value]}
    if geojson_url:
        shapes_with = shapes_without = geojson_url
    line = {"color": SCREEN["map-line"], "width": 1.2} if wall else {"color": "#ffffff", "width": 0.8}
    grey = SCREEN["none"] if wall else "#d9dde3"
    colorbar = ({"thickness": 16, "len": 0.7, "x": 0.99, "outlinewidth": 0, "nticks": 4,
                 "ticksuffix": "%" if unit == "%" else "", "tickfont": {"color": SCREEN["ink"]}} if wall
                else {"title": {"text": unit}, "thickness": 12, "len": 0.6})
    traces = [
        {"type": "choroplethmap", "geojson": shapes_without, "featureidkey": "properties.code",
         "locations": data.loc[~has, "region_code"].tolist(), "z": [0] * int((~has).sum()),
         "colorscale": [[0, grey], [1, grey]], "showscale": False,
         "text": [f"<b>{n}</b><br>暂无数据" for n in data.loc[~has, "region_name"]],
         "hovertemplate": "%{text}<extra></extra>", "marker": {"line": line}, "name": "暂无数据"},
        {"type": "choroplethmap", "geojson": shapes_with, "featureidkey": "properties.code",
         "locations": data.loc[has, "region_code"].tolist(), "z": data.loc[has, value_col].astype(float).tolist(),
         "customdata": [[c] for c in data.loc[has, "region_code"]],
         "text": data.loc[has, "hover"].tolist(), "hovertemplate": "%{text}<extra></extra>",
         "colorscale": scale, "marker": {"line": line, "opacity": 0.92 if wall else 0.95},
         "colorbar": colorbar, "name": title},
    ]
    layout = {"height": height, "margin": {"l": 0, "r": 0, "t": 8, "b": 0},
              "map": {"style": "white-bg", "center": center, "zoom": zoom}, "showlegend": False, "uirevision": title}
    if wall:
        layout = {**layout, "width": width, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
                  "map": {**layout["map"], "style": WALL_MAP_STYLE}}
    # plain dicts: add_trace would deep-copy the boundaries per trace (~300 ms)
    return fast_figure(traces, layout, wall=wall)
