"""数据管理's checks and 发布 as background jobs in the embedded mode (no Redis: ``scripts/start.sh``):
a logged-in clerk's upload is checked and published by job processes the serving process starts
(``web/jobs.py`` JobManager), through the Flask test client as the renderer would post; a bad file
gets its row/column messages through the same path; a leader is refused at submission (403, audited)
and no job starts. Each test publishes on its own copy of the small demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import app
from data import audit, db, opstore, versions
from data.identity import principal_for_user
from data.intake import service
from tests.auth_helpers import logged_in_client
from tests.intake_demo import (
    build_small_demo,
    copy_store,
    hotline_edit,
    upload_contents,
)
from tests.intake_jobs import find_output, publish_body, run_job, upload_body
from tests.web.dash_requests import UPDATE
from web import jobs


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    return build_small_demo(tmp_path_factory.mktemp("intake-jobs"))


@pytest.fixture
def data_env(small_demo, tmp_path, monkeypatch):
    """A private copy of the small demo for this test (the job processes inherit the environment)."""
    pointer = copy_store(small_demo, tmp_path / "db")
    monkeypatch.setenv("COCKPIT_DB", str(pointer))
    monkeypatch.delenv("COCKPIT_REDIS_URL", raising=False)
    monkeypatch.delenv("COCKPIT_SHARED_DIR", raising=False)
    monkeypatch.setenv("COCKPIT_INTAKE_NICE", "7")
    opstore.dispose()
    db.reset_reader()
    yield pointer
    db.reset_reader()
    opstore.dispose()


def _version() -> int | None:
    return versions.current_number(versions.store_for(db.pointer_path()))


def _keys() -> list[str]:
    return list(app.app.callback_map)


def _check_key() -> str:
    return find_output(_keys(), "data-upload-report.children", "data-upload.contents")


def _poster(client):
    def post(params, body):
        resp = client.post(UPDATE, query_string=params, json=body)
        return resp.status_code, resp.get_json(silent=True)

    return post


def test_an_upload_is_checked_and_published_by_job_processes(data_env):
    assert isinstance(app.app._background_manager, jobs.JobManager)  # the embedded mode
    client, user = logged_in_client(app.server, "reporter", "360000")
    client.get("/data")
    before = _version()
    raw = hotline_edit({2: {"受理量": lambda v: v + 100}})
    checked = run_job(_poster(client), upload_body(_check_key(),
                                                   upload_contents(raw), "热线2026年10月.xlsx"))
    token = checked["data-upload-token"]["data"]
    assert token and "校验通过：热线2026年10月.xlsx" in json.dumps(checked, ensure_ascii=False)
    store = versions.store_for(db.pointer_path())
    # the file went to the staging directory, not into the job's message, and the job took it
    assert not list(store.staging.glob(f"*{service.UPLOAD_SUFFIX}"))
    assert oct(os.stat(store.staging / f"{token}.duckdb").st_mode & 0o777) == "0o600"
    assert oct(os.stat(store.staging / f"{token}.json").st_mode & 0o777) == "0o600"
    assert _version() == before  # nothing published yet

    publish = find_output(_keys(), "data-upload-actions.className", "data-version.children")
    done = run_job(_poster(client), publish_body(publish, token))
    text = json.dumps(done, ensure_ascii=False)
    assert f"已发布：当前数据版本 v{before + 1}" in text, text[:2000]
    assert _version() == before + 1
    name = principal_for_user(user).name  # what the history and the 发布 audit row name, as before
    row = opstore.history(limit=1)[0]
    assert row["outcome"] == "已发布" and row["actor"] == name  # the actor the server derived
    published = audit.search(action="发布", actor=name)
    assert published and published[0]["outcome"] == "成功"


def test_a_bad_upload_gets_the_row_and_column_messages_through_the_job(data_env):
    client, _ = logged_in_client(app.server, "reporter", "360000")
    client.get("/data")
    before = _version()
    raw = hotline_edit({4: {"受理量": "很多"}, 6: {"区县代码": "999999"}})
    answer = run_job(_poster(client), upload_body(_check_key(),
                                                  upload_contents(raw), "坏文件.xlsx"))
    text = json.dumps(answer["data-upload-report"], ensure_ascii=False)
    assert "校验未通过：坏文件.xlsx，未发布" in text
    assert "受理量" in text and "很多" in text and "区县代码" in text and "999999" in text
    assert answer["data-upload-token"]["data"] is None
    assert _version() == before


def test_a_viewer_without_the_data_page_is_refused_at_submission_and_audited(data_env):
    client, user = logged_in_client(app.server, "leader", "360000")
    client.get("/")
    body = upload_body(_check_key(), upload_contents(b"x"), "a.xlsx")
    resp = client.post(UPDATE, json=body)
    assert resp.status_code == 403 and "无权访问" in resp.get_json()["message"]
    resp = client.post(UPDATE, json=publish_body(
        find_output(_keys(), "data-upload-actions.className", "data-version.children"), "0" * 24))
    assert resp.status_code == 403
    assert len(audit.search(actor=user.username, action="拒绝")) == 2
    assert app.app._background_manager.running() == {}  # no job was started


def test_the_submission_hook_refuses_a_viewer_who_may_not_open_the_page(data_env):
    """The job's own check (whatever gets past the login guard): 403 and an audit row."""
    from werkzeug.exceptions import Forbidden

    from pages import data as page
    from tests.auth_helpers import make_user
    from web.session import viewing_as

    user = make_user("analyst", "360000")
    with viewing_as(principal_for_user(user)), pytest.raises(Forbidden):
        page.may_submit()
    assert audit.search(actor=user.username, action="拒绝")[0]["target"] == "数据管理后台任务"


def test_an_intake_job_lowers_its_cpu_priority():
    code = ("import os; from web import jobs; jobs.lower_priority(jobs.intake_nice()); print(os.nice(0)); "
            "jobs.lower_priority(3); print(os.nice(0))")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "COCKPIT_INTAKE_NICE": "12"},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["12", "12"]  # lowered once, never raised again


def test_a_publish_job_waits_for_the_publish_lock_another_process_holds(data_env):
    """One publish at a time: the job process takes the same lock as the CLI and the other nodes
    (the node's flock, and with several nodes the shared one, see data.replicate)."""
    import threading
    import time

    client, _ = logged_in_client(app.server, "reporter", "360000")
    client.get("/data")
    before = _version()
    raw = hotline_edit({3: {"受理量": lambda v: v + 7}})
    token = run_job(_poster(client), upload_body(_check_key(), upload_contents(raw), "热线.xlsx"))[
        "data-upload-token"]["data"]
    assert token
    store = versions.store_for(db.pointer_path())
    answer: dict = {}
    with versions.publish_lock(store):  # as another publisher would (this process: another "node")
        worker = threading.Thread(target=lambda: answer.update(run_job(_poster(client), publish_body(
            find_output(_keys(), "data-upload-actions.className", "data-version.children"), token))))
        worker.start()
        time.sleep(15)  # the job process starts (imports: seconds), then waits for the lock
        assert not answer and _version() == before
    worker.join(timeout=300)
    assert f"已发布：当前数据版本 v{before + 1}" in json.dumps(answer, ensure_ascii=False)
    assert _version() == before + 1
