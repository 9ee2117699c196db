"""The project detail drawer of the 项目 page, from ``metrics.projects_view.project_detail``."""

from __future__ import annotations

import pandas as pd
from dash import dcc, html

from metrics.format import fmt_value
from metrics.rules import BREACH, REMINDER


def _day(d) -> str:
    return "—" if d is None else d.strftime("%Y-%m-%d")


def _facts(d: dict) -> html.Dl:
    pairs = [("项目编号", d["project_id"]), ("建设单位", d["owner_unit"]), ("单位层级", d["owner_level"]),
             ("所在县区", d["county_name"]), ("主管部门", d["dept_name"] or "—"), ("项目类别", d["category"]),
             ("项目档次", d["tier"]), ("资金来源", d["fund_source"]), ("申报年度", f"{d['apply_year']}年"),
             ("当前阶段", d["stage_label"]), ("计划开工", _day(d["planned_start"])),
             ("计划完工", _day(d["planned_finish"]))]
    items = []
    for k, v in pairs:
        items += [html.Dt(k), html.Dd(v)]
    return html.Dl(items, className="projects-facts")


def _money(row: dict) -> html.Div:
    over = row["progress"] is not None and row["progress"] > 100
    pct = "—" if row["progress"] is None else f"{row['progress']:.1f}%"
    return html.Div(
        [
            html.Div([html.Span(f"{row['kind']}资金", className="projects-money-kind"),
                      html.Span(f"已支付 {fmt_value(row['paid'], '万元')} / {row['budget_name']} "
                                f"{fmt_value(row['budget'], '万元')}（{pct}）")],
                     className="projects-money-head"),
            html.Div(html.Div(className="projects-progress-fill" + (" projects-progress-fill--over" if over else ""),
                              style={"width": f"{row['bar']:.1f}%"}),
                     className="projects-progress", title=pct),
        ],
        className="projects-money",
    )


def _timeline(d: dict) -> html.Ol:
    items = []
    for e in d["events"]:
        state = ("current" if e["stage"] == d["stage"] else "done") if e["date"] else "todo"
        if e["stage"] == "terminated":
            state = "terminated"
        items.append(html.Li([html.Span(e["label"], className="projects-step-label"),
                              html.Span(_day(e["date"]) if e["date"] else "未到达", className="projects-step-date"),
                              *([html.Span(e["note"], className="projects-step-note")] if e["note"] else [])],
                             className=f"projects-step projects-step--{state}"))
    return html.Ol(items, className="projects-timeline")


def _flags(d: dict) -> html.Ul:
    cls = {True: "ok", False: "bad", None: "none"}
    return html.Ul([html.Li([html.Span(f["name"], className="projects-flag-name"), html.Span(f["value"])],
                            className=f"projects-flag projects-flag--{cls[f['ok']]}") for f in d["flags"]],
                   className="projects-flags")


def _alerts(alerts: pd.DataFrame) -> html.Ul:
    if alerts.empty:
        return html.Ul([html.Li("无预警", className="alert-none")], className="alert-list")
    # a breach in red, a reminder (即将到期) in amber
    tag = {BREACH: "alert-tag alert-tag--red", REMINDER: "alert-tag alert-tag--amber"}
    return html.Ul([
        html.Li([html.Span([html.Span(r.rule_name, className=tag[r.severity]), r.detail]),
                 html.Span(f"{r.clause} · {r.consequence}"
                           + (f" · 超期{int(r.days_over)}天" if pd.notna(r.days_over) else ""),
                           className="alert-clause")], className="alert-item")
        for r in alerts.itertuples()
    ], className="alert-list")


def _alerts_heading(alerts: pd.DataFrame) -> str:
    due_soon = int((alerts["severity"] == REMINDER).sum())
    return f"在办预警（{len(alerts) - due_soon}）" + (f" · 即将到期（{due_soon}）" if due_soon else "")


def create_project_detail(d: dict | None, *, project_id: str, close_href: str) -> html.Aside:
    """A drawer with one project's facts, money, lifecycle, compliance flags and alerts;
    a Chinese message when the project is unknown or out of the viewer's scope."""
    close = dcc.Link("✕ 关闭", href=close_href, className="projects-detail-close", id="projects-detail-close")
    if d is None:
        body = [html.Div([html.H3("项目详情"), close], className="projects-detail-head"),
                html.Div(f"未找到项目：{project_id}（编号不存在，或不在您的查看范围内）", className="error-banner",
                         id="projects-detail-error")]
    else:
        body = [
            html.Div([html.H3(d["name"]), close], className="projects-detail-head"),
            html.Div(f"{d['as_of_label']} · 当前阶段：{d['stage_label']}", className="page-sub"),
            _facts(d),
            html.H4("资金（" + d["as_of_label"] + "累计支付）"),
            *[_money(m) for m in d["money"]],
            html.H4("生命周期"),
            _timeline(d),
            html.H4("合规情况"),
            _flags(d),
            html.H4(_alerts_heading(d["alerts"])),
            _alerts(d["alerts"]),
        ]
    return html.Aside(body, className="projects-drawer", id="projects-detail")
