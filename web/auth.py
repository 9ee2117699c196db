"""Login for the cockpit: Flask-Login over the server-side sessions of ``data/identity.py``.

:func:`init_auth` (called once from ``app.py``) adds:

* **The session cookie** ``cockpit_session``: a random token (only its sha256 is stored),
  HttpOnly, SameSite=Lax, Secure when ``COCKPIT_COOKIE_SECURE=1``. Flask-Login's
  ``current_user`` is the :class:`~data.identity.Principal` of that session; the viewer's
  scope (``web/session.py``) comes from it and from nothing the browser sends.
* **Pages**: ``/login`` (a Chinese form in the cockpit's style; no script), ``/login/totp`` (the
  second step for accounts with TOTP), ``/logout``, and, when ``COCKPIT_OIDC_ISSUER`` is set,
  ``/login/sso`` and ``/login/sso/callback`` (OIDC via Authlib; see :func:`sso_config`).
* **One guard** in front of everything else. Public: ``/assets/``, ``/_dash-component-suites/``,
  ``/_favicon.ico`` and ``/favicon.ico``, ``/static/``, the login pages and ``/healthz``. Anonymous requests for a
  page are redirected to ``/login?next=…``; every other anonymous request (callbacks,
  ``/_dash-layout``, ``/_dash-dependencies``, APIs, downloads, job polls) gets 401 JSON in
  Chinese. A logged-in user asking for a page, route or callback their role may not open
  (:data:`data.identity.ACCESS`) gets 403 and an audit 拒绝 row.
* **The wall display**: ``/screen?device=TOKEN`` (or an ``X-Cockpit-Device`` header on every
  request) exchanges a device token for a device session that opens ``/screen``, its files,
  ``/api/screen`` and the map boundaries, read-only (GET), with the token's region as its scope
  and its playlist as the default query. A revoked token stops on the next request.
* **Audit**: logins, failures, lockouts, logouts (``data/identity.py``); page views (the Dash
  page-render callback and ``/screen``: 页面访问 with path and query); exports (a callback
  whose response carries a download, the 数据管理 template and export routes: 导出); and every
  denial (拒绝): a page or callback the role may not open, a request naming a region,
  project, unit, department, item, task or KPI outside the scope (:mod:`metrics.access`),
  and a scope error shown to the viewer (:func:`metrics.errors.on_denial`). The data layer
  still answers such requests with zero rows: the guard records, the scope enforces.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from typing import TypedDict
from urllib.parse import parse_qsl, urlencode, urlsplit

import dash
from flask import Flask, Response, g, redirect, render_template_string, request, session
from flask_login import LoginManager, current_user

from data import audit, identity
from data.identity import Principal
from data.scope import ScopeError

log = logging.getLogger(__name__)

COOKIE = "cockpit_session"
DEVICE_HEADER = "X-Cockpit-Device"
DEVICE_COOKIE_DAYS = 400
PENDING_SECONDS = 300  # how long the TOTP step waits after the password

PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/static/")
PUBLIC_PATHS = frozenset({"/_favicon.ico", "/favicon.ico", "/healthz", "/login", "/login/totp", "/login/sso",
                          "/login/sso/callback", "/logout"})
DEVICE_PREFIXES = ("/boundaries/",)  # the wall's map shapes (not scoped data)
UNAUTHORIZED = "未登录或登录已超时，请先登录"
SCREEN_UNAUTHORIZED = "大屏未获授权：设备令牌无效或已吊销（或登录已超时），请联系管理员"
FORBIDDEN_PAGE = "您的角色（{role}）无权访问「{area}」"
PAGE_RENDER_MODULE = "dash.dash"
DOWNLOAD_HINT = "download"


# ------------------------------------------------------------------ configuration


def cookie_secure() -> bool:
    return os.environ.get("COCKPIT_COOKIE_SECURE", "").strip().lower() in ("1", "true", "yes")


class SsoConfig(TypedDict):
    """The OIDC settings (:func:`sso_config`)."""

    issuer: str
    client_id: str
    client_secret: str
    username_claim: str
    scope: str
    redirect_uri: str | None
    label: str


def sso_config() -> SsoConfig | None:
    """The OIDC settings (``COCKPIT_OIDC_*``), or None when SSO is not configured."""
    issuer = os.environ.get("COCKPIT_OIDC_ISSUER", "").strip().rstrip("/")
    client_id = os.environ.get("COCKPIT_OIDC_CLIENT_ID", "").strip()
    if not issuer or not client_id:
        return None
    return {"issuer": issuer, "client_id": client_id,
            "client_secret": os.environ.get("COCKPIT_OIDC_CLIENT_SECRET", ""),
            "username_claim": os.environ.get("COCKPIT_OIDC_USERNAME_CLAIM", "").strip() or "preferred_username",
            "scope": os.environ.get("COCKPIT_OIDC_SCOPE", "").strip() or "openid profile email",
            "redirect_uri": os.environ.get("COCKPIT_OIDC_REDIRECT_URI", "").strip() or None,
            "label": os.environ.get("COCKPIT_OIDC_LABEL", "").strip() or "统一身份认证登录"}


def _ip() -> str | None:
    return request.remote_addr


def _safe_next(value: str | None) -> str:
    """A local path to return to after login (never another site)."""
    value = (value or "").strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value or any(ord(c) < 32 for c in value):
        return "/"
    if urlsplit(value).path in PUBLIC_PATHS:
        return "/"
    return value[:2000]


def _here() -> str:
    qs = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{qs}" if qs else "")


# ------------------------------------------------------------------ responses


def _json(status: int, message: str) -> Response:
    resp = Response(json.dumps({"status": status, "message": message}, ensure_ascii=False), status=status,
                    mimetype="application/json")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _forbidden(message: str) -> Response:
    from web.hardening import error_response

    return error_response(403, message)


_TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · 领导驾驶舱</title>
<link rel="stylesheet" href="/assets/tokens.css"><link rel="stylesheet" href="/assets/cockpit.css">
<link rel="stylesheet" href="/assets/account.css"></head>
<body class="login-body"><div class="app">
<header class="app-header"><div class="brand"><span class="brand-title">领导驾驶舱</span>
<span class="brand-sub">数字政府建设运行监测</span></div></header>
<main class="login-main"><section class="login-card" id="login-card">
<h2 class="login-title">{{ title }}</h2>
{% if notice %}<div class="login-notice" id="login-notice">{{ notice }}</div>{% endif %}
{% if error %}<div class="error-banner login-error" id="login-error" role="alert">{{ error }}</div>{% endif %}
{% if step == "password" %}
<form method="post" action="/login{{ next_qs }}" class="login-form" autocomplete="on">
<input type="hidden" name="csrf" value="{{ csrf }}">
<label class="login-label" for="username">用户名</label>
<input class="login-input" id="username" name="username" value="{{ username }}" autocomplete="username"
 maxlength="64" required {% if not username %}autofocus{% endif %}>
<label class="login-label" for="password">密码</label>
<input class="login-input" id="password" name="password" type="password" autocomplete="current-password"
 maxlength="256" required {% if username %}autofocus{% endif %}>
<button class="login-button" id="login-submit" type="submit">登录</button>
</form>
{% if sso %}<div class="login-sep"><span>或</span></div>
<a class="login-button login-button--sso" id="login-sso" href="/login/sso{{ next_qs }}">{{ sso }}</a>{% endif %}
<p class="login-hint">连续 {{ lock_after }} 次密码错误将锁定账号 {{ lock_minutes }} 分钟。<br>
登录、访问和导出均记入审计日志。</p>
{% elif step == "totp" %}
<form method="post" action="/login/totp" class="login-form" autocomplete="off">
<input type="hidden" name="csrf" value="{{ csrf }}">
<label class="login-label" for="code">动态验证码（身份验证器中的 6 位数字）</label>
<input class="login-input login-input--code" id="code" name="code" inputmode="numeric" pattern="[0-9 ]{6,8}"
 maxlength="8" autocomplete="one-time-code" required autofocus>
<button class="login-button" id="totp-submit" type="submit">验证</button>
</form>
<p class="login-hint"><a href="/login">返回重新登录</a></p>
{% elif step == "logout" %}
<form method="post" action="/logout" class="login-form">
<input type="hidden" name="csrf" value="{{ csrf }}">
<p>{{ who }}，确认退出登录？</p>
<button class="login-button" id="logout-submit" type="submit">退出登录</button>
</form>
<p class="login-hint"><a href="/">返回驾驶舱</a></p>
{% else %}
<p class="login-hint"><a href="/login">前往登录</a></p>
{% endif %}
</section></main></div></body></html>"""


