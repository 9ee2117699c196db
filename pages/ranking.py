"""考核 · 综合评估排名: the composite index by region, its dimensions, the map and the weights."""

from __future__ import annotations

import dash
from dash import dcc, html

from components.cards import create_empty
from components.page import page_notice
from components.ranking_views import create_radar, create_ranking_table, create_score_map, create_weight_bar
from components.shell import click_graph, create_page_top, url_param
from components.theme import GRAPH_CONFIG
from data.geo import geojson
from metrics.format import fmt_value
from metrics.page_state import PageState
from metrics.ranking_view import LEVELS, ranking_page
from web.boundary_routes import boundary_url
from web.page_cache import cached_page
from web.session import viewer_scope

dash.register_page(__name__, path="/ranking", name="考核", title="考核 · 领导驾驶舱", order=5)

TITLE = "综合评估排名"
NORMALISATION = {"minmax": "同组标准化：各指标最优者 100 分、最差者 0 分",
                 "target": "按目标值标准化：达到目标记 100 分"}


@cached_page  # a repeat view of the same URL, scope, version and day (web/page_cache.py)
@page_notice(TITLE, "ranking")
def layout(region: str | None = None, month: str | None = None, level: str | None = None,
           focus: str | None = None, **_ignored):
    """The page as a pure function of its URL."""
    state = PageState.from_args(region=region, month=month, level=level, focus=focus)
    data = ranking_page(state.region, state.month, level, focus, scope=viewer_scope())
    href = state.href

    index, dims, period = data.index, data.dimensions, data.index_period
    controls = []
    if data.level == "province":
        controls.append(html.Label(["排名层级", url_param(
            "level", dcc.RadioItems, value=data.rank_level, inline=True, className="ranking-level",
            options=[{"label": name, "value": key} for key, name in LEVELS.items()])]))
    if data.ranked == 0:
        table = map_view = radar = create_empty()
    else:
        table = create_ranking_table(index, dims, focus=data.focus, href=href)
        shapes = geojson(data.province, data.rank_level, parent_code=data.map_parent)
        map_view = click_graph("focus", "ranking-map", config=GRAPH_CONFIG, figure=create_score_map(
            data.map, shapes, focus=data.focus, title=f"综合得分（{period}）",
            geojson_url=boundary_url(data.province, data.rank_level, data.map_parent)))
        row = data.focus_row
        radar = (create_empty("所选地区暂无得分") if row is None or row["score"] is None else
                 dcc.Graph(id="ranking-radar-graph", config=GRAPH_CONFIG, figure=create_radar(
                     row, data.average, dims, focus_name=row["region_name"], group=data.rank_title,
                     period=period)))
    row = data.focus_row
    focus_line = "" if row is None else f"{row['region_name']}：综合得分 {fmt_value(row['score'], '分')}" + (
        f"，第 {int(row['rank'])} 名（共 {data.ranked} 个）" if row["rank"] is not None else "")
    return html.Div(
        [
            *create_page_top("ranking", TITLE, data, state.as_dict(), extra_controls=controls, period_control=False),
            html.Div(
                [
                    html.Section([html.H3(f"{data.rank_title}综合得分（{period}）"),
                                  html.Div("点击地图或地区名称查看该地区各维度得分", className="ranking-hint"),
                                  html.Div(map_view, id="ranking-map")], className="panel ranking-panel-map"),
                    html.Section([
                        html.Div([html.H3(f"{data.rank_title}排名（{period}，变化{data.change_basis}）"),
                                  html.Span(NORMALISATION.get(data.normalisation, ""), className="ranking-hint")],
                                 className="panel-head ranking-head"),
                        html.Div(table, id="ranking-table-wrap", className="ranking-table-wrap"),
                    ], className="panel ranking-panel-table"),
                ],
                className="ranking-row-main",
            ),
            html.Div(
                [
                    html.Section([html.H3(f"维度得分对比（{period}）"),
                                  html.Div(focus_line, className="ranking-focus-line", id="ranking-focus-line"),
                                  html.Div(radar, id="ranking-radar")], className="panel ranking-panel-radar"),
                    html.Section([html.H3("维度权重"),
                                  dcc.Graph(id="ranking-weights-graph", config=GRAPH_CONFIG,
                                            figure=create_weight_bar(dims, source=data.config_source)),
                                  html.Div(f"权重为配置项：{data.config_source}，悬停查看各维度的构成指标及其权重",
                                           className="ranking-hint", id="ranking-weights-source"),
                                  ], className="panel ranking-panel-weights", id="ranking-weights"),
                ],
                className="ranking-row-bottom",
            ),
        ],
        className="page ranking-page",
    )
