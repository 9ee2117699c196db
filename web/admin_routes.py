"""Downloads of the 系统管理 pages (plain Flask routes beside the Dash app), admins only.

``GET /admin/audit/export.csv?user=&action=&start=YYYY-MM-DD&end=YYYY-MM-DD``
    every audit row the filters select (both days included), oldest first, as CSV
``GET /admin/permissions/export.csv`` / ``.xlsx``
    the permission matrix (per account and wall display; the XLSX adds the role rule)

The login guard already keeps these paths to admins; each route checks again on the server
(401 with nobody logged in, 403 otherwise, the denial audited). Every export is itself recorded
in the audit log. Bad filters are a 400 with a Chinese message. Files are UTF-8 CSV with a BOM
(Excel reads the Chinese) with formula-like cells defused.
"""

from __future__ import annotations

import io
from datetime import datetime
from urllib.parse import quote

from flask import Flask, Response, request, stream_with_context

from data import audit, permissions
from web.session import current_viewer

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plain(message: str, status: int) -> Response:
    resp = Response(message, status=status, mimetype="text/plain")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _denied(what: str) -> Response | None:
    """None for an admin; else the 401/403 response (and the denial recorded)."""
    viewer = current_viewer()
    if permissions.is_admin(viewer):
        return None
    audit.record("拒绝", actor=getattr(viewer, "actor", None) or "匿名", role=getattr(viewer, "role", None),
                 outcome="拒绝", target=request.path, ip=request.remote_addr,
                 detail={"reason": f"非管理员导出{what}"})
    if viewer is None:
        return _plain("请先登录", 401)
    return _plain(f"无权导出{what}：仅限管理员", 403)


def _attachment(resp: Response, filename: str) -> Response:
    # RFC 5987: the Chinese name for browsers, an ASCII fallback for the rest
    fallback = filename.encode("ascii", "ignore").decode() or "export"
    resp.headers["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def audit_export_response() -> Response:
    """The filtered audit rows as CSV (streamed: the log may be long)."""
    denied = _denied("审计日志")
    if denied is not None:
        return denied
    try:
        args = audit.filter_args(user=request.args.get("user"), action=request.args.get("action"),
                                 start=request.args.get("start"), end=request.args.get("end"))
    except audit.AuditError as exc:
        return _plain(str(exc), 400)
    viewer = current_viewer()
    through = audit.last_seq()  # the file holds the rows up to now: not its own record, nor later ones
    total = audit.count(**args, through=through)
    audit.record("审计导出", actor=viewer.actor, role=viewer.role, outcome="成功", target="审计日志 CSV",
                 ip=request.remote_addr, detail={**{k: str(v) for k, v in args.items()}, "rows": total})
    names = {code: name for code, (name, _level) in permissions.Places.load().regions.items()}

    def body():
        out = io.StringIO()
        out.write("\ufeff")
        header = True
        for chunk in _chunks(audit.rows(**args, through=through), 1000):
            audit.write_csv(chunk, out, region_names=names, header=header)
            header = False
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        if header:  # no rows: the header alone
            audit.write_csv([], out, header=True)
            yield out.getvalue()

    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return _attachment(Response(stream_with_context(body()), mimetype=CSV), f"审计日志_{stamp}.csv")


def _chunks(rows, n: int):
    chunk = []
    for r in rows:
        chunk.append(r)
        if len(chunk) == n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def permissions_export_response(fmt: str) -> Response:
    """The permission matrix as CSV or XLSX."""
    denied = _denied("权限清单")
    if denied is not None:
        return denied
    from components.audit_views import registered_pages

    viewer = current_viewer()
    rows = permissions.matrix(registered_pages())
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    audit.record("权限导出", actor=viewer.actor, role=viewer.role, outcome="成功", target=f"权限清单 {fmt.upper()}",
                 ip=request.remote_addr, detail={"rows": len(rows)})
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        permissions.write_csv(rows, out)
        return _attachment(Response(out.getvalue(), mimetype=CSV), f"权限清单_{stamp}.csv")
    buffer = io.BytesIO()
    permissions.write_xlsx(rows, buffer, by=viewer.name)
    return _attachment(Response(buffer.getvalue(), mimetype=XLSX), f"权限清单_{stamp}.xlsx")


def register_admin_routes(server: Flask) -> None:
    """Add the audit and permission-matrix downloads to the Flask server."""

    @server.route("/admin/audit/export.csv")
    def admin_audit_export():
        return audit_export_response()

    @server.route("/admin/permissions/export.csv")
    def admin_permissions_csv():
        return permissions_export_response("csv")

    @server.route("/admin/permissions/export.xlsx")
    def admin_permissions_xlsx():
        return permissions_export_response("xlsx")
