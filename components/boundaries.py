"""Boundaries served as static JSON from this app, so figures carry a URL, not the shapes.

Plotly.js fetches a ``geojson`` given as a URL once and caches it; the page payload then
drops the ~270 KB of county shapes per render. The route reads the same cached
collections as :func:`data.geo.geojson` and never leaves the server (offline-safe).
"""

from __future__ import annotations

import json
import re

from flask import Flask, Response, abort

from data.geo import UnknownRegionError, geojson

_CODE = re.compile(r"^\d{6}$")
ROUTE = "/boundaries"


def boundary_url(province: str, level: str, parent: str | None = None) -> str:
    """The app-relative URL of a boundary layer (optionally one region's children)."""
    return f"{ROUTE}/{province}/{level}" + (f"/{parent}" if parent else "") + ".json"


def register_boundary_routes(server: Flask) -> None:
    """Serve ``/boundaries/<province>/<level>[/<parent>].json`` (cacheable by the browser)."""

    def serve(province: str, level: str, parent: str | None = None):
        if not _CODE.match(province) or (parent and not _CODE.match(parent)) or level not in ("city", "county"):
            abort(404)
        try:
            body = json.dumps(geojson(province, level, parent_code=parent), ensure_ascii=False,
                              separators=(",", ":"))
        except (UnknownRegionError, ValueError):
            abort(404)
        resp = Response(body, mimetype="application/geo+json")
        resp.headers["Cache-Control"] = "public, max-age=86400"
        return resp

    server.add_url_rule(f"{ROUTE}/<province>/<level>.json", "boundaries", serve)
    server.add_url_rule(f"{ROUTE}/<province>/<level>/<parent>.json", "boundaries_children", serve)
