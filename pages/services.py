"""政务服务 · a service KPI on a drillable map, its trend (with forecast), the department
breakdown that cross-filters the page, the service items and the 12345 hotline."""

from __future__ import annotations

import json

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from components.bars import create_ranking_bar
from components.cards import create_empty, create_kpi_card
from components.maps import create_choropleth, view_for
from components.page import page_notice
from components.services_charts import create_filter_chip, create_stacked_bar, highlight_region, mark_bar
from components.shell import click_graph, create_page_top, url_param
from components.tables import create_grid, number_column
from components.theme import GRAPH_CONFIG
from components.trends import create_trend
from data.geo import geojson
from metrics.catalogue import load_catalogue
from metrics.display import kpi_display_fresh
from metrics.format import fmt_value
from metrics.page_state import PageState
from metrics.services_view import DEFAULT_KPI, FLAGS, ServicesPage, services_data
from web.boundary_routes import boundary_url
from web.page_cache import cached_page
from web.session import viewer_scope

dash.register_page(__name__, path="/services", name="政务服务", title="政务服务 · 领导驾驶舱", order=1)

PREFIX = "services"
MAP_HEIGHT = 440
MAP_FIT_WIDTH = 540


def forecast_on(fc) -> bool:
    """The toggle's URL value: ``1`` (or the checklist's list, as the shell writes it)."""
    return bool(fc) and "1" in str(fc)


@cached_page  # a repeat view of the same URL, scope, version and day (web/page_cache.py)
@page_notice("政务服务", PREFIX)
def layout(region: str | None = None, month: str | None = None, period: str = "ytd", kpi: str = DEFAULT_KPI,
           dept: str | None = None, item: str | None = None, fc: str | None = None, **_ignored):
    """The page as a pure function of its URL."""
    show_fc = forecast_on(fc)
    state = PageState.from_args(region=region, month=month, period=period, kpi=kpi, dept=dept, item=item,
                                fc="1" if show_fc else None)
    data = services_data(state.region, state.month, period, kpi, scope=viewer_scope(), dept=dept, item=item,
                         forecast=show_fc)
    cat = load_catalogue()
    k = cat.kpi(data.kpi)
    kpi_select = html.Label(["指标", url_param("kpi", dcc.Dropdown, options=data.kpi_options, value=k.id,
                                               clearable=False, searchable=True, className="kpi-select")])
    return html.Div(
        [
            *create_page_top(PREFIX, "政务服务", data, state.as_dict(), extra_controls=[kpi_select]),
            _filters(data, state),
            html.Div([_map_panel(data, k), _trend_panel(data, k, show_fc)], className="services-row services-row--a"),
            html.Div([_dept_panel(data, k), _hotline_panel(data)], className="services-row services-row--b"),
            html.Div([_items_panel(data), _item_panel(data, cat, state)], className="services-row services-row--c"),
        ],
        className="page services-page",
    )


# ------------------------------------------------------------------ panels


def _filters(data: ServicesPage, state: PageState) -> html.Div:
    """The active cross-filter (department) as a removable chip."""
    chips = []
    if data.dept:
        note = "" if data.dept_applies else "（当前指标不分部门，仅作用于事项表）"
        chips.append(create_filter_chip(f"部门：{data.dept_name}{note}", state.href(dept=None),
                                        f"{PREFIX}-chip-dept"))
    hint = html.Span("点击地图下钻地区，点击部门条形图按部门筛选，点击事项查看其走势", className="services-hint")
    return html.Div([*chips, hint], className="services-filters", id=f"{PREFIX}-filters")


def _map_panel(data: ServicesPage, k) -> html.Section:
    m, head = data.map, data.headline
    frame = m["frame"]
    if frame.empty or frame["value"].isna().all():
        view = create_empty()
    else:
        shapes = geojson(data.province, m["level"], parent_code=m["parent"])
        fig = create_choropleth(frame, shapes, unit=k.unit, title=f"{k.name}-{data.region}",
                                higher_is_better=k.higher_is_better, height=MAP_HEIGHT,
                                geojson_url=boundary_url(data.province, m["level"], m["parent"]))
        # fit the shapes in the narrowest panel (1366 wide): the factory's fit assumes 720 px
        center, zoom = view_for(shapes, width=MAP_FIT_WIDTH, height=MAP_HEIGHT)
        fig.update_layout(map={"center": center, "zoom": zoom})
        if m["highlight"]:
            highlight_region(fig, m["highlight"])
        view = click_graph("region", f"{PREFIX}-map", figure=fig, config=GRAPH_CONFIG)
    target = f" · 目标 {fmt_value(head['target'], k.unit)}" if head["target"] is not None else ""
    summary = html.Div(
        [html.Span(f"{head['region_name']} {k.name}（{data.kpi_period_text}）"),
         html.B(fmt_value(head["value"], k.unit), className="services-headline-value"),
         html.Span(target, className="services-headline-target")],
        className="services-headline", id=f"{PREFIX}-headline")
    return html.Section(
        [html.Div([html.H3(f"{m['title']} · {k.name}（{data.kpi_period_text}）"), summary], className="panel-head"),
         html.Div(view, id=f"{PREFIX}-map")],
        className="panel services-panel--map")


