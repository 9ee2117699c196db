"""gunicorn settings: ``gunicorn app:server`` (run from the repository root)."""

import os

bind = os.environ.get("COCKPIT_BIND", "127.0.0.1:8050")
workers = int(os.environ.get("COCKPIT_WORKERS", "2"))
threads = 4
timeout = 120


def on_starting(server):
    # build the demo database once, before any worker opens it read-only
    from data.demo import ensure_database

    ensure_database()


def post_worker_init(worker):
    # each worker has its own in-process caches: fill the latest month's in the background
    from app import warm_in_background, warm_on_new_versions

    warm_in_background()
    warm_on_new_versions()
