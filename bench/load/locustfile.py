"""The cockpit's session mix for locust (run by ``bench/load_test.py``; it can also be run by hand).

    COCKPIT_LOAD_SCENARIO=run/scenario.json COCKPIT_LOAD_LOG=run/requests.tsv \\
        locust -f bench/load/locustfile.py --headless -u 53 -r 5 -t 300s --host http://127.0.0.1:8050 \\
        CockpitUser WallUser ExportUser

The scenario (written by the runner) holds the accounts, the wall's device token and the callback
bodies recorded from the served app in Chromium (``bench/load/record.py``), as *waves*: the
requests of a wave are sent at once, as the Dash renderer sends them, and the next wave waits.

* ``CockpitUser``: a province, city or county leader or an analyst (a fixed mix). Logs in through
  ``/login``, opens the cockpit (the page, ``/_dash-layout``, ``/_dash-dependencies``) and sees the
  overview; then, with a think time between clicks: overview, drill into a city (a county for a
  city leader), KPI switch, 政务服务, 资金, 项目, 预测.
* ``WallUser``: a wall display: exchanges the device token at ``/screen?device=``, then asks
  ``/api/screen`` for the next playlist item every dwell seconds (and each map's boundaries once,
  as its browser cache would).
* ``ExportUser``: one province leader who exports the 简报 (PDF) once a minute: the background
  callback's POST, then a poll every second (the renderer's interval) until the file arrives.

Each user action is reported as a request of type ``interaction`` (the wall time from the first
request sent to the last answer received); every request is also reported on its own. A GET of a
file the browser caches (map boundaries) is made once per user. A kept-alive connection that the
server closed while idle is retried once, as a browser does, and that attempt is logged apart
(``closed keep-alive connection (retried)``), not as an error of the action. Every
event is appended to ``$COCKPIT_LOAD_LOG`` (tab-separated: start epoch, type, name, ms, ok, error)
for the runner's before / during / after split. ``COCKPIT_LOAD_THINK="0 0"`` makes a capacity
run (no think time).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time

import gevent
from geventhttpclient.response import HTTPConnectionClosed
from locust import FastHttpUser, between, constant, constant_pacing, events, task

SCENARIO = json.loads(open(os.environ["COCKPIT_LOAD_SCENARIO"], encoding="utf-8").read())
THINK = tuple(float(x) for x in os.environ.get("COCKPIT_LOAD_THINK", "3 10").split())
LOG_PATH = os.environ.get("COCKPIT_LOAD_LOG")
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
# the session mix (relative weights of each click; a county leader, with nothing to drill into, opens
# the overview instead) and the viewers: 4 in 10 province leaders, 2 city leaders, 2 county leaders, 2 analysts
WEIGHTS = {"overview": 4, "drill": 3, "kpi_switch": 3, "services": 2, "spending": 2, "projects": 2, "forecast": 1}
ROLE_CYCLE = ("province", "city", "analyst", "province", "county", "province", "city", "analyst", "county", "province")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_DASH_CONFIG = re.compile(r'<script id="_dash-config" type="application/json">(.*?)</script>', re.S)
_SCREEN_CONFIG = re.compile(r'<script id="screen-config" type="application/json">(.*?)</script>', re.S)
_log = open(LOG_PATH, "a", buffering=1, encoding="utf-8") if LOG_PATH else None
CLOSED = (HTTPConnectionClosed, ConnectionResetError, BrokenPipeError)
RETRIED = "closed keep-alive connection (retried)"


@events.request.add_listener
def _append(request_type, name, response_time, response_length, exception=None, start_time=None, **_kw):
    if _log is None:
        return
    error = "" if exception is None else " ".join(str(exception).split())[:300]
    start = start_time if start_time is not None else time.time() - response_time / 1000
    _log.write(f"{start:.3f}\t{request_type}\t{name}\t{response_time:.1f}\t{int(exception is None)}\t{error}\n")


class Failed(Exception):
    """One request of an interaction failed (its status, or an error shown on the page)."""


def _interaction(user, name: str, steps) -> bool:
    """Run ``steps()`` as one user action; report it as an ``interaction`` event; whether it succeeded."""
    t0 = time.time()
    error = None
    size = 0
    try:
        size = steps() or 0
    except Failed as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 — a connection error is a failed action, not a crash of the user
        error = Failed(f"{type(exc).__name__}: {exc}")
    events.request.fire(request_type="interaction", name=name, response_time=(time.time() - t0) * 1000,
                        response_length=size, exception=error, start_time=t0, context={}, url=None,
                        response=None)
    return error is None


class _Viewer(FastHttpUser):
    abstract = True
    concurrency = 8  # the renderer sends a wave's callbacks at once
    end_id = ""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.fetched: set[str] = set()  # the GETs this user's browser has cached

    def login(self, account: dict) -> None:
        def steps():
            page = self.get("/login?next=/", "GET /login")
            found = _CSRF.search(page.text or "")
            if not found:
                raise Failed("登录页没有表单")
            form = {"csrf": found.group(1), "username": account["username"], "password": account["password"]}
            self._request("POST", "/login?next=/", "POST /login",
                          lambda r: None if r.status_code == 303 else f"登录失败 {r.status_code}",
                          data=form, allow_redirects=False)
            return 0

        _interaction(self, "login", steps)

    def open_cockpit(self, path: str = "/") -> None:
        """The page (for the renderer's config and its ``endId``), its layout and dependencies."""
        def steps():
            page = self.get(path, "GET page")
            found = _DASH_CONFIG.search(page.text or "")
            if not found:
                raise Failed("页面没有 Dash 配置")
            self.end_id = json.loads(found.group(1)).get("end_id", "")
            size = len(page.content or b"")
            for p in ("/_dash-layout", "/_dash-dependencies"):
                size += len(self.get(p, "GET " + p).content or b"")
            return size

        _interaction(self, "open cockpit", steps)

    def _request(self, method: str, path: str, name: str, problem, **kw):
        """One request; a failure when ``problem(resp)`` names one. A kept-alive connection the server
        closed before answering is retried once, as a browser does (it checks an idle socket before
        reuse; this client finds out on the answer): that first attempt is logged under its own name."""
        for attempt in (1, 2):
            with self.client.request(method, path, name=name, catch_response=True, **kw) as resp:
                if attempt == 1 and resp.status_code == 0 and isinstance(resp.error, CLOSED):
                    resp.request_meta["name"] = RETRIED
                    resp.failure(repr(resp.error))
                    continue
                why = problem(resp)
                if why:
                    resp.failure(why)
                    raise Failed(f"{name} → {why}")
                return resp
        raise AssertionError("unreachable")

    def callback(self, body: dict, name: str, query: str = ""):
        """One callback POST as the renderer sends it; a failure unless 200/204 without an error banner."""
        def problem(resp) -> str | None:
            if resp.status_code == 0:
                return f"0 {resp.error!r}"  # no answer (connection)
            if resp.status_code not in (200, 204):
                return f"{resp.status_code} {(resp.text or '')[:120]}"
            return "页面显示错误信息" if "error-banner" in (resp.text or "") else None

        return self._request("POST", "/_dash-update-component?endId=" + self.end_id + query, name, problem,
                             data=json.dumps(body), headers=JSON_HEADERS)

    def get(self, path: str, name: str):
        def problem(resp) -> str | None:
            if resp.status_code == 200:
                return None
            return f"0 {resp.error!r}" if resp.status_code == 0 else f"{resp.status_code} {(resp.text or '')[:120]}"

        return self._request("GET", path, name, problem)

    def replay(self, name: str, variant: dict) -> bool:
        def steps():
            size = 0
            for wave in variant["waves"]:
                jobs = [gevent.spawn(self._send, step) for step in wave]
                gevent.joinall(jobs)
                for job in jobs:
                    if job.exception is not None:
                        raise job.exception
                    size += job.value
            return size

        return _interaction(self, name, steps)

    def _send(self, step: dict) -> int:
        if step["method"] == "POST":
            resp = self.callback(step["body"], step["name"])
        elif step["path"] in self.fetched:  # map boundaries are cacheable for a day: the browser asks once
            return 0
        else:
            resp = self.get(step["path"], step["name"])
            self.fetched.add(step["path"])
        return len(resp.content or b"")


_roles = itertools.count()


class CockpitUser(_Viewer):
    """An official clicking through the cockpit."""

    wait_time = between(*THINK) if THINK[1] > 0 else constant(0)

    def on_start(self) -> None:
        self.role = ROLE_CYCLE[next(_roles) % len(ROLE_CYCLE)]
        self.plan = SCENARIO["recorded"]["roles"][self.role]
        self.login(SCENARIO["accounts"][self.role])
        self.open_cockpit()
        self.click("overview")

    def click(self, kind: str) -> None:
        variants = self.plan.get(kind) or self.plan["overview"]  # a county leader has nothing to drill into
        self.replay(kind if kind in self.plan else "overview", random.choice(variants))

    @task(WEIGHTS["overview"])
    def overview(self):
        self.click("overview")

    @task(WEIGHTS["drill"])
    def drill(self):
        self.click("drill")

    @task(WEIGHTS["kpi_switch"])
    def kpi_switch(self):
        self.click("kpi_switch")

    @task(WEIGHTS["services"])
    def services(self):
        self.click("services")

    @task(WEIGHTS["spending"])
    def spending(self):
        self.click("spending")

    @task(WEIGHTS["projects"])
    def projects(self):
        self.click("projects")

    @task(WEIGHTS["forecast"])
    def forecast(self):
        self.click("forecast")


class WallUser(_Viewer):
    """A wall display polling ``/api/screen``."""

    fixed_count = int(SCENARIO.get("walls", 0))
    wait_time = constant(0)  # the task sleeps the dwell itself

    def on_start(self) -> None:
        self.item = 0
        self.boundaries: set[str] = set()
        self.playlist: list[dict] = []
        self.dwell = 10.0

        def steps():
            page = self.get(f"/screen?device={SCENARIO['wall_token']}", "GET /screen?device=")
            found = _SCREEN_CONFIG.search(page.text or "")
            if not found:
                raise Failed("大屏页面无配置")
            cfg = json.loads(found.group(1))
            if cfg.get("error") or not cfg.get("playlist"):
                raise Failed(f"大屏配置错误：{cfg.get('error')}")
            self.playlist, self.dwell = cfg["playlist"], float(cfg.get("dwell") or 10)
            return len(page.content or b"")

        _interaction(self, "wall open", steps)

    @task
    def next_item(self):
        if not self.playlist:
            gevent.sleep(self.dwell)
            return
        item = self.playlist[self.item % len(self.playlist)]
        self.item += 1

        def steps():
            resp = self.get(f"/api/screen?region={item['region']}&kpi={item['kpi']}", "GET /api/screen")
            size = len(resp.content or b"")
            url = (resp.json().get("map") or {}).get("geojson_url")
            if url and url not in self.boundaries:  # the browser keeps boundaries for a day
                self.boundaries.add(url)
                size += len(self.get(url, "GET boundaries").content or b"")
            return size

        started = time.time()
        _interaction(self, "wall /api/screen", steps)
        gevent.sleep(max(0.0, self.dwell - (time.time() - started)))


class ExportUser(_Viewer):
    """A province leader who exports the 简报 once a minute."""

    fixed_count = 1
    wait_time = constant_pacing(float(SCENARIO.get("export_every", 60)))

    def on_start(self) -> None:
        self.login(SCENARIO["accounts"][SCENARIO.get("export_as", "province")])
        self.open_cockpit("/briefing")
        self.replay("briefing page", SCENARIO["recorded"]["roles"][SCENARIO.get("export_as", "province")]
                    ["briefing"][0])

    @task
    def export(self):
        spec = SCENARIO["recorded"]["export"]

        def steps():
            first = self.callback(spec["click"], "cb briefing export (start)")
            handles = first.json()
            if "cacheKey" not in handles or "job" not in handles:
                raise Failed(f"导出未启动：{(first.text or '')[:200]}")
            query = f"&cacheKey={handles['cacheKey']}&job={handles['job']}"
            deadline = time.time() + 600
            while time.time() < deadline:
                gevent.sleep(1.0)  # the renderer's polling interval (Dash's default 1000 ms)
                resp = self.callback(spec["poll"], "cb briefing export (poll)", query)
                doc = resp.json() if resp.status_code == 200 else {}
                if "response" in doc:
                    status = json.dumps(doc["response"], ensure_ascii=False)
                    if "已生成" not in status:
                        raise Failed(f"导出未完成：{status[:200]}")
                    return len(resp.content or b"")
            raise Failed("导出超过 600 秒")

        _interaction(self, "briefing export", steps)
