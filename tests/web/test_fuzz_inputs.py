"""Fuzzing what a client controls: every page's URL parameters, and every callback's POST body built
from its declared inputs and state with malformed values (wrong types, huge strings, nested junk,
missing keys, invalid JSON). Whatever is sent, the answer is never a 5xx and never shows a
traceback or a path into the server's files."""

from __future__ import annotations

import inspect
import json
import shutil
from urllib.parse import quote, urlencode

import dash
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app
from data import db
from tests.web.dash_requests import LEAKS, UPDATE, page_body, ready

FUZZ = settings(max_examples=12, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

# names the pages read (their layouts' parameters) and a few they might be sent anyway
EXTRA_PARAMS = ["region", "month", "period", "kpi", "level", "h", "view", "project", "focus", "status", "page"]
SPECIAL = ["", " ", "0000-01", "9999-12", "2026-13", "2026-00", "1900-01", "2026-10", "2021-01", "-1", "0", "1e309",
           "NaN", "inf", "360000", "360100", "360102", "360700", "999999", "110000", "ytd", "month", "quarter",
           "city", "county", "province", "online_handling_rate", "budget_execution_rate", "nope", "3", "6", "7",
           "18", "ramp", "flat", "../../etc/passwd", "%00", "\x00", "<script>alert(1)</script>",
           "' OR 1=1 --", "😀" * 10, "a" * 5000, "中" * 3000, "[]", "{}", "null", "true"]


def _jsonable_junk():
    leaves = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
              | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(SPECIAL) | st.text(max_size=40))
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


JUNK = _jsonable_junk()
URL_VALUE = st.sampled_from(SPECIAL) | st.text(max_size=60)


def _page_params(page: dict) -> list[str]:
    sig = inspect.signature(page["layout"]) if callable(page["layout"]) else None
    names = [n for n, p in (sig.parameters.items() if sig else []) if p.kind is p.POSITIONAL_OR_KEYWORD
             or p.kind is p.KEYWORD_ONLY]
    return sorted(set(names) | set(EXTRA_PARAMS))


PAGES = sorted(dash.page_registry.values(), key=lambda p: p["path"])


@pytest.fixture(scope="module")
def fuzz_db(demo_db_path, tmp_path_factory):
    """A copy of the demo database: a fuzzed 数据管理 callback may publish or roll back."""
    target = tmp_path_factory.mktemp("fuzz") / "db"
    shutil.copytree(demo_db_path.parent, target, symlinks=True,
                    ignore=shutil.ignore_patterns("*.log", "jobs", "cache"))
    return target / demo_db_path.name


