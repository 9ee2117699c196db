"""The production mode's job manager (web/jobs.py ``CeleryJobManager``) against a real Redis started
on loopback: one job per viewer, a bound on all jobs, a result key per call, cancelling only what it
queued, messages without cookies, and the viewer carried signed."""

from __future__ import annotations

import base64
import json
import secrets
import socket
import subprocess
import time
from contextlib import contextmanager
from contextvars import copy_context

import dash
import pytest
import redis
from dash._callback_context import context_value
from dash._utils import AttributeDict

from web import jobs
from web.celery_app import make_celery

BUSY_OUTPUTS = [{"_dash_no_update": "_dash_no_update"}]

# Celery's Redis result backend calls SETEX, which redis-py 8 marks deprecated (a warning, not a change)
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A private redis-server on a free loopback port, with a password; stopped at the end."""
    directory = tmp_path_factory.mktemp("redis")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    password = secrets.token_hex(12)
    proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--requirepass", password,
                             "--save", "", "--appendonly", "no", "--dir", str(directory)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port, password=password)
    try:
        for _ in range(100):
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://:{password}@127.0.0.1:{port}"
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def shared_manager(redis_server):
    # one Celery app per process, as in a serving process: Dash registers each background callback
    # as a task of every Celery app (shared tasks), so a second app would see every name twice
    m = jobs.CeleryJobManager(make_celery(f"{redis_server}/3"), ttl=3600, max_running=2, timeout=600)
    yield m
    dash.CeleryManager.managers.remove(m)
    m.redis.close()


@pytest.fixture
def manager(shared_manager, monkeypatch):
    shared_manager.redis.flushdb()  # the registry and the queue start empty
    who = {"viewer": "user:a"}
    monkeypatch.setattr(jobs, "_carriers", {})
    # monkeypatch restores login's per-user key afterwards (set_viewer_key(None) would reset it to
    # the IP address for every later test in the session)
    monkeypatch.setattr(jobs, "_viewer_key_fn", lambda: who["viewer"])
    shared_manager.who = who
    yield shared_manager


def _job(m, name="export"):
    @jobs.exclusive(busy=lambda message: (dash.no_update, message))
    def export(n_clicks):
        return n_clicks

    return m.make_job_fn(export, progress=False, key=f"test-{name}-{secrets.token_hex(3)}")


def _start(m, job_fn, viewer: str, context: dict | None = None) -> tuple[str, str]:
    m.who["viewer"] = viewer
    key = m.build_cache_key(job_fn, [1], [], None)
    return key, m.call_job_fn(key, job_fn, [1], context or {})


def test_one_job_per_viewer_and_a_bound_on_all_of_them(manager):
    job_fn = _job(manager)
    _, first = _start(manager, job_fn, "user:a")
    assert first != jobs.REFUSED_JOB and manager.job_running(first)
    key, again = _start(manager, job_fn, "user:a")
    assert again == jobs.REFUSED_JOB
    assert manager.get_result(key, again) == [*BUSY_OUTPUTS, jobs.BUSY_VIEWER]  # said at once, in Chinese
    _, other = _start(manager, job_fn, "user:b")
    assert other != jobs.REFUSED_JOB
    key, third = _start(manager, job_fn, "user:c")  # two queued or running in all
    assert third == jobs.REFUSED_JOB and manager.get_result(key, third) == [*BUSY_OUTPUTS, jobs.BUSY_SERVER]
    assert {e["viewer"] for e in manager.running().values()} == {"user:a", "user:b"}


def test_equal_arguments_get_a_result_key_each(manager):
    fn = _job(manager)
    assert manager.build_cache_key(fn, [1], [], None) != manager.build_cache_key(fn, [1], [], None)


def test_a_collected_result_frees_the_viewers_slot(manager):
    job_fn = _job(manager)
    key, task_id = _start(manager, job_fn, "user:a")
    manager.handle.backend.set(key, json.dumps(["简报.pdf", "已生成"]))  # what the worker writes at the end
    assert manager.get_result(key, task_id) == ["简报.pdf", "已生成"]
    assert manager.get_result(key, task_id) is manager.UNDEFINED  # read once
    assert task_id not in manager.running() and not manager.job_running(task_id)
    assert _start(manager, job_fn, "user:a")[1] != jobs.REFUSED_JOB


def test_only_a_queued_job_of_this_registry_is_ever_revoked(manager, monkeypatch):
    revoked = []
    monkeypatch.setattr(manager.handle.control, "revoke", lambda task_id, **kw: revoked.append((task_id, kw)))
    job_fn = _job(manager)
    _, task_id = _start(manager, job_fn, "user:a")
    for forged in (None, "", "0", "-1", "abc", "4b9e3f2a-0000-4000-8000-000000000000", 12345):
        manager.terminate_job(forged)
        assert not manager.job_running(forged)
    assert revoked == []
    manager.terminate_job(task_id)
    assert revoked == [(task_id, {"terminate": True, "signal": "SIGTERM"})]
    assert not manager.job_running(task_id)
    assert _start(manager, job_fn, "user:a")[1] != jobs.REFUSED_JOB  # cancelling freed the slot


def test_the_queued_message_carries_no_cookies_and_the_viewer_signed(manager):
    @contextmanager
    def install(value):
        yield value

    jobs.carry_into_jobs("viewer", lambda: {"user": 42, "scope": ("360100",)}, install)
    job_fn = _job(manager)
    context = {"cookies": {"cockpit_session": "secret-token"}, "headers": {"Cookie": "cockpit_session=secret-token"},
               "inputs_list": [{"id": "briefing-export", "property": "n_clicks", "value": 1}], "path": "/x"}
    _start(manager, job_fn, "user:a", context)
    raw = manager.redis.lrange("celery", 0, -1)
    assert len(raw) == 1
    assert b"secret-token" not in raw[0]
    args, _kwargs, _embed = json.loads(base64.b64decode(json.loads(raw[0])["body"]))
    sent = args[3]
    assert "cookies" not in sent and "headers" not in sent and sent["path"] == "/x"
    assert jobs._unseal(sent["cockpit_carried"]) == {"viewer": {"user": 42, "scope": ("360100",)}}


def test_the_worker_runs_the_callback_as_the_carried_viewer_and_ignores_a_forged_one(monkeypatch):
    seen = []

    @contextmanager
    def install(value):
        seen.append(("as", value))
        yield

    monkeypatch.setattr(jobs, "_carriers", {})
    jobs.carry_into_jobs("viewer", lambda: None, install)
    run = jobs._carrying(lambda n: seen.append(("run", n)) or n)

    def in_task(carried):
        context_value.set(AttributeDict(cockpit_carried=carried))
        return run(7)

    assert copy_context().run(in_task, jobs._seal({"viewer": "张三"})) == 7
    assert seen == [("as", "张三"), ("run", 7)]
    seen.clear()
    mac, _, blob = jobs._seal({"viewer": "张三"}).partition(":")
    forged = mac + ":" + base64.b64encode(base64.b64decode(blob).replace("张三".encode(), "李四".encode())).decode()
    assert copy_context().run(in_task, forged) == 7
    assert seen == [("run", 7)]  # runs as nobody: the export then fails closed (no viewer, no scope)
