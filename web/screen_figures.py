"""The big screen's four charts, built once, on the server, by the pages' own chart builders.

Each figure is the builder's ``wall=True`` variant (the wall's dark theme of
``palette/tokens.toml`` and its type sizes) drawn from the same tables the screen's numbers come
from (:func:`metrics.screen_view.screen_frames`), and sent in ``/api/screen`` as plain Plotly JSON
(data and layout); ``assets/screen/screen.js`` only sizes each one to its panel and hands it to
``Plotly.react``. The map references its boundaries by URL (``web/boundary_routes.py``): the
browser fetches and caches them once, no refresh carries them again.
"""

from __future__ import annotations

from typing import Any

from components.maps import create_choropleth
from components.projects_charts import create_stage_funnel
from components.spending_charts import create_execution_curve
from components.theme import figure_json
from components.trends import create_trend
from data.geo import geojson
from data.scope import Scope
from metrics.cache import memo
from metrics.screen_view import ScreenFrames, screen_frames
from web.boundary_routes import boundary_url

# each chart's size on the 1920×1080 canvas (the client resizes it to its panel; the map's zoom
# is fitted to this size on the server and rescaled to the panel by the client)
SIZES = {"trend": (580, 250), "funnel": (580, 400), "map": (780, 520), "spending": (540, 180)}


def map_shapes(f: ScreenFrames) -> dict[str, Any]:
    """The boundaries under the screen's map: its level's regions, only those the map lists."""
    ov = f.overview
    shapes = geojson(ov.province, ov.map_level, parent_code=ov.map_parent)
    codes = set(ov.map["region_code"]) if len(ov.map) else set()
    return {**shapes, "features": [s for s in shapes["features"] if s["properties"]["code"] in codes]}


def trend_figure(f: ScreenFrames) -> dict[str, Any]:
    k = f.kpi
    return create_trend(f.trend, unit=k.unit, name=k.name, period_name=f.trend_name, forecast=f.forecast,
                        height=SIZES["trend"][1], wall=True)


def funnel_figure(f: ScreenFrames) -> dict[str, Any]:
    return create_stage_funnel(f.phases, measure="count", period_text=f.overview.period_label, wall=True)


def map_figure(f: ScreenFrames):
    ov, k = f.overview, f.kpi
    width, height = SIZES["map"]
    return create_choropleth(ov.map, map_shapes(f), unit=k.unit, title=k.name, higher_is_better=k.higher_is_better,
                             width=width, height=height, wall=True,
                             geojson_url=boundary_url(ov.province, ov.map_level, ov.map_parent))


def spending_figure(f: ScreenFrames) -> dict[str, Any]:
    year = int(f.curves["year"].iloc[-1]) if len(f.curves) else 0
    return create_execution_curve(f.curves, f.progress, year=year, height=SIZES["spending"][1], wall=True)


BUILDERS = {"trend": trend_figure, "funnel": funnel_figure, "map": map_figure, "spending": spending_figure}


@memo(maxsize=256)
def screen_figures(region: str, kpi_id: str, *, scope: Scope, month=None) -> dict[str, Any]:
    """The screen's charts as plain JSON, by panel: trend, funnel, map, spending."""
    f = screen_frames(region, kpi_id, scope=scope, month=month)
    return {name: figure_json(build(f)) for name, build in BUILDERS.items()}
