"""领导驾驶舱 — the Dash app. Thin: the shell and the pages; no data work at import.

    python app.py            # builds the demo database if missing, serves on 127.0.0.1:8050
    gunicorn app:server      # see gunicorn.conf.py
"""

from __future__ import annotations

import os
import tempfile

import dash
import diskcache
import flask

from components import theme  # noqa: F401 — registers the "cockpit" Plotly template
from components.boundaries import register_boundary_routes
from components.health import register_health_routes
from components.screen_routes import register_screen_routes
from components.shell import create_shell
from data import db

# background callbacks (the briefing export) run in worker processes; their state is on disk,
# so every gunicorn worker and `python app.py` share it
background_manager = dash.DiskcacheManager(
    diskcache.Cache(os.environ.get("COCKPIT_JOBS_DIR") or os.path.join(tempfile.gettempdir(), "cockpit-jobs")))

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
)
app.layout = create_shell(dash.page_container)
server = app.server
register_boundary_routes(server)
register_health_routes(server)
register_screen_routes(server)


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


def warm_in_background() -> None:
    """Fill the page caches without delaying the server's start (``COCKPIT_WARM=0`` skips it)."""
    import threading

    if os.environ.get("COCKPIT_WARM", "1") == "0":
        return

    from briefing.content import briefing_content
    from components.session import viewer_scope
    from metrics.dashboard import page_context, warm_caches

    def warm() -> None:
        scope = viewer_scope()
        warm_caches(scope)
        top = page_context(None, None, "ytd", scope=scope)  # the 简报 page's default preview (its forecasts)
        briefing_content(top["region"], top["month"], scope=scope)

    global _warm_thread
    if _warm_thread is not None and _warm_thread.is_alive():
        return  # one warm-up at a time; the running one reads the newest version as it goes
    _warm_thread = threading.Thread(target=warm, name="warm-caches", daemon=True)
    _warm_thread.start()


def warm_on_new_versions() -> None:
    """After a publish the first views of the new version would be cold: warm them again."""
    db.on_version_change(warm_in_background)


def main() -> None:
    from data.demo import ensure_database

    ensure_database()
    warm_in_background()
    warm_on_new_versions()
    app.run(host=os.environ.get("COCKPIT_HOST", "127.0.0.1"), port=int(os.environ.get("COCKPIT_PORT", "8050")),
            debug=False)


if __name__ == "__main__":
    main()
