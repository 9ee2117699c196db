"""资金 · 预算执行: execution against 序时进度 — cards, the cumulative curve by year, splits by
department / fund source / kind, the regions and owner units below time progress, and the
drill-through from a unit to its projects and a project's monthly payments."""

from __future__ import annotations

from dataclasses import replace

import dash
import pandas as pd
from dash import ALL, Input, Output, State, callback, dcc, html, no_update

from components.cards import create_empty
from components.page import page_notice
from components.shell import click_graph, create_page_top, url_param
from components.spending_charts import (
    create_execution_bars,
    create_execution_curve,
    create_payment_bars,
    create_spending_card,
)
from components.tables import LOCALE_TEXT, create_grid, number_column
from components.theme import GRAPH_CONFIG
from metrics.display import kpi_display_fresh
from metrics.format import fmt_value
from metrics.page_state import PageContext, PageState, page_context
from metrics.spending_view import SpendingPage, execution_forecast, spending_page
from web.page_cache import cached_page
from web.session import viewer_scope

dash.register_page(__name__, path="/spending", name="资金", title="资金 · 领导驾驶舱", order=2)

TITLE = "资金预算执行"
GRID_TEXT = {**LOCALE_TEXT, "pageSizeSelectorLabel": "每页行数", "nextPage": "下一页", "previousPage": "上一页",
             "firstPage": "首页", "lastPage": "末页"}
WRAP = {"wrapHeaderText": True, "autoHeaderHeight": True}  # long Chinese headers in narrow panels
SMALL_GRAPH = {**GRAPH_CONFIG, "displayModeBar": False}  # the mode bar would cover the 序时进度 label
# clicking a row of one of these grids writes its row id into the URL parameter of the same name
GRID_PARAMS = {"region": ("unit", "project"), "unit": ("project",), "project": ()}
RAG_CELL = {"cellClassRules": {"spending-rag spending-rag--red": "params.data.rag == 'red'",
                               "spending-rag spending-rag--amber": "params.data.rag == 'amber'",
                               "spending-rag spending-rag--green": "params.data.rag == 'green'"}}
EXEC_COLUMNS = [
    number_column("budget", "年度预算（万元）"),
    number_column("paid", "累计支付（万元）"),
    number_column("execution", "执行率（累计）", suffix="%"),
    number_column("gap", "与序时进度差（个百分点）"),
    {"field": "rag_label", "headerName": "状态", "maxWidth": 100, **RAG_CELL},
]


@cached_page  # a repeat view of the same URL, scope, version and day (web/page_cache.py)
@page_notice(TITLE, "spending")
def layout(region: str | None = None, month: str | None = None, dept: str | None = None, unit: str | None = None,
           project: str | None = None, show: str = "below", fc: str | None = None, **_ignored):
    """The page as a pure function of its URL."""
    state = PageState.from_args(region=region, month=month, dept=dept, unit=unit, project=project, show=show,
                                fc=fc)
    scope = viewer_scope()
    ctx = page_context(state.region, state.month, "ytd", scope=scope, periods=("ytd",))
    data = spending_page(ctx.region, ctx.month, scope=scope, dept=dept, unit=unit, project=project, show=show)
    if fc == "1" and not dept:  # the forecast overlay: the forecast engine has no department split
        data = replace(data, forecast=execution_forecast(ctx.region, ctx.month, scope=scope))
    show_control = html.Label(["单位列表", url_param(
        "show", dcc.RadioItems, value=show, inline=True, className="spending-show",
        options=[{"label": "仅低于序时进度", "value": "below"}, {"label": "全部", "value": "all"}])])
    return html.Div(
        [
            *create_page_top("spending", TITLE, ctx, state.as_dict(), extra_controls=[show_control],
                             period_control=False),
            _chips(data),
            html.Div([create_spending_card(kpi_display_fresh(c), card_id=f"spending-card-{c['kpi_id']}")
                      for c in data.cards],
                     className="kpi-grid spending-cards", id="spending-cards"),
            html.Div([_curve_panel(data), _fund_kind_panel(data)], className="spending-row spending-row--top"),
            html.Div([_dept_panel(data), _regions_panel(data, ctx)], className="spending-row spending-row--mid"),
            _units_panel(data),
            html.Div([_unit_projects_panel(data, ctx), _project_panel(data)],
                     className="spending-row spending-row--drill", id="spending-drill"),
        ],
        className="page spending-page",
    )


