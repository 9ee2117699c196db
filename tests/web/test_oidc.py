"""SSO login against a real OpenID provider: ``oidc-provider-mock`` served on loopback by this test
(the cockpit's Authlib client does discovery, the code exchange and the id_token checks over
HTTP exactly as against a government SSO). The provider only vouches for who someone is: the
account, its role and its scope must exist in the cockpit."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import app
from data import audit, identity
from tests.auth_helpers import anonymous_client, make_user, unique_name
from web.auth import COOKIE

pytestmark = pytest.mark.usefixtures("demo_env")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@pytest.fixture(scope="module")
def provider():
    """``python -m oidc_provider_mock`` on a free loopback port; its base URL (the issuer)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/.well-known/openid-configuration", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        assert proc.poll() is None and time.time() < deadline, "the OIDC provider did not start"
        time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def sso(provider, monkeypatch):
    monkeypatch.setenv("COCKPIT_OIDC_ISSUER", provider)
    monkeypatch.setenv("COCKPIT_OIDC_CLIENT_ID", "cockpit")
    monkeypatch.setenv("COCKPIT_OIDC_CLIENT_SECRET", "cockpit-client-secret")
    monkeypatch.setenv("COCKPIT_OIDC_USERNAME_CLAIM", "preferred_username")
    return provider


def _provider_user(base: str, sub: str, **claims) -> None:
    req = urllib.request.Request(f"{base}/users/{urllib.parse.quote(sub)}", method="PUT",
                                 data=json.dumps(claims).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 204


def _sign_in_at_provider(authorize_url: str, sub: str) -> str:
    """What the person does at the SSO: choose who they are; the provider's redirect back to us."""
    data = urllib.parse.urlencode({"sub": sub}).encode()
    try:
        _opener.open(urllib.request.Request(authorize_url, data=data, method="POST"), timeout=5)
    except urllib.error.HTTPError as exc:
        assert exc.code in (302, 303), exc.code
        return exc.headers["Location"]
    raise AssertionError("the provider did not redirect back")


def _sso_login(client, base: str, sub: str, next_url: str = "/services"):
    start = client.get("/login/sso", query_string={"next": next_url})
    assert start.status_code == 302, start.get_data(as_text=True)[:300]
    authorize = start.headers["Location"]
    assert authorize.startswith(base + "/oauth2/authorize")
    back = urllib.parse.urlsplit(_sign_in_at_provider(authorize, sub))
    assert back.path == "/login/sso/callback"
    return client.get(back.path, query_string=back.query)


def test_the_login_page_offers_sso_only_when_configured(sso):
    html = anonymous_client(app.server).get("/login?next=/tasks").get_data(as_text=True)
    assert 'href="/login/sso?next=%2Ftasks"' in html and "统一身份认证登录" in html


def test_a_known_sso_user_is_logged_in_with_the_scope_stored_here(sso):
    user = make_user("analyst", "360100", password=None)
    sub = unique_name("sub")
    _provider_user(sso, sub, preferred_username=user.username, name="王五")
    client = anonymous_client(app.server)
    resp = _sso_login(client, sso, sub)
    assert resp.status_code == 303 and resp.headers["Location"] == "/services"
    assert any(h.startswith(COOKIE + "=") for h in resp.headers.getlist("Set-Cookie"))
    assert client.get("/services").status_code == 200
    assert identity.get_user(user.username).oidc_subject == sub  # linked on first use
    row = audit.search(actor=user.username, action="登录成功")[0]
    assert row["detail"] == '{"method": "统一身份认证"}'
    # the provider cannot change the role or scope: a leader's claims are just claims
    _provider_user(sso, sub, preferred_username=user.username, role="admin", region="360000")
    again = anonymous_client(app.server)
    _sso_login(again, sso, sub, "/")
    assert again.get("/data").status_code == 403


def test_an_sso_user_unknown_here_is_refused_and_audited(sso):
    sub = unique_name("sub")
    stranger = unique_name("stranger")
    _provider_user(sso, sub, preferred_username=stranger)
    client = anonymous_client(app.server)
    resp = _sso_login(client, sso, sub)
    assert resp.status_code == 403 and "未在本系统开通" in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302
    row = audit.search(actor=stranger, action="登录失败")[0]
    assert "未在本系统开通" in row["detail"] and sub in row["detail"]


def test_a_deactivated_account_cannot_come_in_through_sso(sso):
    user = make_user("leader", "360100", password=None)
    sub = unique_name("sub")
    _provider_user(sso, sub, preferred_username=user.username)
    identity.deactivate_user(user.username, actor="测试")
    resp = _sso_login(anonymous_client(app.server), sso, sub)
    assert resp.status_code == 403 and "已停用" in resp.get_data(as_text=True)


def test_a_forged_callback_without_the_state_is_refused(sso):
    client = anonymous_client(app.server)
    resp = client.get("/login/sso/callback", query_string={"code": "abc", "state": "forged"})
    assert resp.status_code == 401 and "统一身份认证未通过" in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_without_configuration_sso_is_not_offered():
    resp = anonymous_client(app.server).get("/login/sso")
    assert resp.status_code == 404 and "未配置统一身份认证" in resp.get_data(as_text=True)
