"""Driving the 数据管理 page's background jobs (check an upload, 发布) as the Dash renderer does: the
first POST submits the job and gets its handles, later POSTs with the handles poll until the
answer. ``post(params, body) -> (status, json or None)`` speaks to a Flask test client or to a
served URL, so the embedded mode's tests and the production mode's share this."""

from __future__ import annotations

import time
from collections.abc import Callable

Post = Callable[[dict, dict], tuple[int, dict | None]]


def outputs_of(key: str) -> list[dict]:
    """The renderer's ``outputs`` for a callback's output key (``..a.children@h...b.data@h..``)."""
    out = []
    for part in key.strip(".").split("..."):
        cid, _, prop = part.rpartition(".")
        out.append({"id": cid, "property": prop})
    return out


def find_output(keys, *parts: str) -> str:
    """The one callback output key that contains every one of ``parts``."""
    found = [k for k in keys if all(p in k for p in parts)]
    assert len(found) == 1, (parts, found)
    return found[0]


def upload_body(key: str, contents, filename: str, *, region: str = "360000", token=None) -> dict:
    return {"output": key, "outputs": outputs_of(key),
            "inputs": [{"id": "data-upload", "property": "contents", "value": contents}],
            "state": [{"id": "data-upload", "property": "filename", "value": filename},
                      {"id": "data-upload-family", "property": "value", "value": None},
                      {"id": "data-upload-region", "property": "value", "value": region},
                      {"id": "data-upload-token", "property": "data", "value": token}],
            "changedPropIds": ["data-upload.contents"]}


def publish_body(key: str, token: str | None, confirmed: list | None = None) -> dict:
    return {"output": key, "outputs": outputs_of(key),
            "inputs": [{"id": "data-upload-publish", "property": "n_clicks", "value": 1}],
            "state": [{"id": "data-upload-token", "property": "data", "value": token},
                      {"id": "data-upload-confirm", "property": "value", "value": confirmed or []}],
            "changedPropIds": ["data-upload-publish.n_clicks"]}


def run_job(post: Post, body: dict, *, timeout: float = 300, params: dict | None = None) -> dict:
    """Submit the job, poll until its answer (the ``response`` of the callback, by output id)."""
    params = dict(params or {})
    status, started = post(params, body)
    assert status == 200 and started is not None, (status, started)
    if "response" in started:  # answered at once (a refusal: nothing was started)
        return started["response"]
    handles = {"cacheKey": started["cacheKey"], "job": started["job"]}
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, polled = post({**params, **handles}, body)
        assert status in (200, 204), (status, polled)
        if status == 200 and polled is not None and "response" in polled:
            return polled["response"]
        time.sleep(0.5)
    raise AssertionError(f"the job never answered in {timeout} s: {handles}")
