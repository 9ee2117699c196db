"""Failed logins per address (等保三级: 限制非法登录): Flask-Limiter counts the failed password and
TOTP attempts each client address makes; past the limit the login form answers 429 in Chinese and
the refusal is audited.

The per-account lockout (data.identity) stops guessing one password; this stops one address trying
many accounts. Only failures count, so an office behind one NAT address is not throttled by its own
successful logins. Counters live in memory per process by default; ``COCKPIT_RATELIMIT_STORAGE``
(e.g. ``redis://127.0.0.1:6379/2``) shares them across processes and nodes in production.
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address

from data import audit

FAILED_LOGINS = "COCKPIT_LOGIN_FAILURES_PER_IP"
DEFAULT_FAILED_LOGINS = "30 per 10 minutes"

limiter = Limiter(get_remote_address, default_limits=[], headers_enabled=False,
                  storage_uri=os.environ.get("COCKPIT_RATELIMIT_STORAGE", "memory://"))


def _refused(limit: RequestLimit) -> Response:
    from web.auth import login_refusal

    audit.record("拒绝", actor=(request.form.get("username") or "（未知）")[:64], outcome="拒绝",
                 target=f"登录限流 {request.path}", ip=request.remote_addr,
                 detail={"limit": str(limit.limit)})
    return login_refusal("该地址登录失败次数过多，请稍后再试", status=429)


def failed_login_limit():
    """The decorator for a login form's view: failed attempts (401) count against the address, one
    count for the password and the TOTP form together."""
    return limiter.shared_limit(lambda: os.environ.get(FAILED_LOGINS, "").strip() or DEFAULT_FAILED_LOGINS,
                                "login", methods=["POST"], deduct_when=lambda resp: resp.status_code == 401,
                                on_breach=_refused)


def init_login_limits(server: Flask) -> None:
    limiter.init_app(server)
