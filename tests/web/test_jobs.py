"""The job store and manager (web/jobs.py): private directories only, slots per viewer, request
state carried into the job process, and nothing killed that the manager did not start."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from contextlib import contextmanager

import pytest

import app
from web import jobs


def test_a_new_job_directory_is_created_private(tmp_path):
    path = jobs.ensure_private_dir(tmp_path / "a" / "jobs")
    assert oct(path.stat().st_mode & 0o777) == "0o700"
    assert jobs.ensure_private_dir(path) == path  # ours and private: used again


@pytest.mark.parametrize("mode", [0o755, 0o770, 0o701])
def test_a_directory_others_can_reach_is_refused(tmp_path, mode):
    path = tmp_path / "jobs"
    path.mkdir()
    os.chmod(path, mode)
    with pytest.raises(jobs.JobsDirError, match=r"拒绝启动.*组用户或其他用户可以访问"):
        jobs.ensure_private_dir(path)


def test_a_symlinked_directory_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "jobs").symlink_to(real)
    with pytest.raises(jobs.JobsDirError, match="符号链接"):
        jobs.ensure_private_dir(tmp_path / "jobs")


def test_a_file_planted_by_another_user_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("changing a file's owner needs root")
    path = jobs.ensure_private_dir(tmp_path / "jobs")
    planted = path / "cache.db"
    planted.write_bytes(b"")
    os.chown(planted, 65534, 65534)
    with pytest.raises(jobs.JobsDirError, match=r"cache\.db 属于其他用户"):
        jobs.ensure_private_dir(path)


def test_the_default_directory_is_beside_the_database(monkeypatch, tmp_path):
    monkeypatch.delenv("COCKPIT_JOBS_DIR", raising=False)
    monkeypatch.setenv("COCKPIT_DB", str(tmp_path / "d" / "cockpit.duckdb"))
    assert jobs.jobs_dir() == tmp_path / "d" / "jobs"


def test_the_viewer_key_can_be_replaced_by_login():
    with app.server.test_request_context("/", environ_base={"REMOTE_ADDR": "10.9.8.7"}):
        assert jobs.viewer_key() == "ip:10.9.8.7"
        jobs.set_viewer_key(lambda: "user:42")
        try:
            assert jobs.viewer_key() == "user:42"
        finally:
            jobs.set_viewer_key(None)
        assert jobs.viewer_key() == "ip:10.9.8.7"


def test_the_manager_terminates_only_processes_it_started(tmp_path):
    manager = jobs.create_job_manager(tmp_path / "jobs")
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for handle in (stranger.pid, str(stranger.pid), "0", "-1", "abc", None, os.getpid()):
            manager.terminate_job(handle)
            assert not manager.job_running(handle)
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_request_state_is_carried_into_the_job_process(monkeypatch):
    seen = []

    @contextmanager
    def install(value):
        seen.append(("in", value))
        yield
        seen.append(("out", value))

    def job_fn(key, progress_key, args, context):
        seen.append(("job", key, args, context["who"]))

    manager = app.app._background_manager
    monkeypatch.setitem(manager.func_registry, "test-callback", job_fn)
    monkeypatch.setattr(jobs, "_carriers", {})
    jobs.carry_into_jobs("viewer", lambda: {"user": 42}, install)
    payload = {"callback": "test-callback", "key": "k", "progress_key": "k-progress", "args": [1],
               "context": {"who": "x"}, "carried": {"viewer": jobs._carriers["viewer"][0]()}}

    class Stdin:
        buffer = io.BytesIO(pickle.dumps(payload))

        def close(self):
            pass

    monkeypatch.setattr(sys, "stdin", Stdin())
    umask = os.umask(0o022)
    try:
        jobs.run_job_from_stdin()
        assert os.umask(0o022) == 0o077  # the job process writes private files
    finally:
        os.umask(umask)
    assert seen == [("in", {"user": 42}), ("job", "k", [1], "x"), ("out", {"user": 42})]
