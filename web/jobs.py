"""Background jobs (the 简报 export): a private job store and a manager that bounds and guards them.

Dash runs a ``background=True`` callback in a child process and keeps its progress and
result in a diskcache directory shared by every worker. That directory holds pickles (read
back with ``pickle.loads``), so whoever can write it can run code as the app, and whoever can
read it sees every viewer's exported files. Hence:

* **A private directory.** ``$COCKPIT_JOBS_DIR``, else ``jobs/`` in the data directory (beside
  the database pointer ``$COCKPIT_DB``: ``data/jobs/`` by default). We create it with mode
  0700 and refuse to start (a Chinese message, exit status 1) if it exists and is a symlink,
  not a directory, owned by another user, group/world-accessible, or holds a file owned by
  another user. Its files are created 0600 (a 077 umask while the store is opened and in each
  job process; values are kept inside the SQLite file, whose WAL files inherit its mode).
* **Results expire** after ``$COCKPIT_JOB_TTL`` seconds (default 3600) if nobody collects them,
  and every call gets its own result key (Dash derives it from the arguments only, so two
  viewers exporting the same month would otherwise read each other's file).
* **Bounded work.** At most one running job per viewer (:func:`viewer_key`: until login, the
  client's IP address; login replaces it with :func:`set_viewer_key`) and at most
  ``$COCKPIT_JOBS_MAX`` (default 2) running jobs in all. A request beyond that starts no
  process: the callback's ``busy`` outputs (see :func:`exclusive`) are returned at once,
  e.g. 「已有导出在进行中，请稍候」. A job running longer than ``$COCKPIT_JOB_TIMEOUT`` seconds
  (default 600) is killed and its slot freed.
* **Only our own processes are ever killed.** Dash kills the pid a request names (``oldJob``,
  ``cancelJob``, ``job``); it signs those handles, but with a secret that lived in this very
  store. Here a pid is only terminated if this manager started it (recorded with the
  process's start time, so a reused pid is not ours either), and the signing secret is the
  Flask ``SECRET_KEY`` (:mod:`web.hardening`), never stored with the jobs.
* **A fresh process per job.** A job is a new Python interpreter (``python -c`` … importing the
  app), told which callback to run and with what through a pipe, never a ``fork()`` of the
  serving process: a fork copies the locks other request threads hold at that instant (SQLite's,
  DuckDB's), and a child that then touches its job store waits forever. Starting one costs
  about 4 s of imports; an export takes 10–20 s. The job has no request: what it needs of the
  request (login: who the viewer is) is carried with :func:`carry_into_jobs`.
* **No zombies.** Each serving process reaps the children it started (a small reaper thread
  runs while it has any).

**Intake jobs** (the 数据管理 page's checks of an upload or a 填报 form, and its 发布) are background
callbacks too, marked with :func:`job_options`: they run at a low CPU priority (``os.nice``,
``$COCKPIT_INTAKE_NICE``, default 10: the results rebuild of a publish must not starve the serving
processes), on their own Celery queue (:data:`INTAKE_QUEUE`, whose worker ``scripts/serve.sh``
starts under ``nice``), and a ``submit`` hook runs in the request before the job is queued (the
permission check, and the upload moved out of the message into the shared staging directory).

**The production mode** (``$COCKPIT_REDIS_URL`` set: ``scripts/serve.sh``) runs the same
callbacks on Celery workers instead (:class:`CeleryJobManager`, over Dash's ``CeleryManager``;
the Celery app is :mod:`web.celery_app`). What still makes sense is kept: one job per viewer and
``$COCKPIT_JOBS_MAX`` queued or running in all (a registry in Redis, shared by every node), a result
key per call, results expiring after ``$COCKPIT_JOB_TTL`` (Redis expiry), jobs killed after
``$COCKPIT_JOB_TIMEOUT`` (the worker's time limit), handles signed with the SECRET_KEY. Cancelling
is a Celery revoke, and only of a task this registry holds (Dash would revoke whatever id a
signed handle names, even after reading its result). The job's message carries no cookies or
headers; the viewer it runs for travels pickled and signed with the SECRET_KEY, so a writer of the
queue cannot make a worker unpickle anything. The private directory, the pids and the reaping
are the embedded mode's alone: the workers are Celery's processes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import os
import pickle
import secrets
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import dash
import diskcache
from dash.background_callback.managers.diskcache_manager import _make_job_fn

from data import db

__all__ = [
    "BUSY_SERVER",
    "BUSY_VIEWER",
    "CeleryJobManager",
    "JobManager",
    "JobsDirError",
    "carry_into_jobs",
    "create_job_manager",
    "INTAKE_QUEUE",
    "ensure_private_dir",
    "exclusive",
    "job_options",
    "jobs_dir",
    "lower_priority",
    "run_job_from_stdin",
    "set_viewer_key",
    "viewer_key",
]

log = logging.getLogger(__name__)

BUSY_VIEWER = "已有导出在进行中，请稍候"
BUSY_SERVER = "当前导出任务较多，请稍候再试"
DEFAULT_TTL = 3600
DEFAULT_MAX_RUNNING = 2
DEFAULT_TIMEOUT = 600
_REGISTRY = "cockpit:jobs"  # pid → {viewer, created, started}; reservations under "pending"
_RESERVATION_TTL = 60  # seconds a slot may be held between the check and the start
REPO = Path(__file__).resolve().parents[1]
_RUNNER = "import web.jobs as j; j.run_job_from_stdin()"
REFUSED_JOB = "0"  # the job handle of a request that started nothing (never a real pid)
INTAKE_QUEUE = "cockpit-intake"  # the Celery queue of the 数据管理 jobs (a worker started under nice)
DEFAULT_INTAKE_NICE = 10


class JobsDirError(RuntimeError):
    """The job directory cannot be used safely (the message is Chinese and says how to fix it)."""


# ------------------------------------------------------------------ the viewer a job belongs to


def _ip_viewer_key() -> str:
    from flask import has_request_context, request

    if not has_request_context():
        return "local"
    return f"ip:{request.remote_addr or 'unknown'}"


_viewer_key_fn: Callable[[], str] = _ip_viewer_key


def viewer_key() -> str:
    """Who a job is counted against: until login, the client's IP address."""
    return _viewer_key_fn()


