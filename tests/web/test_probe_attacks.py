"""The probe's attacks on the served app, re-run: a job directory prepared by someone else, a
forged job handle, a burst of exports, and a stream of what-if values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from dash import _callback_signing

import app
from metrics import forecasting
from pages import forecast as forecast_page

REPO = Path(__file__).resolve().parents[2]
BUSY = "已有导出在进行中，请稍候"


def _start_app(env_extra: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env.update({"COCKPIT_ENV": "development", "COCKPIT_WARM": "0",
                "COCKPIT_SECRET_KEY_FILE": str(tmp_path / "cockpit.secret"), **env_extra})
    return subprocess.run([sys.executable, "-c", "import app"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)


# ------------------------------------------------------------------ the job directory


@pytest.mark.parametrize("prepared", ["world-writable", "another-user"])
def test_a_job_directory_prepared_by_someone_else_refuses_the_start(prepared, tmp_path):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    if prepared == "world-writable":
        os.chmod(jobs, 0o777)
    else:
        if os.geteuid() != 0:
            pytest.skip("changing a directory's owner needs root")
        os.chown(jobs, 65534, 65534)
        os.chmod(jobs, 0o700)
    done = _start_app({"COCKPIT_JOBS_DIR": str(jobs)}, tmp_path)
    assert done.returncode != 0, "the app started on a job directory others control"
    assert "拒绝启动" in done.stderr and str(jobs) in done.stderr
    assert "Traceback" not in done.stderr
    assert list(jobs.iterdir()) == []  # nothing of ours was written there


def test_the_default_job_directory_is_private_and_beside_the_database(tmp_path):
    done = _start_app({"COCKPIT_DB": str(tmp_path / "data" / "cockpit.duckdb")}, tmp_path)
    assert done.returncode == 0, done.stderr
    jobs = tmp_path / "data" / "jobs"
    assert jobs.is_dir() and oct(jobs.stat().st_mode & 0o777) == "0o700"
    assert all(f.stat().st_mode & 0o077 == 0 for f in jobs.iterdir())


# ------------------------------------------------------------------ forged job handles


def _export_output() -> str:
    app.server.test_client().get("/")  # the first request moves the pages' callbacks into the map
    return next(k for k in app.app.callback_map if "briefing-download.data" in k)


def _export_body(n_clicks=1, fmt="pdf", request=None) -> dict:
    return {"output": _export_output(),
            "outputs": [{"id": "briefing-download", "property": "data"},
                        {"id": "briefing-status", "property": "children"}],
            "inputs": [{"id": "briefing-export", "property": "n_clicks", "value": n_clicks}],
            "state": [{"id": "briefing-format", "property": "value", "value": fmt},
                      {"id": "briefing-request", "property": "data",
                       "value": request or {"region": "360000", "month": "2026-10"}}],
            "changedPropIds": ["briefing-export.n_clicks"]}


def _end_id(client) -> str:
    page = client.get("/briefing").get_data(as_text=True)
    config = json.loads(page.split('id="_dash-config" type="application/json">')[1].split("</script>")[0])
    return config["end_id"]


@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_forged_old_job_kills_nothing_even_when_signed(demo_env, sleeper):
    client = app.server.test_client()
    token = _end_id(client)
    secret = app.app._get_signing_secret()
    end_id = _callback_signing.unsign(secret, _callback_signing.END_SCOPE, token)
    signed = _callback_signing.sign(secret, _callback_signing.job_scope(end_id), str(sleeper.pid))
    for old_job in (str(sleeper.pid), signed):  # a bare pid, and one signed with the app's own secret
        resp = client.post("/_dash-update-component",
                           query_string={"endId": token, "cacheKey": "x", "job": "y", "oldJob": old_job},
                           json=_export_body())
        assert resp.status_code < 500
        time.sleep(0.3)
        assert sleeper.poll() is None, "the app killed a process it never started"
    assert psutil.pid_exists(sleeper.pid)
    manager = app.app._background_manager
    manager.terminate_job(sleeper.pid)  # the manager itself refuses too
    time.sleep(0.2)
    assert sleeper.poll() is None


def test_the_signing_secret_is_not_kept_with_the_jobs(demo_env):
    manager = app.app._background_manager
    assert manager.handle.get("__dash_background_signing_secret__") is None
    assert app.server.secret_key and len(app.server.secret_key) >= 32


# ------------------------------------------------------------------ a burst of exports


def _handle_pid(handle: str) -> str:
    return handle.rpartition("~")[0]


def _poll(client, body, handles, deadline=60):
    end = time.time() + deadline
    while time.time() < end:
        resp = client.post("/_dash-update-component", query_string=handles, json=body)
        assert resp.status_code < 500, resp.get_data(as_text=True)
        if resp.status_code == 200 and "response" in (resp.get_json() or {}):
            return resp.get_json()["response"]
        time.sleep(0.3)
    raise AssertionError("the job never answered")


def test_a_burst_of_exports_runs_one_per_viewer_and_leaves_no_zombies(demo_env):
    client = app.server.test_client()
    # a region the export refuses: each job still runs (a fresh interpreter) for a few seconds
    body = _export_body(request={"region": "999999", "month": "2026-10"})
    answers: list = [None] * 6

    def start(i):
        answers[i] = client.post("/_dash-update-component", json=body).get_json()

    threads = [threading.Thread(target=start, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pids = [_handle_pid(a["job"]) for a in answers]
    started = [p for p in pids if p != "0"]
    assert len(started) == 1, f"{len(started)} export processes for one viewer"
    job = psutil.Process(int(started[0]))
    assert job.is_running() and job.status() != psutil.STATUS_ZOMBIE
    # the refused ones say so at once, in Chinese
    refused = [a for a in answers if _handle_pid(a["job"]) == "0"]
    out = _poll(client, body, {"cacheKey": refused[0]["cacheKey"], "job": refused[0]["job"]})
    assert out["briefing-status"]["children"] == BUSY
    # another viewer may export meanwhile
    other = app.server.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    theirs = other.post("/_dash-update-component", json=body).get_json()
    assert _handle_pid(theirs["job"]) != "0"
    # each job answers its own viewer (here: in Chinese, why the export failed)
    for c, a in ((client, next(a for a in answers if _handle_pid(a["job"]) != "0")), (other, theirs)):
        res = _poll(c, body, {"cacheKey": a["cacheKey"], "job": a["job"]})
        assert res["briefing-status"]["children"].startswith("导出失败：")
    # then the slot is free again and no child is left as a zombie
    deadline = time.time() + 10
    while time.time() < deadline and any(c.status() == psutil.STATUS_ZOMBIE for c in psutil.Process().children()):
        time.sleep(0.2)
    assert not [c.pid for c in psutil.Process().children() if c.status() == psutil.STATUS_ZOMBIE]
    again = client.post("/_dash-update-component", json=body).get_json()
    assert _handle_pid(again["job"]) != "0"
    _poll(client, body, {"cacheKey": again["cacheKey"], "job": again["job"]})
    # everything the jobs wrote is the owner's alone
    jobs = Path(app.app._background_manager.handle.directory)
    assert oct(jobs.stat().st_mode & 0o777) == "0o700"
    assert all(f.stat().st_mode & 0o077 == 0 for f in jobs.rglob("*"))


# ------------------------------------------------------------------ what-if values


def test_eighty_what_if_values_write_nothing_to_disk_and_stay_bounded_in_memory(demo_env, tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path))
    forecasting.clear_cache()
    state = {"kpi": "online_handling_rate", "region": "360000", "h": 6, "view": "month"}
    forecast_page.update_what_if(0, "ramp", state)  # the baseline may be cached on disk
    files = sorted((tmp_path / "forecast").glob("*")) if (tmp_path / "forecast").exists() else []
    for i in range(80):
        forecast_page.update_what_if(round(-2 + 0.05 * (i + 1), 2), "ramp" if i % 2 else "flat", state)
    after = sorted((tmp_path / "forecast").glob("*")) if (tmp_path / "forecast").exists() else []
    assert after == files, f"{len(after) - len(files)} what-if results written to disk"
    assert forecasting.memory_cache_sizes()["what_if"] <= forecasting.WHAT_IF_CACHE_SIZE
    forecasting.clear_cache()
