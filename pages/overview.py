"""总览 · 一屏统览: headline KPI cards, a drillable map, the children ranking."""

from __future__ import annotations

import dash
from dash import dcc, html

from components.alerts import create_alert_list
from components.bars import create_ranking_bar
from components.cards import create_empty, create_kpi_card
from components.maps import create_choropleth
from components.page import page_notice
from components.shell import click_graph, create_page_top, url_param
from components.theme import GRAPH_CONFIG
from data.geo import geojson
from metrics.access import visible_kpis
from metrics.catalogue import load_catalogue
from metrics.display import kpi_display, kpi_display_fresh
from metrics.overview_view import overview_data
from metrics.page_state import PageState
from metrics.regions import region_tree
from web.boundary_routes import boundary_url
from web.page_cache import cached_page
from web.session import viewer_scope

dash.register_page(__name__, path="/", name="总览", title="总览 · 领导驾驶舱", order=0)


@cached_page  # a repeat view of the same URL, scope, version and day (web/page_cache.py)
@page_notice("一屏统览", "overview")
def layout(region: str | None = None, month: str | None = None, period: str = "ytd",
           kpi: str = "online_handling_rate", level: str = "county", **_ignored):
    """The page as a pure function of its URL."""
    state = PageState.from_args(region=region, month=month, period=period, kpi=kpi, level=level)
    scope = viewer_scope()
    data = overview_data(region, state.month_text, period, kpi, scope=scope, map_level=level)
    cat = load_catalogue()
    k = cat.kpi(data.kpi)
    cards = [
        create_kpi_card(kpi_display_fresh(r), series=r["spark"], card_id=f"overview-card-{r['kpi_id']}")
        for r in data.cards
    ]
    if data.map.empty or data.map["value"].isna().all():
        map_view = create_empty()
    else:
        shapes = geojson(data.province, data.map_level, parent_code=data.map_parent)
        visible = {r.code for r in region_tree(scope=scope)}  # a county viewer's map is their county alone
        shapes = {**shapes, "features": [f for f in shapes["features"] if f["properties"]["code"] in visible]}
        fig = create_choropleth(data.map, shapes, unit=k.unit, title=k.name, higher_is_better=k.higher_is_better,
                                geojson_url=boundary_url(data.province, data.map_level, data.map_parent))
        map_view = click_graph("region", "overview-map", figure=fig, config=GRAPH_CONFIG)
    ranking = data.ranking
    rank_view = (create_empty() if ranking.empty or ranking["value"].isna().all() else
                 click_graph("region", "overview-ranking", config=GRAPH_CONFIG,
                             figure=create_ranking_bar(ranking, unit=k.unit)))
    shown = set(visible_kpis(scope))  # a department user's list has only the KPIs split by department
    kpi_options = [{"label": x.name, "value": x.id} for x in cat.kpis.values() if x.id in shown]
    map_controls = [url_param("kpi", dcc.Dropdown, options=kpi_options, value=data.kpi, clearable=False,
                              className="kpi-select")]
    if data.lineage[-1].level == "province":
        map_controls.insert(0, url_param("level", dcc.RadioItems, value=data.map_level, inline=True,
                                         options=[{"label": "设区市", "value": "city"},
                                                  {"label": "县（市、区）", "value": "county"}],
                                         className="map-level"))
    return html.Div(
        [
            *create_page_top("overview", "一屏统览", data, state.as_dict()),
            html.Div(cards, className="kpi-grid", id="overview-cards"),
            html.Div(
                [
                    html.Section([html.Div([html.H3(data.map_title), html.Div(map_controls, className="controls")],
                                           className="panel-head"),
                                  html.Div(map_view, id="overview-map")], className="panel panel--map"),
                    html.Section([html.H3(f"{data.ranking_title} · {k.name}（{data.period_name}）"),
                                  html.Div(rank_view, id="overview-ranking")], className="panel panel--rank"),
                    html.Section([html.H3("预警"), create_alert_list(
                        [kpi_display(r) for r in data.red_kpis], data.alert_summary, data.top_alerts,
                        prefix="overview")],
                                 className="panel panel--alerts"),
                ],
                className="panel-row panel-row--three",
            ),
        ],
        className="page",
    )