def _page(step: str, *, title: str = "登录", status: int = 200, error: str | None = None, notice: str | None = None,
          **ctx) -> Response:
    cfg = sso_config()
    next_value = ctx.pop("next", None)
    next_qs = "?" + urlencode({"next": next_value}) if next_value and next_value != "/" else ""
    body = render_template_string(_TEMPLATE, step=step, title=title, error=error, notice=notice,
                                  csrf=_csrf_token(), next_qs=next_qs, sso=cfg["label"] if cfg else None,
                                  lock_after=identity.LOCK_AFTER, lock_minutes=identity.LOCK_FOR.seconds // 60,
                                  username=ctx.pop("username", ""), who=ctx.pop("who", ""))
    resp = Response(body, status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def _csrf_ok() -> bool:
    given, expected = request.form.get("csrf", ""), session.get("csrf", "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _set_cookie(resp: Response, token: str, *, persistent: bool = False) -> None:
    resp.set_cookie(COOKIE, token, httponly=True, samesite="Lax", secure=cookie_secure(), path="/",
                    max_age=DEVICE_COOKIE_DAYS * 86400 if persistent else None)


def _clear_cookie(resp: Response) -> None:
    resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=cookie_secure())


# ------------------------------------------------------------------ who is asking


def _load_principal(req) -> Principal | None:
    token = req.cookies.get(COOKIE)
    principal = identity.resolve_session(token, ip=req.remote_addr) if token else None
    if principal is None and req.headers.get(DEVICE_HEADER):
        principal = identity.device_principal(req.headers.get(DEVICE_HEADER))
    return principal


def viewer() -> Principal | None:
    """The principal of the current request (None: anonymous)."""
    user = current_user._get_current_object()
    return user if isinstance(user, Principal) else None


def _deny(principal: Principal, *, target: str, reason: str, region: str | None = None, month: str | None = None,
          detail: dict | None = None) -> None:
    audit.record("拒绝", actor=principal.actor, role=principal.role or principal.kind, outcome="拒绝", target=target,
                 region=region, month=month, ip=_ip(), detail={"reason": reason, **(detail or {})})
    g.cockpit_denied = True


# ------------------------------------------------------------------ what a request names


def _page_area(path: str) -> str:
    return identity.area_of(path)


def _callback_of(app: dash.Dash, body) -> tuple[dict | None, str]:
    output = body.get("output") if isinstance(body, dict) else None
    return (app.callback_map.get(output) if isinstance(output, str) else None), (output or "")


def _module_of(cb: dict) -> str:
    fn = cb.get("callback")
    return getattr(fn, "__module__", "") or ""


def _page_path_of_module(module: str) -> str | None:
    page = dash.page_registry.get(module)
    return str(page.get("path")) if page else None


def _input_values(body: dict) -> list:
    values = []
    for key in ("inputs", "state"):
        for item in body.get(key) or []:
            for one in item if isinstance(item, list) else [item]:
                if isinstance(one, dict):
                    values.append((one.get("id"), one.get("property"), one.get("value")))
    return values


def _page_location(body: dict) -> tuple[str, str]:
    """(pathname, search) of the page-render callback's inputs."""
    pathname, search = "/", ""
    for cid, prop, value in _input_values(body):
        if cid == "_pages_location" and prop == "pathname" and isinstance(value, str):
            pathname = value
        elif cid == "_pages_location" and prop == "search" and isinstance(value, str):
            search = value
    return pathname, search


def _named(value, out: list, depth: int = 0) -> None:
    """Collect (name, value) pairs a callback value carries: query strings and dict keys."""
    if depth > 4:
        return
    if isinstance(value, str):
        if value.startswith("?") or ("=" in value and "&" in value and " " not in value):
            out.extend(parse_qsl(value.lstrip("?"), keep_blank_values=False))
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (str, int)) and not isinstance(v, bool):
                out.append((str(k), v))
            else:
                _named(v, out, depth + 1)
    elif isinstance(value, list):
        for v in value[:200]:
            _named(v, out, depth + 1)


