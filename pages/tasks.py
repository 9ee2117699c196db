"""督办 · 重点任务: the tasks of the work plan with status, progress and overdue flags."""

from __future__ import annotations

import dash
from dash import dcc, html

from components.cards import create_empty
from components.page import page_notice
from components.shell import click_graph, create_page_top, url_param
from components.tasks_views import create_lead_bar, create_status_cards, create_task_detail, create_task_table
from components.theme import GRAPH_CONFIG
from metrics.page_state import PageState
from metrics.tasks_view import ALL, OVERDUE, STATUSES, tasks_page
from web.page_cache import cached_page
from web.session import viewer_scope

dash.register_page(__name__, path="/tasks", name="督办", title="督办 · 领导驾驶舱", order=4)

TITLE = "重点任务督办"


@cached_page  # a repeat view of the same URL, scope, version and day (web/page_cache.py)
@page_notice(TITLE, "tasks")
def layout(region: str | None = None, month: str | None = None, status: str | None = None,
           lead: str | None = None, task: str | None = None, **_ignored):
    """The page as a pure function of its URL."""
    state = PageState.from_args(region=region, month=month, status=status, lead=lead, task=task)
    data = tasks_page(state.region, state.month, status, lead, task, scope=viewer_scope())
    href = state.href

    day = data.as_of_day
    as_of = f"截至{day.year}年{day.month}月{day.day}日"
    controls = [
        html.Label(["状态", url_param("status", dcc.Dropdown, value=data.status or ALL, clearable=False,
                                      searchable=False, className="tasks-filter-status",
                                      options=[ALL, *STATUSES, OVERDUE])]),
        html.Label(["牵头单位", url_param("lead", dcc.Dropdown, value=data.lead or ALL, clearable=False,
                                          className="tasks-filter-lead", options=[ALL, *data.lead_units])]),
    ]
    if data.status or data.lead:
        controls.append(dcc.Link("清除筛选", href=href(status=None, lead=None), className="tasks-clear",
                                 id="tasks-clear"))
    tasks = data.tasks
    if data.summary["total"] == 0:
        table = create_empty(f"{data.region_name}暂无督办任务（《工作要点》任务由省级单位牵头，请在省级查看）")
    elif tasks.empty:
        table = create_empty("没有符合筛选条件的任务")
    else:
        selected = int(data.task["task_id"]) if data.task else None
        table = create_task_table(tasks, href=href, selected=selected)
    by_lead = data.by_lead
    bar = (create_empty() if by_lead.empty else
           click_graph("lead", "tasks-lead-bar", config=GRAPH_CONFIG,
                       figure=create_lead_bar(by_lead, selected=data.lead, as_of=as_of)))
    filters = "、".join(x for x in (data.lead, data.status) if x)
    table_title = f"重点任务清单（{len(tasks)} 项{'，筛选：' + filters if filters else ''}）"
    return html.Div(
        [
            *create_page_top("tasks", TITLE, data, state.as_dict(), extra_controls=controls, period_control=False),
            create_status_cards(data.summary, href=href, active=data.status,
                                as_of=as_of + (f" · {data.lead}" if data.lead else "")),
            html.Div(
                [
                    html.Section([
                        html.Div([html.H3(table_title),
                                  html.Span(f"依据：{data.source}；状态为最新填报" if data.source else "",
                                            className="tasks-source")], className="panel-head tasks-head"),
                        html.Div(table, id="tasks-table-wrap", className="tasks-table-wrap"),
                    ], className="panel tasks-panel-table"),
                    html.Div([
                        html.Section([html.H3("任务详情"),
                                      html.Div(create_task_detail(data.task, close_href=href(task=None)),
                                               id="tasks-detail")], className="panel tasks-panel-detail"),
                        html.Section([html.H3(f"各牵头单位任务数（{as_of}）"),
                                      html.Div("点击单位筛选任务清单", className="tasks-hint"),
                                      html.Div(bar, id="tasks-lead")], className="panel tasks-panel-lead"),
                    ], className="tasks-side"),
                ],
                className="tasks-row-main",
            ),
        ],
        className="page tasks-page",
    )
