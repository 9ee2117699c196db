"""A publish reaches running servers without a restart: every gunicorn worker reports the new
version on ``/healthz`` and serves its figures."""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from data import db, versions
from data.intake import publish as pub

REPO = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_wall = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def _get(url: str) -> dict:
    with _wall.open(url, timeout=10) as r:
        return json.loads(r.read())


@pytest.fixture
def served(tmp_path, monkeypatch):
    """gunicorn with two workers on a copy of a small demo."""
    from data.demo import build_demo

    pointer = tmp_path / "db" / "cockpit.duckdb"
    build_demo(pointer, months=14, end_month="2026-10", _item_limit=20)
    monkeypatch.setenv("COCKPIT_DB", str(pointer))
    port = _free_port()
    env = {**os.environ, "COCKPIT_DB": str(pointer), "COCKPIT_BIND": f"127.0.0.1:{port}", "COCKPIT_WORKERS": "2",
           "COCKPIT_WARM": "0"}
    log = open(tmp_path / "gunicorn.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "app:server"], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            _get(base + "/healthz")
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError((tmp_path / "gunicorn.log").read_text()) from None
            time.sleep(0.3)
    # the wall's own way in: a device token for the province, exchanged for a device session
    from data.identity import create_device_token

    _, token = create_device_token("测试大屏", region="360000", actor="测试")
    _wall.open(f"{base}/screen?device={token}", timeout=10).close()
    yield base, versions.store_for(pointer)
    proc.terminate()
    proc.wait(timeout=20)
    log.close()
    db.reset_reader()


def _workers(base: str, n: int = 40) -> dict[int, int]:
    """pid → version, from enough requests to reach both workers."""
    seen = {}
    for _ in range(n):
        h = _get(base + "/healthz")
        seen[h["pid"]] = h["version"]
    return seen


def test_every_worker_serves_the_new_version_after_a_publish_without_restart(served):
    base, store = served
    before = _workers(base)
    assert set(before.values()) == {1}
    with duckdb.connect(str(versions.current(store)), read_only=True) as con:
        frame = con.execute("SELECT * FROM hotline_monthly WHERE month = '2026-10-01'").df()
    frame["closed_on_time"] = frame["due"]  # October: every due ticket closed on time
    old_card = _card(base, "hotline_on_time_rate")
    pub.publish(pub.prepare({"hotline": {"hotline_monthly": frame}}, actor="测试"), actor="测试")
    after = _workers(base)
    assert len(after) == 2, "both workers answered"
    assert set(after.values()) == {2}
    # the figures follow: the wall's 12345 按时办结率 (累计) is the new ratio of sums
    with duckdb.connect(str(versions.current(store)), read_only=True) as con:
        on_time, due = con.execute("SELECT sum(closed_on_time), sum(due) FROM hotline_monthly"
                                   " WHERE month BETWEEN '2026-01-01' AND '2026-10-01'").fetchone()
    for _ in range(6):  # each worker, several times
        assert _card(base, "hotline_on_time_rate") == pytest.approx(100 * on_time / due)
    assert old_card != pytest.approx(100 * on_time / due)
    shutil.rmtree(store.staging, ignore_errors=True)


def _card(base: str, kpi: str) -> float:
    doc = _get(base + "/api/screen?region=360000&kpi=online_available_rate")
    return next(c["value"] for c in doc["cards"] if c["kpi"] == kpi)
