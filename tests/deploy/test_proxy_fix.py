"""Behind nginx (``COCKPIT_BEHIND_PROXY=1``) the app takes the client from one proxy's
``X-Forwarded-For`` / ``-Proto`` (werkzeug's ProxyFix); without it, from the connection only.
(tests/deploy/test_serve.py checks the whole chain: nginx, a node, the audit row.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import app
from flask import request
from werkzeug.test import EnvironBuilder

env = EnvironBuilder("/", headers={"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"},
                     environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
seen = {}
def inner(environ, start_response):
    seen["addr"], seen["scheme"] = environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]
    return []
wrapped = app.server.wsgi_app
if hasattr(wrapped, "app"):
    wrapped.app = inner  # what the Flask app behind the middleware would see
    wrapped(env, lambda *a: None)
else:
    inner(env, None)
print(seen["addr"], seen["scheme"])
"""


@pytest.mark.parametrize(("setting", "expected"), [("1", "198.51.100.9 https"), ("", "127.0.0.1 http")])
def test_the_client_address_comes_from_the_proxy_only_when_told(setting, expected, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "COCKPIT_BEHIND_PROXY"}
    env.update({"COCKPIT_ENV": "development", "COCKPIT_WARM": "0", "COCKPIT_BEHIND_PROXY": setting,
                "COCKPIT_DB": str(tmp_path / "cockpit.duckdb")})
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == expected
