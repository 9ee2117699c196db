"""督办 page pieces: status cards, the task table, the task's full text and the lead-unit bars.

Data in, components out; no queries inside. ``href(**changes)`` builds a link that keeps the
rest of the URL state (the page passes it in).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components.theme import PRIMARY, RAG_COLOURS

STATUS_CLASS = {"未开始": "todo", "推进中": "doing", "已完成": "done", "持续推进": "ongoing"}
SEGMENTS = [("done", "已完成", RAG_COLOURS["green"]), ("open", "未完成（未逾期）", PRIMARY),
            ("overdue", "逾期", RAG_COLOURS["red"])]


def _deadline(row) -> list:
    when = row["deadline"]
    date_text = when.strftime("%Y-%m-%d") if pd.notna(when) else "无固定时限"
    return [html.Span(row["deadline_text"], className="tasks-deadline-text"),
            html.Span(date_text, className="tasks-deadline-date")]


def _status(row) -> list:
    out = [html.Span(row["status"], className=f"tasks-status tasks-status--{STATUS_CLASS.get(row['status'], 'todo')}")]
    if row["is_overdue"]:
        out.append(html.Span(f"逾期{int(row['days_overdue'])}天", className="tasks-overdue-tag"))
    return out


def _progress(value: int) -> html.Div:
    return html.Div(
        [html.Div(html.Div(className="tasks-bar-fill", style={"width": f"{int(value)}%"}), className="tasks-bar"),
         html.Span(f"{int(value)}%", className="tasks-bar-label")],
        className="tasks-progress", title=f"完成进度 {int(value)}%",
    )


def create_status_cards(summary: dict, *, href: Callable[..., str], active: str | None, as_of: str) -> html.Div:
    """Five cards (总数, 已完成, 推进中, 逾期, 长期); each but 长期 is a link that filters by status."""
    cards = [("total", "任务总数", "全部", "all"), ("done", "已完成", "已完成", "done"),
             ("in_progress", "推进中", "推进中", "doing"), ("overdue", "逾期", "逾期", "overdue"),
             ("long_term", "长期任务", None, "ongoing")]
    items = []
    for key, name, status, tone in cards:
        body = [html.Span(name, className="tasks-card-name"),
                html.Span([html.B(f"{summary[key]}"), " 项"], className="tasks-card-value"),
                html.Span(as_of if key != "long_term" else "无固定时限，不计逾期", className="tasks-card-asof")]
        on = status == (active or "全部")
        cls = f"tasks-card tasks-card--{tone}" + (" tasks-card--active" if on else "")
        if status is None:  # 长期 is a deadline kind, not a status: nothing to filter by
            items.append(html.Div(body, className=cls, id=f"tasks-card-{key}"))
        else:
            items.append(dcc.Link(body, href=href(status=status, task=None), className=cls, id=f"tasks-card-{key}"))
    return html.Div(items, className="tasks-cards", id="tasks-cards")


def create_task_table(tasks: pd.DataFrame, *, href: Callable[..., str], selected: int | None) -> html.Table:
    """The tasks, one row each: number, title (a link to its full text), lead units, deadline
    (原文 and date), status with 逾期N天, a progress bar and the latest progress note."""
    head = html.Thead(html.Tr([html.Th(h, className=f"tasks-col-{c}") for c, h in [
        ("no", "序号"), ("title", "任务"), ("lead", "牵头单位"), ("deadline", "完成时限"), ("status", "状态"),
        ("progress", "进度"), ("note", "进展情况")]]))
    rows = []
    for _, r in tasks.iterrows():
        cls = "tasks-row" + (" tasks-row--overdue" if r["is_overdue"] else "") + (
            " tasks-row--selected" if selected == int(r["task_id"]) else "")
        rows.append(html.Tr([
            html.Td(f"{r['number']}、", className="tasks-col-no"),
            html.Td(dcc.Link(r["title"], href=href(task=str(r["task_id"])), id=f"tasks-link-{r['task_id']}"),
                    className="tasks-col-title"),
            html.Td(r["lead_units"], className="tasks-col-lead"),
            html.Td(_deadline(r), className="tasks-col-deadline"),
            html.Td(_status(r), className="tasks-col-status"),
            html.Td(_progress(r["progress"]), className="tasks-col-progress"),
            html.Td(r["progress_note"] or "—", className="tasks-col-note"),
        ], className=cls, id=f"tasks-row-{r['task_id']}"))
    return html.Table([head, html.Tbody(rows)], className="tasks-table", id="tasks-table")


def create_task_detail(task: dict | None, *, close_href: str) -> html.Div:
    """The full text of the selected task, or a hint to pick one."""
    if task is None:
        return html.Div("点击任务名称查看任务全文、牵头单位与最新进展。", className="tasks-detail-hint")
    when = task["deadline"]
    facts = [
        ("牵头单位", task["lead_units"]),
        ("完成时限", task["deadline_text"] + (f"（{when:%Y-%m-%d}）" if pd.notna(when) else "（长期坚持）")),
        ("状态", f"{task['status']}" + (f" · 逾期{int(task['days_overdue'])}天" if task["is_overdue"] else "")),
        ("进度", f"{int(task['progress'])}%"),
        ("最新进展", task["progress_note"] or "—"),
        ("依据", task["source"]),
    ]
    return html.Div([
        html.Div([html.H4(f"{task['number']}、{task['title']}"),
                  dcc.Link("关闭", href=close_href, className="tasks-detail-close", id="tasks-detail-close")],
                 className="tasks-detail-head"),
        html.P(task["summary"], className="tasks-detail-summary"),
        html.Dl([x for k, v in facts for x in (html.Dt(k), html.Dd(v))], className="tasks-detail-facts"),
    ], className="tasks-detail" + (" tasks-detail--overdue" if task["is_overdue"] else ""))


def create_lead_bar(by_lead: pd.DataFrame, *, selected: str | None, as_of: str) -> go.Figure:
    """Horizontal stacked bars of tasks per lead unit (已完成 / 未完成 / 逾期); the selected
    unit is drawn solid, the others faded. ``customdata`` carries the unit for cross-filtering."""
    data = by_lead.iloc[::-1]  # most tasks at the top
    opacity = [1.0 if selected in (None, u) else 0.35 for u in data["lead_unit"]]
    fig = go.Figure()
    for col, name, colour in SEGMENTS:
        fig.add_trace(go.Bar(
            x=data[col], y=data["lead_unit"], orientation="h", name=name,
            marker={"color": colour, "opacity": opacity},
            customdata=data[["lead_unit", "tasks"]].to_numpy(),
            hovertemplate=f"<b>%{{y}}</b><br>{name}：%{{x}} 项（共 %{{customdata[1]}} 项）<extra></extra>",
        ))
    fig.update_layout(
        template="cockpit", barmode="stack", height=max(240, 30 * len(data) + 90),
        margin={"l": 10, "r": 16, "t": 28, "b": 60},
        xaxis={"title": f"任务数（项，{as_of}）", "dtick": 1, "rangemode": "tozero"},
        yaxis={"automargin": True},
        legend={"orientation": "h", "y": -0.18, "x": 0, "yanchor": "top"},
        uirevision="tasks-lead",
    )
    return fig