# ------------------------------------------------------------------ panels


def _chips(data: SpendingPage) -> html.Div:
    """The active cross-filters and selections, each removable."""
    chips = []
    for name, label, value in (("dept", "部门", data.dept_name), ("unit", "项目单位", data.unit),
                               ("project", "项目", data.project)):
        if value:
            chips.append(html.Span([f"{label}：{value}",
                                    html.Button("×", id={"type": "spending-clear", "name": name},
                                                className="spending-chip-x", title=f"移除{label}筛选")],
                                   className="spending-chip", id=f"spending-chip-{name}"))
    return html.Div(chips, className="spending-chips", id="spending-chips")


def _panel(title, body, *, hint: str | None = None, extra=None, class_name: str = "", panel_id=None):
    head = [html.H3(title)]
    if hint:
        head.append(html.Span(hint, className="spending-hint"))
    props = {"id": panel_id} if panel_id else {}
    return html.Section([html.Div(head + list(extra or []), className="panel-head"), body],
                        className=f"panel {class_name}".strip(), **props)


def _curve_panel(data: SpendingPage) -> html.Section:
    curves = data.curves
    year = data.year
    forecast = data.forecast
    body = (create_empty() if curves.empty else
            dcc.Graph(id="spending-curve", config=GRAPH_CONFIG,
                      figure=create_execution_curve(curves, data.progress_line, year=year, forecast=forecast)))
    toggle = url_param("fc", dcc.Checklist, options=[{"label": "显示预测", "value": "1"}],
                       value=["1"] if forecast is not None else [], inline=True, className="spending-fc")
    return _panel(f"预算执行进度（累计） · {year - 2}—{year}年对比", body,
                  hint="虚线为序时进度（月份 ÷ 12）", class_name="spending-curve", extra=[toggle])


def _split_figure(df: pd.DataFrame, data: SpendingPage, graph_id: str, *, left: int = 70):
    if df.empty or df["value"].isna().all():
        return create_empty()
    return dcc.Graph(id=graph_id, config=SMALL_GRAPH,
                     figure=create_execution_bars(df, time_progress=data.time_progress, left=left))


def _fund_kind_panel(data: SpendingPage) -> html.Section:
    body = html.Div([
        html.H4("按资金来源"), _split_figure(data.by_fund, data, "spending-fund"),
        html.H4("按类别（建设 / 运维）"), _split_figure(data.by_kind, data, "spending-kind"),
    ], className="spending-splits")
    scope_note = f"（{data.dept_name}）" if data.dept_name else ""
    return _panel(f"预算执行率（累计）分资金来源、类别{scope_note}", body, class_name="spending-split-panel")


def _dept_panel(data: SpendingPage) -> html.Section:
    df = data.by_dept
    if df.empty or df["value"].isna().all():
        body = create_empty()
    else:
        fig = create_execution_bars(df, time_progress=data.time_progress, selected=data.dept, left=130)
        body = click_graph("dept", "spending-dept", figure=fig, config=SMALL_GRAPH)
    return _panel("各部门预算执行率（累计）", html.Div(body, id="spending-dept"), hint="点击柱条按部门筛选全页")


def _records(df: pd.DataFrame) -> pd.DataFrame:
    """A frame the grid can serialise: missing values as null."""
    return df.astype(object).where(df.notna(), None)