def _trend_panel(data: ServicesPage, k, show_fc: bool) -> html.Section:
    series = data.trend
    if series.empty or series["value"].isna().all():
        view = create_empty()
    else:
        fig = create_trend(series, unit=k.unit, name=k.name, period_name=data.kpi_period_text,
                           forecast=data.forecast, height=440)
        fig.update_traces(mode="lines", selector={"fill": "toself"})  # bands are areas, not dotted outlines
        view = dcc.Graph(figure=fig, config=GRAPH_CONFIG, id=f"{PREFIX}-trend-graph")
    options = [{"label": "显示预测", "value": "1", "disabled": not data.forecast_available}]
    toggle = url_param("fc", dcc.Checklist, options=options, value=["1"] if show_fc else [], inline=True,
                       className="services-fc")
    note = data.forecast_note if show_fc else ("" if data.forecast_available else "预测暂不可用")
    scope_text = f" · {data.dept_name}" if data.dept and data.dept_applies else ""
    return html.Section(
        [html.Div([html.H3(f"{data.region_name}{scope_text} · {k.name}（{data.kpi_period_text}）近24个月走势"),
                   html.Div([toggle, html.Span(note, className="services-fc-note", title=data.forecast_model,
                                               id=f"{PREFIX}-fc-note")], className="controls")],
                  className="panel-head"),
         html.Div(view, id=f"{PREFIX}-trend")],
        className="panel services-panel--trend")


def _dept_panel(data: ServicesPage, k) -> html.Section:
    df = data.depts
    title = f"各部门 · {k.name}（{data.kpi_period_text}）"
    if not data.dept_applies:
        view = create_empty("12345 热线指标不按部门划分")
    elif df.empty or df["value"].isna().all():
        view = create_empty()
    else:
        bars = df.rename(columns={"dept_code": "region_code", "dept_name": "region_name"})
        shown = bars.dropna(subset=["value"]).sort_values("rank", ascending=False)
        fig = create_ranking_bar(bars, unit=k.unit, height=max(260, 22 * len(shown) + 70))
        mark_bar(fig, list(shown["region_code"]), data.dept)
        view = click_graph("dept", f"{PREFIX}-depts", figure=fig, config=GRAPH_CONFIG)
    return html.Section([html.H3(title), html.Div(view, id=f"{PREFIX}-depts")], className="panel services-panel--depts")


def _hotline_panel(data: ServicesPage) -> html.Section:
    hot = data.hotline
    title = f"12345 政务服务便民热线 · {data.region_name}"
    if hot["denied"]:
        return html.Section([html.H3(title), create_empty(hot["denied"])], className="panel services-panel--hotline")
    cards = [create_kpi_card(kpi_display_fresh(r), card_id=f"{PREFIX}-hotline-{r['kpi_id']}-{r['period']}")
             for r in hot["cards"]]
    cats = hot["categories"]
    if cats.empty:
        chart = create_empty()
    else:
        fig = create_stacked_bar(cats, x="month", stack="category", value="received", unit="件",
                                 title="近12个月受理量（当月，按类别）", height=270)
        chart = dcc.Graph(figure=fig, config=GRAPH_CONFIG, id=f"{PREFIX}-hotline-graph")
    note = html.Span("热线工单不分部门，部门筛选不作用于本栏", className="services-hint") if data.dept else None
    return html.Section([html.Div([html.H3(title), note], className="panel-head"),
                         html.Div(cards, className="services-hotline-cards", id=f"{PREFIX}-hotline-cards"),
                         html.Div(chart, id=f"{PREFIX}-hotline")],
                        className="panel services-panel--hotline")


