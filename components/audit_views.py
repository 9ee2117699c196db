"""系统管理 page pieces: the audit log (chain status, filters, the table) and the permission
matrix (per account and per role).

Data in, components out; no queries inside: the pages pass the verify report's wording, the
rows and the filter choices.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import dash
import dash_ag_grid as dag
from dash import dcc, html

from components.tables import LOCALE_TEXT

MAX_PROBLEMS_SHOWN = 20
OUTCOME_TONE = {"成功": "ok", "失败": "bad", "拒绝": "bad", "锁定": "bad"}


# ---------------------------------------------------------------- the audit log


def create_chain_status(summary: str, *, intact: bool, problems: Iterable[str] = (), anchor_note: str | None = None,
                        checked_at: datetime | None = None, retention_days: int | None = None) -> html.Div:
    """The verify result at the top of the page: 「审计日志完整（N 条）」 or every broken row."""
    problems = list(problems)
    head = [html.Span("✔" if intact else "✖", className="audit-status-mark"),
            html.B(summary, id="admin-audit-summary")]
    if checked_at is not None:
        head.append(html.Span(f"校验于 {checked_at:%Y-%m-%d %H:%M:%S}", className="audit-status-meta"))
    body: list = [html.Div(head, className="audit-status-head")]
    if problems:
        shown = [html.Li(p) for p in problems[:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            shown.append(html.Li(f"另有 {len(problems) - MAX_PROBLEMS_SHOWN} 处，"
                                 "请在服务器上运行 python -m cockpit.audit verify 查看全部"))
        body.append(html.Ul(shown, className="audit-problems", id="admin-audit-problems"))
    notes = []
    if anchor_note:
        notes.append(anchor_note)
    if retention_days:
        notes.append(f"哈希链防篡改：每条记录的哈希覆盖其内容和前一条的哈希；保留期 {retention_days} 天")
    if notes:
        body.append(html.Div("；".join(notes), className="audit-status-note"))
    return html.Div(body, className=f"audit-status audit-status--{'ok' if intact else 'broken'}",
                    id="admin-audit-status-body", role="status" if intact else "alert")


def audit_grid_rows(rows: Iterable[dict], region_names: dict[str, str] | None = None) -> list[dict]:
    """Audit rows as the grid shows them (time to the second, region with its name)."""
    names = region_names or {}
    out = []
    for r in rows:
        at = r.get("at")
        region = r.get("region") or ""
        out.append({
            "seq": r.get("seq"), "at": at.strftime("%Y-%m-%d %H:%M:%S") if isinstance(at, datetime) else at,
            "actor": r.get("actor"), "role": r.get("role") or "", "action": r.get("action"),
            "target": r.get("target") or "", "region": f"{names[region]}（{region}）" if region in names else region,
            "month": r.get("month") or "", "outcome": r.get("outcome"), "ip": r.get("ip") or "",
            "detail": r.get("detail") or "",
        })
    return out


AUDIT_COLUMNS = [
    {"field": "seq", "headerName": "序号", "width": 90, "type": "rightAligned", "filter": "agNumberColumnFilter"},
    {"field": "at", "headerName": "时间", "width": 170},
    {"field": "actor", "headerName": "用户", "width": 140},
    {"field": "role", "headerName": "角色", "width": 90},
    {"field": "action", "headerName": "操作", "width": 110},
    {"field": "target", "headerName": "对象", "flex": 2, "minWidth": 160},
    {"field": "region", "headerName": "地区", "width": 150},
    {"field": "month", "headerName": "月份", "width": 90},
    {"field": "outcome", "headerName": "结果", "width": 80,
     "cellClassRules": {"audit-cell--bad": "['失败','拒绝','锁定'].includes(params.value)"}},
    {"field": "ip", "headerName": "IP 地址", "width": 130},
    {"field": "detail", "headerName": "详情", "flex": 3, "minWidth": 200, "tooltipField": "detail"},
]


def create_audit_grid(rows: list[dict]) -> dag.AgGrid:
    """The audit rows (from :func:`audit_grid_rows`), newest first; sortable and filterable."""
    return dag.AgGrid(
        id="admin-audit-grid", rowData=rows, columnDefs=AUDIT_COLUMNS,
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        dashGridOptions={"localeText": LOCALE_TEXT, "animateRows": False, "pagination": True,
                         "paginationPageSize": 50, "tooltipShowDelay": 300,
                         "getRowId": {"function": "String(params.data.seq)"}},
        style={"height": "620px"}, className="ag-theme-quartz",
    )


def create_audit_filters(*, actors: list[str], actions: list[str], user: str | None = None,
                         action: str | None = None, start: str | None = None, end: str | None = None,
                         export_href: str, min_date: str | None = None, max_date: str | None = None) -> html.Div:
    """用户、操作、时间 filters and the CSV export link of what they select."""
    return html.Div([
        html.Label(["用户", dcc.Dropdown(id="admin-audit-user", options=[{"label": a, "value": a} for a in actors],
                                        value=user, placeholder="全部用户", clearable=True,
                                        className="audit-filter-user")]),
        html.Label(["操作", dcc.Dropdown(id="admin-audit-action", options=[{"label": a, "value": a} for a in actions],
                                        value=action, placeholder="全部操作", clearable=True,
                                        className="audit-filter-action")]),
        html.Label(["时间范围", dcc.DatePickerRange(
            id="admin-audit-dates", start_date=start, end_date=end, display_format="YYYY-MM-DD",
            month_format="YYYY年M月", first_day_of_week=1, clearable=True, min_date_allowed=min_date,
            max_date_allowed=max_date, start_date_placeholder_text="开始日期", end_date_placeholder_text="结束日期",
            className="audit-filter-dates")]),
        html.A("导出 CSV", href=export_href, id="admin-audit-export", className="data-button audit-export",
               download=""),
    ], className="filter-bar audit-filters")


def create_audit_count(shown: int, total: int) -> html.Span:
    """「共 N 条」, and how many the table shows when there are more (the export has them all)."""
    text = f"符合条件 {total:,} 条"
    if total > shown:
        text += f"，表中显示最近 {shown:,} 条（导出 CSV 含全部）"
    return html.Span(text, className="page-sub", id="admin-audit-count")


# ---------------------------------------------------------------- the permission matrix


def registered_pages() -> list[tuple[str, str]]:
    """(name, path) of every page in the navigation, in its order (the permission matrix lists
    them per area; hidden pages such as 页面不存在 are not ones a role is given)."""
    pages = sorted(dash.page_registry.values(), key=lambda p: p.get("order", 99))
    return [(p["name"], p["path"]) for p in pages if not p.get("hidden") and p.get("path")]



PERMISSION_WIDTHS = {"kind": 90, "username": 120, "display_name": 110, "role_name": 84, "region_name": 90,
                     "dept_name": 90, "status": 90, "login": 104}
PERMISSION_WIDE = {"pages": 3, "actions": 4, "scope": 3}
PERMISSION_HIDDEN = {"region", "dept"}  # the codes are in the exports; the grid shows the names


def create_permission_grid(rows: list[dict], columns: list[tuple[str, str]]) -> dag.AgGrid:
    """One row per account and wall display: role, region, department, areas, pages, actions, scope."""
    defs = []
    for key, header in columns:
        col: dict = {"field": key, "headerName": header}
        if key in PERMISSION_WIDE:
            col.update({"flex": PERMISSION_WIDE[key], "minWidth": 200, "wrapText": True, "autoHeight": True,
                        "cellStyle": {"lineHeight": "20px", "paddingTop": "6px", "paddingBottom": "6px"}})
        elif key.startswith("area_"):
            col.update({"width": 76, "wrapHeaderText": True, "autoHeaderHeight": True,
                        "cellClassRules": {"perm-cell--yes": "params.value === '可用'"}})
        else:
            col.update({"width": PERMISSION_WIDTHS.get(key, 100), "hide": key in PERMISSION_HIDDEN})
        if key == "username":
            col["pinned"] = "left"
        defs.append(col)
    return dag.AgGrid(
        id="admin-permissions-grid", rowData=rows, columnDefs=defs,
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "wrapHeaderText": True,
                       "autoHeaderHeight": True},
        dashGridOptions={"localeText": LOCALE_TEXT, "animateRows": False, "pagination": len(rows) > 50,
                         "paginationPageSize": 50},
        style={"height": "560px"}, className="ag-theme-quartz",
    )


def create_role_table(rows: list[dict], roles: list[str]) -> html.Table:
    """The rule: for each area, which roles (and wall displays) may open it."""
    head = html.Thead(html.Tr([html.Th("功能区"), *[html.Th(r) for r in roles], html.Th("可执行操作")]))
    body = [html.Tr([html.Td(r["area"], className="perm-area"),
                     *[html.Td(r[role], className="perm-yes" if r[role] == "可用" else "perm-no") for role in roles],
                     html.Td(r["actions"], className="perm-actions")]) for r in rows]
    return html.Table([head, html.Tbody(body)], className="data-table perm-roles", id="admin-permissions-roles")


def create_admin_tabs(current: str) -> html.Nav:
    """Links between the 系统管理 pages."""
    links = [("审计日志", "/admin/audit"), ("权限清单", "/admin/permissions")]
    return html.Nav([dcc.Link(name, href=href, className="admin-tab" + (" admin-tab--current" if href == current
                                                                          else ""))
                     for name, href in links], className="admin-tabs")
