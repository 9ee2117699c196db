"""项目 · 数字化项目建设管理: portfolio KPIs, the lifecycle funnel, tiers, rule alerts,
one owner unit's Gantt and a project's detail, all as of the end of the selected month."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from components.cards import create_empty, create_kpi_card
from components.page import page_notice
from components.projects_charts import create_split_bars, create_stage_funnel
from components.projects_detail import create_project_detail
from components.projects_gantt import create_gantt
from components.shell import click_graph, create_page_top, url_param
from components.tables import create_grid, number_column
from components.theme import GRAPH_CONFIG
from metrics.display import kpi_display_fresh
from metrics.page_state import PageState
from metrics.projects_view import ProjectsPage, project_detail, projects_view
from metrics.rules import BREACH
from web.page_cache import cached_page
from web.session import viewer_scope

dash.register_page(__name__, path="/projects", name="项目", title="项目 · 领导驾驶舱", order=3)

TITLE = "数字化项目建设管理"
STATIC_CONFIG = {**GRAPH_CONFIG, "displayModeBar": False}  # the toolbar would cover titles and the month-end label
URL_KEYS = ("region", "month", "tier", "funnel", "rule", "unit", "project")
PATH = "/projects"


def _cards(data: ProjectsPage) -> html.Div:
    return html.Div([create_kpi_card(kpi_display_fresh(c), card_id=f"projects-card-{c['kpi_id']}")
                     for c in data.cards],
                    className="kpi-grid projects-cards", id="projects-cards")


def _funnel_panel(data: ProjectsPage) -> html.Section:
    funnel = data.funnel
    view = (create_empty() if funnel["count"].sum() == 0 else
            dcc.Graph(id="projects-funnel-graph", config=STATIC_CONFIG,
                      figure=create_stage_funnel(funnel, measure=data.funnel_measure,
                                                 period_text=data.stock_label)))
    toggle = url_param("funnel", dcc.RadioItems, value=data.funnel_measure, inline=True,
                       options=[{"label": "按项目数", "value": "count"}, {"label": "按概算", "value": "budget"}],
                       className="projects-funnel-toggle")
    scope_text = f" · {data.tier}项目" if data.tier else ""
    return html.Section([html.Div([html.H3(f"生命周期各阶段（{data.stock_label}{scope_text}）"), toggle],
                                  className="panel-head"),
                         html.Div(view, id="projects-funnel")], className="panel")


def _split_panel(data: ProjectsPage) -> html.Section:
    tiers, cats = data.tiers, data.categories
    tier_view = (create_empty() if tiers["count"].sum() == 0 else
                 click_graph("tier", "projects-tier", config=STATIC_CONFIG,
                             figure=create_split_bars(tiers, title=data.stock_label, selected=data.tier)))
    cat_view = (create_empty() if cats["count"].sum() == 0 else
                dcc.Graph(id="projects-category-graph", config=STATIC_CONFIG,
                          figure=create_split_bars(cats, title=data.stock_label, height=240)))
    return html.Section(
        [html.H3(f"按档次（{data.stock_label} · 点击档次筛选漏斗、预警与进度图）"),
         html.Div(tier_view, id="projects-tier"),
         html.H3(f"按类别（{data.stock_label} · 全部档次）"), html.Div(cat_view, id="projects-category")],
        className="panel")


def _rule_chips(data: ProjectsPage, state: PageState) -> html.Div:
    summary = data.alert_summary
    breach = summary["severity"] == BREACH
    chips = [dcc.Link([html.Span("全部预警"), html.B(f"{int(summary.loc[breach, 'count'].sum())}")],
                      href=state.href(PATH, rule=None), id="projects-rule-all",
                      className="projects-chip" + ("" if data.rule else " projects-chip--active"))]
    for r in summary.itertuples():
        # a reminder (即将到期) is not a breach: its own colour, outside 全部预警
        chips.append(dcc.Link([html.Span(r.rule_name), html.B(f"{r.count}")], href=state.href(PATH, rule=r.rule_id),
                              title=r.clause, id=f"projects-rule-{r.rule_id}",
                              className="projects-chip" + (" projects-chip--active" if data.rule == r.rule_id
                                                           else "") + ("" if r.count else " projects-chip--zero")
                              + ("" if r.severity == BREACH else " projects-chip--reminder")))
    return html.Div(chips, className="projects-chips", id="projects-rule-summary")


ALERT_COLUMNS = [
    {"field": "view", "headerName": "", "width": 64, "maxWidth": 70, "sortable": False, "filter": False,
     "cellClass": "projects-link-cell"},
    {"field": "rule_name", "headerName": "规则", "minWidth": 140, "filter": "agTextColumnFilter"},
    {"field": "project_name", "headerName": "项目", "minWidth": 200, "cellClass": "projects-link-cell",
     "tooltipField": "project_name"},
    {"field": "owner_unit", "headerName": "建设单位", "minWidth": 130, "tooltipField": "owner_unit"},
    {"field": "county_name", "headerName": "县区", "minWidth": 80},
    number_column("days_over", "超期（天）", digits=0, minWidth=112),
    number_column("amount_wan", "金额（万元）", digits=2, minWidth=124),
    {"field": "detail", "headerName": "详情", "minWidth": 190, "tooltipField": "detail"},
    {"field": "clause", "headerName": "政策依据", "minWidth": 190, "tooltipField": "consequence"},
]


def _alerts_panel(data: ProjectsPage, state: PageState) -> html.Section:
    alerts = data.alerts
    grid = (create_empty("暂无预警") if alerts.empty else
            create_grid(alerts.assign(view="查看"), ALERT_COLUMNS, grid_id="projects-alerts-grid", row_id="row_key",
                        height=380, tooltipShowDelay=300))
    scope_text = f" · {data.tier}项目" if data.tier else ""
    return html.Section([html.H3(f"规则预警（{data.stock_label}{scope_text} · 点击项目查看详情）"),
                         _rule_chips(data, state), html.Div(grid, id="projects-alerts")],
                        className="panel projects-panel")


def _gantt_panel(data: ProjectsPage) -> html.Section:
    units = data.units
    options = [{"label": f"{u.owner_unit}（{u.projects}个项目 · {u.alerts}条预警）", "value": u.owner_unit,
                "search": u.owner_unit} for u in units.itertuples()]
    picker = url_param("unit", dcc.Dropdown, options=options, value=data.unit, clearable=False,
                       searchable=True, placeholder="选择建设单位", className="projects-unit-select")
    gantt = data.gantt
    view = (create_empty() if gantt.empty else
            click_graph("project", "projects-gantt", config=STATIC_CONFIG,
                        figure=create_gantt(gantt, as_of=data.as_of_date, period_text=data.stock_label)))
    note = ([html.Div(data.unit_note, className="projects-note", id="projects-unit-note")]
            if data.unit_note else [])
    return html.Section([html.Div([html.H3(f"建设单位项目进度（{data.stock_label} · 点击项目查看详情）"),
                                   html.Div(picker, className="controls")], className="panel-head"),
                         *note, html.Div(view, id="projects-gantt")], className="panel projects-panel")


def _tier_filter(data: ProjectsPage, state: PageState) -> list:
    if not data.tier:
        return []
    return [html.Div([html.Span("档次筛选"), html.B(data.tier),
                      dcc.Link("✕ 清除", href=state.href(PATH, tier=None), id="projects-tier-clear")],
                     className="projects-filter-chip", id="projects-tier-filter")]


@cached_page  # a repeat view of the same URL, scope, version and day (web/page_cache.py)
@page_notice(TITLE, "projects")
def layout(region: str | None = None, month: str | None = None, tier: str | None = None, funnel: str | None = None,
           rule: str | None = None, unit: str | None = None, project: str | None = None, **_ignored):
    """The page as a pure function of its URL."""
    state = PageState.from_args(region=region, month=month, tier=tier, funnel=funnel, rule=rule, unit=unit,
                                project=project)
    scope = viewer_scope()
    data = projects_view(state.region, state.month, scope=scope, tier=tier, funnel=funnel, rule=rule, unit=unit)
    detail = project_detail(project, data.month, scope=scope) if project else None
    crumb_state = state.without("unit", "project").as_dict()
    children = [
        *create_page_top("projects", TITLE, data, crumb_state, extra_controls=_tier_filter(data, state),
                         period_control=False),
        _cards(data),
        html.Div([_funnel_panel(data), _split_panel(data)], className="panel-row projects-row"),
        _alerts_panel(data, state),
        _gantt_panel(data),
    ]
    if project:
        children.append(create_project_detail(detail, project_id=project, close_href=state.href(PATH, project=None)))
    return html.Div(children, className="page projects-page" + (" projects-page--detail" if project else ""))


@callback(
    Output("shell-url", "search", allow_duplicate=True),
    Input("projects-alerts-grid", "cellClicked"),
    State("shell-url", "search"),
    prevent_initial_call=True,
)
def open_alert_project(cell, search):
    """Clicking 查看 or a project name in the alerts table opens that project's detail."""
    if not cell or cell.get("colId") not in ("view", "project_name") or not cell.get("rowId"):
        return no_update
    return PageState.from_query(search).changed(project=str(cell["rowId"]).split("|", 1)[0]).query