def _regions_panel(data: SpendingPage, ctx: PageContext) -> html.Section:
    df = data.regions
    if ctx.level == "county":
        body = create_empty("县（市、区）无下级地区")
    elif not data.regions_total:
        body = create_empty()
    elif df.empty:
        body = create_empty("下级地区均达到序时进度")
    else:
        columns = [{"field": "region_name", "headerName": "地区", "minWidth": 100}, *EXEC_COLUMNS]
        body = create_grid(_records(df), columns, grid_id={"type": "spending-grid", "name": "region"},
                           row_id="region_code", height=min(520, 50 + 42 * len(df)), localeText=GRID_TEXT)
    below = "全部下级地区" if data.show == "all" else "低于序时进度的下级地区"
    kids = "各设区市" if ctx.level == "province" else "各县（市、区）"
    return _panel(f"{kids} · {below}（{data.period_label}）", html.Div(body, id="spending-regions"),
                  hint="点击地区下钻")


def _units_panel(data: SpendingPage) -> html.Section:
    df = data.units
    if not data.units_total:
        body = create_empty()
    elif df.empty:
        body = create_empty("所有项目单位均达到序时进度")
    else:
        df = _records(df.assign(selected=df["owner_unit"] == data.unit))
        columns = [{"field": "owner_unit", "headerName": "项目单位", "minWidth": 200},
                   {"field": "owner_level", "headerName": "层级", "maxWidth": 90},
                   {"field": "region_label", "headerName": "所在地区", "minWidth": 130},
                   number_column("projects", "项目数", digits=0, maxWidth=100),
                   number_column("budget_wan", "年度预算（万元）"), number_column("paid_wan", "累计支付（万元）"),
                   number_column("execution", "执行率（累计）", suffix="%"),
                   number_column("gap", "与序时进度差（个百分点）"),
                   {"field": "rag_label", "headerName": "状态", "maxWidth": 100, **RAG_CELL}]
        body = create_grid(df, columns, grid_id={"type": "spending-grid", "name": "unit"}, row_id="owner_unit",
                           height=min(460, 50 + 42 * len(df)), localeText=GRID_TEXT,
                           rowClassRules={"spending-row--selected": "params.data.selected"})
    count = f"低于序时进度 {data.units_below} 个 / 共 {data.units_total} 个"
    return _panel(f"项目单位预算执行（{data.period_label}，序时进度 {fmt_value(data.time_progress, '%')}）",
                  html.Div(body, id="spending-units"), hint=f"{count} · 按差距从大到小 · 点击单位查看其项目",
                  class_name="spending-units-panel")


def _unit_projects_panel(data: SpendingPage, ctx: PageContext) -> html.Section:
    unit, df = data.unit, data.unit_projects
    if not unit:
        body = html.Div("点击上方「项目单位」表中的一个单位，查看其项目的预算与支付。",
                        className="spending-placeholder")
    elif df is None or df.empty:
        body = create_empty(f"「{unit}」在{ctx.region_name}没有可查看的项目")
    else:
        df = _records(df.assign(selected=df["project_id"] == data.project))
        columns = [{"field": "name", "headerName": "项目名称", "minWidth": 200, "tooltipField": "name", **WRAP},
                   number_column("budget_wan", f"{data.year}年预算（万元）", **WRAP),
                   number_column("paid_wan", "累计支付（万元）", **WRAP),
                   number_column("execution", "执行率（累计）", suffix="%", **WRAP),
                   number_column("gap", "与序时进度差（个百分点）", **WRAP),
                   number_column("approved_budget", "批复概算（万元）", **WRAP),
                   number_column("paid_since_approval", "批复以来支付（万元）", **WRAP)]
        body = create_grid(df, columns, grid_id={"type": "spending-grid", "name": "project"}, row_id="project_id",
                           height=min(380, 70 + 42 * len(df)), localeText=GRID_TEXT,
                           rowClassRules={"spending-row--selected": "params.data.selected"})
    title = f"「{unit}」的项目（{data.period_label}）" if unit else "单位项目"
    return _panel(title, html.Div(body, id="spending-unit-projects"), hint="点击项目查看逐月支付" if unit else None)


