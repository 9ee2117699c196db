"""Web hardening (web/hardening.py): bad URLs and callback bodies get Chinese 4xx answers, requests
are bounded and same-origin, the headers hold, nothing leaks versions, and the SECRET_KEY rules."""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dash
import pytest

import app
from tests.web.dash_requests import LEAKS, UPDATE, page_body, page_json, ready, render
from web import hardening

REPO = Path(__file__).resolve().parents[2]
PAGES = ["/", "/services", "/spending", "/projects", "/tasks", "/ranking", "/forecast", "/briefing"]


@pytest.fixture
def client(demo_env, monkeypatch, tmp_path):
    monkeypatch.delenv("COCKPIT_VIEWER_SCOPE", raising=False)
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path))
    c = app.server.test_client()
    ready(c)
    return c


def _chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


# ------------------------------------------------------------------ bad URL parameters


@pytest.mark.parametrize("path", PAGES)
def test_month_zero_gets_the_pages_chinese_error_not_a_500(client, path):
    resp = render(client, path, "?month=0000-01")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    text = page_json(resp)
    page = next(p for p in dash.page_registry.values() if p["path"] == path)
    if "month" in inspect.signature(page["layout"]).parameters:  # the 预测 page has no month
        assert "error-banner" in text and "月份格式不正确" in text
    assert not LEAKS.search(text)


def test_a_repeated_url_parameter_counts_once(client):
    resp = render(client, "/", "?month=2026-13&month=2026-10&_layout=x")
    assert resp.status_code == 200 and "error-banner" not in page_json(resp)
    assert "2026年1—10月" in page_json(resp)


def test_forecast_downloads_of_a_forbidden_region_or_bad_state_answer_in_chinese(client, monkeypatch):
    monkeypatch.setenv("COCKPIT_VIEWER_SCOPE", "360100")
    output = next(k for k in app.app.callback_map if "forecast-download.data" in k)
    for button in ("forecast-download-csv", "forecast-download-xlsx"):
        for state in ({"kpi": "online_handling_rate", "region": "360700", "h": 6, "view": "month"},
                      {"kpi": "online_handling_rate", "region": "360100", "h": "0000-01", "view": "month"},
                      {"kpi": "nope", "region": "360100", "h": 6, "view": "month"},
                      {"region": "360100"}, "junk"):
            body = {"output": output,
                    "outputs": [{"id": "forecast-download", "property": "data"},
                                {"id": "forecast-download-status", "property": "children"}],
                    "inputs": [{"id": "forecast-download-csv", "property": "n_clicks",
                                "value": 1 if button.endswith("csv") else None},
                               {"id": "forecast-download-xlsx", "property": "n_clicks",
                                "value": 1 if button.endswith("xlsx") else None}],
                    "state": [{"id": "forecast-state", "property": "data", "value": state}],
                    "changedPropIds": [f"{button}.n_clicks"]}
            resp = client.post(UPDATE, json=body)
            assert resp.status_code < 500, resp.get_data(as_text=True)[:300]
            text = resp.get_data(as_text=True)
            assert not LEAKS.search(text)
            if resp.status_code == 200:
                status = resp.get_json()["response"]["forecast-download-status"]["children"]
                assert _chinese(status)


