"""Web hardening of the cockpit, independent of who the viewer is (login adds identity later).

:func:`harden` (called once from ``app.py``) sets up:

* **SECRET_KEY.** ``$COCKPIT_SECRET_KEY``, else the key file ``$COCKPIT_SECRET_KEY_FILE``
  (default ``cockpit.secret`` in the data directory, beside ``$COCKPIT_DB``). In production
  (``COCKPIT_ENV=production``, or under gunicorn unless ``COCKPIT_ENV=development``) the app
  refuses to start without one, with a known default, with one shorter than 32 bytes, or with a
  key file that is not the owner's alone (0600). In development a random key is generated once
  into that file (0600) and reused. Dash signs its background-job handles with this key.
* **Request limits.** ``MAX_CONTENT_LENGTH`` = ``$COCKPIT_MAX_REQUEST_MB`` (default 20 MB); a
  callback that takes an upload's ``contents`` may carry ``$COCKPIT_UPLOAD_MAX_MB`` (default 50)
  as base64. Larger: 413 with a Chinese message.
* **Callbacks.** ``/_dash-update-component`` takes ``application/json`` only (else 415); the body
  must be a JSON object naming a known callback with its declared inputs and state (else 400);
  an exception inside a callback is logged with an incident number and answered with a Chinese
  400 (the renderer keeps the page; no traceback leaves the server).
* **Cross-site requests.** A POST/PUT/PATCH/DELETE whose ``Origin`` header is present and is not
  this host (or one of ``$COCKPIT_ALLOWED_ORIGINS``) is refused with 403.
* **Errors in Chinese.** 400/403/404/405/413/415/500 answer in Chinese (JSON for the API and
  Dash routes, a small page otherwise), never with a stack trace; an unknown page path gets
  status 404 (the cockpit's own 404 page, ``pages/not_found_404.py``, renders in the shell).
* **Headers.** A Content-Security-Policy with no external origin (see :data:`CSP`),
  ``X-Frame-Options: SAMEORIGIN`` / ``frame-ancestors 'self'`` (the 简报 preview is a same-origin
  iframe), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``,
  ``Cross-Origin-Opener-Policy``/``-Resource-Policy: same-origin`` and a Permissions-Policy.
* **URL parameters** reach the page layouts single-valued (the last of a repeated one).
* **No version leaks.** Dash's page config no longer carries the Python, Dash and Plotly
  versions; the development server says ``Server: cockpit`` (:class:`QuietRequestHandler`;
  gunicorn says ``gunicorn`` without a version). Asset URLs keep Dash's version fingerprints (its cache busting).

Why the CSP allows what it allows:

* ``script-src 'self'`` plus the SHA-256 of each inline script of the served page (Dash's
  ``new DashRenderer()`` and its clientside-callback block), computed from the page itself;
  neither ``'unsafe-inline'`` nor ``'unsafe-eval'``. Dash itself does not need eval, and
  dash-ag-grid evaluates the ``{"function": ...}`` options of our grids (value formatters, row
  ids: plain expressions, ``components/tables.py``, ``components/data_views.py``) with its own
  expression interpreter; it falls back to ``Function()`` only for function syntax (``=>``,
  ``function``), which the policy blocks: keep such options expressions.
* ``style-src 'self' 'unsafe-inline'``: Dash's renderer and core components, Plotly.js and AG
  Grid inject ``<style>`` elements at run time (Chromium reports ``style-src-elem`` violations
  from dash_renderer and dash_core_components without it), and the 简报 preview (an ``srcdoc``
  iframe, which inherits this policy) carries its stylesheet inline. Hashes cannot cover
  generated styles, and Dash offers no nonce for them.
* ``img-src``/``font-src`` ``data:`` and ``blob:`` (Plotly's icons and exports), ``worker-src
  blob:`` (MapLibre, under Plotly's ``choroplethmap``, starts its worker from a blob URL).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import math
import os
import re
import secrets
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import WSGIRequestHandler

from data import db

__all__ = ["CSP", "QuietRequestHandler", "SecretKeyError", "check_startup", "harden", "is_production", "secret_key",
           "secret_key_file", "start_or_exit"]

log = logging.getLogger(__name__)

MIN_SECRET_BYTES = 32
DEFAULT_MAX_REQUEST_MB = 20
DEFAULT_UPLOAD_MAX_MB = 50
KEY_FILE_NAME = "cockpit.secret"
WEAK_SECRETS = {"", "dev", "development", "secret", "secret-key", "secret_key", "changeme", "change-me",
                "change_me", "default", "cockpit", "please-change-me", "replace-me", "your-secret-key",
                "supersecret", "password", "test", "testing"}

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",  # + the hashes of the page's inline scripts
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "worker-src": "'self' blob:",
    "child-src": "'self' blob:",
    "frame-src": "'self'",
    "frame-ancestors": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}
_CONFIG_LEAKS = ("python_version", "dash_version", "dash_version_url", "plotly_version", "ddk_version")
_INLINE_SCRIPT = re.compile(rb"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)
_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

MESSAGES = {
    400: "请求无效，无法处理",
    403: "拒绝访问",
    404: "页面或资源不存在",
    405: "不支持该请求方法",
    413: "请求内容过大",
    415: "请求格式不受支持：回调只接受 application/json",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误，请稍后再试",
}


class SecretKeyError(RuntimeError):
    """No usable SECRET_KEY (the message is Chinese and says how to provide one)."""


# ------------------------------------------------------------------ start-up: the secret key


def _under_gunicorn() -> bool:
    return "gunicorn.arbiter" in sys.modules or Path(sys.argv[0] if sys.argv else "").name.startswith("gunicorn")


def is_production() -> bool:
    """``COCKPIT_ENV=production``, or served by gunicorn unless ``COCKPIT_ENV=development``."""
    env = os.environ.get("COCKPIT_ENV", "").strip().lower()
    if env in ("production", "prod"):
        return True
    if env in ("development", "dev"):
        return False
    return _under_gunicorn()


def secret_key_file() -> Path:
    """``$COCKPIT_SECRET_KEY_FILE``, else ``cockpit.secret`` in the data directory."""
    configured = os.environ.get("COCKPIT_SECRET_KEY_FILE", "").strip()
    return Path(os.path.abspath(configured or db.pointer_path().parent / KEY_FILE_NAME))


_HOW = ("请设置环境变量 COCKPIT_SECRET_KEY 为至少 32 字节的随机串"
        "（如 python -c \"import secrets; print(secrets.token_urlsafe(48))\"），"
        "或写入仅属主可读写（0600）的密钥文件 COCKPIT_SECRET_KEY_FILE")


def _weakness(key: str) -> str | None:
    if key.strip().lower() in WEAK_SECRETS:
        return "是默认值或常见弱口令"
    if len(key.encode("utf-8")) < MIN_SECRET_BYTES:
        return f"长度不足 {MIN_SECRET_BYTES} 字节"
    if len(set(key)) < 8:
        return "过于简单（重复字符）"
    return None


def _read_key_file(path: Path) -> str:
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise SecretKeyError(f"拒绝启动：无法读取密钥文件 {path}：{exc.strerror}。{_HOW}") from None
    if not stat.S_ISREG(st.st_mode):
        raise SecretKeyError(f"拒绝启动：密钥文件 {path} 不是普通文件（不接受符号链接）。{_HOW}")
    if st.st_uid != os.geteuid():
        raise SecretKeyError(f"拒绝启动：密钥文件 {path} 属于其他用户（uid {st.st_uid}）。{_HOW}")
    if st.st_mode & 0o077:
        raise SecretKeyError(f"拒绝启动：密钥文件 {path} 的权限为 {stat.S_IMODE(st.st_mode):04o}，"
                             f"组用户或其他用户可读；请执行 chmod 600 {path}")
    key = path.read_text("utf-8").strip()
    weak = _weakness(key)
    if weak:
        raise SecretKeyError(f"拒绝启动：密钥文件 {path} 中的 SECRET_KEY {weak}。{_HOW}")
    return key


def _generate_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # atomic and never overwrites: concurrent workers agree on the first key
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def secret_key() -> str:
    """The SECRET_KEY to use (see the module docstring); :class:`SecretKeyError` if there is none."""
    configured = os.environ.get("COCKPIT_SECRET_KEY", "")
    if configured.strip():
        weak = _weakness(configured)
        if weak is None:
            return configured.strip()
        if is_production():
            raise SecretKeyError(f"拒绝启动：生产环境的 COCKPIT_SECRET_KEY {weak}。{_HOW}")
        log.warning("COCKPIT_SECRET_KEY %s（开发环境仍使用；生产环境将拒绝启动）", weak)
        return configured.strip()
    path = secret_key_file()
    if os.path.lexists(path):
        return _read_key_file(path)
    if is_production():
        raise SecretKeyError(f"拒绝启动：生产环境（COCKPIT_ENV=production 或 gunicorn）未配置 SECRET_KEY，"
                             f"且密钥文件 {path} 不存在。{_HOW}")
    _generate_key_file(path)
    log.info("已生成本机专用的 SECRET_KEY：%s（0600）", path)
    return _read_key_file(path)


def start_or_exit(fn: Callable, *args, **kwargs):
    """``fn(...)``, or exit with its Chinese message if the cockpit cannot start safely."""
    from web.jobs import JobsDirError

    try:
        return fn(*args, **kwargs)
    except (SecretKeyError, JobsDirError) as exc:
        raise SystemExit(str(exc)) from None


def check_startup() -> None:
    """What would refuse the start, checked before any worker starts (gunicorn's ``on_starting``)."""
    from web.jobs import ensure_private_dir, jobs_dir

    start_or_exit(secret_key)
    start_or_exit(ensure_private_dir, jobs_dir())


# ------------------------------------------------------------------ responses in Chinese


def _wants_json() -> bool:
    path = request.path
    if path.startswith(("/_dash-", "/api/", "/boundaries/", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{status} · 领导驾驶舱</title>
<link rel="stylesheet" href="/assets/tokens.css"><link rel="stylesheet" href="/assets/cockpit.css"></head>
<body><div class="app"><header class="app-header"><div class="brand"><span class="brand-title">领导驾驶舱</span>
<span class="brand-sub">数字政府建设运行监测</span></div></header>
<main class="app-main"><div class="page"><h2>{title}</h2><div class="error-banner">{message}</div>
<p><a href="/">返回总览</a></p></div></main></div></body></html>"""


def error_response(status: int, message: str | None = None, **extra) -> Response:
    """A Chinese error answer: JSON for the API and Dash routes, a small page otherwise."""
    message = message or MESSAGES.get(status, MESSAGES[500 if status >= 500 else 400])
    if _wants_json():
        resp = Response(json.dumps({"status": status, "message": message, **extra}, ensure_ascii=False),
                        status=status, mimetype="application/json")
    else:
        title = MESSAGES.get(status, "请求无法完成")
        resp = Response(_PAGE.format(status=status, title=html.escape(title), message=html.escape(message)),
                        status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _incident() -> str:
    return secrets.token_hex(4)


# ------------------------------------------------------------------ callbacks


class BadCallback(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _declared_ids(items) -> list[tuple[object, str]]:
    out = []
    for item in items or []:
        cid = item.get("id")
        if isinstance(cid, str) and cid.startswith("{"):
            try:
                cid = json.loads(cid)
            except ValueError:
                pass
        out.append((cid, item.get("property")))
    return out


def _is_wildcard(cid) -> bool:
    return isinstance(cid, dict) and any(isinstance(v, list) for v in cid.values())


def _matches(declared, given) -> bool:
    if not isinstance(given, dict) or not isinstance(given.get("property"), str) or "id" not in given:
        return False
    cid, prop = declared
    if given["property"] != prop:
        return False
    gid = given["id"]
    if not _is_wildcard(cid):
        return gid == cid
    if not isinstance(gid, dict) or set(gid) != set(cid):
        return False
    return all(isinstance(v, list) or gid[k] == v for k, v in cid.items())


def _check_items(given, declared, what: str) -> None:
    if not isinstance(given, list) or len(given) != len(declared):
        raise BadCallback(400, f"回调请求格式不正确：{what} 应为 {len(declared)} 项的列表")
    for item, dec in zip(given, declared, strict=True):
        if _is_wildcard(dec[0]):
            ids = item if isinstance(item, list) else [item]
            ok = all(_matches(dec, x) for x in ids)
        else:
            ok = _matches(dec, item)
        if not ok:
            raise BadCallback(400, f"回调请求格式不正确：{what} 与声明的组件不符")


def _validate_callback_body(app, body) -> dict[str, Any]:
    """The callback a body asks for, if the body has the shape the renderer sends."""
    if not isinstance(body, dict):
        raise BadCallback(400, "回调请求格式不正确：应为 JSON 对象")
    output = body.get("output")
    cb = app.callback_map.get(output) if isinstance(output, str) else None
    if cb is None or "callback" not in cb:  # unknown, or one that runs in the browser
        raise BadCallback(400, "回调请求格式不正确：未知的回调")
    _check_items(body.get("inputs"), _declared_ids(cb.get("inputs")), "inputs")
    _check_items(body.get("state", []), _declared_ids(cb.get("state")), "state")
    outputs = body.get("outputs")
    if not isinstance(outputs, (list, dict)) or (isinstance(outputs, list) and not all(
            isinstance(o, (dict, list)) for o in outputs)):
        raise BadCallback(400, "回调请求格式不正确：outputs")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise BadCallback(400, "回调请求格式不正确：changedPropIds")
    return cb


def _takes_upload(cb: dict) -> bool:
    return any(item.get("property") == "contents" for item in (*cb.get("inputs", []), *cb.get("state", [])))


def _mb(name: str, default: int) -> int:
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        value = default
    return max(1, int(value * 2**20))


def request_limit() -> int:
    """Bytes a request may carry (``$COCKPIT_MAX_REQUEST_MB``, default 20 MB)."""
    return _mb("COCKPIT_MAX_REQUEST_MB", DEFAULT_MAX_REQUEST_MB)


def upload_request_limit() -> int:
    """Bytes an upload callback may carry: the upload limit as base64, plus the rest of the body."""
    return max(request_limit(), math.ceil(_mb("COCKPIT_UPLOAD_MAX_MB", DEFAULT_UPLOAD_MAX_MB) * 4 / 3) + 2**20)


# ------------------------------------------------------------------ same-origin writes


def _allowed_origins() -> set[str]:
    return {o.strip().rstrip("/").lower() for o in os.environ.get("COCKPIT_ALLOWED_ORIGINS", "").split(",")
            if o.strip()}


def _same_origin(origin: str) -> bool:
    origin = origin.strip().rstrip("/").lower()
    if origin in _allowed_origins():
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc == request.host.lower()


# ------------------------------------------------------------------ pages and headers


def _page_paths() -> tuple[set[str], list[re.Pattern]]:
    import dash

    exact, templates = set(), []
    for page in dash.page_registry.values():
        template = page.get("path_template")
        if template:
            templates.append(re.compile("^" + re.sub(r"<[^>]+>", "[^/]+", re.escape(template.strip("/"))) + "$"))
        exact.add(str(page.get("path", "")).strip("/"))
    return exact, templates


def _is_page(app, path: str) -> bool:
    stripped = app.strip_relative_path(path) or ""
    exact, templates = _page_paths()
    return stripped.strip("/") in exact or any(t.match(stripped.strip("/")) for t in templates)


def _csp(script_hashes: list[str]) -> str:
    policy = dict(CSP)
    if script_hashes:
        policy["script-src"] += " " + " ".join(f"'sha256-{h}'" for h in script_hashes)
    return "; ".join(f"{k} {v}" for k, v in policy.items())


def inline_script_hashes(body: bytes) -> list[str]:
    """SHA-256 (base64) of each inline script of an HTML page (JSON data blocks are not scripts)."""
    out = []
    for m in _INLINE_SCRIPT.finditer(body):
        attrs = m.group("attrs").lower()
        if b" src=" in attrs or b"application/json" in attrs:
            continue
        digest = base64.b64encode(hashlib.sha256(m.group("body")).digest()).decode()
        if digest not in out:
            out.append(digest)
    return out


def _single_valued_pages() -> None:
    """A repeated URL parameter (``?month=a&month=b``) reaches a layout as a list; the app never
    writes one (multiple choices are comma-joined), so each page sees the last value only."""
    import functools

    import dash

    def single_valued(layout):
        @functools.wraps(layout)
        def single(*args, **kwargs):
            kwargs = {k: (str(v[-1]) if v else "") if isinstance(v, list) else v for k, v in kwargs.items()}
            return layout(*args, **kwargs)

        single.single_valued = True
        return single

    for page in dash.page_registry.values():
        layout = page.get("layout")
        if callable(layout) and not getattr(layout, "single_valued", False):
            page["layout"] = single_valued(layout)


def _hide_versions(app) -> None:
    original = app._config

    def _config():
        config = original()
        for key in _CONFIG_LEAKS:
            config.pop(key, None)
        return config

    app._config = _config


# ------------------------------------------------------------------ wiring


def harden(app) -> None:
    """Apply everything in this module to the Dash ``app`` (see the module docstring)."""
    server: Flask = app.server
    server.config["SECRET_KEY"] = start_or_exit(secret_key)
    server.config["MAX_CONTENT_LENGTH"] = request_limit()
    server.config["SESSION_COOKIE_HTTPONLY"] = True
    server.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    _hide_versions(app)
    _single_valued_pages()
    callback_path = app.config.routes_pathname_prefix + "_dash-update-component"
    index_endpoints = {app.config.routes_pathname_prefix, app.config.routes_pathname_prefix + "<path:path>"}

    @server.route("/favicon.ico")
    def _favicon():  # browsers ask for it on their own (the wall's page has no icon link): not a 404
        import pkgutil

        resp = Response(pkgutil.get_data("dash", "favicon.ico"), mimetype="image/x-icon")
        resp.headers["Cache-Control"] = "public, max-age=86400"
        return resp

    @server.before_request
    def _guard():
        if request.method in _UNSAFE_METHODS:
            origin = request.headers.get("Origin")
            if origin is not None and not _same_origin(origin):
                return error_response(403, "拒绝跨站请求：来源（Origin）不是本站")
        if request.path == callback_path and request.method == "POST":
            if request.mimetype != "application/json":
                return error_response(415)
            request.max_content_length = upload_request_limit()
            raw = request.get_data(cache=True)  # a body over the limit raises 413 here
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                if len(raw) > request_limit():  # too big to be anything but an upload, and not one
                    return error_response(413, f"请求内容过大（上限 {request_limit() // 2**20} MB）")
                return error_response(400, "回调请求格式不正确：不是有效的 JSON")
            try:
                cb = _validate_callback_body(app, body)
            except BadCallback as exc:
                return error_response(exc.status, exc.message)
            if len(raw) > request_limit() and not _takes_upload(cb):
                return error_response(413, f"请求内容过大（上限 {request_limit() // 2**20} MB）")
        return None

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        if exc.response is not None:  # a view's own answer carried by the exception (login throttling)
            return exc.response
        if status == 413:
            limit = request.max_content_length or request_limit()
            return error_response(413, f"请求内容过大（上限 {limit // 2**20} MB）")
        return error_response(status)

    @server.errorhandler(Exception)
    def _unexpected(exc: Exception):
        from dash.exceptions import DependencyException

        if isinstance(exc, DependencyException):  # a script path that is not one of ours
            return error_response(404)
        incident = _incident()
        if request.path == callback_path:
            # a callback fed values it cannot use: the page stays as it was; the details stay here
            from data.scope import ScopeError
            from metrics.errors import user_message

            message = user_message(exc)
            if message is not None:  # a viewer's error a page did not turn into its own message
                return error_response(403 if isinstance(exc, ScopeError) else 400, message)
            body = request.get_json(silent=True)
            output = body.get("output") if isinstance(body, dict) else None
            log.warning("回调出错（事件 %s）：%s", incident, str(output)[:200], exc_info=exc)
            return error_response(400, f"输入无效，无法处理（事件编号 {incident}）", incident=incident)
        log.error("请求出错（事件 %s）：%s %s", incident, request.method, request.path, exc_info=exc)
        return error_response(500, f"服务器内部错误，请稍后再试（事件编号 {incident}）", incident=incident)

    @server.after_request
    def _headers(resp: Response) -> Response:
        if (request.method == "GET" and request.endpoint in index_endpoints and resp.status_code == 200
                and not _is_page(app, request.path)):
            resp.status_code = 404  # the shell still renders the cockpit's own 404 page
        hashes: list[str] = []
        if resp.mimetype == "text/html" and not resp.direct_passthrough and "Content-Encoding" not in resp.headers:
            hashes = inline_script_hashes(resp.get_data())
        h = resp.headers
        h["Content-Security-Policy"] = _csp(hashes)
        h["X-Frame-Options"] = "SAMEORIGIN"
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Cross-Origin-Resource-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        return resp


class QuietRequestHandler(WSGIRequestHandler):
    """``python app.py``'s request handler: ``Server: cockpit`` instead of Werkzeug's and Python's versions."""

    def version_string(self) -> str:
        return "cockpit"
