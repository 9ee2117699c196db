"""Start, watch and stop the server under test.

The default is today's serving, ``gunicorn app:server`` (``gunicorn.conf.py``) with
``COCKPIT_BIND`` and ``COCKPIT_WORKERS`` set; any other command (``bash scripts/serve.sh`` when it
lands) is started the same way, in its own process group, with the run's environment, and
``--stop-cmd`` runs after it for daemons that outlive their starter. The RSS of every process of
the server is sampled with psutil: the started command's process tree, plus every process whose
command line matches ``--rss-match`` (for daemons that are not its children: nginx, Redis, Celery).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.load.dataset import REPO, BenchError, make_run_copy

# the interpreter's own gunicorn (a pyenv shim would add a wrapper process to the tree)
GUNICORN = f"{sys.executable} -m gunicorn app:server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A started server command (or none: ``command`` empty for a server started elsewhere)."""

    base: str
    command: str
    env: dict
    log_path: Path
    stop_command: str = ""
    # where /healthz is asked (default: base). Behind nginx, its upstream keep-alive sends every
    # ask down one kept connection, to one worker: the production mode's benches ask each node's
    # gunicorn directly, on a new connection each time, so that every worker gets asked
    health_urls: tuple[str, ...] = ()
    proc: subprocess.Popen | None = None
    _log: object = None
    _asked: int = 0

    def start(self) -> None:
        if not self.command:
            return
        self._log = open(self.log_path, "ab")
        # its own session: stopping it signals its process group (nothing else on the machine)
        self.proc = subprocess.Popen(self.command, shell=True, cwd=REPO, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if self.stop_command:
            subprocess.run(self.stop_command, shell=True, cwd=REPO, env=self.env,
                           stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=120)
        if self._log is not None:
            self._log.close()
            self._log = None

    def healthz(self, timeout: float = 5) -> dict | None:
        urls = self.health_urls or (self.base,)
        self._asked += 1
        try:
            with urllib.request.urlopen(urls[self._asked % len(urls)] + "/healthz", timeout=timeout) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    def wait_warm(self, processes: int, timeout: float, log=print, as_of: str | None = None) -> dict[int, dict]:
        """Wait until ``processes`` distinct serving processes report a finished warm-up (``/healthz``).

        With ``as_of`` (after a publish): of the version whose last month that is. ``/healthz`` resets
        the warm-up state at the switch, so "done" with the new month means the new warm-up ran (it
        takes about 2 s, shorter than a poll could be sure to see it running)."""
        seen: dict[int, dict] = {}
        deadline = time.time() + timeout
        last_note = 0.0
        while time.time() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise BenchError(f"服务进程已退出（{self.proc.returncode}），见 {self.log_path}")
            doc = self.healthz()
            if doc and doc.get("pid") is not None:
                pid = doc["pid"]
                seen[pid] = doc
                done = [p for p, d in seen.items() if (d.get("warm") or {}).get("done")
                        and (as_of is None or d.get("as_of") == as_of)]
                if len(done) >= processes:
                    return seen
                if time.time() - last_note > 15:
                    months = ", ".join(f"{p}:{(d.get('warm') or {}).get('months')}" for p, d in seen.items())
                    log(f"  等待预热：{len(done)}/{processes} 个进程完成（各进程已预热月数 {months}）")
                    last_note = time.time()
            time.sleep(0.3)
        raise BenchError(f"服务在 {timeout:.0f} 秒内未完成预热（{len(seen)} 个进程应答），见 {self.log_path}")

    def versions(self, processes: int, tries: int = 60) -> dict[int, dict]:
        """What each serving process reports (``/healthz``), asked until ``processes`` have answered."""
        seen: dict[int, dict] = {}
        for _ in range(tries):
            doc = self.healthz()
            if doc and doc.get("pid") is not None:
                seen[doc["pid"]] = doc
            if len(seen) >= processes:
                break
            time.sleep(0.05)
        return seen


SHELLS = ("sh", "bash", "dash", "flock")


def _names(p: psutil.Process) -> tuple[str, str]:
    try:
        return p.name(), " ".join(p.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return "?", ""


def _roles(root: psutil.Process) -> dict[int, tuple[psutil.Process, str]]:
    """Each process of the started command's tree with its role: the topmost gunicorn is the master,
    its children the workers, and everything below a worker (the 简报 export's forked job, the
    Chromium it renders charts with, the tools those start) an export job or Chromium."""
    out: dict[int, tuple[psutil.Process, str]] = {}

    def walk(p: psutil.Process, depth_below_master: int | None) -> None:
        name, cmd = _names(p)
        if name in SHELLS:
            role = "shell"  # the wrapper that started the command: not a server process
        elif depth_below_master is None and "gunicorn" in cmd:
            role, depth_below_master = "gunicorn master", 0
        elif depth_below_master == 1:
            role = "gunicorn worker"
        elif depth_below_master is not None and depth_below_master >= 2:
            role = "chromium (export charts)" if "chrom" in name else "export job"
        else:
            role = _daemon_role(name, cmd)
        out[p.pid] = (p, role)
        try:
            kids = p.children()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return
        for kid in kids:
            walk(kid, None if depth_below_master is None else depth_below_master + 1)

    walk(root, None)
    return out


def _daemon_role(name: str, cmd: str) -> str:
    for key in ("nginx", "redis", "celery", "postgres", "gunicorn"):
        if key in cmd:
            return key
    return name


@dataclass
class RssSampler:
    """Every ``interval`` seconds, the RSS of each process of the server (and of any extra pid)."""

    root_pid: int | None
    match: str = ""
    interval: float = 1.0
    extra: dict = field(default_factory=dict)  # label → pid (the publish CLI while it runs)
    rows: list = field(default_factory=list)  # (t, pid, role, rss_bytes)
    cpu: list = field(default_factory=list)  # (t, pid, role, cpu seconds so far: user + system)
    machine: list = field(default_factory=list)  # (t, busy cpu seconds of the whole machine so far)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _processes(self) -> list[tuple[psutil.Process, str]]:
        found: dict[int, tuple[psutil.Process, str]] = {}
        if self.root_pid is not None:
            try:
                found.update(_roles(psutil.Process(self.root_pid)))
            except psutil.NoSuchProcess:
                pass
        if self.match:
            pattern = re.compile(self.match)
            for p in psutil.process_iter(["name", "cmdline"]):
                cmd = " ".join(p.info["cmdline"] or [])
                if p.pid not in found and p.pid != os.getpid() and pattern.search(cmd):
                    found[p.pid] = (p, _daemon_role(p.info["name"] or "", cmd))
        for label, pid in list(self.extra.items()):
            try:
                proc = psutil.Process(pid)
                for p in [proc, *proc.children(recursive=True)]:
                    found[p.pid] = (p, label)
            except psutil.NoSuchProcess:
                pass
        return list(found.values())

    def _loop(self) -> None:
        while not self._stop.is_set():
            t = time.time()
            for p, role in self._processes():
                if role == "shell":
                    continue
                try:
                    with p.oneshot():
                        rss, times = p.memory_info().rss, p.cpu_times()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                self.rows.append((t, p.pid, role, rss))
                self.cpu.append((t, p.pid, role, times.user + times.system))
            total = psutil.cpu_times()
            self.machine.append((t, sum(total) - total.idle - getattr(total, "iowait", 0.0)))
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def serve_mode(scale: int, out_dir: Path, nodes: int = 2, workers: int = 1,
               label: str = "bench") -> tuple[str, dict, Path, str, tuple[str, ...]]:
    """A private ``scripts/serve.sh`` deployment (its own run directory, free ports, node 1 seeded
    with a copy of the shared demo, the others replicating it; Redis, PostgreSQL, the Celery
    workers and nginx as in production): (nginx URL, node 1's environment, its pointer, stop command,
    the nodes' own URLs)."""
    run_dir = out_dir / "serve"
    node1 = run_dir / "node1"
    make_run_copy(scale, node1)  # node 1 starts from the shared demo; the others copy it (data.replicate)
    (node1 / "cockpit.ops.sqlite").unlink(missing_ok=True)  # the production mode's store is PostgreSQL
    pg_dir = Path(tempfile.mkdtemp(prefix=f"cockpit-{label}-pg-", dir="/tmp"))
    os.chmod(pg_dir, 0o711)  # the cluster runs as the postgres user when we are root
    ports = [free_port() for _ in range(3 + nodes)]
    conf = out_dir / "serve.conf"
    conf.write_text("\n".join([
        f"RUN_DIR={run_dir}", f"NGINX_PORT={ports[0]}", f"REDIS_PORT={ports[1]}", f"PG_PORT={ports[2]}",
        f"PG_DIR={pg_dir}", f"NODES={nodes}", 'NODE_PORTS="{}"'.format(" ".join(map(str, ports[3:]))),
        f"GUNICORN_WORKERS={workers}", "CELERY_WORKERS=1", "DEMO_ARGS=",
    ]) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env["COCKPIT_SERVE_CONF"] = str(conf)
    stop = f"COCKPIT_SERVE_CONF={conf} bash scripts/serve.sh stop; rm -rf {pg_dir}"
    with open(out_dir / "serve.log", "ab") as log:
        done = subprocess.run(["bash", "scripts/serve.sh", "start"], cwd=REPO, env=env, stdout=log,
                              stderr=subprocess.STDOUT, timeout=1800)
    if done.returncode != 0:
        subprocess.run(stop, shell=True, cwd=REPO, env=env, timeout=300)
        raise BenchError(f"serve.sh start 失败，见 {out_dir / 'serve.log'}")
    out = subprocess.run(["bash", "-c", 'eval "$(bash scripts/serve.sh env 1)" && env -0'], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True).stdout
    node_env = dict(item.split("=", 1) for item in out.split("\0") if item.startswith("COCKPIT_"))
    node_env.pop("COCKPIT_SERVE_CONF", None)
    nodes_urls = tuple(f"http://127.0.0.1:{port}" for port in ports[3:])
    return f"http://127.0.0.1:{ports[0]}", node_env, Path(node_env["COCKPIT_DB"]), stop, nodes_urls
