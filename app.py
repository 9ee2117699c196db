"""领导驾驶舱 — the Dash app. Thin: the shell and the pages; no data work at import.

    python app.py            # builds the demo database if missing, serves on 127.0.0.1:8050
    gunicorn app:server      # see gunicorn.conf.py
"""

from __future__ import annotations

import os

import dash

from components import theme  # noqa: F401 — registers the "cockpit" Plotly template
from components.boundaries import register_boundary_routes
from components.shell import create_shell

app = dash.Dash(
    __name__,
    use_pages=True,
    compress=True,
    serve_locally=True,
    title="领导驾驶舱",
    update_title=None,
    suppress_callback_exceptions=True,
)
app.layout = create_shell(dash.page_container)
server = app.server
register_boundary_routes(server)


def warm_in_background() -> None:
    """Fill the caches for the latest month without delaying the server's start."""
    import threading

    from components.session import viewer_scope
    from metrics.dashboard import warm_caches

    threading.Thread(target=lambda: warm_caches(viewer_scope()), name="warm-caches", daemon=True).start()


def main() -> None:
    from data.demo import ensure_database

    ensure_database()
    warm_in_background()
    app.run(host=os.environ.get("COCKPIT_HOST", "127.0.0.1"), port=int(os.environ.get("COCKPIT_PORT", "8050")),
            debug=False)


if __name__ == "__main__":
    main()
