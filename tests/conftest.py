"""Fixtures shared across test packages: the default demo database, built once per session."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile

import flask
import pytest

from data import db
from tests.auth_helpers import CockpitClient

# the background jobs of this test session live in a private directory of its own (web/jobs.py),
# never in the install's data directory; the servers it starts (gunicorn counts as production,
# web/hardening.py) share one strong SECRET_KEY
_SESSION_PRIVATE = tempfile.mkdtemp(prefix="cockpit-test-")
os.environ.setdefault("COCKPIT_JOBS_DIR", os.path.join(_SESSION_PRIVATE, "jobs"))
os.environ.setdefault("COCKPIT_SECRET_KEY_FILE", os.path.join(_SESSION_PRIVATE, "cockpit.secret"))
os.environ.setdefault("COCKPIT_SECRET_KEY", secrets.token_urlsafe(48))
# rendered pages are not cached across a test's renders (many tests patch the engine or the clock
# between two renders of one URL); tests/web/test_page_cache.py turns it on, and the production
# mode's tests (tests/deploy/, through serve.sh) run with it on as deployed
os.environ.setdefault("COCKPIT_PAGE_CACHE", "0")
atexit.register(shutil.rmtree, _SESSION_PRIVATE, ignore_errors=True)


# login (web/auth.py): every Flask test client of the app logs itself in unless a test logs it in
# itself or asks for an anonymous one (tests/auth_helpers.py)
flask.Flask.test_client_class = CockpitClient


@pytest.fixture(autouse=True)
def _fresh_login_throttle():
    """Failed logins per address (web/login_limits.py) are counted per test, not across the session."""
    yield
    from web.login_limits import limiter

    if getattr(limiter, "_storage", None) is not None:
        limiter.reset()


class _EnvironmentViewer:
    """Who a test calling a page or view function directly (outside any request) is: an
    administrator of ``$COCKPIT_VIEWER_SCOPE`` (else the whole province), read when asked."""

    kind, role, actor, region_code, playlist, is_device, session_hash = "system", "admin", "测试", "", {}, False, None

    @property
    def scope(self):
        from data.scope import Scope
        from metrics.regions import root_region

        configured = os.environ.get("COCKPIT_VIEWER_SCOPE", "").strip()
        if configured:
            return Scope(regions=tuple(c.strip() for c in configured.split(",") if c.strip()))
        return Scope.province(root_region())

    @property
    def name(self) -> str:
        return os.environ.get("COCKPIT_VIEWER_NAME", "").strip() or "演示用户"

    def may_open(self, path: str) -> bool:
        from data.identity import may_open

        return may_open(self.role, path)


@pytest.fixture
def environment_viewer():
    """Page functions called directly (outside any request) see the environment's viewer: tests
    written before login existed use it (``pytestmark = pytest.mark.usefixtures(...)``)."""
    from web.session import viewing_as

    with viewing_as(_EnvironmentViewer()):
        yield


@pytest.fixture
def login_as(demo_env):
    """``login_as(role, region, dept=None)`` → (client, user): a fresh account and a client logged
    in through /login, on the default demo database."""
    import app
    from tests.auth_helpers import logged_in_client

    def make(role: str = "leader", region: str = "360000", dept: str | None = None):
        return logged_in_client(app.server, role, region, dept)

    return make


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory):
    """The full default demo (江西, 60 months to 2026-10, scale 1), as the app builds it."""
    from data.demo import build_demo

    path = tmp_path_factory.mktemp("cockpit") / "cockpit.duckdb"
    build_demo(path)
    return path


@pytest.fixture
def demo_env(demo_db_path, monkeypatch):
    """Point the data layer at the default demo database."""
    monkeypatch.setenv("COCKPIT_DB", str(demo_db_path))
    db.reset_reader()
    yield demo_db_path
    db.reset_reader()