def _callback_params(body: dict) -> list[tuple[str, object]]:
    pairs: list[tuple[str, object]] = []
    for _cid, _prop, value in _input_values(body):
        _named(value, pairs)
    return pairs


def _record_denials(principal: Principal, pairs, *, target: str) -> None:
    from metrics.access import denials

    try:
        found = denials(pairs, scope=principal.scope)
    except (LookupError, ValueError, FileNotFoundError, ScopeError):  # no database: nothing to compare with
        return
    except Exception:  # noqa: BLE001 — the data layer still applies the scope; the check itself is logged
        log.exception("无法检查请求中的地区、项目等是否越权：%s", target[:200])
        return
    month = next((_month(v) for k, v in pairs if k == "month" and _month(v)), None)
    for d in found:
        _deny(principal, target=f"{d.param}={d.value}"[:255], reason=d.message, region=d.region, month=month,
              detail={"path": target[:300]})


# ------------------------------------------------------------------ the guard


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _wants_page(app: dash.Dash, index_endpoints: set[str]) -> bool:
    return request.method in ("GET", "HEAD") and (request.endpoint in index_endpoints or request.endpoint == "screen"
                                                  or request.endpoint is None)


def _exchange_device(token: str) -> Response:
    made = identity.create_device_session(token, ip=_ip(), user_agent=request.headers.get("User-Agent"))
    if made is None:
        from web.hardening import error_response

        resp = error_response(401, "设备令牌无效或已吊销，请联系管理员重新配置大屏")
        _clear_cookie(resp)
        return resp
    session_token, _ = made
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "device"]
    resp = redirect("/screen" + ("?" + urlencode(rest) if rest else ""), code=303)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    _set_cookie(resp, session_token, persistent=True)
    return resp


