"""The big screen (数据大屏) as a standalone page beside the Dash app.

``/screen`` serves a small HTML shell (``assets/screen/index.html``) with the validated
query string embedded as JSON; its hand-written client (``assets/screen/screen.js``)
keeps the rotation state, polls ``/api/screen`` and redraws with ``Plotly.react``. A
standalone page has no Dash callbacks to fail: when the server is away the client keeps
what it has drawn. ``/api/screen`` carries every text of the wall (the display model's) and its
charts as Plotly figures built by the pages' chart builders (``web/screen_figures.py``); the page
loads the pages' partial Plotly.js (``assets/vendor/plotly-cockpit.min.js``), nothing from a CDN.
"""

from __future__ import annotations

import html
import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from flask import Flask, Response, request

from metrics.errors import user_message
from metrics.screen_view import ScreenInputError, screen_config, screen_data
from web.asset_urls import fingerprint_html
from web.screen_figures import screen_figures
from web.session import viewer_playlist, viewer_scope

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "screen"
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


# what the screen's data holds for its charts: drawn on the server, sent as the figures instead
_CHART_DATA = {"trend": None, "map": ("codes", "names", "values"), "spending": ("months", "values", "progress_months",
                                                                             "progress")}


def screen_payload(region: str, kpi: str) -> dict[str, Any]:
    """The JSON of one screen (a dict; :class:`ScreenInputError` or user errors propagate): its
    texts and numbers, and its charts as Plotly figures (``figures``)."""
    scope = viewer_scope()
    data = screen_data(region, kpi, scope=scope)
    doc = {k: v for k, v in data.items() if _CHART_DATA.get(k, ()) is not None}
    for key, fields in _CHART_DATA.items():
        if fields is not None:
            doc[key] = {k: v for k, v in data[key].items() if k not in fields}
    return {**doc, "figures": screen_figures(data["region"], data["kpi"]["id"], scope=scope)}


def _json(doc: dict, status: int = 200) -> Response:
    resp = Response(orjson.dumps(doc), status=status, mimetype="application/json")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def register_screen_routes(server: Flask) -> None:
    """``/screen`` (the page) and ``/api/screen`` (its data)."""

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

    server.add_url_rule("/screen", "screen", page)
    server.add_url_rule("/api/screen", "screen_api", api)
