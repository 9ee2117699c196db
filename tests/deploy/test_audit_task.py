"""The nightly Celery beat task (web/celery_app.py ``audit_retention``): the audit chain is verified,
and pruned beyond the configured age, never inside the retention period."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from data import audit, opstore
from web.celery_app import AUDIT_TASK, audit_retention, make_celery


@pytest.fixture
def store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    monkeypatch.setenv("COCKPIT_OPSTORE_URL", url)
    monkeypatch.delenv("COCKPIT_AUDIT_RETENTION_DAYS", raising=False)
    monkeypatch.delenv("COCKPIT_AUDIT_PRUNE_AFTER_DAYS", raising=False)
    yield url
    opstore.dispose()


def _rows_aged(monkeypatch, ages_in_days: list[int]) -> None:
    """Four rows at each age (days before now), oldest first, then the real clock again."""
    for days in ages_in_days:
        at = datetime.now() - timedelta(days=days)
        monkeypatch.setattr(audit, "_now", lambda at=at: at)
        for i in range(4):
            audit.record("页面访问", actor=f"{days}天前", outcome="成功", target=f"/?i={i}")
    monkeypatch.setattr(audit, "_now", datetime.now)


def test_without_a_configured_age_the_task_only_verifies(store, monkeypatch):
    _rows_aged(monkeypatch, [400, 300, 0])
    assert audit_retention() == {"intact": True, "rows": 12, "pruned": 0, "before": None}
    assert audit.count() == 12


def test_rows_older_than_the_configured_age_are_pruned_and_the_rest_still_verify(store, monkeypatch):
    _rows_aged(monkeypatch, [400, 300, 200, 0])
    monkeypatch.setenv("COCKPIT_AUDIT_PRUNE_AFTER_DAYS", "250")
    done = audit_retention()
    # 400 and 300 days old go (8 rows); 200 days and today stay, with the prune's own record
    assert done == {"intact": True, "rows": 9, "pruned": 8, "before": (date.today() - timedelta(days=250)).isoformat()}
    report = audit.check()
    assert report.intact and report.anchor.last_seq == 8
    assert {r["actor"] for r in audit.search(limit=None)} == {"200天前", "0天前", "系统（定时任务）"}


def test_a_configured_age_inside_the_retention_period_counts_as_the_period(store, monkeypatch):
    _rows_aged(monkeypatch, [400, 200, 100, 0])
    monkeypatch.setenv("COCKPIT_AUDIT_PRUNE_AFTER_DAYS", "30")
    done = audit_retention()
    assert done["pruned"] == 8  # 400 and 200 days old: past 180 days; 100 days old is kept
    assert done["before"] == (date.today() - timedelta(days=180)).isoformat()


def test_a_broken_chain_is_reported_and_nothing_is_deleted(store, monkeypatch):
    _rows_aged(monkeypatch, [400, 0])
    with opstore.engine().begin() as con:
        con.execute(text("UPDATE audit_log SET target = '/篡改' WHERE seq = 2"))
    monkeypatch.setenv("COCKPIT_AUDIT_PRUNE_AFTER_DAYS", "200")
    assert audit_retention()["intact"] is False
    rows = audit.search(limit=None)
    assert len(rows) == 9  # the 8 rows and the task's own 「审计校验」 失败 row
    assert (rows[0]["action"], rows[0]["outcome"]) == ("审计校验", "失败")
    assert "第 2 条审计记录的内容与哈希不符" in rows[0]["detail"]


def test_beat_runs_the_task_every_night():
    app = make_celery("redis://127.0.0.1:1/0")
    entry = app.conf.beat_schedule["audit-retention"]
    assert entry["task"] == AUDIT_TASK and AUDIT_TASK in app.tasks
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {17})
