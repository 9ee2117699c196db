"""gunicorn settings: ``gunicorn app:server`` (run from the repository root)."""

import os

bind = os.environ.get("COCKPIT_BIND", "127.0.0.1:8050")
workers = int(os.environ.get("COCKPIT_WORKERS", "2"))
threads = int(os.environ.get("COCKPIT_THREADS", "4"))
timeout = 120
# longer than nginx's upstream keepalive_timeout (60 s, deploy/nginx.conf.j2): gunicorn's default of 2 s
# closed idle connections nginx was about to reuse, and a request sent on one got a 502 (seen under load)
keepalive = int(os.environ.get("COCKPIT_KEEPALIVE", "75"))


def on_starting(server):
    # refuse to start (a Chinese message) without a strong SECRET_KEY or with a job directory
    # others can reach, before any worker starts (web/hardening.py, web/jobs.py)
    from web.hardening import check_startup

    check_startup()
    from data import opstore

    # scripts/serve.sh settles the database once, before any node starts, and replicates it to the
    # other nodes: a node must not upgrade or publish on its own. A lone gunicorn settles it here,
    # before any worker opens it read-only. Never demo data or demo accounts: production serves
    # what was published (the demo is prepared by scripts/start.sh, the embedded mode).
    if os.environ.get("COCKPIT_DB_PREPARED", "").strip() != "1":
        from data.prepare import require_database

        require_database()
    opstore.dispose()  # workers are forked from here: none may inherit the master's connections


def post_worker_init(worker):
    # each worker has its own in-process caches. gunicorn calls this before the worker accepts
    # connections: the first view a worker serves never pays its start-up costs; what can wait
    # (the 简报 preview) is filled in the background
    from app import warm_before_serving, warm_in_background, warm_on_new_versions

    warm_before_serving()
    warm_in_background()
    warm_on_new_versions()
