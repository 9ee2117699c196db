"""web/asset_urls.py: every file a page or the wall loads has a fingerprinted URL; Plotly.js is preloaded."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
from dash.fingerprint import check_fingerprint

import app
from tests.web.dash_requests import ready
from web import asset_urls

SUITE = re.compile(r'(?:src|href)="/_dash-component-suites/(?P<package>[^/"]+)/(?P<path>[^"]+)"')


@pytest.fixture
def client(demo_env, monkeypatch, tmp_path):
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path))
    c = app.server.test_client()
    ready(c)
    return c


def _page(client) -> str:
    resp = client.get("/")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_a_suite_url_is_the_one_dash_writes_into_its_page(client):
    found = SUITE.findall(_page(client))
    assert len(found) >= 8
    for package, fingerprinted in found:
        rel, has_fingerprint = check_fingerprint(fingerprinted)
        assert has_fingerprint
        assert asset_urls.suite_url(package, rel) == f"/_dash-component-suites/{package}/{fingerprinted}"


def test_the_page_preloads_plotly_and_the_graph_chunk_fingerprinted(client):
    html = _page(client)
    head = html[:html.index("</head>")]
    preloads = re.findall(r'<link rel="preload" as="script" href="([^"]+)">', head)
    assert preloads == [asset_urls.suite_url(*asset_urls.PRELOAD[0]), asset_urls.asset_url(asset_urls.PLOTLY_BUNDLE)]
    assert re.search(r"\.v[\w-]+m\d+\.", preloads[0]) and re.search(r"\?m=[\d.]+$", preloads[1])


def test_the_page_includes_neither_plotly_file_itself(client):
    # dcc.Graph asks for Plotly.js when a chart needs it (the partial bundle, via the URL map); the full
    # plotly.min.js is named nowhere but as the map's key
    html = _page(client)
    assert "plotly-cockpit.min.js" not in re.sub(r'<link rel="preload"[^>]*>', "", html).split("var urls =")[0]
    assert not re.search(r'<script[^>]+plotly(?!-locale)', html)
    assert html.count("package_data/plotly.min.js") == 1


def test_every_script_loaded_on_demand_is_mapped_to_its_fingerprinted_url(client):
    html = _page(client)
    script = re.search(r"<script>\(function \(\) \{\s*var urls = (\{.*?\});", html, re.S)
    urls = json.loads(script.group(1))
    bare = "/_dash-component-suites/plotly/package_data/plotly.min.js"
    assert urls.pop(bare) == asset_urls.asset_url(asset_urls.PLOTLY_BUNDLE)  # the partial bundle, not the full file
    assert "/_dash-component-suites/dash/dcc/async-graph.js" in urls
    assert "/_dash-component-suites/dash_ag_grid/async-community.js" in urls
    for path, fingerprinted in urls.items():
        assert check_fingerprint(fingerprinted.split("/", 3)[3]) == (path.split("/", 3)[3], True)


def test_dash_serves_the_plotly_bundle_and_the_csp_allows_the_inline_map(client):
    with client.get(asset_urls.asset_url(asset_urls.PLOTLY_BUNDLE)) as resp:  # a file response: closed here
        assert resp.status_code == 200 and b"plotly.js v" in resp.get_data()[:200]
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"  # as nginx serves it
    with client.get("/assets/" + asset_urls.PLOTLY_BUNDLE) as bare:  # not fingerprinted: Flask's revalidation
        assert bare.status_code == 200 and "immutable" not in bare.headers.get("Cache-Control", "")
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in csp and "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
    body = re.search(rb"<script>(\(function \(\) \{\s*var urls = .*?)</script>", page.get_data(), re.S).group(1)
    assert f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'" in csp


def test_the_walls_page_gets_fingerprints_for_assets_and_suites_only(tmp_path):
    (tmp_path / "screen").mkdir()
    (tmp_path / "screen" / "a.css").write_text("b{}")
    text = ('<link rel="stylesheet" href="/assets/screen/a.css">'
            '<script src="/_dash-component-suites/plotly/package_data/plotly.min.js" defer></script>'
            '<script src="/api/screen"></script><a href="/screen?x=1">')
    out = asset_urls.fingerprint_html(text, tmp_path)
    assert re.search(r'href="/assets/screen/a\.css\?m=[\d.]+"', out)
    assert f'src="{asset_urls.suite_url(*asset_urls.PLOTLY_JS)}" defer' in out
    assert '<script src="/api/screen"></script><a href="/screen?x=1">' in out
