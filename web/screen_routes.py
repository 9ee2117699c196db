"""The big screen (数据大屏) as a standalone page beside the Dash app.

``/screen`` serves a small HTML shell (``assets/screen/index.html``) with the validated
query string embedded as JSON; its hand-written client (``assets/screen/screen.js``)
keeps the rotation state, polls ``/api/screen`` and redraws with ``Plotly.react``. A
standalone page has no Dash callbacks to fail: when the server is away the client keeps
what it has drawn. Plotly.js is served from the installed plotly package, nothing from a CDN.
"""

from __future__ import annotations

import html
import json
import logging
from functools import lru_cache
from pathlib import Path

import orjson
import plotly
from flask import Flask, Response, request

from components.maps import view_for
from data.geo import geojson
from metrics.errors import user_message
from metrics.screen_view import ScreenInputError, screen_config, screen_data
from web.asset_urls import fingerprint_html
from web.boundary_routes import boundary_url
from web.session import viewer_playlist, viewer_scope

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "screen"
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
# the map panel's size on the 1920×1080 canvas, for the initial view (the client refits it)
MAP_SIZE = (780, 520)
_UNAVAILABLE = "服务暂时不可用，稍后自动重试"


def _message(exc: Exception) -> str | None:
    return str(exc) if isinstance(exc, ScreenInputError) else user_message(exc)


@lru_cache(maxsize=1)
def _template() -> str:
    # fingerprinted file URLs: nginx serves them precompressed and immutable (web/asset_urls.py)
    return fingerprint_html((ASSETS / "index.html").read_text(encoding="utf-8"))


def _page(doc: dict, status: int) -> Response:
    # "</" cannot end the script element when escaped inside a JSON string
    payload = json.dumps(doc, ensure_ascii=False).replace("</", "<\\/")
    body = _template().replace("__SCREEN_CONFIG__", payload).replace("__SCREEN_TITLE__", html.escape("数据大屏"))
    resp = Response(body, status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _map_view(data: dict) -> dict:
    """The boundary URL and the initial centre/zoom of the screen's map."""
    m = data["map"]
    level = m["level"]
    parent = m["parent"]
    shapes = geojson(data["province"], level, parent_code=parent)
    center, zoom = view_for(shapes, *MAP_SIZE)
    return {"geojson_url": boundary_url(data["province"], level, parent), "center": center, "zoom": zoom}


@lru_cache(maxsize=1)
def _plotly_bytes() -> bytes:
    return PLOTLY_JS.read_bytes()


def screen_payload(region: str, kpi: str) -> dict:
    """The JSON of one screen (a dict; :class:`ScreenInputError` or user errors propagate)."""
    data = screen_data(region, kpi, scope=viewer_scope())
    return {**data, "map": {**data["map"], **_map_view(data)}}


def _json(doc: dict, status: int = 200) -> Response:
    resp = Response(orjson.dumps(doc), status=status, mimetype="application/json")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def register_screen_routes(server: Flask) -> None:
    """``/screen`` (the page), ``/api/screen`` (its data) and ``/screen/plotly.min.js``."""

    def page():
        try:
            # a wall display's device token carries its playlist: the default query
            cfg = screen_config({**viewer_playlist(), **request.args.to_dict()}, scope=viewer_scope())
        except Exception as exc:  # every failure becomes a message on the screen
            msg = _message(exc)
            if msg is None:
                log.exception("screen config failed")
            return _page({"error": msg or _UNAVAILABLE}, 400 if msg else 500)
        return _page(cfg.to_dict(), 200)

    def api():
        try:
            doc = screen_payload(request.args.get("region", ""), request.args.get("kpi", ""))
        except Exception as exc:  # the client keeps its last data on any error
            msg = _message(exc)
            if msg is None:
                log.exception("screen data failed")
            return _json({"error": msg or _UNAVAILABLE}, 400 if msg else 500)
        return _json(doc)

    def plotly_js():
        resp = Response(_plotly_bytes(), mimetype="text/javascript")
        resp.headers["Cache-Control"] = "public, max-age=86400"
        return resp

    server.add_url_rule("/screen", "screen", page)
    server.add_url_rule("/api/screen", "screen_api", api)
    server.add_url_rule("/screen/plotly.min.js", "screen_plotly", plotly_js)
