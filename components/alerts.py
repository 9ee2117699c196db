"""The alert list: red KPIs and project-rule alerts, each with its policy clause."""

from __future__ import annotations

import pandas as pd
from dash import dcc, html

from metrics.display import KpiDisplay


def create_alert_list(red_kpis: list[KpiDisplay], summary: pd.DataFrame, top: pd.DataFrame, *,
                      prefix: str) -> html.Div:
    """Red KPIs (value against target, as their display models say it), rule counts and the
    most overdue projects."""
    def said(k: KpiDisplay) -> str:
        target = "" if k.target_kind == "none" else f"{k.target_text}，"
        return f"{k.name} {k.value_text}（{target}{k.period_label}）"

    kpi_items = [html.Li([html.Span("未达标", className="alert-tag alert-tag--red"), html.Span(said(r))],
                         className="alert-item")
                 for r in red_kpis]
    rule_items = [
        html.Li([html.Span(f"{row.count}", className="alert-count"), html.Span(row.rule_name),
                 html.Span(row.clause, className="alert-clause")], className="alert-rule")
        for row in summary.itertuples() if row.count
    ]
    project_items = [
        html.Li([dcc.Link(row.project_name, href=f"/projects?project={row.project_id}"),
                 html.Span(f"{row.owner_unit} · {row.rule_name}"
                           + (f" · 超期{int(row.days_over)}天" if pd.notna(row.days_over) else ""),
                           className="alert-meta")], className="alert-item")
        for row in top.itertuples()
    ]
    return html.Div(
        [
            html.H4("未达标指标"),
            html.Ul(kpi_items or [html.Li("无", className="alert-none")], className="alert-list"),
            html.H4("项目预警（按规则）"),
            html.Ul(rule_items or [html.Li("无", className="alert-none")], className="alert-rules"),
            html.H4("超期最久的项目"),
            html.Ul(project_items or [html.Li("无", className="alert-none")], className="alert-list"),
        ],
        id=f"{prefix}-alerts", className="alerts",
    )