def set_viewer_key(fn: Callable[[], str] | None) -> None:
    """Count jobs per ``fn()`` instead (login: the user id); ``None`` restores the IP address."""
    global _viewer_key_fn
    _viewer_key_fn = fn or _ip_viewer_key


_carriers: dict[str, tuple[Callable[[], object], Callable[[object], object]]] = {}


def carry_into_jobs(name: str, capture: Callable[[], object], install: Callable[[object], object]) -> None:
    """Carry request state into job processes: ``capture()`` runs in the serving process when a job
    starts (in its request) and must return something picklable; the job process runs the callback
    inside ``install(value)`` (a context manager), e.g. login's ``viewing_as(principal)``. Register
    at import time of a module the app imports, so the job process registers it too."""
    _carriers[name] = (capture, install)


def exclusive(busy: Callable[[str], object]):
    """Mark a background callback's function with what to return when no job may start.

    ``busy(message)`` gets 「已有导出在进行中，请稍候」 (this viewer already has one running) or
    「当前导出任务较多，请稍候再试」 (the server is at its limit) and returns the callback's
    outputs. Put it under ``@callback(...)``; without it a refused call updates nothing.
    """

    def mark(fn):
        fn.cockpit_busy = busy
        return fn

    return mark


def intake_nice() -> int:
    """``$COCKPIT_INTAKE_NICE`` (0–19, default 10): the niceness an intake job runs at."""
    return min(19, _env_int("COCKPIT_INTAKE_NICE", DEFAULT_INTAKE_NICE, minimum=0))


def job_options(*, queue: str | None = None, nice: int | Callable[[], int] = 0,
                submit: Callable[[list], list] | None = None):
    """Mark a background callback's function (under ``@callback(...)``, like :func:`exclusive`):

    * ``queue``: the Celery queue its jobs go to (the production mode; default Celery's own);
    * ``nice``: the niceness the job runs at (an int, or a function read when the job starts);
    * ``submit(args) -> args``: runs in the submitting request, after the slot is reserved and
      before anything is queued or started; it may refuse (raise an ``HTTPException``: nothing
      runs, the slot is freed) or replace arguments (e.g. a file by a reference to where it was put).
    """

    def mark(fn):
        fn.cockpit_queue, fn.cockpit_nice, fn.cockpit_submit = queue, nice, submit
        return fn

    return mark


