"""Test helpers for login: make a user, log a Flask test client in, or call pages as someone.

* :func:`make_user` creates an account (unique name) in the operational store of the current
  database (``$COCKPIT_DB``) and returns it with its password.
* :func:`login` logs a test client in through the real ``/login`` form;
  :func:`logged_in_client` does both. :func:`anonymous_client` is a client that never logs in.
* :class:`CockpitClient` is what ``app.server.test_client()`` returns in this test suite
  (``tests/conftest.py`` installs it): tests written before login existed keep working, because
  until a test logs it in itself, such a client is logged in on its first request as an
  administrator of ``$COCKPIT_VIEWER_SCOPE`` (else the whole province), one account per client,
  re-made when that variable or the database changes.
* :func:`as_viewer` runs a block as a user without any request (a page function called directly).
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import threading
from contextlib import contextmanager

from flask.testing import FlaskClient

PASSWORD = "Cockpit-Test-2026!"  # meets the policy (12+ characters, four classes)
_serial = itertools.count(1)


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}-{os.getpid()}-{next(_serial)}-{secrets.token_hex(3)}"


def make_user(role: str = "leader", region: str = "360000", dept: str | None = None, *, username: str | None = None,
              password: str | None = PASSWORD, display_name: str | None = None, url: str | None = None):
    """Create an account; return the :class:`data.identity.User`."""
    from data import identity

    return identity.create_user(username or unique_name(role), role=role, region=region, dept=dept,
                                password=password, display_name=display_name, actor="测试", url=url)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no csrf field"
    return found.group(1)


def login(client, username: str, password: str = PASSWORD, *, expect_ok: bool = True):
    """Log ``client`` in through the /login form; the response of the POST."""
    client.auto_login = False
    page = client.get("/login")
    resp = client.post("/login", data={"username": username, "password": password,
                                       "csrf": csrf_of(page.get_data(as_text=True))})
    if expect_ok:
        assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    return resp


def anonymous_client(app_server):
    """A client that is never logged in."""
    client = CockpitClient(app_server, app_server.response_class, use_cookies=True)
    client.auto_login = False
    return client


def logged_in_client(app_server, role: str = "leader", region: str = "360000", dept: str | None = None):
    """(client, user): a fresh account of ``role`` at ``region`` and a client logged in as it."""
    user = make_user(role, region, dept)
    client = anonymous_client(app_server)
    login(client, user.username)
    return client, user


@contextmanager
def as_viewer(user):
    """Run the block as ``user`` outside any request (a page or view function called directly)."""
    from data.identity import principal_for_user
    from web.session import viewing_as

    with viewing_as(principal_for_user(user)) as viewer:
        yield viewer


class CockpitClient(FlaskClient):
    """A Flask test client that logs itself in (see the module docstring) until told otherwise."""

    auto_login = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._auto_key: tuple | None = None
        self._auto_lock = threading.Lock()  # threads sharing one client log in once
        self.auto_user = None

    def open(self, *args, **kwargs):
        if self.auto_login and "login_page" in self.application.view_functions:
            with self._auto_lock:
                self._log_in_as_environment()
        return super().open(*args, **kwargs)

    def _log_in_as_environment(self) -> None:
        from data import db, identity
        from web.auth import COOKIE

        configured = [c.strip() for c in os.environ.get("COCKPIT_VIEWER_SCOPE", "").split(",") if c.strip()]
        key = (tuple(configured), str(db.pointer_path()), os.environ.get("COCKPIT_OPSTORE_URL", ""))
        if key == self._auto_key:
            return
        if configured:
            region = configured[0]
        else:
            from metrics.regions import root_region

            try:
                region = root_region()
            except (FileNotFoundError, LookupError):  # no database yet: stay anonymous
                return
        name = os.environ.get("COCKPIT_VIEWER_NAME", "").strip() or "演示用户"
        user = identity.create_user(unique_name("auto"), role="admin", region=region, display_name=name,
                                    password=None, actor="测试")
        token = identity.create_session(user, method="测试")
        self.set_cookie(COOKIE, token, domain="localhost")
        self._auto_key, self.auto_user = key, user
