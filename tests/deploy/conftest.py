"""The production mode's tests start real servers (Redis, PostgreSQL, nginx, gunicorn, Celery)."""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line("markers", "deploy: starts the production mode (scripts/serve.sh) on loopback")