def lower_priority(nice: int) -> None:
    """Run this process (the calling thread and the threads it starts from now on, e.g. DuckDB's)
    at niceness ``nice`` or lower priority; a raise is never attempted."""
    if nice <= 0:
        return
    try:
        now = os.nice(0)
        if now < nice:
            os.nice(nice - now)
    except OSError:
        log.warning("无法降低后台任务的 CPU 优先级（nice %s）", nice)


def _prioritised(fn: Callable) -> Callable:
    """``fn`` run at its marked niceness (see :func:`job_options`)."""
    nice = getattr(fn, "cockpit_nice", 0)
    if not nice:
        return fn

    @functools.wraps(fn)
    def run(*args, **kwargs):
        lower_priority(nice() if callable(nice) else int(nice))
        return fn(*args, **kwargs)

    return run


def _submitted(job_fn, args):
    submit = getattr(job_fn, "cockpit_submit", None)
    return submit(list(args)) if submit is not None else args


# ------------------------------------------------------------------ the private directory


def jobs_dir() -> Path:
    """``$COCKPIT_JOBS_DIR``, else ``jobs/`` in the data directory (beside ``$COCKPIT_DB``)."""
    configured = os.environ.get("COCKPIT_JOBS_DIR", "").strip()
    path = Path(configured) if configured else db.pointer_path().parent / "jobs"
    return Path(os.path.abspath(path))