def test_an_unknown_page_is_a_chinese_404_in_the_shell(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404 and 'id="react-entry-point"' in resp.get_data(as_text=True)
    text = page_json(render(client, "/no-such-page"))
    assert "页面不存在" in text and "404 - Page not found" not in text
    assert client.get("/forecast").status_code == 200 and client.get("/").status_code == 200


def test_the_browsers_own_favicon_request_is_not_a_404(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.mimetype == "image/x-icon"


def test_a_county_viewer_sees_the_ranking(client, monkeypatch):
    monkeypatch.setenv("COCKPIT_VIEWER_SCOPE", "360102")
    resp = render(client, "/ranking")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert "综合评估排名" in page_json(resp)


def test_boundaries_are_served_only_for_the_deployments_province(client):
    assert client.get("/boundaries/360000/county.json").status_code == 200
    assert client.get("/boundaries/360000/county/360100.json").status_code == 200
    for url in ("/boundaries/110000/county.json", "/boundaries/440000/city.json",
                "/boundaries/360000/county/110100.json", "/boundaries/360000/town.json"):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert _chinese(resp.get_data(as_text=True))


# ------------------------------------------------------------------ callback bodies


@pytest.mark.parametrize("data, content_type, status", [
    ("not json", "application/json", 400),
    ("[1, 2", "application/json", 400),
    ("[]", "application/json", 400),
    ('{"output": "nope"}', "application/json", 400),
    ('{"output": ".._pages_content.children..._pages_store.data..", "inputs": 5}', "application/json", 400),
    ("output=x", "application/x-www-form-urlencoded", 415),
    ("{}", "text/plain", 415),
])
def test_malformed_callback_bodies_get_chinese_4xx(client, data, content_type, status):
    resp = client.post(UPDATE, data=data, content_type=content_type)
    assert resp.status_code == status
    body = resp.get_json()
    assert body and _chinese(body["message"])
    assert not LEAKS.search(resp.get_data(as_text=True))


def test_a_callback_that_fails_on_junk_answers_400_in_chinese(client):
    body = page_body("/forecast", "?h=7")
    body["inputs"][1]["value"] = {"not": "a string"}  # search must be a string
    resp = client.post(UPDATE, json=body)
    assert 400 <= resp.status_code < 500
    assert _chinese(resp.get_data(as_text=True)) and not LEAKS.search(resp.get_data(as_text=True))


def test_a_request_over_the_size_limit_is_413_in_chinese(client, monkeypatch):
    monkeypatch.setenv("COCKPIT_MAX_REQUEST_MB", "1")
    monkeypatch.setitem(app.server.config, "MAX_CONTENT_LENGTH", hardening.request_limit())
    big = page_body("/forecast", "?x=" + "a" * (2 * 2**20))
    resp = client.post(UPDATE, json=big)
    assert resp.status_code == 413 and "请求内容过大" in resp.get_json()["message"]
    junk = client.post(UPDATE, data="x" * (2 * 2**20), content_type="application/json")  # not even JSON
    assert junk.status_code == 413 and "请求内容过大" in junk.get_json()["message"]
    assert hardening.request_limit() == 2**20 and hardening.upload_request_limit() > 50 * 2**20


def test_the_default_request_limit_is_20_mb(monkeypatch):
    monkeypatch.delenv("COCKPIT_MAX_REQUEST_MB", raising=False)
    assert hardening.request_limit() == 20 * 2**20
    assert app.server.config["MAX_CONTENT_LENGTH"] == hardening.request_limit()


def test_cross_site_posts_are_refused(client):
    body = page_body("/forecast")
    for origin in ("http://evil.example", "null", "http://localhost.evil.example"):
        resp = client.post(UPDATE, json=body, headers={"Origin": origin})
        assert resp.status_code == 403 and "跨站" in resp.get_json()["message"]
    assert client.post(UPDATE, json=body, headers={"Origin": "http://localhost"}).status_code == 200
    assert client.post(UPDATE, json=body).status_code == 200  # no Origin: not a browser's cross-site post


def test_an_allowed_origin_may_post(client, monkeypatch):
    monkeypatch.setenv("COCKPIT_ALLOWED_ORIGINS", "https://cockpit.gov.example")
    resp = client.post(UPDATE, json=page_body("/forecast"), headers={"Origin": "https://cockpit.gov.example"})
    assert resp.status_code == 200


# ------------------------------------------------------------------ headers and leaks


def test_every_response_carries_the_security_headers(client):
    for url in ("/", "/forecast", "/_dash-layout", "/healthz", "/no-such-page", "/assets/cockpit.css"):
        resp = client.get(url)
        h = resp.headers
        resp.close()
        assert h["X-Frame-Options"] == "SAMEORIGIN"
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "same-origin"
        csp = h["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
        assert "http:" not in csp and "https:" not in csp and " * " not in f" {csp} "


def test_the_csp_allows_exactly_the_pages_inline_scripts(client):
    resp = client.get("/")
    html = resp.get_data()
    csp = resp.headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    inline = [m.group(2) for m in re.finditer(rb"<script([^>]*)>(.*?)</script>", html, re.S)
              if b"src=" not in m.group(1) and b"application/json" not in m.group(1)]
    assert inline  # Dash's renderer bootstrap at least
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert f"'sha256-{digest}'" in script_src


def test_the_page_config_does_not_expose_versions(client):
    page = client.get("/").get_data(as_text=True)
    config = json.loads(page.split('id="_dash-config" type="application/json">')[1].split("</script>")[0])
    assert not {"python_version", "dash_version", "plotly_version"} & set(config)
    assert sys.version.split()[0] not in page


def test_the_development_server_does_not_name_its_version():
    handler = hardening.QuietRequestHandler.__new__(hardening.QuietRequestHandler)
    assert handler.version_string() == "cockpit"
    assert "Python" not in handler.version_string() and "Werkzeug" not in handler.version_string()


def test_flask_errors_are_chinese_pages_without_tracebacks(client):
    resp = client.get("/boundaries/../../etc/passwd")
    assert resp.status_code == 404
    resp = client.delete("/healthz")
    assert resp.status_code == 405 and _chinese(resp.get_data(as_text=True))
    resp = client.get("/_dash-component-suites/dash/../../../etc/passwd.js")
    assert resp.status_code == 404 and not LEAKS.search(resp.get_data(as_text=True))


# ------------------------------------------------------------------ the SECRET_KEY


@pytest.fixture
def no_key(monkeypatch, tmp_path):
    monkeypatch.delenv("COCKPIT_SECRET_KEY", raising=False)
    monkeypatch.setenv("COCKPIT_SECRET_KEY_FILE", str(tmp_path / "cockpit.secret"))
    return tmp_path / "cockpit.secret"


@pytest.mark.parametrize("env, gunicorn", [("production", False), ("", True)])
def test_production_refuses_to_start_without_a_key(no_key, monkeypatch, env, gunicorn):
    monkeypatch.setenv("COCKPIT_ENV", env)
    monkeypatch.setattr(hardening, "_under_gunicorn", lambda: gunicorn)
    with pytest.raises(hardening.SecretKeyError, match="拒绝启动"):
        hardening.secret_key()
    assert not no_key.exists()  # production never invents a key


@pytest.mark.parametrize("key", ["dev", "changeme", "short-but-random-9f2c", "a" * 40])
def test_production_refuses_a_default_or_short_key(no_key, monkeypatch, key):
    monkeypatch.setenv("COCKPIT_ENV", "production")
    monkeypatch.setenv("COCKPIT_SECRET_KEY", key)
    with pytest.raises(hardening.SecretKeyError, match="拒绝启动"):
        hardening.secret_key()


def test_production_accepts_a_strong_key_from_the_environment_or_a_private_file(no_key, monkeypatch):
    monkeypatch.setenv("COCKPIT_ENV", "production")
    monkeypatch.setenv("COCKPIT_SECRET_KEY", "k" + "9f2c81d0e4b7a6353a1c" * 2)
    assert hardening.secret_key().startswith("k9f2c")
    monkeypatch.delenv("COCKPIT_SECRET_KEY")
    no_key.write_text("Zq8x" + "7Hn2pL4vR9sT1wY3" * 3)
    os.chmod(no_key, 0o644)
    with pytest.raises(hardening.SecretKeyError, match="chmod 600"):
        hardening.secret_key()
    os.chmod(no_key, 0o600)
    assert hardening.secret_key().startswith("Zq8x")


def test_development_generates_a_private_key_once_and_reuses_it(no_key, monkeypatch):
    monkeypatch.setenv("COCKPIT_ENV", "development")
    first = hardening.secret_key()
    assert len(first) >= 32 and oct(no_key.stat().st_mode & 0o777) == "0o600"
    assert hardening.secret_key() == first


def test_gunicorn_counts_as_production_unless_development(monkeypatch):
    monkeypatch.setattr(hardening, "_under_gunicorn", lambda: True)
    monkeypatch.delenv("COCKPIT_ENV", raising=False)
    assert hardening.is_production()
    monkeypatch.setenv("COCKPIT_ENV", "development")
    assert not hardening.is_production()


def test_the_app_refuses_to_start_in_production_without_a_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env.update({"COCKPIT_ENV": "production", "COCKPIT_JOBS_DIR": str(tmp_path / "jobs"),
                "COCKPIT_SECRET_KEY_FILE": str(tmp_path / "none.secret")})
    done = subprocess.run([sys.executable, "-c", "import app"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0 and "拒绝启动" in done.stderr and "SECRET_KEY" in done.stderr
    assert "Traceback" not in done.stderr
