"""Callback bodies as a forger would write them, and what the answers carry as data rows.

``rows(doc)`` collects every data row a callback answer holds: the points of each Plotly trace
(locations, x/y, labels), the rows of each grid (``rowData``) and each download. A forged
request for something outside the viewer's scope must come back with none of it naming that
thing (the denial message may name it: it is not a row).
"""

from __future__ import annotations

import base64
import json

import app
from tests.web.dash_requests import UPDATE, page_body

TRACE_KEYS = ("locations", "x", "y", "labels", "ids", "customdata", "text")


def output_of(fragment: str) -> str:
    return next(k for k in app.app.callback_map if fragment in k)


def forecast_download_body(state, kind: str = "csv") -> dict:
    return {"output": output_of("forecast-download.data"),
            "outputs": [{"id": "forecast-download", "property": "data"},
                        {"id": "forecast-download-status", "property": "children"}],
            "inputs": [{"id": "forecast-download-csv", "property": "n_clicks", "value": 1 if kind == "csv" else None},
                       {"id": "forecast-download-xlsx", "property": "n_clicks",
                        "value": 1 if kind == "xlsx" else None}],
            "state": [{"id": "forecast-state", "property": "data", "value": state}],
            "changedPropIds": [f"forecast-download-{kind}.n_clicks"]}


def what_if_body(state, pp: float = 1.0) -> dict:
    return {"output": "forecast-whatif-result.children",
            "outputs": {"id": "forecast-whatif-result", "property": "children"},
            "inputs": [{"id": "forecast-whatif-pp", "property": "value", "value": pp},
                       {"id": "forecast-whatif-mode", "property": "value", "value": "ramp"}],
            "state": [{"id": "forecast-state", "property": "data", "value": state}],
            "changedPropIds": ["forecast-whatif-pp.value"]}


def render(client, pathname: str, search: str = ""):
    return client.post(UPDATE, json=page_body(pathname, search))


def rows(doc) -> list[str]:
    """Every data row in a callback answer, each as text (see the module docstring)."""
    out: list[str] = []

    def walk(v, depth=0):
        if depth > 40:
            return
        if isinstance(v, dict):
            if isinstance(v.get("rowData"), list):
                out.extend(json.dumps(r, ensure_ascii=False) for r in v["rowData"])
            if "type" in v and any(k in v for k in TRACE_KEYS):  # a Plotly trace
                for key in TRACE_KEYS:
                    if isinstance(v.get(key), list):
                        out.extend(json.dumps(p, ensure_ascii=False) for p in v[key])
            if isinstance(v.get("filename"), str) and "content" in v:  # a download
                content = v["content"] or ""
                text = base64.b64decode(content).decode("utf-8", "replace") if v.get("base64") else content
                out.extend(text.splitlines() or [v["filename"]])
            for x in v.values():
                walk(x, depth + 1)
        elif isinstance(v, list):
            for x in v:
                walk(x, depth + 1)

    walk(doc)
    return out


def rows_naming(doc, *names: str) -> list[str]:
    return [r for r in rows(doc) if any(n in r for n in names)]
