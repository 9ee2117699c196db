"""app.py's cache warm-up across a data-version switch, as ``/healthz`` reports it to a monitor."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from data import db, versions
from data.intake import publish as pub


@pytest.fixture
def small_demo(tmp_path, monkeypatch):
    from data.demo import build_demo

    pointer = tmp_path / "db" / "cockpit.duckdb"
    build_demo(pointer, months=14, end_month="2026-10", _item_limit=20)
    monkeypatch.setenv("COCKPIT_DB", str(pointer))
    monkeypatch.setenv("COCKPIT_WARM", "1")
    db.reset_reader()
    yield pointer
    shutil.rmtree(versions.store_for(pointer).staging, ignore_errors=True)
    db.reset_reader()


@pytest.fixture
def held_warm_up(monkeypatch):
    """The warm-up's cache filling, held until the test lets it go; counts its runs."""
    import app
    import briefing.content
    from metrics import dashboard

    gate, runs = threading.Event(), []

    def warm_caches(_scope):
        runs.append(time.monotonic())
        gate.wait(30)

    monkeypatch.setattr(dashboard, "warm_caches", warm_caches)
    monkeypatch.setattr(dashboard, "page_context", lambda *_a, **_k: {"region": "360000", "month": "2026-10"})
    monkeypatch.setattr(briefing.content, "briefing_content", lambda *_a, **_k: None)
    monkeypatch.setattr(db, "_version_hooks", [])  # only this test's hook
    saved = dict(dashboard.WARM_STATE)
    yield gate, runs
    gate.set()
    deadline = time.time() + 30
    while app._warm_thread is not None and time.time() < deadline:
        time.sleep(0.05)
    dashboard.WARM_STATE.clear()
    dashboard.WARM_STATE.update(saved)


def _publish_a_change() -> None:
    frame = db.query("SELECT * FROM hotline_monthly WHERE month = '2026-10-01'")
    frame["closed_on_time"] = frame["due"]
    pub.publish(pub.prepare({"hotline": {"hotline_monthly": frame}}, actor="测试"), actor="测试")


def test_healthz_right_after_a_switch_names_the_new_version_and_a_warm_up_not_done(small_demo, held_warm_up):
    import app
    from metrics import dashboard

    gate, _runs = held_warm_up
    # version 1 was warmed: the state a finished warm-up leaves
    dashboard.WARM_STATE.update(running=False, done=True, months=14, regions=111, seconds=3.0)
    app.warm_on_new_versions()
    client = app.server.test_client()
    before = client.get("/healthz").get_json()
    assert before["version"] == 1 and before["warm"]["done"] is True
    _publish_a_change()
    after = client.get("/healthz").get_json()
    assert after["version"] == 2
    assert after["warm"]["done"] is False, "the old version's finished warm-up must not stand for the new one"
    assert after["warm"]["months"] == 0
    gate.set()


def test_a_switch_during_a_warm_up_runs_the_warm_up_again_once_it_ends(small_demo, held_warm_up):
    import app

    gate, runs = held_warm_up
    app.warm_on_new_versions()
    app.warm_in_background()  # the start's warm-up, held on version 1
    deadline = time.time() + 10
    while not runs and time.time() < deadline:
        time.sleep(0.02)
    assert len(runs) == 1
    _publish_a_change()
    assert app.server.test_client().get("/healthz").get_json()["version"] == 2
    assert len(runs) == 1, "one warm-up at a time"
    gate.set()
    deadline = time.time() + 30
    while app._warm_thread is not None and time.time() < deadline:
        time.sleep(0.05)
    assert len(runs) == 2, "the warm-up ran again for the new version"


def test_a_worker_draws_the_overview_before_its_first_request_and_survives_a_failure(small_demo, monkeypatch):
    import app
    from metrics import dashboard
    from pages import overview
    from web.session import viewer_scope

    calls = []
    real_caches, real_layout = dashboard.warm_caches, overview.layout
    monkeypatch.setattr(dashboard, "warm_caches",
                        lambda scope, **kw: calls.append(("caches", kw)) or real_caches(scope, **kw))

    def layout(**kw):
        page = real_layout(**kw)
        calls.append(("overview", viewer_scope().regions, "overview-card-" in str(page)))
        return page

    monkeypatch.setattr(overview, "layout", layout)
    saved = dict(dashboard.WARM_STATE)
    try:
        app.warm_before_serving()
        # the latest month's caches (not every month: the background warm-up's), then the province's page drawn
        assert calls == [("caches", {"every_month": False}), ("overview", ("360000",), True)]
        assert dashboard.WARM_STATE["done"]

        def broken(_scope, **_kw):
            raise RuntimeError("库文件损坏")

        monkeypatch.setattr(dashboard, "warm_caches", broken)
        app.warm_before_serving()  # logged; the worker still starts
        monkeypatch.setenv("COCKPIT_WARM", "0")
        monkeypatch.setattr(dashboard, "warm_caches", lambda *_a, **_k: pytest.fail("COCKPIT_WARM=0 warms nothing"))
        app.warm_before_serving()
    finally:
        dashboard.WARM_STATE.clear()
        dashboard.WARM_STATE.update(saved)
