"""领导驾驶舱 — the Dash app. Thin: the shell and the pages; no data work at import.

    python -m data.demo ensure && python app.py   # the demo (scripts/start.sh); serves on 127.0.0.1:8050
    gunicorn app:server      # see gunicorn.conf.py
"""

from __future__ import annotations

import logging
import os
import threading

import dash
import flask

from components import theme  # noqa: F401 — registers the "cockpit" Plotly template
from components.shell import create_shell
from data import db
from web import asset_urls
from web.admin_routes import register_admin_routes
from web.auth import init_auth
from web.boundary_routes import register_boundary_routes
from web.hardening import QuietRequestHandler, harden, start_or_exit
from web.health_routes import register_health_routes
from web.intake_routes import register_intake_routes
from web.jobs import create_job_manager
from web.screen_routes import register_screen_routes

# background callbacks (the briefing export) run in worker processes: embedded, fresh processes with
# their state in a private directory (data/jobs/ or $COCKPIT_JOBS_DIR) shared by every gunicorn
# worker; in the production mode ($COCKPIT_REDIS_URL) Celery's workers; see web/jobs.py
background_manager = start_or_exit(create_job_manager)

app = dash.Dash(
    __name__,
    background_callback_manager=background_manager,
    use_pages=True,
    compress=True,
    serve_locally=True,
    title="领导驾驶舱",
    update_title=None,
    suppress_callback_exceptions=True,
    assets_path_ignore=[r"^screen$"],  # the big screen's own files, loaded only by /screen
    assets_ignore=asset_urls.BUNDLE_IGNORE,  # the partial Plotly.js: loaded by dcc.Graph when a chart needs it
)
app.layout = create_shell(dash.page_container)
asset_urls.install(app)  # Plotly.js preloaded, on-demand scripts fingerprinted (issue #13 §5)
server = app.server
if os.environ.get("COCKPIT_BEHIND_PROXY", "").strip() == "1":
    # behind nginx (scripts/serve.sh): the client's address and scheme come from the one proxy in
    # front, so the audit log and the login throttle see the client, not 127.0.0.1
    from werkzeug.middleware.proxy_fix import ProxyFix

    server.wsgi_app = ProxyFix(server.wsgi_app, x_for=1, x_proto=1)
harden(app)  # SECRET_KEY, request limits, same-origin callbacks, security headers, errors in Chinese
register_boundary_routes(server)
register_health_routes(server)
register_screen_routes(server)
register_intake_routes(server)
init_auth(app)  # login, sessions, the wall's device tokens, one guard for every route and callback (web/auth.py)
register_admin_routes(server)


@server.before_request
def _pin_data_version() -> None:
    # a request reads one version from start to end, even if a publish switches mid-way
    flask.g.db_pin = db.pin()


@server.teardown_request
def _unpin_data_version(_exc) -> None:
    token = flask.g.pop("db_pin", None)
    if token is not None:
        db.unpin(token)


_warm_thread = None
_warm_again = False  # a version switched while a warm-up ran: run once more when it ends
_warm_lock = threading.Lock()


def warm_before_serving() -> None:
    """The start-up warm-up, before the process takes its first request: what every first
    view reads once (the catalogue, the region tree, the targets, the boundaries, the latest
    month's rows, and Plotly's figure classes and the components, by drawing the province's
    overview once; ~0.5 s at 10×), so that no viewer pays a fresh process's costs. A failure
    is logged and left to the background warm-up that follows. ``COCKPIT_WARM=0`` skips it."""
    if os.environ.get("COCKPIT_WARM", "1") == "0":
        return
    from data.identity import Principal
    from data.scope import Scope
    from metrics.dashboard import warm_caches
    from metrics.regions import root_region
    from pages import overview
    from web.session import viewing_as

    try:
        root = root_region()
        scope = Scope.province(root)
        warm_caches(scope, every_month=False)  # a file without results: every month in the background
        # the first page a process draws builds Plotly's figure classes and the components once (~0.1 s):
        # draw the province's overview here rather than in a viewer's request (the page cache keeps it,
        # keyed by the province's scope, as a province viewer's own first view would)
        warm = Principal(kind="user", actor="系统预热", name="系统预热", role="leader", scope=scope, region_code=root)
        with viewing_as(warm):
            overview.layout()
    except Exception:
        logging.getLogger(__name__).exception("启动预热失败，进程照常启动，后台预热将再试")


def warm_in_background() -> None:
    """Fill the page caches without delaying the server's start (``COCKPIT_WARM=0`` skips it)."""
    global _warm_thread, _warm_again

    if os.environ.get("COCKPIT_WARM", "1") == "0":
        return

    from briefing.content import briefing_content
    from data.scope import Scope
    from metrics.dashboard import page_context, warm_caches
    from metrics.regions import root_region

    def warm() -> None:
        global _warm_thread, _warm_again
        while True:
            try:
                scope = Scope.province(root_region())  # the province's caches serve every region-only viewer
                warm_caches(scope)
                top = page_context(None, None, "ytd", scope=scope)  # the 简报 page's default preview
                briefing_content(top["region"], top["month"], scope=scope)
            except BaseException:
                with _warm_lock:
                    _warm_thread, _warm_again = None, False  # the next version change may try again
                raise
            with _warm_lock:
                if not _warm_again:
                    _warm_thread = None
                    return
                _warm_again = False

    with _warm_lock:
        if _warm_thread is not None:
            _warm_again = True  # one warm-up at a time; the running one starts over when it ends
            return
        _warm_thread = threading.Thread(target=warm, name="warm-caches", daemon=True)
        _warm_thread.start()


def _warm_new_version() -> None:
    from metrics.warmup import mark_stale

    # from this request on /healthz names the new version: its warm-up is not done until it has run, and
    # the thread below may start later (or wait for a running one), so the old state must not stand
    mark_stale()
    warm_in_background()


def warm_on_new_versions() -> None:
    """After a publish the first views of the new version would be cold: warm them again."""
    db.on_version_change(_warm_new_version)


def main() -> None:
    from data.prepare import require_database

    # settled and upgraded, never built here: scripts/start.sh prepares the demo (python -m data.demo ensure)
    require_database()
    warm_before_serving()
    warm_in_background()
    warm_on_new_versions()
    app.run(host=os.environ.get("COCKPIT_HOST", "127.0.0.1"), port=int(os.environ.get("COCKPIT_PORT", "8050")),
            debug=False, request_handler=QuietRequestHandler)  # no server or Python version in headers


if __name__ == "__main__":
    main()
