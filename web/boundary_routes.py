"""Boundaries served as static JSON from this app, so figures carry a URL, not the shapes.

Plotly.js fetches a ``geojson`` given as a URL once and caches it; the page payload then
drops the ~270 KB of county shapes per render. The route reads the same cached
collections as :func:`data.geo.geojson` and never leaves the server (offline-safe).
Only the deployment's own province (the database's root region) is served: another
province's code is a 404 with a Chinese message, so no request makes the server compute
and cache boundaries it never shows.
"""

from __future__ import annotations

import json
import re

from flask import Flask, Response

from data.geo import UnknownRegionError, geojson
from metrics.regions import root_region

_CODE = re.compile(r"^\d{6}$")
ROUTE = "/boundaries"


def boundary_url(province: str, level: str, parent: str | None = None) -> str:
    """The app-relative URL of a boundary layer (optionally one region's children)."""
    return f"{ROUTE}/{province}/{level}" + (f"/{parent}" if parent else "") + ".json"


def _not_found(message: str) -> Response:
    resp = Response(json.dumps({"status": 404, "message": message}, ensure_ascii=False), status=404,
                    mimetype="application/json")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def register_boundary_routes(server: Flask) -> None:
    """Serve ``/boundaries/<province>/<level>[/<parent>].json`` (cacheable by the browser)."""

    def serve(province: str, level: str, parent: str | None = None):
        if not _CODE.match(province) or (parent and not _CODE.match(parent)) or level not in ("city", "county"):
            return _not_found("边界请求无效：应为 /boundaries/<省级代码>/<city|county>[/<地区代码>].json")
        try:
            root = root_region()
        except (LookupError, FileNotFoundError):
            return _not_found("数据库不可用，无法确定本系统的省份")
        if province != root:  # only the deployment's province: no request computes another one's shapes
            return _not_found(f"本系统只提供本省（{root}）的边界：{province}")
        try:
            body = json.dumps(geojson(province, level, parent_code=parent), ensure_ascii=False,
                              separators=(",", ":"))
        except (UnknownRegionError, ValueError):
            return _not_found(f"未知的地区代码：{parent}（不属于 {province}）")
        resp = Response(body, mimetype="application/geo+json")
        resp.headers["Cache-Control"] = "public, max-age=86400"
        return resp

    server.add_url_rule(f"{ROUTE}/<province>/<level>.json", "boundaries", serve)
    server.add_url_rule(f"{ROUTE}/<province>/<level>/<parent>.json", "boundaries_children", serve)
