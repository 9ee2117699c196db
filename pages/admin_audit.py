"""审计日志 (admins only): the chain's verify result at the top, filters by user, action and
date range, the matching rows, and a CSV export of exactly what the filters select
(``web/admin_routes.py``).

The login guard lets only admins open /admin paths (``data.identity.ACCESS``); the page and
its callbacks check again on the server, since a callback can be POSTed directly. Only the
filter values travel from the browser; the rows are re-read on every change.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

import dash
from dash import Input, Output, callback, dcc, html, no_update

from components.audit_views import (
    audit_grid_rows,
    create_admin_tabs,
    create_audit_count,
    create_audit_filters,
    create_audit_grid,
    create_chain_status,
)
from data import audit, permissions
from data.permissions import Places
from web.session import current_viewer

PATH = "/admin/audit"
dash.register_page(__name__, path=PATH, name="审计日志", title="审计日志 · 领导驾驶舱", order=20)

TITLE = "审计日志"
ROWS_SHOWN = 500
PAGE_CHECK_ROWS = 50_000  # about a second; 重新校验 and `python -m cockpit.audit verify` walk everything
EXPORT_PATH = "/admin/audit/export.csv"
DENIED = "无权访问：审计日志仅限管理员查看"


# ---------------------------------------------------------------- who may look


def is_admin() -> bool:
    """Whether the request's viewer may open the 系统管理 pages (the one rule: data.identity)."""
    return permissions.is_admin(current_viewer())


def refuse(what: str) -> None:
    """Record a denial of ``what`` (every denial is audited)."""
    viewer = current_viewer()
    audit.record("拒绝", actor=getattr(viewer, "actor", None) or "匿名", role=getattr(viewer, "role", None),
                 outcome="拒绝", target=what, detail={"reason": DENIED})


# ---------------------------------------------------------------- what the page reads


def chain_status(*, full: bool = True) -> html.Div:
    """The verify result of the chain now: the whole of it, or (opening the page) the newest
    :data:`PAGE_CHECK_ROWS` rows, so that a long log does not hold the page up."""
    report = audit.check() if full else audit.check(last=PAGE_CHECK_ROWS)
    return create_chain_status(report.summary(), intact=report.intact, problems=[str(p) for p in report.problems],
                               anchor_note=report.anchor_note(), checked_at=datetime.now(),
                               retention_days=audit.retention_days())


def export_href(user=None, action=None, start=None, end=None) -> str:
    """The CSV export of the rows these filters select (the route checks them again)."""
    params = {k: v for k, v in {"user": user, "action": action, "start": start, "end": end}.items()
              if isinstance(v, str) and v}
    return EXPORT_PATH + (f"?{urlencode(params)}" if params else "")


def filtered(user=None, action=None, start=None, end=None) -> tuple[list[dict], int]:
    """The newest matching rows as the grid shows them, and how many match in all."""
    args = audit.filter_args(user=user, action=action, start=start, end=end)
    rows = audit.search(limit=ROWS_SHOWN, **args)
    names = {code: name for code, (name, _level) in Places.load().regions.items()}
    return audit_grid_rows(rows, names), audit.count(**args)


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


# ---------------------------------------------------------------- layout


def layout(user=None, action=None, start=None, end=None, **_ignored):
    """The page (filters may come in the URL: ``?user=…&action=…&start=YYYY-MM-DD&end=YYYY-MM-DD``)."""
    if not is_admin():
        refuse(PATH)
        return html.Div([html.H2(TITLE), html.Div(DENIED, className="error-banner", id="admin-audit-denied")],
                        className="page")
    user, action, start, end = _text(user), _text(action), _text(start), _text(end)
    try:
        rows, total = filtered(user, action, start, end)
        problem = None
    except audit.AuditError as exc:
        user = action = start = end = None
        rows, total = filtered()
        problem = str(exc)
    today = datetime.now().strftime("%Y-%m-%d")
    return html.Div([
        html.Div([html.H2(TITLE), html.Span(f"登录、访问、导出、上传发布、用户与权限变更和每次拒绝；至少保留 "
                                             f"{audit.retention_days()} 天", className="page-sub")],
                 className="page-head"),
        create_admin_tabs(PATH),
        html.Div([dcc.Loading(html.Div(chain_status(full=False), id="admin-audit-status"), type="dot",
                              delay_show=300),
                  html.Button("全量校验", id="admin-audit-verify", n_clicks=0, className="data-button",
                              title="从第一条（或清理锚点）起逐条校验整条哈希链")],
                 className="audit-status-bar"),
        create_audit_filters(actors=audit.distinct("actor"), actions=audit.distinct("action"), user=user,
                             action=action, start=start, end=end, export_href=export_href(user, action, start, end),
                             max_date=today),
        html.Div(problem or "", id="admin-audit-error", className="error-banner" if problem else "audit-error-empty"),
        create_audit_count(len(rows), total),
        create_audit_grid(rows),
    ], className="page admin-page")


# ---------------------------------------------------------------- callbacks


@callback(
    Output("admin-audit-grid", "rowData"),
    Output("admin-audit-count", "children"),
    Output("admin-audit-export", "href"),
    Output("admin-audit-error", "children"),
    Output("admin-audit-error", "className"),
    Input("admin-audit-user", "value"),
    Input("admin-audit-action", "value"),
    Input("admin-audit-dates", "start_date"),
    Input("admin-audit-dates", "end_date"),
    prevent_initial_call=True,
)
def filter_audit(user, action, start, end):
    """The rows, their count and the export link follow the filters."""
    if not is_admin():
        refuse(f"{PATH}（筛选）")
        return [], "", EXPORT_PATH, DENIED, "error-banner"
    try:
        rows, total = filtered(user, action, start, end)
    except audit.AuditError as exc:
        return no_update, no_update, no_update, str(exc), "error-banner"
    return rows, create_audit_count(len(rows), total).children, export_href(user, action, start, end), "", \
        "audit-error-empty"


@callback(
    Output("admin-audit-status", "children"),
    Input("admin-audit-verify", "n_clicks"),
    prevent_initial_call=True,
)
def reverify(_n_clicks):
    """全量校验: walk the whole chain again."""
    if not is_admin():
        refuse(f"{PATH}（校验）")
        return html.Div(DENIED, className="error-banner")
    return chain_status()
