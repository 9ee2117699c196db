"""权限清单 (admins only): who can see what, for compliance review. The rule (which roles open
which areas) and every account and wall display with its role, region, department, the pages
and actions it may use and the data that covers; exportable as CSV and XLSX
(``web/admin_routes.py``). Read from ``data.identity``, the rule the login guard enforces.
"""

from __future__ import annotations

import dash
from dash import html

from components.audit_views import create_admin_tabs, create_permission_grid, create_role_table, registered_pages
from data import audit, identity, permissions
from web.session import current_viewer

PATH = "/admin/permissions"
dash.register_page(__name__, path=PATH, name="权限清单", title="权限清单 · 领导驾驶舱", order=21)

TITLE = "权限清单"
DENIED = "无权访问：权限清单仅限管理员查看"


def layout(**_ignored):
    """The rule and the per-account matrix, read now (a change shows on the next visit)."""
    viewer = current_viewer()
    if not permissions.is_admin(viewer):
        audit.record("拒绝", actor=getattr(viewer, "actor", None) or "匿名", role=getattr(viewer, "role", None),
                     outcome="拒绝", target=PATH, detail={"reason": DENIED})
        return html.Div([html.H2(TITLE), html.Div(DENIED, className="error-banner", id="admin-permissions-denied")],
                        className="page")
    rows = permissions.matrix(registered_pages())
    people = sum(1 for r in rows if r["kind"] == "用户")
    return html.Div([
        html.Div([html.H2(TITLE),
                  html.Span(f"{people} 个账号、{len(rows) - people} 台大屏设备；"
                            "角色与页面的对应关系即登录校验所用的规则", className="page-sub")], className="page-head"),
        create_admin_tabs(PATH),
        html.Section([
            html.Div([html.H3("角色权限"),
                      html.Div([html.A("导出 Excel", href="/admin/permissions/export.xlsx", download="",
                                       id="admin-permissions-xlsx", className="data-button"),
                                html.A("导出 CSV", href="/admin/permissions/export.csv", download="",
                                       id="admin-permissions-csv", className="data-button")],
                               className="perm-exports")], className="panel-head"),
            create_role_table(permissions.role_rows(), [*identity.ROLES.values(), "大屏设备"]),
        ], className="panel perm-panel"),
        html.Section([
            html.Div(html.H3("账号与设备"), className="panel-head"),
            create_permission_grid(rows, permissions.columns()),
        ], className="panel perm-panel"),
    ], className="page admin-page")