def init_auth(app: dash.Dash) -> None:
    """Wire login, the guard, the wall's device sessions and the audit hooks into ``app``."""
    server: Flask = app.server
    server.config["SESSION_COOKIE_HTTPONLY"] = True
    server.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    server.config["SESSION_COOKIE_SECURE"] = cookie_secure()
    manager = LoginManager()
    manager.session_protection = None  # our own cookie carries the session; Flask's only holds form state
    manager.init_app(server)
    manager.user_loader(lambda _id: None)
    manager.request_loader(_load_principal)
    prefix = app.config.routes_pathname_prefix
    callback_path = prefix + "_dash-update-component"
    index_endpoints = {prefix, prefix + "<path:path>"}

    _register_pages(server)
    _register_sso(server)

    def authenticate():
        path = request.path
        if path == "/screen" and request.args.get("device"):
            return _exchange_device(request.args["device"])
        if _is_public(path):
            return None
        principal = viewer()
        g.cockpit_viewer = principal
        if principal is None:
            if _wants_page(app, index_endpoints):
                expired = bool(request.cookies.get(COOKIE))
                resp = redirect("/login?" + urlencode({"next": _here(), **({"expired": "1"} if expired else {})}),
                                code=302)
                if expired:
                    _clear_cookie(resp)
                return resp
            resp = _json(401, SCREEN_UNAUTHORIZED if identity.area_of(path) == "screen" else UNAUTHORIZED)
            if request.cookies.get(COOKIE):
                _clear_cookie(resp)
            return resp
        if principal.is_device:
            allowed = request.method in ("GET", "HEAD") and (
                principal.may_open(path) or path.startswith(DEVICE_PREFIXES))
            if not allowed:
                _deny(principal, target=f"{request.method} {path}"[:255], reason="大屏设备只能打开数据大屏")
                return _forbidden("大屏设备只能打开数据大屏（/screen）")
        elif path != callback_path and not principal.may_open(path):
            area = identity.AREA_NAMES[identity.area_of(path)]
            _deny(principal, target=path[:255], reason=f"角色无权访问「{area}」")
            return _forbidden(FORBIDDEN_PAGE.format(role=principal.role_name, area=area))
        # routes that read their query (/api/screen, /screen, downloads): what they name is checked
        # here; a page's own query reaches the server in its page-render callback (checked there)
        page_shell = request.endpoint in index_endpoints
        if path != callback_path and not page_shell:
            _record_denials(principal, list(request.args.items(multi=True)), target=_here())
        return None

    def authorize_callback():
        if request.path != callback_path or request.method != "POST":
            return None
        principal = g.get("cockpit_viewer")
        if principal is None:  # cannot happen after authenticate(); fail closed all the same
            return _json(401, UNAUTHORIZED)
        body = request.get_json(silent=True)
        cb, output = _callback_of(app, body)
        if cb is None:
            return None  # hardening has answered malformed bodies already
        module = _module_of(cb)
        view = None
        if module == PAGE_RENDER_MODULE:
            pathname, search = view = _page_location(body)
            target_path = pathname
            pairs = parse_qsl(search.lstrip("?"))
        else:
            target_path = _page_path_of_module(module) or "/"
            pairs = _callback_params(body)
        if not principal.may_open(target_path):
            area = identity.AREA_NAMES[identity.area_of(target_path)]
            _deny(principal, target=f"callback {output}"[:255], reason=f"角色无权访问「{area}」",
                  detail={"page": target_path[:200]})
            return _forbidden(FORBIDDEN_PAGE.format(role=principal.role_name, area=area))
        g.cockpit_callback = (output, body)
        g.cockpit_page_view = view
        _record_denials(principal, pairs, target=f"{target_path} · {output}")
        return None

    # authentication runs before everything but Dash's own one-time setup (the hardening's body
    # checks included), so an anonymous request learns nothing about callbacks; the callback check
    # reads the body the hardening has validated (and whose size it has bounded)
    funcs = server.before_request_funcs.setdefault(None, [])
    setup = [i for i, fn in enumerate(funcs) if getattr(fn, "__name__", "") == "_setup_server"]
    funcs.insert(setup[0] + 1 if setup else 0, authenticate)
    server.before_request(authorize_callback)

    @server.after_request
    def _audit_views_and_exports(resp: Response) -> Response:
        principal = g.get("cockpit_viewer")
        if principal is None:
            return resp
        try:
            _audit_response(principal, resp)
        except Exception:  # noqa: BLE001 — an audit failure is logged loudly, the response already exists
            log.exception("审计记录失败：%s %s", request.method, request.path)
        return resp

    from metrics.errors import on_denial

    on_denial(_denial_seen)
    _count_jobs_per_user()
    _register_shell_callback(app)


