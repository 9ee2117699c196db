"""Record what the Dash renderer really sends for each interaction of the session mix.

For each account, Chromium logs in and opens each interaction's URL; the DevTools network log
gives every callback POST (its exact JSON body) and every data GET (map boundaries) the page
made once loaded, with when each was sent and finished. Requests that were in flight together
form a *wave* (the renderer sends them at once); a later wave waits for the one before (its
inputs came from those answers). The load test replays the waves: the bodies stay right because
they come from the served app's own layout and dependencies, not from hand-written copies.

What is not replayed: the page's static files (``/assets/``, ``/_dash-component-suites/``) and
``/_dash-layout`` / ``/_dash-dependencies``, which a browser fetches once per visit and not per
in-app navigation (the load test's users fetch them once, when they open the cockpit). A
navigation within the same page (drill, KPI switch) changes only the URL's query in the app, so
the header's callback (``shell-user``, which follows the path) is left out of those. The DevTools
log lists a GET served from the browser's cache too (the map boundaries are cacheable for a day):
the load test's users fetch each such URL once, as their browser would.

Recorded this way, a drill or KPI switch is the navigation to its URL: in the app a click first
posts the small callback that writes the URL (``shell-url.search``), then the same requests follow.

The 简报 export is recorded by clicking 导出 on ``/briefing``: the background callback's first
POST and the body it polls with until the file arrives.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bench.load.browser import chromium, network_events, sign_in
from bench.load.dataset import BenchError

CALLBACK = "/_dash-update-component"
NOT_REPLAYED = ("/assets/", "/_dash-component-suites/", "/_dash-layout", "/_dash-dependencies", "/_favicon.ico",
                "/favicon.ico", "/login")
HEADER_CALLBACK = "shell-user.children"
KPI_SWITCHES = ("on_time_rate", "budget_execution_rate", "hotline_on_time_rate")
PAGES = ("services", "spending", "projects", "forecast")


def plan(accounts: dict, children: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    """Per account, each interaction's URLs (a few variants of drill and KPI switch, so that the
    server's caches see the spread of real use rather than one URL)."""
    out = {}
    for key, acct in accounts.items():
        kids = children.get(acct["region"], [])
        drills = [kids[i] for i in sorted({0, len(kids) // 2, len(kids) - 1})] if kids else []
        out[key] = {
            "overview": ["/"],
            "drill": [f"/?region={c}" for c in drills],
            "kpi_switch": [f"/?kpi={k}" for k in KPI_SWITCHES],
            **{page: [f"/{page}"] for page in PAGES},
        }
        if not out[key]["drill"]:  # a county has nothing below it
            del out[key]["drill"]
    return out


def _output_name(body: dict) -> str:
    outputs = body.get("outputs")
    first = outputs[0] if isinstance(outputs, list) else outputs
    ident = first["id"] if isinstance(first["id"], str) else json.dumps(first["id"], sort_keys=True)
    return f"{ident}.{first['property'].split('@', 1)[0]}"


def _requests(driver, events: list[dict], base: str) -> list[dict]:
    """The app's own requests in ``events`` (sent, finished, status, body), in the order sent."""
    found: dict[str, dict] = {}
    for m in events:
        p = m["params"]
        rid = p.get("requestId")
        if m["method"] == "Network.requestWillBeSent":
            r = p["request"]
            if not r["url"].startswith(base + "/"):
                continue
            found[rid] = {"id": rid, "method": r["method"], "url": r["url"][len(base):], "sent": p["timestamp"],
                          "body": r.get("postData"), "has_body": r.get("hasPostData", False)}
        elif rid in found and m["method"] == "Network.responseReceived":
            found[rid]["status"] = p["response"]["status"]
        elif rid in found and m["method"] in ("Network.loadingFinished", "Network.loadingFailed"):
            found[rid]["done"] = p["timestamp"]
            found[rid]["failed"] = m["method"] == "Network.loadingFailed"
    out = []
    for r in sorted(found.values(), key=lambda r: r["sent"]):
        if r["body"] is None and r["has_body"]:
            r["body"] = driver.execute_cdp_cmd("Network.getRequestPostData", {"requestId": r["id"]})["postData"]
        out.append(r)
    return out


def _wait_quiet(driver, base: str, quiet: float = 1.0, timeout: float = 120) -> list[dict]:
    """Network events until the page has loaded and no request of the app has been open for ``quiet`` s."""
    events: list[dict] = []
    open_ids: set[str] = set()
    last = time.time()
    deadline = time.time() + timeout
    while time.time() < deadline:
        new = network_events(driver)
        for m in new:
            p = m["params"]
            if m["method"] == "Network.requestWillBeSent" and p["request"]["url"].startswith(base + "/"):
                open_ids.add(p["requestId"])
            elif m["method"] in ("Network.loadingFinished", "Network.loadingFailed"):
                open_ids.discard(p["requestId"])
        if new:
            events += new
            last = time.time()
        if not open_ids and time.time() - last >= quiet and \
                driver.execute_script("return document.readyState") == "complete":
            return events
        time.sleep(0.1)
    raise BenchError(f"页面在 {timeout:.0f} 秒内未完成加载：{driver.current_url}")


def _waves(requests: list[dict]) -> list[list[dict]]:
    """Requests sent before any request of the current wave had finished join it; others start the next."""
    waves: list[list[dict]] = []
    first_done = None
    for r in requests:
        if waves and first_done is not None and r["sent"] < first_done:
            waves[-1].append(r)
            first_done = min(first_done, r.get("done", first_done))
        else:
            waves.append([r])
            first_done = r.get("done", float("inf"))
    return waves


def _replayable(r: dict, page_path: str) -> bool:
    path = urlsplit(r["url"]).path
    if r["method"] == "POST":
        return path == CALLBACK
    return r["method"] == "GET" and not path.startswith(NOT_REPLAYED) and r["url"] != page_path


def _step(r: dict) -> dict:
    if r["method"] == "POST":
        body = json.loads(r["body"])
        return {"method": "POST", "path": CALLBACK, "body": body, "name": "cb " + _output_name(body)}
    return {"method": "GET", "path": r["url"], "name": "GET " + urlsplit(r["url"]).path.split("/")[1]}


def record_navigation(driver, base: str, url: str, *, in_page: bool) -> dict:
    """The replayable waves of opening ``url`` (``in_page``: a change of query on the same page)."""
    network_events(driver)  # drop what came before
    driver.get(base + url)
    requests = _requests(driver, _wait_quiet(driver, base), base)
    bad = [r for r in requests if r.get("failed") or r.get("status", 200) >= 400]
    if bad:
        raise BenchError(f"录制 {url} 时请求失败：" + "; ".join(f"{r['method']} {r['url'][:80]} → {r.get('status')}"
                                                              for r in bad))
    keep = [r for r in requests if _replayable(r, url)]
    if in_page:
        keep = [r for r in keep if not (r["method"] == "POST" and HEADER_CALLBACK in (r["body"] or ""))]
    waves = [[_step(r) for r in wave] for wave in _waves(keep)]
    if not any(s["method"] == "POST" for w in waves for s in w):
        raise BenchError(f"录制 {url} 时没有看到任何回调请求")
    return {"url": url, "waves": waves}


def record_export(driver, base: str, timeout: float = 300) -> dict:
    """Click 导出 on the open /briefing page; the first POST and the polling body of the background callback."""
    network_events(driver)
    driver.find_element(By.ID, "briefing-export").click()
    WebDriverWait(driver, timeout, poll_frequency=0.5).until(
        lambda d: d.find_element(By.ID, "briefing-status").text.startswith(("已生成", "导出失败", "已有导出")))
    status = driver.find_element(By.ID, "briefing-status").text
    if not status.startswith("已生成"):
        raise BenchError(f"录制简报导出失败：{status}")
    posts = [r for r in _requests(driver, network_events(driver), base)
             if r["method"] == "POST" and urlsplit(r["url"]).path == CALLBACK and "briefing-download" in r["body"]]
    first = next(r for r in posts if "cacheKey=" not in r["url"])
    poll = next(r for r in posts if "cacheKey=" in r["url"])
    return {"click": json.loads(first["body"]), "poll": json.loads(poll["body"]), "recorded_status": status}


def record_all(base: str, accounts: dict, children: dict[str, list[str]], *, export_as: str = "province",
               log=print) -> dict:
    """Every account's interactions, and the export (as ``export_as``)."""
    recorded: dict = {"roles": {}, "export": None}
    for key, urls in plan(accounts, children).items():
        acct = accounts[key]
        t0 = time.time()
        driver = chromium()
        try:
            sign_in(driver, base, acct["username"], acct["password"], next_path="/")
            _wait_quiet(driver, base)
            interactions = {}
            for kind, variants in urls.items():
                interactions[kind] = [record_navigation(driver, base, u, in_page=kind in ("drill", "kpi_switch"))
                                      for u in variants]
            if key == export_as:
                interactions["briefing"] = [record_navigation(driver, base, "/briefing", in_page=False)]
                recorded["export"] = record_export(driver, base)
            recorded["roles"][key] = interactions
        finally:
            driver.quit()
        n = sum(len(v) for v in interactions.values())
        log(f"  录制 {acct['username']}：{n} 个交互，{time.time() - t0:.0f} 秒")
    return recorded