def _refuse(path: Path, why: str) -> JobsDirError:
    return JobsDirError(
        f"拒绝启动：后台任务目录 {path} {why}。该目录保存导出任务的中间结果（会被反序列化），"
        f"只能由运行驾驶舱的用户（uid {os.geteuid()}）私有（权限 0700）。请删除该目录由程序重新创建，"
        f"或用 COCKPIT_JOBS_DIR 指定另一个目录。")


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` with mode 0700, or check that the existing one is ours and private."""
    path = Path(os.path.abspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise _refuse(path, "是一个符号链接")
    if not stat.S_ISDIR(st.st_mode):
        raise _refuse(path, "不是目录")
    if st.st_uid != os.geteuid():
        raise _refuse(path, f"属于其他用户（uid {st.st_uid}）")
    if st.st_mode & 0o077:
        raise _refuse(path, f"的权限为 {stat.S_IMODE(st.st_mode):04o}，组用户或其他用户可以访问")
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                raise _refuse(path, f"中的 {entry.name} 属于其他用户")
    return path


@contextmanager
def _private_umask():
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _open_store(path: Path) -> diskcache.Cache:
    with _private_umask():
        # values stay inside the SQLite file (no loose value files); its -wal/-shm copy its mode
        cache = diskcache.Cache(str(path), disk_min_file_size=2**31 - 1)
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                os.chmod(entry.path, 0o600)
    return cache


# ------------------------------------------------------------------ the manager


class _Expiring:
    """The job store as a job process writes it: every value expires after ``ttl`` seconds."""

    def __init__(self, handle: diskcache.Cache, ttl: int):
        self._handle, self._ttl = handle, ttl

    def set(self, key, value, **kw):
        kw.setdefault("expire", self._ttl)
        return self._handle.set(key, value, **kw)

    def __getattr__(self, name):
        return getattr(self._handle, name)


def _env_int(name: str, default: int, minimum: int = 1) -> int:
    try:
        return max(minimum, int(os.environ.get(name, "") or default))
    except ValueError:
        return default


class JobManager(dash.DiskcacheManager):
    """Dash's diskcache manager with per-viewer and global limits, expiring results and a
    registry of the processes it started (the only ones it will ever terminate)."""

    def __init__(self, cache: diskcache.Cache, *, ttl: int = DEFAULT_TTL, max_running: int = DEFAULT_MAX_RUNNING,
                 per_viewer: int = 1, timeout: int = DEFAULT_TIMEOUT):
        # set before Dash's constructor, which builds the job functions registered so far
        self.ttl, self.max_running, self.per_viewer, self.timeout = ttl, max_running, per_viewer, timeout
        self._job_keys: dict[int, str] = {}  # id(job function) → Dash's key of its callback
        super().__init__(cache)
        self._children: dict[int, subprocess.Popen] = {}  # the job processes this process started
        self._children_lock = threading.Lock()
        self._reaper: threading.Thread | None = None
        self.handle.expire()  # results nobody collected before a restart

    # -- what Dash calls ------------------------------------------------------------

    def build_cache_key(self, fn, args, cache_args_to_ignore, triggered):
        # one key per call: equal arguments from two viewers must not share (or steal) a result
        return f"{super().build_cache_key(fn, args, cache_args_to_ignore, triggered)}-{secrets.token_hex(8)}"

    def make_job_fn(self, fn, progress, key=None):
        job_fn = _make_job_fn(_prioritised(fn), _Expiring(self.handle, self.ttl), progress)
        job_fn.cockpit_busy = getattr(fn, "cockpit_busy", None)
        job_fn.cockpit_submit = getattr(fn, "cockpit_submit", None)
        self._job_keys[id(job_fn)] = key
        return job_fn

    def call_job_fn(self, key, job_fn, args, context):
        viewer = viewer_key()
        token, refusal = self._reserve(viewer)
        if token is None:
            busy = getattr(job_fn, "cockpit_busy", None)
            value = busy(refusal) if busy else {"_dash_no_update": "_dash_no_update"}
            self.handle.set(key, value, expire=self.ttl)
            log.info("后台任务未启动（%s）：%s", viewer, refusal)
            return REFUSED_JOB
        try:
            args = _submitted(job_fn, args)
            payload = pickle.dumps({"callback": self._job_keys[id(job_fn)], "key": key,
                                    "progress_key": self._make_progress_key(key), "args": args,
                                    "context": dict(context),
                                    "carried": {name: capture() for name, (capture, _) in _carriers.items()}})
            proc = subprocess.Popen([sys.executable, "-c", _RUNNER], stdin=subprocess.PIPE, cwd=REPO,
                                    env=dict(os.environ), umask=0o077, close_fds=True)
            try:
                proc.stdin.write(payload)  # the runner reads it all before importing anything
                proc.stdin.close()
            except OSError:
                proc.kill()
                proc.wait()
                raise
        except BaseException:
            self._release(token=token)
            raise
        self._record(token, proc.pid, viewer)
        with self._children_lock:
            self._children[proc.pid] = proc
        self._start_reaper()
        return proc.pid

    def terminate_job(self, job):
        pid = self._ours(job)
        if pid is None:
            return  # not a process this manager started: never signal it
        self._kill(pid)
        self._release(pid=pid)
        self.reap()

    def terminate_unhealthy_job(self, job):
        pid = self._ours(job)
        if pid is not None and not self.job_running(pid):
            self.terminate_job(pid)
            return True
        return False

    def job_running(self, job):
        import psutil

        pid = self._ours(job)
        if pid is None:
            return False
        try:
            running = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            running = False
        if not running:
            self._release(pid=pid)
            self.reap()
        return running

    def get_or_create_signing_secret(self, generate):
        # never keep a secret beside the jobs: Dash signs with the Flask SECRET_KEY (web.hardening)
        raise NotImplementedError

    # -- the registry ---------------------------------------------------------------

    def running(self) -> dict[int, dict]:
        """The live jobs started by any worker: pid → {viewer, created, started}."""
        with self.handle.transact():
            return dict(self._prune(self._load())["jobs"])

    def _load(self) -> dict[str, Any]:
        reg = self.handle.get(_REGISTRY)
        return reg if isinstance(reg, dict) else {"jobs": {}, "pending": {}}

    def _save(self, reg: dict) -> None:
        self.handle.set(_REGISTRY, reg)

    def _prune(self, reg: dict) -> dict[str, Any]:
        import psutil

        now = time.time()
        jobs = {}
        for pid, entry in reg.get("jobs", {}).items():
            try:
                proc = psutil.Process(pid)
                alive = proc.create_time() == entry["created"] and proc.status() != psutil.STATUS_ZOMBIE
            except psutil.Error:
                alive = False
            if alive and now - entry["started"] > self.timeout:
                log.warning("后台任务 %s 运行超过 %s 秒，已终止", pid, self.timeout)
                self._kill(pid, entry["created"])
                alive = False
            if alive:
                jobs[pid] = entry
        pending = {t: e for t, e in reg.get("pending", {}).items() if now - e["started"] < _RESERVATION_TTL}
        return {"jobs": jobs, "pending": pending}

    def _reserve(self, viewer: str) -> tuple[str | None, str | None]:
        with self.handle.transact():
            reg = self._prune(self._load())
            holders = [e["viewer"] for e in (*reg["jobs"].values(), *reg["pending"].values())]
            if holders.count(viewer) >= self.per_viewer:
                self._save(reg)
                return None, BUSY_VIEWER
            if len(holders) >= self.max_running:
                self._save(reg)
                return None, BUSY_SERVER
            token = secrets.token_hex(8)
            reg["pending"][token] = {"viewer": viewer, "started": time.time()}
            self._save(reg)
        return token, None

    def _record(self, token: str, pid: int, viewer: str) -> None:
        import psutil

        try:
            created = psutil.Process(pid).create_time()
        except psutil.Error:  # already gone: nothing to record
            self._release(token=token)
            return
        with self.handle.transact():
            reg = self._load()
            reg.setdefault("pending", {}).pop(token, None)
            reg.setdefault("jobs", {})[pid] = {"viewer": viewer, "created": created, "started": time.time()}
            self._save(reg)

    def _release(self, *, token: str | None = None, pid: int | None = None) -> None:
        with self.handle.transact():
            reg = self._load()
            if token is not None:
                reg.setdefault("pending", {}).pop(token, None)
            if pid is not None:
                reg.setdefault("jobs", {}).pop(pid, None)
            self._save(reg)

    def _ours(self, job) -> int | None:
        """``job`` as a pid if this manager started that very process (same pid and start time)."""
        import psutil

        try:
            pid = int(str(job))
        except (TypeError, ValueError):
            return None
        if pid <= 0:
            return None
        entry = self._load().get("jobs", {}).get(pid)
        if entry is None:
            return None
        try:
            if psutil.Process(pid).create_time() != entry["created"]:
                return None
        except psutil.Error:
            self._release(pid=pid)
            return None
        return pid

    def _kill(self, pid: int, created: float | None = None) -> None:
        import psutil

        try:
            proc = psutil.Process(pid)
            if created is not None and proc.create_time() != created:
                return
            family = [*proc.children(recursive=True), proc]
        except psutil.Error:
            return
        for p in family:
            try:
                p.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(family, timeout=2)

    # -- reaping --------------------------------------------------------------------

    def reap(self) -> None:
        """Collect the exit status of this process's finished children (no zombies)."""
        with self._children_lock:
            for pid, proc in list(self._children.items()):
                if proc.poll() is not None:  # waitpid: a finished child is reaped here
                    del self._children[pid]

    def _start_reaper(self) -> None:
        with self._children_lock:
            if self._reaper is not None and self._reaper.is_alive():
                return
            self._reaper = threading.Thread(target=self._reap_loop, name="job-reaper", daemon=True)
            self._reaper.start()

    def _reap_loop(self) -> None:
        while True:
            time.sleep(0.5)
            self.reap()
            with self._children_lock:
                if not self._children:
                    self._reaper = None
                    return


# ------------------------------------------------------------------ the production mode: Celery

_CARRIED = "cockpit_carried"  # the context key of the sealed carried state
_REGISTRY_KEY = "cockpit:jobs"  # task id → {viewer, at}: the jobs queued or running, for every node
_UNFINISHED = frozenset({"PENDING", "RECEIVED", "STARTED", "RETRY", "PROGRESS"})
_NOT_FOR_THE_QUEUE = ("cookies", "headers")  # the session cookie must not sit in Redis


@functools.lru_cache(maxsize=1)
def _seal_key() -> bytes:
    from web.hardening import secret_key

    return hashlib.sha256(b"cockpit-jobs\0" + secret_key().encode("utf-8")).digest()


def _seal(value: object) -> str:
    blob = pickle.dumps(value)
    return hmac.new(_seal_key(), blob, hashlib.sha256).hexdigest() + ":" + base64.b64encode(blob).decode("ascii")


def _unseal(sealed: object) -> dict[str, Any]:
    """The carried state, if the SECRET_KEY signed it; else nothing (the job then runs for nobody)."""
    if not isinstance(sealed, str) or ":" not in sealed:
        return {}
    mac, _, encoded = sealed.partition(":")
    try:
        blob = base64.b64decode(encoded, validate=True)
    except ValueError:
        return {}
    if not hmac.compare_digest(mac, hmac.new(_seal_key(), blob, hashlib.sha256).hexdigest()):
        log.warning("后台任务携带的状态签名不符，已忽略")
        return {}
    value = pickle.loads(blob)  # signed by a holder of the SECRET_KEY: one of our serving processes
    return value if isinstance(value, dict) else {}


def _carrying(fn: Callable) -> Callable:
    """``fn`` run inside what the request carried (login: ``viewing_as(principal)``)."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        from dash._callback_context import context_value

        carried = _unseal(context_value.get().get(_CARRIED))
        with ExitStack() as stack:
            for name, value in carried.items():
                if name in _carriers:
                    stack.enter_context(_carriers[name][1](value))
            return fn(*args, **kwargs)

    return run


class CeleryJobManager(dash.CeleryManager):
    """Dash's Celery manager with per-viewer and global limits, a result key per call, and
    cancelling (revoke) only of the tasks its registry holds (see the module docstring)."""

    def __init__(self, celery_app, *, ttl: int = DEFAULT_TTL, max_running: int = DEFAULT_MAX_RUNNING,
                 per_viewer: int = 1, timeout: int = DEFAULT_TIMEOUT):
        self.ttl, self.max_running, self.per_viewer, self.timeout = ttl, max_running, per_viewer, timeout
        self._busy: dict[str, Callable | None] = {}  # task name → the callback's busy outputs
        self._options: dict[str, tuple[str | None, Callable | None]] = {}  # task name → (queue, submit)
        super().__init__(celery_app)

    @property
    def redis(self):
        return self.handle.backend.client

    # -- what Dash calls ------------------------------------------------------------

    def build_cache_key(self, fn, args, cache_args_to_ignore, triggered):
        # one key per call: equal arguments from two viewers must not share (or steal) a result
        return f"{super().build_cache_key(fn, args, cache_args_to_ignore, triggered)}-{secrets.token_hex(8)}"

    def make_job_fn(self, fn, progress, key=None):
        from dash.background_callback.managers.celery_manager import _make_job_fn as _celery_job_fn

        self._busy[f"background_callback_{key}"] = getattr(fn, "cockpit_busy", None)
        self._options[f"background_callback_{key}"] = (getattr(fn, "cockpit_queue", None),
                                                        getattr(fn, "cockpit_submit", None))
        return _celery_job_fn(_carrying(_prioritised(fn)), self.handle, progress, key)

    def call_job_fn(self, key, job_fn, args, context):
        from plotly.utils import PlotlyJSONEncoder

        viewer = viewer_key()
        task_id = str(uuid.uuid4())
        refusal = self._reserve(viewer, task_id)
        if refusal is not None:
            busy = self._busy.get(job_fn.name)
            value = busy(refusal) if busy else {"_dash_no_update": "_dash_no_update"}
            self.handle.backend.set(key, json.dumps(value, cls=PlotlyJSONEncoder))  # expires like any result
            log.info("后台任务未启动（%s）：%s", viewer, refusal)
            return REFUSED_JOB
        message = {k: v for k, v in dict(context).items() if k not in _NOT_FOR_THE_QUEUE}
        message[_CARRIED] = _seal({name: capture() for name, (capture, _) in _carriers.items()})
        queue, submit = self._options.get(job_fn.name, (None, None))
        try:
            if submit is not None:
                args = submit(list(args))
            routing = {"queue": queue} if queue else {}
            job_fn.apply_async(args=(key, self._make_progress_key(key), args, message), task_id=task_id, **routing)
        except BaseException:
            self._release(task_id)
            raise
        return task_id

    def get_result(self, key, job):
        # Dash's, without revoking the task it has just read (that would kill the worker's process
        # as the task returns); collecting the result frees the viewer's slot
        result = self.handle.backend.get(key)
        if result is None:
            return self.UNDEFINED
        self.clear_cache_entry(key)
        self.clear_cache_entry(self._make_progress_key(key))
        if job is not None:
            self._release(str(job))
        return json.loads(result)

    def terminate_job(self, job):
        task_id = self._ours(job)
        if task_id is None:
            return  # not a task this registry holds: never revoke it
        self.handle.control.revoke(task_id, terminate=True, signal="SIGTERM")
        self._release(task_id)

    def terminate_unhealthy_job(self, job):
        task_id = self._ours(job)
        if task_id is not None and self.get_task(task_id).state in ("FAILURE", "REVOKED"):
            self._release(task_id)
            return True
        return False

    def job_running(self, job):
        task_id = self._ours(job)
        if task_id is None:
            return False
        if self.get_task(task_id).state in _UNFINISHED:
            return True
        self._release(task_id)
        return False

    def get_or_create_signing_secret(self, generate):
        # never keep a secret beside the jobs: Dash signs with the Flask SECRET_KEY (web.hardening)
        raise NotImplementedError

    # -- the registry ---------------------------------------------------------------

    def running(self) -> dict[str, dict]:
        """The jobs queued or running, started by any process of any node: task id → {viewer, at}."""
        with self._locked():
            return self._live()

    @contextmanager
    def _locked(self):
        with self.redis.lock(f"{_REGISTRY_KEY}:lock", timeout=10, blocking_timeout=10):
            yield

    def _live(self) -> dict[str, dict]:
        now = time.time()
        live = {}
        for raw_id, raw in self.redis.hgetall(_REGISTRY_KEY).items():
            task_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            try:
                entry = json.loads(raw)
            except ValueError:
                entry = {}
            # a task waits in the queue, then runs at most `timeout`: older entries are lost tasks
            fresh = now - float(entry.get("at", 0)) < 2 * self.timeout
            if fresh and self.get_task(task_id).state in _UNFINISHED:
                live[task_id] = entry
            else:
                self.redis.hdel(_REGISTRY_KEY, task_id)
        return live

    def _reserve(self, viewer: str, task_id: str) -> str | None:
        """None and the slot is ``task_id``'s, or why no job may start."""
        with self._locked():
            holders = [e.get("viewer") for e in self._live().values()]
            if holders.count(viewer) >= self.per_viewer:
                return BUSY_VIEWER
            if len(holders) >= self.max_running:
                return BUSY_SERVER
            self.redis.hset(_REGISTRY_KEY, task_id, json.dumps({"viewer": viewer, "at": time.time()}))
        return None

    def _release(self, task_id: str) -> None:
        self.redis.hdel(_REGISTRY_KEY, task_id)

    def _ours(self, job) -> str | None:
        task_id = str(job) if job is not None else ""
        if not task_id or task_id == REFUSED_JOB or not self.redis.hexists(_REGISTRY_KEY, task_id):
            return None
        return task_id


def create_job_manager(path: Path | None = None) -> JobManager | CeleryJobManager:
    """The app's background-callback manager: on Celery when ``$COCKPIT_REDIS_URL`` is set, else
    over the private job directory (see the module)."""
    from web.celery_app import celery_app

    if celery_app is not None and path is None:
        return CeleryJobManager(celery_app, ttl=_env_int("COCKPIT_JOB_TTL", DEFAULT_TTL),
                                max_running=_env_int("COCKPIT_JOBS_MAX", DEFAULT_MAX_RUNNING),
                                timeout=_env_int("COCKPIT_JOB_TIMEOUT", DEFAULT_TIMEOUT))
    directory = ensure_private_dir(path or jobs_dir())
    return JobManager(_open_store(directory), ttl=_env_int("COCKPIT_JOB_TTL", DEFAULT_TTL),
                      max_running=_env_int("COCKPIT_JOBS_MAX", DEFAULT_MAX_RUNNING),
                      timeout=_env_int("COCKPIT_JOB_TIMEOUT", DEFAULT_TIMEOUT))


def run_job_from_stdin() -> None:
    """The job process (see the module docstring): read the job, import the app, run the callback."""
    os.umask(0o077)
    job = pickle.loads(sys.stdin.buffer.read())  # from the serving process, through the pipe
    sys.stdin.close()
    import app  # the same pages, callbacks and job store as the serving process

    manager = app.app._background_manager
    job_fn = manager.func_registry[job["callback"]]
    with ExitStack() as stack:
        for name, value in job.get("carried", {}).items():
            if name in _carriers:
                stack.enter_context(_carriers[name][1](value))
        job_fn(job["key"], job["progress_key"], job["args"], job["context"])