@pytest.fixture
def client(demo_env, fuzz_db, tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_DB", str(fuzz_db))
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COCKPIT_VIEWER_SCOPE", raising=False)
    db.reset_reader()
    c = app.server.test_client()
    ready(c)
    yield c
    db.reset_reader()


def _check(resp, what) -> None:
    text = resp.get_data(as_text=True)
    assert resp.status_code < 500, f"{what}: {resp.status_code} {text[:400]}"
    leak = LEAKS.search(text)
    assert leak is None, f"{what}: leaks {leak.group(0)!r} in {text[max(0, leak.start() - 200):leak.end() + 200]}"


# ------------------------------------------------------------------ pages and their URLs


@pytest.mark.parametrize("scope", [None, "360102"], ids=["province", "county"])
@pytest.mark.parametrize("page", PAGES, ids=[p["path"] for p in PAGES])
@FUZZ
@given(data=st.data())
def test_no_url_parameter_breaks_a_page(client, monkeypatch, page, scope, data):
    if scope:
        monkeypatch.setenv("COCKPIT_VIEWER_SCOPE", scope)
    names = _page_params(page)
    params = data.draw(st.dictionaries(st.sampled_from(names), URL_VALUE, max_size=4), label="params")
    raw = data.draw(st.sampled_from(["", "&&=&%ZZ", "&month=a&month=b", "&region=%E4%B8%AD&=x", "&" + "x=1&" * 50]),
                    label="raw")
    search = "?" + urlencode(params, quote_via=quote) + raw
    _check(client.get(page["path"] + search), f"GET {page['path']}{search[:200]}")
    resp = client.post(UPDATE, json=page_body(page["path"], search))
    _check(resp, f"render {page['path']}{search[:200]}")


def test_the_fuzz_covers_every_page_parameter():
    read = {n for p in PAGES for n in _page_params(p)}
    assert {"region", "month", "period", "kpi", "h", "view", "level", "focus"} <= read


# ------------------------------------------------------------------ callbacks


def _callbacks() -> list[str]:
    c = app.server.test_client()
    c.get("/")  # registers the pages' router callback
    return sorted(app.app.callback_map)


def _parse_id(cid):
    if isinstance(cid, str) and cid.startswith("{"):
        return json.loads(cid)
    return cid


def _concrete(cid, data):
    """A matching concrete id for a wildcard id (ALL/MATCH values become drawn names)."""
    if not isinstance(cid, dict):
        return cid
    return {k: (data.draw(st.sampled_from(["region", "month", "kpi", "x", "360100", "1"]) | st.integers(0, 9),
                          label="wild") if isinstance(v, list) else v) for k, v in cid.items()}


def _items(declared, data, with_value: bool):
    out = []
    for item in declared:
        cid, prop = _parse_id(item["id"]), item["property"]
        wild = isinstance(cid, dict) and any(isinstance(v, list) for v in cid.values())
        if wild:
            n = data.draw(st.integers(0, 3), label="matches")
            entries = [{"id": _concrete(cid, data), "property": prop} for _ in range(n)]
            for e in entries:
                if with_value:
                    e["value"] = data.draw(JUNK, label="value")
            out.append(entries)
        else:
            entry = {"id": cid, "property": prop}
            if with_value:
                entry["value"] = data.draw(JUNK, label="value")
            out.append(entry)
    return out


def _outputs(cb, data):
    outs = cb["output"] if isinstance(cb["output"], (list, tuple)) else [cb["output"]]
    result = []
    for o in outs:
        cid = _parse_id(o.component_id_str())
        if isinstance(cid, dict) and any(isinstance(v, list) for v in cid.values()):
            result.append([{"id": _concrete(cid, data), "property": o.component_property}])
        else:
            result.append({"id": cid, "property": o.component_property})
    return result if isinstance(cb["output"], (list, tuple)) else result[0]


def _body(key: str, data) -> dict:
    cb = app.app.callback_map[key]
    inputs = _items(cb.get("inputs", []), data, True)
    state = _items(cb.get("state", []), data, True)
    changed = [f"{json.dumps(i['id'], separators=(',', ':')) if isinstance(i.get('id'), dict) else i.get('id')}."
               f"{i.get('property')}" for i in (inputs[0] if inputs and isinstance(inputs[0], list) else inputs[:1])
               if isinstance(i, dict)]
    return {"output": key, "outputs": _outputs(cb, data), "inputs": inputs, "state": state,
            "changedPropIds": changed}


MUTATIONS = ["values", "values", "values", "missing", "types", "raw"]


@pytest.mark.parametrize("key", _callbacks())
@FUZZ
@given(data=st.data())
def test_no_callback_body_gets_a_5xx_or_a_traceback(client, key, data):
    body = _body(key, data)
    mutation = data.draw(st.sampled_from(MUTATIONS), label="mutation")
    if mutation == "missing":
        for k in data.draw(st.lists(st.sampled_from(sorted(body)), min_size=1, max_size=3, unique=True), label="drop"):
            body.pop(k)
    elif mutation == "types":
        k = data.draw(st.sampled_from(sorted(body)), label="field")
        body[k] = data.draw(JUNK, label="junk")
    if mutation == "raw":
        raw = data.draw(st.sampled_from(['{"output": ', "[", "nul", json.dumps(body)[:-1], "\ufeff{}",
                                         json.dumps(body).replace('"', "'")]), label="raw")
        resp = client.post(UPDATE, data=raw.encode("utf-8"), content_type="application/json")
    else:
        resp = client.post(UPDATE, data=json.dumps(body), content_type="application/json")
    _check(resp, f"{key[:80]} ({mutation})")