def _project_panel(data: SpendingPage) -> html.Section:
    project, d = data.project, data.project_detail
    if not project:
        return _panel("项目支付明细", html.Div("选择一个项目后，这里显示其逐月支付（月份、类别、资金来源、金额）。",
                                            className="spending-placeholder"), panel_id="spending-project")
    if d is None:
        return _panel("项目支付明细", create_empty(f"未找到项目：{project}（或无权查看）"), panel_id="spending-project")
    facts = html.Dl([
        *_fact("建设单位", d["owner_unit"]), *_fact("所在地区", d["county_name"]), *_fact("主管部门", d["dept_name"]),
        *_fact("资金来源", d["fund_source"]), *_fact("批复概算", fmt_value(d["approved_budget"], "万元")),
        *_fact("批复日期", d["approved_on"] or "—"),
        *_fact(f"{d['year']}年累计支付", f"{fmt_value(d['paid_year'], '万元', digits=2)}（{data.period_label}）"),
        *_fact("批复以来累计支付", f"{fmt_value(d['paid_since_approval'], '万元', digits=2)}（截至 {d['month_end']}）"),
    ], className="spending-facts")
    pays = d["payments"]
    if pays.empty:
        chart, table = create_empty("批复以来暂无支付"), None
    else:
        chart = dcc.Graph(id="spending-payments-chart", config=GRAPH_CONFIG, figure=create_payment_bars(pays))
        rows = _records(pays.assign(month=pays["month"].dt.strftime("%Y年%m月")).iloc[::-1])
        table = create_grid(rows, [{"field": "month", "headerName": "月份"}, {"field": "kind", "headerName": "类别"},
                                   {"field": "fund_source", "headerName": "资金来源"},
                                   number_column("amount_wan", "当月支付（万元）", digits=2)],
                            grid_id="spending-payments-grid", height=min(300, 50 + 42 * len(rows)),
                            localeText=GRID_TEXT)
    link = dcc.Link("查看项目详情 ›", href=PageState.from_args(project=d["project_id"]).href("/projects"),
                    id="spending-project-link", className="spending-link")
    return _panel(f"{d['name']} · 支付明细（批复以来）", html.Div([facts, chart, table], id="spending-project-body"),
                  extra=[link], panel_id="spending-project")


def _fact(name: str, value: str) -> list:
    return [html.Dt(name), html.Dd(value)]


# ------------------------------------------------------------------ callbacks


def grid_click_search(name: str, row_id: str | None, search: str | None) -> str | None:
    """The query string after clicking row ``row_id`` of grid ``name`` (None: nothing to do).

    A region drills down (forgetting the unit and project), a unit opens its projects
    (forgetting the project), a project opens its payments."""
    if not row_id or name not in GRID_PARAMS:
        return None
    state = PageState.from_query(search)
    if state.get(name) == row_id:
        return None
    return state.changed(**{name: row_id}).without(*GRID_PARAMS[name]).query


def clear_search(name: str, search: str | None) -> str | None:
    """The query string without the filter ``name`` (a unit takes its project with it)."""
    state = PageState.from_query(search)
    drop = (name, "project") if name == "unit" else (name,)
    if not any(k in state for k in drop):
        return None
    return state.without(*drop).query


@callback(
    Output("shell-url", "search", allow_duplicate=True),
    Input({"type": "spending-grid", "name": ALL}, "cellClicked"),
    State("shell-url", "search"),
    prevent_initial_call=True,
)
def on_grid_click(cells, search):
    """A click on a region, unit or project row writes it into the URL."""
    trigger = dash.ctx.triggered_id
    if not trigger:
        return no_update
    ids = [i["id"] for i in dash.ctx.inputs_list[0]]
    cell = cells[ids.index(trigger)] or {}
    out = grid_click_search(trigger["name"], cell.get("rowId"), search)
    return no_update if out is None else out


@callback(
    Output("shell-url", "search", allow_duplicate=True),
    Input({"type": "spending-clear", "name": ALL}, "n_clicks"),
    State("shell-url", "search"),
    prevent_initial_call=True,
)
def on_clear(clicks, search):
    """The × of a chip removes that filter from the URL."""
    trigger = dash.ctx.triggered_id
    ids = [i["id"] for i in dash.ctx.inputs_list[0]]
    if not trigger or not clicks[ids.index(trigger)]:  # a chip mounting, not a click
        return no_update
    out = clear_search(trigger["name"], search)
    return no_update if out is None else out
