"""Celery in the production mode (``scripts/serve.sh``): the queue of background jobs and the schedule.

``$COCKPIT_REDIS_URL`` (e.g. ``redis://:PASSWORD@127.0.0.1:6380/0``) is both the broker and the
result backend. Unset (``scripts/start.sh``, tests), :data:`celery_app` is None and the app keeps
the embedded job manager of :mod:`web.jobs`.

* **Workers** (``celery -A web.celery_app worker``) import the Dash app before their pool starts
  (:func:`_load_the_app`), which registers every background callback as a task named
  ``background_callback_<hash>`` (Dash's ``CeleryManager``); the serving processes send the
  briefing export there (:class:`web.jobs.CeleryJobManager`). Messages are JSON only: nothing a
  writer of the queue puts there is unpickled, except the job's carried viewer, which is signed
  with the SECRET_KEY.
* **Queues**: the exports go to Celery's default queue (``celery``); the 数据管理 page's checks and
  publishes to :data:`web.jobs.INTAKE_QUEUE` (``cockpit-intake``), consumed by a worker that
  ``scripts/serve.sh`` starts under ``nice`` with a concurrency of 1 (a publish rebuilds the KPI
  results: it must yield to the serving processes; one publish at a time is the publish lock's job).
* **Results** (Dash keeps a callback's outputs and progress in the backend) expire after
  ``$COCKPIT_JOB_TTL`` seconds (default 3600); a job running longer than ``$COCKPIT_JOB_TIMEOUT``
  (default 600) is killed by the worker (``task_time_limit``).
* **Beat** (``celery -A web.celery_app beat``) runs :func:`audit_retention` every night at 03:17:
  the audit chain is verified and, when ``$COCKPIT_AUDIT_PRUNE_AFTER_DAYS`` is set, the rows older
  than that many days are pruned (never inside the retention period of
  ``$COCKPIT_AUDIT_RETENTION_DAYS``, at least 180 days: ``data.audit.prune``).
"""

from __future__ import annotations

import logging
import os
from datetime import date, timedelta
from typing import TypedDict

from celery import Celery, signals
from celery.schedules import crontab

__all__ = ["AUDIT_TASK", "audit_retention", "celery_app", "make_celery", "prune_after_days", "redis_url"]

log = logging.getLogger(__name__)

AUDIT_TASK = "cockpit.audit_retention"
SYSTEM_ACTOR = "系统（定时任务）"
DEFAULT_TTL = 3600
DEFAULT_TIMEOUT = 600


def redis_url() -> str | None:
    """``$COCKPIT_REDIS_URL``, or None (the embedded mode)."""
    return os.environ.get("COCKPIT_REDIS_URL", "").strip() or None


def _seconds(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, "") or default))
    except ValueError:
        return default


def prune_after_days() -> int | None:
    """``$COCKPIT_AUDIT_PRUNE_AFTER_DAYS`` (None: the nightly task only verifies)."""
    raw = os.environ.get("COCKPIT_AUDIT_PRUNE_AFTER_DAYS", "").strip()
    if not raw:
        return None
    try:
        return max(1, int(raw))
    except ValueError:
        log.error("COCKPIT_AUDIT_PRUNE_AFTER_DAYS 应为整数天数：%s（本次只校验，不清理）", raw)
        return None


class RetentionReport(TypedDict):
    """What the nightly audit task did (:func:`audit_retention`); JSON as a Celery result."""

    intact: bool
    rows: int
    pruned: int
    before: str | None


def audit_retention(today: date | None = None) -> RetentionReport:
    """The nightly audit task: verify the chain; prune what is older than the configured age.

    Returns what it did: ``{"intact": bool, "rows": N, "pruned": N, "before": "YYYY-MM-DD" | None}``.
    A broken chain is logged and recorded (「审计校验」, 失败) and nothing is deleted."""
    from data import audit

    days = prune_after_days()
    if days is None:
        report = audit.check()
        if not report.intact:
            _broken(report.summary())
        return {"intact": report.intact, "rows": report.rows, "pruned": 0, "before": None}
    # never younger than the retention period, whatever the setting says
    before = min((today or date.today()) - timedelta(days=days), audit.earliest_prunable(today))
    try:
        pruned = audit.prune(before, actor=SYSTEM_ACTOR)
    except audit.AuditError as exc:
        _broken(str(exc))
        return {"intact": False, "rows": 0, "pruned": 0, "before": before.isoformat()}
    log.info("审计日志定时清理：删除早于 %s 的 %s 条记录", before, pruned.rows)
    return {"intact": True, "rows": audit.count(), "pruned": pruned.rows, "before": before.isoformat()}


def _broken(message: str) -> None:
    from data import audit

    log.error("审计日志定时校验未通过：%s", message)
    audit.record("审计校验", actor=SYSTEM_ACTOR, outcome="失败", target="定时校验", detail={"message": message[:500]})


def make_celery(url: str) -> Celery:
    """The Celery app on the Redis at ``url`` (broker and result backend)."""
    app = Celery("cockpit", broker=url, backend=url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        result_expires=_seconds("COCKPIT_JOB_TTL", DEFAULT_TTL),
        task_track_started=True,
        task_time_limit=_seconds("COCKPIT_JOB_TIMEOUT", DEFAULT_TIMEOUT),
        worker_prefetch_multiplier=1,  # an export is long: a worker takes one at a time
        worker_max_tasks_per_child=20,  # exports drive Chromium (kaleido): recycle the process now and then
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 2 * _seconds("COCKPIT_JOB_TIMEOUT", DEFAULT_TIMEOUT)},
        worker_hijack_root_logger=False,
        timezone="Asia/Shanghai",
        beat_schedule={"audit-retention": {"task": AUDIT_TASK, "schedule": crontab(hour=3, minute=17)}},
    )

    @app.task(name=AUDIT_TASK, shared=False)
    def _audit_retention_task() -> RetentionReport:
        return audit_retention()

    return app


@signals.worker_init.connect
def _load_the_app(**_kwargs) -> None:
    # the worker's pool forks after this: each child has every background callback registered
    # (and nothing opened yet: the app opens no database at import)
    import app  # noqa: F401


_url = redis_url()
celery_app: Celery | None = make_celery(_url) if _url else None