_HEAD = {"wrapHeaderText": True, "autoHeaderHeight": True}
ITEM_COLUMNS = [
    {"field": "item_code", "headerName": "事项编码", "minWidth": 84, "pinned": "left", **_HEAD},
    {"field": "item_name", "headerName": "事项名称", "minWidth": 170, "pinned": "left", "tooltipField": "item_name"},
    {"field": "dept_name", "headerName": "部门", "minWidth": 110, "tooltipField": "dept_name"},
    {"field": "item_type", "headerName": "事项类型", "minWidth": 96, "tooltipField": "item_type", **_HEAD},
    {"field": "audience", "headerName": "服务对象", "minWidth": 64, **_HEAD},
    number_column("applications", "办件量（件）", digits=0, minWidth=84, **_HEAD),
    number_column("online_applications", "网上办件量（件）", digits=0, minWidth=96, **_HEAD),
    number_column("online_handling_rate", "网上办件率", suffix="%", minWidth=80, **_HEAD),
    number_column("on_time_rate", "按时办结率", suffix="%", minWidth=80, **_HEAD),
    number_column("satisfaction_rate", "好评率", suffix="%", minWidth=80, **_HEAD),
    *({"field": f, "headerName": name, "minWidth": 72, "filter": "agTextColumnFilter", "tooltipField": f"{f}_detail",
       **_HEAD}
      for f, name in FLAGS.items()),
]


def _items_panel(data: ServicesPage) -> html.Section:
    df = data.items
    dept = f" · {data.dept_name}" if data.dept else ""
    title = f"政务服务事项{dept}（{data.period_label}，{data.period_name}；办件为期间合计，标志取期末）"
    if df.empty:
        view = create_empty()
    else:
        selected = json.dumps(data.item["info"]["item_code"] if data.item else "")
        view = create_grid(df[["item_code", "item_name", "dept_name", "item_type", "audience", "applications",
                               "online_applications", "online_handling_rate", "on_time_rate", "satisfaction_rate",
                               *FLAGS, *(f"{f}_detail" for f in FLAGS)]],
                           ITEM_COLUMNS, grid_id=f"{PREFIX}-items", height=440, row_id="item_code",
                           rowClassRules={"services-row-selected": f"params.data.item_code === {selected}"},
                           tooltipShowDelay=300)
    return html.Section([html.H3(title), html.Div(view, id=f"{PREFIX}-items-box")],
                        className="panel services-panel--items")


def _item_panel(data: ServicesPage, cat, state: PageState) -> html.Section:
    hist = data.item
    if hist is None:
        return html.Section([html.H3("事项走势"), create_empty("点击左侧表格中的事项，查看其近24个月走势")],
                            className="panel services-panel--item", id=f"{PREFIX}-item")
    info, k = hist["info"], cat.kpi(hist["kpi"])
    series = hist["series"]
    if series.empty or series["value"].isna().all():
        view = create_empty()
    else:
        fig = create_trend(series, unit=k.unit, name=k.name, period_name="当月", height=300)
        view = dcc.Graph(figure=fig, config=GRAPH_CONFIG, id=f"{PREFIX}-item-graph")
    meta = (f"{info['dept_name']} · {info['item_type']} · {info['audience']} · "
            f"法定时限 {info['statutory_days']} 个工作日，承诺时限 {info['promised_days']} 个工作日")
    return html.Section(
        [html.Div([html.H3(f"{info['item_name']}（{info['item_code']}）"),
                   dcc.Link("✕ 关闭", href=state.href(item=None), className="chip-remove",
                            id=f"{PREFIX}-item-close")], className="panel-head"),
         html.Div(meta, className="services-item-meta"),
         html.Div(f"{data.region_name} · {k.name}（当月）", className="services-item-kpi"),
         view],
        className="panel services-panel--item", id=f"{PREFIX}-item")


# ------------------------------------------------------------------ callbacks


def item_search(cell: dict | None, search: str | None):
    """The query string with ``item`` set to the clicked row's item code (no_update if none)."""
    code = (cell or {}).get("rowId")
    state = PageState.from_query(search)
    if not code or state.get("item") == code:
        return no_update
    return state.changed(item=code).query


@callback(
    Output("shell-url", "search", allow_duplicate=True),
    Input(f"{PREFIX}-items", "cellClicked"),
    State("shell-url", "search"),
    prevent_initial_call=True,
)
def select_item(cell, search):
    """A click on a service item puts it in the URL: the page then shows its history."""
    return item_search(cell, search)
