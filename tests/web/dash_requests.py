"""Helpers that speak to the served app as the Dash renderer does (through the Flask test client)."""

from __future__ import annotations

import json
import re

import app

UPDATE = "/_dash-update-component"
# what a response must never show: a traceback, or a path into the server's files
LEAKS = re.compile(r"Traceback|File \"|site-packages|/work/|/root/|/home/|/usr/lib|\.py\b", re.I)


def page_body(pathname: str, search: str = "") -> dict:
    """The body the renderer posts to render a page (``dash.page_container``'s router callback)."""
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"]}


def render(client, pathname: str, search: str = ""):
    """POST the router callback for ``pathname?search``; the response."""
    return client.post(UPDATE, json=page_body(pathname, search))


def page_json(resp) -> str:
    """The rendered layout as JSON text (for looking for messages in it)."""
    return json.dumps(resp.get_json(), ensure_ascii=False)


def ready(client) -> None:
    """A first request registers the pages' router callback."""
    client.get("/")


def callback_ids() -> list[str]:
    return list(app.app.callback_map)
