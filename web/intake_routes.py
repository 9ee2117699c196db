"""Template and export downloads of the 数据管理 page (plain Flask routes beside the Dash app).

``GET /data/template/<family>.xlsx``                          the blank template of a family
``GET /data/export/<family>.xlsx?month=YYYY-MM&region=CODE``  a month of published data in
                                                              the template's layout

Both read the version being served. The scope is the viewer's (server side); a bad family is
a 404, a bad month or a region outside the scope a 400, each with a Chinese message.
"""

from __future__ import annotations

import io
import re
from datetime import date

from flask import Flask, Response, request, send_file

from data.intake.errors import IntakeError
from data.intake.service import current_version
from data.intake.spec import load_families
from data.scope import ScopeError
from metrics.regions import UnknownRegionError, get_region
from web.session import viewer_scope

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _refuse(message: str, status: int) -> Response:
    resp = Response(message, status=status, mimetype="text/plain")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _send(buffer: io.BytesIO, filename: str) -> Response:
    buffer.seek(0)
    resp = send_file(buffer, mimetype=XLSX, as_attachment=True, download_name=filename, max_age=0)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _unknown_family(family: str) -> Response:
    known = "、".join(f"{name}（{f.label}）" for name, f in load_families().items())
    return _refuse(f"未知的数据类别：{family}。可选：{known}", 404)


def template_response(family: str) -> Response:
    """The blank template of ``family`` as an .xlsx download."""
    from data.intake.templates import write_template

    families = load_families()
    if family not in families:
        return _unknown_family(family)
    out = io.BytesIO()
    try:
        with current_version() as con:
            write_template(family, out, con)
    except IntakeError as exc:
        return _refuse("；".join(str(p) for p in exc.problems), 400)
    return _send(out, f"{families[family].label}_模板.xlsx")


def export_response(family: str, month_text: str | None, region: str | None) -> Response:
    """A month of ``family`` for ``region`` (default: the viewer's region) in the template's layout."""
    from data.intake.templates import write_export

    families = load_families()
    if family not in families:
        return _unknown_family(family)
    m = _MONTH.match((month_text or "").strip())
    if not m:
        return _refuse(f"月份格式应为 YYYY-MM（如 2026-10）：{month_text or '（未填写）'}", 400)
    month = date(int(m.group(1)), int(m.group(2)), 1)
    scope = viewer_scope()
    code = (region or "").strip() or scope.regions[0]
    try:
        place = get_region(code, scope=scope)
    except UnknownRegionError as exc:
        return _refuse(str(exc), 400)
    except ScopeError as exc:
        return _refuse(str(exc), 400)
    out = io.BytesIO()
    try:
        with current_version() as con:
            write_export(family, con, month=month, region=place.code, scope=scope, out=out)
    except (IntakeError, ScopeError) as exc:
        problems = getattr(exc, "problems", None)
        return _refuse("；".join(str(p) for p in problems) if problems else str(exc), 400)
    return _send(out, f"{families[family].label}_{place.name}_{month:%Y-%m}.xlsx")


def register_intake_routes(server: Flask) -> None:
    """Add the template and export routes to the Flask server."""

    @server.route("/data/template/<family>.xlsx")
    def intake_template(family: str):
        return template_response(family)

    @server.route("/data/export/<family>.xlsx")
    def intake_export(family: str):
        return export_response(family, request.args.get("month"), request.args.get("region"))