def _audit_response(principal: Principal, resp: Response) -> None:
    ok = resp.status_code < 400
    view = g.get("cockpit_page_view")
    if view is not None:
        pathname, search = view
        params = dict(parse_qsl(search.lstrip("?")))
        audit.record("页面访问", actor=principal.actor, role=principal.role or principal.kind,
                     outcome="成功" if ok else "失败", target=(pathname + search)[:255],
                     region=_code(params.get("region")) or principal.region_code, month=_month(params.get("month")),
                     ip=_ip())
        return
    if request.endpoint == "screen" and request.method == "GET" and ok:
        audit.record("页面访问", actor=principal.actor, role=principal.role or principal.kind, outcome="成功",
                     target=_here()[:255], region=principal.region_code, ip=_ip())
        return
    if request.endpoint in ("intake_template", "intake_export") and request.method == "GET":
        audit.record("导出", actor=principal.actor, role=principal.role or principal.kind,
                     outcome="成功" if ok else "失败", target=_here()[:255],
                     region=_code(request.args.get("region")) or principal.region_code,
                     month=_month(request.args.get("month")), ip=_ip(),
                     detail={"bytes": resp.calculate_content_length()} if ok else {"status": resp.status_code})
        return
    called = g.get("cockpit_callback")
    if called is not None and ok and DOWNLOAD_HINT in called[0] and not resp.direct_passthrough:
        files = _downloads(resp)
        if files:
            pairs = _callback_params(called[1])
            found = {k: v for k, v in pairs if isinstance(v, str)}
            for name, size in files:
                audit.record("导出", actor=principal.actor, role=principal.role or principal.kind, outcome="成功",
                             target=name[:255], region=_code(found.get("region")) or principal.region_code,
                             month=_month(found.get("month")), ip=_ip(),
                             detail={"callback": called[0][:200], "bytes": size,
                                     **({"kpi": found["kpi"]} if "kpi" in found else {})})


