"""总览 · 一屏统览: headline KPI cards, a choropleth of the region's counties, a ranking."""

from __future__ import annotations

import dash
from dash import dcc, html

from components.bars import create_ranking_bar
from components.cards import create_empty, create_kpi_card
from components.maps import create_choropleth
from components.session import viewer_scope
from components.shell import create_filter_bar, month_options, region_options, url_param
from components.theme import GRAPH_CONFIG
from data.geo import geojson
from metrics.catalogue import load_catalogue
from metrics.errors import user_message
from metrics.dashboard import overview_data

dash.register_page(__name__, path="/", name="总览", title="总览 · 领导驾驶舱", order=0)


def layout(region: str | None = None, month: str | None = None, period: str = "ytd",
           kpi: str = "online_handling_rate", **_ignored):
    """The page as a pure function of its URL."""
    scope = viewer_scope()
    try:
        data = overview_data(region, month, period, kpi, scope=scope)
    except Exception as exc:  # noqa: BLE001 — shown to the user in Chinese, never as a traceback
        message = user_message(exc)
        if message is None:
            raise
        return html.Div([html.H2("总览"), html.Div(message, className="error-banner")], className="page")
    cat = load_catalogue()
    kpi_options = [{"label": k.name, "value": k.id} for k in cat.kpis.values() if k.family != "project" or k.is_rate]
    cards = [
        create_kpi_card(r, caliber=cat.kpi(r["kpi_id"]).caliber, source=cat.kpi(r["kpi_id"]).source,
                        higher_is_better=cat.kpi(r["kpi_id"]).higher_is_better, series=r["spark"],
                        card_id=f"overview-card-{r['kpi_id']}")
        for r in data["cards"]
    ]
    k = cat.kpi(data["kpi"])
    if data["map"].empty or data["map"]["value"].isna().all():
        map_view = create_empty()
    else:
        gj = geojson(data["province"], "county", parent_code=data["map_parent"])
        map_view = dcc.Graph(id="overview-map", config=GRAPH_CONFIG,
                             figure=create_choropleth(data["map"], gj, unit=k.unit, title=k.name,
                                                      higher_is_better=k.higher_is_better))
    ranking = data["ranking"]
    rank_view = (create_empty() if ranking.empty or ranking["value"].isna().all() else
                 dcc.Graph(id="overview-ranking", config=GRAPH_CONFIG,
                           figure=create_ranking_bar(ranking, unit=k.unit)))
    return html.Div(
        [
            html.Div([html.H2(f"一屏统览 · {data['region_name']}"),
                      html.Span(f"{data['period_label']}（{data['period_name']}） · 数据截至 {data['as_of']}",
                                className="page-sub")], className="page-head"),
            create_filter_bar(region_options(data["regions"]), data["region"], month_options(*data["months"]),
                              data["month"], data["period"]),
            html.Div(cards, className="kpi-grid", id="overview-cards"),
            html.Div(
                [
                    html.Section([html.Div([html.H3(data["map_title"]),
                                            url_param("kpi", dcc.Dropdown, options=kpi_options, value=data["kpi"],
                                                      clearable=False, className="kpi-select")],
                                           className="panel-head"),
                                  map_view], className="panel panel--map"),
                    html.Section([html.H3(f"{data['ranking_title']} · {k.name}（{data['period_name']}）"),
                                  rank_view], className="panel panel--rank"),
                ],
                className="panel-row",
            ),
        ],
        className="page",
    )
