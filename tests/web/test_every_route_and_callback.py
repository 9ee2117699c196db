"""Every route of the Flask ``url_map`` and every callback of ``app.callback_map`` is behind login.

The lists are read from the app itself, so a route or callback added later is covered by
these tests without touching them: an anonymous GET of a page is redirected to the login form,
every other anonymous request (callbacks, the layout and dependencies, APIs, downloads, job
polls) gets 401 JSON in Chinese. Only the static library files, the login pages and the health
probe are public, and they are named here (:data:`PUBLIC`).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import dash
import pytest

import app
from data import audit
from tests.auth_helpers import anonymous_client, logged_in_client
from tests.web.dash_requests import UPDATE, page_body

pytestmark = pytest.mark.usefixtures("demo_env")

# the only rules an anonymous request may use, and why
PUBLIC = {
    "/static/<path:filename>": "Flask's static files (none are ours)",
    "/assets/<path:filename>": "stylesheets, scripts, locale: static library files",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": "Dash's JS bundles",
    "/_favicon.ico": "the icon",
    "/favicon.ico": "the icon browsers ask for on their own",
    "/healthz": "the load balancer's probe (version and warm-up state, no data)",
    "/login": "the login form",
    "/login/totp": "the second login step (needs a password first)",
    "/login/sso": "the start of the SSO login",
    "/login/sso/callback": "the SSO provider's answer",
    "/logout": "logging out",
}
# sample values for the URL converters of the rules
SAMPLES = {"path": "services", "filename": "cockpit.css", "family": "services", "province": "360000", "level": "city",
           "parent": "360100", "package_name": "dash", "fingerprinted_path": "dash-renderer/build/dash_renderer.min.js"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def anon():
    client = anonymous_client(app.server)
    client.get("/")  # the first request registers the pages' callbacks
    return client


def _rules():
    return sorted(app.server.url_map.iter_rules(), key=lambda r: r.rule)


def _url(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: SAMPLES.get(m.group(1), "x"), rule.rule)


def _is_page(rule) -> bool:
    return rule.endpoint in ("/", "/<path:path>", "screen")


def _assert_401(resp, what: str) -> None:
    assert resp.status_code == 401, f"{what}: {resp.status_code} {resp.get_data(as_text=True)[:200]}"
    assert resp.mimetype == "application/json", what
    body = resp.get_json()
    assert body["status"] == 401 and CHINESE.search(body["message"]), what


def _assert_to_login(resp, url: str) -> None:
    assert resp.status_code == 302, f"{url}: {resp.status_code}"
    target = urlsplit(resp.headers["Location"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == [url]


def test_every_rule_is_public_on_purpose_or_guarded(anon):
    seen = set()
    for rule in _rules():
        seen.add(rule.rule)
        url = _url(rule)
        methods = rule.methods - {"HEAD", "OPTIONS"}
        if rule.rule in PUBLIC:
            continue
        if _is_page(rule):
            _assert_to_login(anon.get(url), url)
            continue
        for method in sorted(methods):
            _assert_401(anon.open(url, method=method, json={} if method == "POST" else None), f"{method} {url}")
    assert set(PUBLIC) - seen <= {"/static/<path:filename>", "/favicon.ico"}, "a public rule is gone: update PUBLIC"


def test_the_public_rules_serve_without_login(anon):
    for url in ("/assets/cockpit.css", "/_favicon.ico", "/login", "/healthz"):
        with anon.get(url) as resp:
            assert resp.status_code == 200, url


def _declared(items) -> list[dict]:
    out = []
    for item in items or []:
        cid = item["id"]
        if isinstance(cid, str) and cid.startswith("{"):
            cid = json.loads(cid)
        wildcard = isinstance(cid, dict) and any(isinstance(v, list) for v in cid.values())
        out.append([] if wildcard else {"id": cid, "property": item["property"], "value": None})
    return out


def _body(output: str, cb: dict) -> dict:
    """A well-formed body for the callback (what the renderer would send)."""
    return {"output": output, "outputs": [], "inputs": _declared(cb.get("inputs")),
            "state": _declared(cb.get("state")), "changedPropIds": []}


def _server_callbacks() -> list[str]:
    anonymous_client(app.server).get("/")
    return sorted(k for k, cb in app.app.callback_map.items() if "callback" in cb)


def test_every_callback_refuses_an_anonymous_post(anon):
    callbacks = _server_callbacks()
    assert len(callbacks) >= 20  # the pages' callbacks are registered
    for output in callbacks:
        body = _body(output, app.app.callback_map[output])
        _assert_401(anon.post(UPDATE, json=body), output)
        # a background job's poll too (Dash adds its handles to the query string)
        _assert_401(anon.post(UPDATE, query_string={"cacheKey": "k", "job": "1"}, json=body), f"poll {output}")
    _assert_401(anon.post(UPDATE, data="not json", content_type="text/plain"), "a malformed body")


def test_every_page_redirects_an_anonymous_visitor_to_login(anon):
    for page in dash.page_registry.values():
        path = page["path"]
        _assert_to_login(anon.get(path), path)
        _assert_to_login(anon.get(path + "?region=360100&month=2026-10"), path + "?region=360100&month=2026-10")
    _assert_to_login(anon.get("/screen?dwell=10"), "/screen?dwell=10")
    _assert_to_login(anon.get("/no-such-page"), "/no-such-page")  # nothing says which paths exist
    for url in ("/_dash-layout", "/_dash-dependencies", "/api/screen?region=360000&kpi=online_handling_rate",
                "/data/export/services.xlsx?month=2026-10", "/boundaries/360000/city.json"):
        _assert_401(anon.get(url), url)


def test_an_anonymous_page_render_callback_is_refused_like_any_other(anon):
    _assert_401(anon.post(UPDATE, json=page_body("/", "?region=360000")), "page render")


def test_the_login_page_returns_only_to_this_site(anon):
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        html = anon.get("/login", query_string={"next": evil}).get_data(as_text=True)
        assert "evil" not in html and "javascript" not in html


# ------------------------------------------------------------------ logged in: roles


def _page_paths() -> list[str]:
    return sorted(p["path"] for p in dash.page_registry.values() if p["path"] != "/404")


def test_a_leader_opens_the_analytical_pages_but_not_data_or_admin():
    client, user = logged_in_client(app.server, "leader", "360100")
    for path in _page_paths():
        resp = client.get(path)
        if path.startswith(("/data", "/admin")):
            assert resp.status_code == 403, path
            assert "无权访问" in resp.get_data(as_text=True)
        else:
            assert resp.status_code == 200, path
    assert client.get("/data/export/services.xlsx?month=2026-10").status_code == 403
    denials = list(audit.search(actor=user.username, action="拒绝"))
    assert {r["target"] for r in denials} >= {"/data", "/data/export/services.xlsx"}


@pytest.mark.parametrize(("role", "allowed", "refused"), [
    ("reporter", ["/", "/data", "/services"], ["/admin/audit"]),
    ("admin", ["/", "/data", "/admin/audit"], []),
    ("analyst", ["/", "/forecast"], ["/data", "/admin/audit"]),
    ("dept", ["/", "/services"], ["/data", "/admin/audit"]),
])
def test_each_role_opens_what_the_table_allows(role, allowed, refused):
    client, user = logged_in_client(app.server, role, "360100", "D01" if role == "dept" else None)
    for path in allowed:
        assert client.get(path).status_code == 200, (role, path)
    for path in refused:
        assert client.get(path).status_code == 403, (role, path)
        # the page's callback is refused too (a forged render of a page the nav does not offer)
        resp = client.post(UPDATE, json=page_body(path))
        assert resp.status_code == 403 and resp.get_json()["status"] == 403, (role, path)
    assert len(audit.search(actor=user.username, action="拒绝")) == 2 * len(refused)


def test_a_leader_may_not_post_the_data_pages_callbacks():
    client, user = logged_in_client(app.server, "leader", "360000")
    client.get("/")
    for output, cb in app.app.callback_map.items():
        if "callback" not in cb or getattr(cb["callback"], "__module__", "") != "pages.data":
            continue
        resp = client.post(UPDATE, json=_body(output, cb))
        assert resp.status_code == 403, output
    assert audit.search(actor=user.username, action="拒绝")


def test_the_header_names_the_viewer_and_offers_only_their_pages():
    client, _ = logged_in_client(app.server, "leader", "360102")
    body = {"output": "..shell-user.children...shell-nav.children..",
            "outputs": [{"id": "shell-user", "property": "children"}, {"id": "shell-nav", "property": "children"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"}], "changedPropIds": []}
    doc = client.post(UPDATE, json=body).get_json()["response"]
    text = json.dumps(doc, ensure_ascii=False)
    assert "东湖区" in text and "领导" in text and "退出" in text
    hrefs = re.findall(r'"href": "([^"]+)"', json.dumps(doc["shell-nav"], ensure_ascii=False))
    assert "/" in hrefs and "/screen" in hrefs and "/data" not in hrefs