def _code(value) -> str | None:
    return value if isinstance(value, str) and len(value) == 6 and value.isdigit() else None


def _month(value) -> str | None:
    return value[:7] if isinstance(value, str) and len(value) >= 7 and value[4] == "-" else None


def _downloads(resp: Response) -> list[tuple[str, int]]:
    """(file name, size) of each ``dcc.Download`` payload in a callback response."""
    try:
        doc = json.loads(resp.get_data())
    except (ValueError, UnicodeDecodeError):
        return []
    found: list[tuple[str, int]] = []

    def walk(v, depth=0):
        if depth > 6:
            return
        if isinstance(v, dict):
            if isinstance(v.get("filename"), str) and "content" in v:
                found.append((v["filename"], len(v.get("content") or "")))
                return
            for x in v.values():
                walk(x, depth + 1)
        elif isinstance(v, list):
            for x in v:
                walk(x, depth + 1)

    walk(doc.get("response") if isinstance(doc, dict) else None)
    return found


def _denial_seen(exc: ScopeError) -> None:
    """A scope error shown to the viewer: one 拒绝 row per request (unless the guard wrote one)."""
    from flask import has_request_context

    if not has_request_context() or g.get("cockpit_denied"):
        return
    principal = g.get("cockpit_viewer")
    if principal is None:
        return
    called = g.get("cockpit_callback")
    view = g.get("cockpit_page_view")
    target = "".join(view) if view else (f"callback {called[0]}" if called else _here())
    _deny(principal, target=target[:255], reason=str(exc)[:300])


def _count_jobs_per_user() -> None:
    from web import jobs

    def key() -> str:
        from flask import has_request_context

        principal = g.get("cockpit_viewer") if has_request_context() else None
        if principal is None:
            return f"ip:{request.remote_addr or 'unknown'}" if has_request_context() else "local"
        return f"user:{principal.actor}"

    jobs.set_viewer_key(key)
    # the export runs in a job process without a request: it carries who asked for it
    from web.session import current_viewer, viewing_as

    jobs.carry_into_jobs("viewer", current_viewer, viewing_as)


# ------------------------------------------------------------------ the header: who is logged in, logout


