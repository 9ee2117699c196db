"""Login in the served app (web/auth.py): the form, cookies, lockout, TOTP, timeouts, logout, the
viewer's scope from the session only, page views and exports in the audit log, and the wall's
device sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
import pytest

import app
from data import audit, identity
from data.scope import Scope, ScopeError
from tests.auth_helpers import PASSWORD, anonymous_client, csrf_of, logged_in_client, login, make_user
from tests.web.dash_requests import UPDATE, page_body
from tests.web.forge import forecast_download_body, render, rows
from web import jobs
from web.auth import COOKIE
from web.session import viewer_scope, viewing_as

pytestmark = pytest.mark.usefixtures("demo_env")


def _cookie(resp, name=COOKIE) -> str:
    return next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith(name + "="))


# ------------------------------------------------------------------ the form


def test_the_login_page_is_chinese_in_the_cockpit_style_and_runs_no_script():
    html = anonymous_client(app.server).get("/login").get_data(as_text=True)
    assert "<title>登录 · 领导驾驶舱</title>" in html and 'lang="zh-CN"' in html
    assert "/assets/cockpit.css" in html and "/assets/account.css" in html
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "用户名" in html and "密码" in html and "统一身份认证" not in html  # SSO is not configured here


def test_a_good_login_sets_an_httponly_lax_cookie_and_returns_to_the_page_asked_for(monkeypatch):
    user = make_user("leader", "360100")
    client = anonymous_client(app.server)
    first = client.get("/projects?region=360100")
    assert first.status_code == 302 and "next=%2Fprojects%3Fregion%3D360100" in first.headers["Location"]
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    resp = client.post("/login?next=%2Fprojects%3Fregion%3D360100",
                       data={"username": user.username, "password": PASSWORD, "csrf": csrf_of(page)})
    assert resp.status_code == 303 and resp.headers["Location"] == "/projects?region=360100"
    cookie = _cookie(resp)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie and "Max-Age" not in cookie
    assert client.get("/projects?region=360100").status_code == 200
    monkeypatch.setenv("COCKPIT_COOKIE_SECURE", "1")  # behind HTTPS
    other = make_user("leader", "360100")
    assert "Secure" in _cookie(login(anonymous_client(app.server), other.username))


def test_a_wrong_password_says_so_in_chinese_and_is_audited():
    user = make_user("leader", "360100")
    client = anonymous_client(app.server)
    resp = login(client, user.username, "Not-the-password-1", expect_ok=False)
    assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)
    assert COOKIE not in (resp.headers.get("Set-Cookie") or "")
    assert audit.search(actor=user.username, action="登录失败")[0]["outcome"] == "失败"


def test_a_post_without_the_forms_token_is_refused():
    user = make_user("leader", "360100")
    resp = anonymous_client(app.server).post("/login", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 400 and "页面已过期" in resp.get_data(as_text=True)


def test_the_fifth_wrong_password_locks_the_account_even_for_the_right_one():
    user = make_user("leader", "360100")
    client = anonymous_client(app.server)
    for _ in range(4):
        login(client, user.username, "Not-the-password-1", expect_ok=False)
    resp = login(client, user.username, "Not-the-password-1", expect_ok=False)
    assert "账号已锁定" in resp.get_data(as_text=True)
    assert "账号已锁定" in login(client, user.username, PASSWORD, expect_ok=False).get_data(as_text=True)
    assert [r["action"] for r in audit.search(actor=user.username)][:3] == ["登录失败", "账号锁定", "登录失败"]


def test_an_account_with_totp_needs_the_code_after_the_password():
    user = make_user("leader", "360100")
    identity.enable_totp(user.username, actor="测试")
    client = anonymous_client(app.server)
    resp = login(client, user.username, expect_ok=False)
    assert resp.status_code == 303 and resp.headers["Location"] == "/login/totp"
    assert client.get("/").status_code == 302  # not logged in yet
    page = client.get("/login/totp").get_data(as_text=True)
    assert "动态验证码" in page
    bad = client.post("/login/totp", data={"code": "12345", "csrf": csrf_of(page)})
    assert bad.status_code == 401 and "动态验证码错误" in bad.get_data(as_text=True)
    code = pyotp.TOTP(identity.totp_secret(user.username)).now()
    ok = client.post("/login/totp", data={"code": code, "csrf": csrf_of(page)})
    assert ok.status_code == 303 and COOKIE in _cookie(ok)
    assert client.get("/").status_code == 200
    assert audit.search(actor=user.username, action="登录成功")[0]["detail"] == '{"method": "密码+动态验证码"}'


def test_a_totp_code_works_once_even_inside_its_30_seconds():
    user = make_user("leader", "360100")
    identity.enable_totp(user.username, actor="测试")
    code = pyotp.TOTP(identity.totp_secret(user.username)).now()
    assert identity.verify_second_factor(user.user_id, code).username == user.username
    with pytest.raises(identity.LoginError, match="动态验证码错误"):  # replayed (e.g. shoulder-surfed)
        identity.verify_second_factor(user.user_id, code)
    assert audit.search(actor=user.username, action="登录失败")[0]["detail"] == \
        '{"consecutive": 1, "reason": "动态验证码错误"}'


def test_one_address_failing_on_many_accounts_is_throttled_and_audited(monkeypatch):
    monkeypatch.setenv("COCKPIT_LOGIN_FAILURES_PER_IP", "3 per 10 minutes")
    client = anonymous_client(app.server)
    accounts = [make_user("analyst", "360100") for _ in range(3)]  # one failure each: no account locks
    for user in accounts[:2]:
        assert login(client, user.username, "Not-the-password-1", expect_ok=False).status_code == 401
    second = make_user("leader", "360100")  # a wrong TOTP code counts toward the same address's limit
    identity.enable_totp(second.username, actor="测试")
    assert login(client, second.username, expect_ok=False).status_code == 303  # a success does not count
    page = client.get("/login/totp").get_data(as_text=True)
    assert client.post("/login/totp", data={"code": "000000", "csrf": csrf_of(page)}).status_code == 401
    refused = login(client, accounts[2].username, PASSWORD, expect_ok=False)  # even the right password
    assert refused.status_code == 429 and "该地址登录失败次数过多" in refused.get_data(as_text=True)
    denial = audit.search(action="拒绝", limit=1)[0]
    assert (denial["actor"], denial["target"]) == (accounts[2].username, "登录限流 /login")
    other = anonymous_client(app.server)
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    login(other, accounts[2].username)  # another address is not held up, nor is the account locked


# ------------------------------------------------------------------ sessions end


def test_logout_revokes_the_session_for_every_later_request():
    client, user = logged_in_client(app.server, "leader", "360100")
    stolen = client.get_cookie(COOKIE).value
    assert client.get("/logout").status_code == 200  # a confirmation, not a logout
    assert client.get("/").status_code == 200
    page = client.get("/logout").get_data(as_text=True)
    resp = client.post("/logout", data={"csrf": csrf_of(page)})
    assert resp.status_code == 303 and resp.headers["Location"] == "/login?bye=1"
    replay = anonymous_client(app.server)
    replay.set_cookie(COOKIE, stolen, domain="localhost")
    assert replay.get("/").status_code == 302
    assert replay.post(UPDATE, json=page_body("/")).status_code == 401
    assert audit.search(actor=user.username)[0]["action"] == "退出登录"


def test_an_idle_session_sends_the_next_request_to_login(monkeypatch):
    client, user = logged_in_client(app.server, "leader", "360100")
    later = datetime.now() + timedelta(minutes=31)
    monkeypatch.setattr(identity, "clock", lambda: later)
    resp = client.get("/services")
    assert resp.status_code == 302 and "expired=1" in resp.headers["Location"]
    assert "已超时" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert audit.search(actor=user.username)[0]["action"] == "会话超时"


def test_the_scope_comes_from_the_session_and_nowhere_else():
    client, _user = logged_in_client(app.server, "leader", "360102")
    with app.server.test_request_context("/"), pytest.raises(ScopeError):  # nobody logged in: no scope
        viewer_scope()
    with viewing_as(None), pytest.raises(ScopeError):
        viewer_scope()
    # the browser cannot name another scope: headers, cookies and parameters are all ignored
    resp = client.post(UPDATE, json=page_body("/", "?region=360000&scope=360000"),
                       headers={"X-Cockpit-Scope": "360000", "X-Forwarded-User": "admin"})
    assert resp.status_code == 200 and "无权查看该地区" in resp.get_data(as_text=True)
    client.set_cookie("session", "forged", domain="localhost")
    assert render(client, "/", "?region=360102").status_code == 200


def test_jobs_are_counted_per_user():
    _client, user = logged_in_client(app.server, "leader", "360100")
    keys = []
    with app.server.test_request_context("/"):
        from flask import g

        g.cockpit_viewer = identity.principal_for_user(user)
        keys.append(jobs.viewer_key())
    assert keys == [f"user:{user.username}"]


# ------------------------------------------------------------------ audit: page views and exports


def test_each_page_view_is_audited_with_its_path_region_and_month():
    client, user = logged_in_client(app.server, "analyst", "360100")
    assert render(client, "/services", "?region=360102&month=2026-09").status_code == 200
    row = audit.search(actor=user.username, action="页面访问")[0]
    assert row["target"] == "/services?region=360102&month=2026-09"
    assert (row["region"], row["month"], row["role"], row["outcome"]) == ("360102", "2026-09", "analyst", "成功")


def test_a_forecast_download_is_audited_as_an_export():
    client, user = logged_in_client(app.server, "leader", "360100")
    client.get("/forecast")
    state = {"kpi": "online_handling_rate", "region": "360100", "h": 6, "view": "month"}
    doc = client.post(UPDATE, json=forecast_download_body(state)).get_json()
    assert rows(doc["response"]["forecast-download"])  # the file has rows
    row = audit.search(actor=user.username, action="导出")[0]
    assert row["target"].endswith(".csv") and row["region"] == "360100"
    assert '"kpi": "online_handling_rate"' in row["detail"]


def test_a_data_export_is_audited_with_its_region_and_month():
    client, user = logged_in_client(app.server, "reporter", "360100")
    resp = client.get("/data/export/services.xlsx?month=2026-10&region=360102")
    assert resp.status_code == 200
    row = audit.search(actor=user.username, action="导出")[0]
    assert (row["target"], row["region"], row["month"]) == (
        "/data/export/services.xlsx?month=2026-10&region=360102", "360102", "2026-10")


# ------------------------------------------------------------------ the wall


@pytest.fixture
def wall_token():
    token_id, token = identity.create_device_token("测试大屏", region="360100",
                                                   playlist="regions=cities&sets=services&dwell=17", actor="测试")
    return token_id, token


def test_a_device_token_opens_the_screen_with_its_playlist_and_nothing_else(wall_token):
    _token_id, token = wall_token
    wall = anonymous_client(app.server)
    resp = wall.get(f"/screen?device={token}")
    assert resp.status_code == 303 and resp.headers["Location"] == "/screen"  # the token leaves the URL
    cookie = _cookie(resp)
    assert "HttpOnly" in cookie and "Max-Age=" in cookie  # it outlives a browser restart
    page = wall.get("/screen").get_data(as_text=True)
    assert '"dwell": 17' in page and "登录" not in page
    api = wall.get("/api/screen?region=360100&kpi=online_handling_rate")
    assert api.status_code == 200 and api.get_json()["region"] == "360100"
    assert wall.get("/boundaries/360000/county/360100.json").status_code == 200
    for url in ("/", "/services", "/_dash-layout", "/_dash-dependencies", "/data/export/services.xlsx?month=2026-10"):
        assert wall.get(url).status_code == 403, url
    assert wall.post(UPDATE, json=page_body("/")).status_code == 403
    denied = wall.get("/api/screen?region=360000&kpi=online_handling_rate")  # the province is outside it
    assert denied.status_code == 400 and "无权" in denied.get_json()["error"]
    actor = "设备:测试大屏"
    targets = [r["target"] for r in audit.search(actor=actor, action="拒绝")]
    assert "region=360000" in targets and "GET /_dash-layout" in targets


def test_a_revoked_device_token_stops_on_the_next_request(wall_token):
    token_id, token = wall_token
    wall = anonymous_client(app.server)
    wall.get(f"/screen?device={token}")
    assert wall.get("/api/screen?region=360100&kpi=online_handling_rate").status_code == 200
    identity.revoke_device_token(token_id, actor="测试")
    resp = wall.get("/api/screen?region=360100&kpi=online_handling_rate")
    assert resp.status_code == 401 and resp.get_json()["message"]
    assert wall.get(f"/screen?device={token}").status_code == 401  # and it cannot be exchanged again
    assert audit.search(actor="设备:测试大屏", action="拒绝")[0]["detail"].count("已吊销") == 1


def test_a_device_header_works_without_a_cookie(wall_token):
    _, token = wall_token
    wall = anonymous_client(app.server)
    ok = wall.get("/api/screen?region=360100&kpi=online_handling_rate", headers={"X-Cockpit-Device": token})
    assert ok.status_code == 200
    assert wall.get("/", headers={"X-Cockpit-Device": token}).status_code == 403
    assert wall.get("/api/screen?region=360100", headers={"X-Cockpit-Device": "dev_wrong"}).status_code == 401


def test_a_bad_device_token_gets_a_chinese_page_and_no_login_form():
    resp = anonymous_client(app.server).get("/screen?device=dev_nothing")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 401 and "设备令牌无效" in text and 'name="password"' not in text


def test_a_person_opens_the_screen_in_their_own_scope():
    client, user = logged_in_client(app.server, "leader", "360102")
    assert client.get("/screen").status_code == 200
    assert client.get("/api/screen?region=360102&kpi=online_handling_rate").status_code == 200
    assert client.get("/api/screen?region=360100&kpi=online_handling_rate").status_code == 400
    assert audit.search(actor=user.username, action="拒绝")[0]["target"] == "region=360100"


def test_the_warm_up_and_clis_have_no_viewer_and_fail_closed():
    with viewing_as(None), pytest.raises(ScopeError, match="未登录"):
        viewer_scope()
    with viewing_as(identity.principal_for_user(make_user("leader", "360102"))):
        assert viewer_scope() == Scope(regions=("360102",))