def _logout_token(principal: Principal) -> str:
    from flask import current_app

    secret = str(current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(secret, f"logout:{principal.session_hash}".encode(), hashlib.sha256).hexdigest()


def _register_shell_callback(app: dash.Dash) -> None:
    from dash import Input, Output, dcc, html

    @app.callback(Output("shell-user", "children"), Output("shell-nav", "children"),
                  Input("_pages_location", "pathname"))
    def show_viewer(_pathname):
        """The header's viewer badge and logout button, and the links this role may open."""
        from components.shell import create_nav_links
        from metrics.regions import get_region

        principal = g.get("cockpit_viewer")
        if principal is None:
            return [], create_nav_links()
        try:
            place = get_region(principal.region_code, scope=principal.scope).name
        except (LookupError, ScopeError, FileNotFoundError):
            place = principal.region_code
        badge = [html.Span(f"{principal.name}", className="shell-user-name", id="shell-user-name"),
                 html.Span(f"{principal.role_name} · {place}", className="shell-user-role", id="shell-user-role"),
                 html.Form([dcc.Input(type="hidden", name="csrf", value=_logout_token(principal)),
                            html.Button("退出", type="submit", className="shell-logout", id="shell-logout")],
                           action="/logout", method="POST", className="shell-logout-form")]
        return badge, create_nav_links(principal.may_open)


# ------------------------------------------------------------------ login, TOTP, logout


def _start(user: identity.User, method: str, next_url: str) -> Response:
    old = request.cookies.get(COOKIE)
    if old:
        identity.revoke_session(old, ip=_ip())
    token = identity.create_session(user, method=method, ip=_ip(), user_agent=request.headers.get("User-Agent"))
    for key in ("pending", "csrf"):
        session.pop(key, None)
    resp = redirect(_safe_next(next_url), code=303)
    resp.headers["Cache-Control"] = "no-store"
    _set_cookie(resp, token)
    return resp


def login_refusal(message: str, *, status: int) -> Response:
    """The login form again, with a refusal that is not about the password (throttling)."""
    return _page("password", status=status, error=message, next=_safe_next(request.args.get("next")))


def _register_pages(server: Flask) -> None:
    from web.login_limits import failed_login_limit, init_login_limits

    init_login_limits(server)

    @server.route("/login", methods=["GET", "POST"])
    @failed_login_limit()
    def login_page():
        next_url = _safe_next(request.args.get("next"))
        if request.method == "GET":
            notice = None
            if request.args.get("expired"):
                notice = "登录已超时或会话已失效，请重新登录"
            elif request.args.get("bye"):
                notice = "已退出登录"
            return _page("password", notice=notice, next=next_url)
        username = request.form.get("username", "").strip()[:64]
        if not _csrf_ok():
            return _page("password", status=400, error="页面已过期，请重新输入", next=next_url, username=username)
        try:
            user = identity.authenticate(username, request.form.get("password", ""), ip=_ip())
        except identity.LoginError as exc:
            return _page("password", status=401, error=str(exc), next=next_url, username=username)
        if user.has_totp:
            session["pending"] = {"uid": user.user_id, "at": time.time(), "next": next_url}
            return redirect("/login/totp", code=303)
        return _start(user, "密码", next_url)

    @server.route("/login/totp", methods=["GET", "POST"])
    @failed_login_limit()
    def login_totp():
        pending = session.get("pending")
        if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
            session.pop("pending", None)
            return redirect("/login?expired=1", code=303)
        if request.method == "GET":
            return _page("totp", title="双因素验证")
        if not _csrf_ok():
            return _page("totp", title="双因素验证", status=400, error="页面已过期，请重新输入")
        try:
            user = identity.verify_second_factor(int(pending["uid"]), request.form.get("code", ""), ip=_ip())
        except identity.LockedError as exc:
            session.pop("pending", None)
            return _page("password", status=401, error=str(exc))
        except identity.LoginError as exc:
            return _page("totp", title="双因素验证", status=401, error=str(exc))
        return _start(user, "密码+动态验证码", pending.get("next") or "/")

    @server.route("/logout", methods=["GET", "POST"])
    def logout():
        token = request.cookies.get(COOKIE)
        principal = identity.resolve_session(token, ip=_ip()) if token else None
        if request.method == "GET":
            if principal is None:
                return redirect("/login", code=303)
            return _page("logout", title="退出登录", who=principal.name)
        given = request.form.get("csrf", "")
        ok = _csrf_ok() or (principal is not None and hmac.compare_digest(given, _logout_token(principal)))
        if principal is not None and not ok:
            return _page("logout", title="退出登录", status=400, error="页面已过期，请再确认一次", who=principal.name)
        identity.revoke_session(token, ip=_ip())
        session.clear()
        resp = redirect("/login?bye=1", code=303)
        _clear_cookie(resp)
        return resp


# ------------------------------------------------------------------ OIDC (a government SSO)

_oauth = None
_registered: tuple | None = None


def _sso_client(server: Flask):
    """The Authlib client for the configured provider (re-registered when the settings change)."""
    global _oauth, _registered
    cfg = sso_config()
    if cfg is None:
        return None, None
    from authlib.integrations.flask_client import OAuth

    if _oauth is None:
        _oauth = OAuth(server)
    key = (cfg["issuer"], cfg["client_id"], cfg["client_secret"], cfg["scope"])
    if _registered != key:
        _oauth.register("gov_sso", client_id=cfg["client_id"], client_secret=cfg["client_secret"] or None,
                        server_metadata_url=f"{cfg['issuer']}/.well-known/openid-configuration",
                        client_kwargs={"scope": cfg["scope"]}, overwrite=True)
        _registered = key
    return _oauth.create_client("gov_sso"), cfg


def _register_sso(server: Flask) -> None:
    @server.route("/login/sso")
    def login_sso():
        from flask import url_for

        client, cfg = _sso_client(server)
        if client is None:
            return _page("password", status=404, error="未配置统一身份认证（COCKPIT_OIDC_ISSUER）")
        session["sso_next"] = _safe_next(request.args.get("next"))
        redirect_uri = cfg["redirect_uri"] or url_for("login_sso_callback", _external=True)
        try:
            return client.authorize_redirect(redirect_uri)
        except Exception:  # noqa: BLE001 — the provider is unreachable or misconfigured
            log.exception("统一身份认证不可用")
            return _page("password", status=502, error="统一身份认证服务暂时不可用，请稍后再试或使用账号密码登录")

    @server.route("/login/sso/callback")
    def login_sso_callback():
        from authlib.integrations.base_client.errors import OAuthError

        client, cfg = _sso_client(server)
        if client is None:
            return _page("password", status=404, error="未配置统一身份认证（COCKPIT_OIDC_ISSUER）")
        try:
            token = client.authorize_access_token()
        except OAuthError as exc:
            audit.record("登录失败", actor="统一身份认证", outcome="失败", ip=_ip(),
                         detail={"reason": "统一身份认证未通过", "error": str(exc.error)[:100]})
            return _page("password", status=401, error="统一身份认证未通过，请重试")
        except Exception:  # noqa: BLE001 — a bad response from the provider
            log.exception("统一身份认证回调失败")
            audit.record("登录失败", actor="统一身份认证", outcome="失败", ip=_ip(),
                         detail={"reason": "统一身份认证回调失败"})
            return _page("password", status=502, error="统一身份认证服务暂时不可用，请稍后再试")
        claims = token.get("userinfo") or {}
        subject = str(claims.get("sub") or "")
        if not subject:
            return _page("password", status=401, error="统一身份认证未返回用户标识")
        username = claims.get(cfg["username_claim"])
        try:
            user = identity.sso_user(subject, str(username) if username else None, ip=_ip())
        except identity.LoginError as exc:
            return _page("password", status=403, error=str(exc))
        return _start(user, "统一身份认证", session.pop("sso_next", "/"))
