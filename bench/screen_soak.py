"""Soak the big screen: rotate /screen for a long time in headless Chromium and check that
the JS heap and the DOM stay flat.

    python bench/screen_soak.py --minutes 30 --dwell 1

Starts its own server (``python app.py``) on a free port against ``$COCKPIT_DB`` or a demo
database built in a temporary directory, opens the screen rotating through the province and
its cities × two panel sets, and reads the CDP ``Performance.getMetrics`` figures
(JSHeapUsedSize and Nodes, each after a forced ``HeapProfiler.collectGarbage``) after a
warm-up (``--warmup`` minutes, default 2: the first rotation fills Plotly's and MapLibre's
caches) and again at the end. Exits 1 when either grew by more than 20%.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--disable-sync",
                "--disable-quic", "--disable-default-apps", "--disable-extensions", "--lang=zh-CN",
                "--window-size=1920,1080"]
LIMIT = 1.20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, workdir: Path) -> tuple[subprocess.Popen, str, object]:
    port = free_port()
    env = {**os.environ, "COCKPIT_DB": str(db), "COCKPIT_PORT": str(port),
           "COCKPIT_CACHE_DIR": os.environ.get("COCKPIT_CACHE_DIR", str(workdir / "cache"))}
    log = open(workdir / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"服务未能启动：{(workdir / 'server.log').read_text()}")
        try:
            urllib.request.urlopen(base + "/screen", timeout=5)
            return proc, base, log
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("服务在 120 秒内未响应")


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def space(driver) -> None:
    """The operator's pause/resume key."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.SPACE)


def metrics(driver) -> dict:
    """JSHeapUsedSize and Nodes after two forced garbage collections, read while the rotation
    is paused for two seconds (so no draw is half done), then resumed."""
    space(driver)
    assert driver.execute_script("return window.screenState().paused"), "暂停键无效"
    time.sleep(2)
    values = _read(driver)
    space(driver)
    return values


def _read(driver) -> dict:
    for _ in range(2):
        driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    got = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    values = {m["name"]: m["value"] for m in got}
    return {k: values.get(k) for k in ("JSHeapUsedSize", "Nodes", "JSEventListeners", "Documents")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--dwell", type=float, default=1.0, help="seconds per screen")
    ap.add_argument("--refresh", type=float, default=10.0, help="seconds between re-queries")
    ap.add_argument("--warmup", type=float, default=2.0,
                    help="minutes of rotation before the start figures (caches and boundaries loaded)")
    ap.add_argument("--report", type=float, default=300.0, help="seconds between progress lines")
    ap.add_argument("--query", default="regions=cities&sets=services,spending",
                    help="the playlist part of the /screen query string")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="screen-soak-") as tmp:
        workdir = Path(tmp)
        if os.environ.get("COCKPIT_DB"):
            db = Path(os.environ["COCKPIT_DB"])
        else:
            from data.demo import build_demo

            db = workdir / "cockpit.duckdb"
            t = time.perf_counter()
            build_demo(db)
            print(f"demo database built in {time.perf_counter() - t:.1f} s")
        proc, base, log = start_server(db, workdir)
        driver = None
        try:
            driver = browser()
            driver.execute_cdp_cmd("Performance.enable", {})
            url = f"{base}/screen?{args.query}&dwell={args.dwell:g}&refresh={args.refresh:g}"
            driver.get(url)
            length = driver.execute_script("return window.screenState().length")
            # warm-up: one full rotation, so every screen's data and every map's boundaries are loaded
            deadline = time.time() + 300
            while time.time() < deadline:
                st = driver.execute_script("return window.screenState()")
                if st["renders"] >= length + 1 and st["fetches"] >= length:
                    break
                time.sleep(1)
            time.sleep(args.warmup * 60)
            start_state = driver.execute_script("return window.screenState()")
            start = metrics(driver)
            print(f"url: {url}")
            print(f"playlist: {length} screens, dwell {args.dwell:g} s, refresh {args.refresh:g} s, "
                  f"warm-up {args.warmup:g} min, soak {args.minutes:g} min")
            t0 = time.time()
            end_at = t0 + args.minutes * 60
            next_report = t0 + args.report
            while time.time() < end_at:
                time.sleep(min(5.0, max(0.0, end_at - time.time())))
                if time.time() >= next_report:
                    st = driver.execute_script("return window.screenState()")
                    m = metrics(driver)
                    print(f"  {(time.time() - t0) / 60:5.1f} min: heap {m['JSHeapUsedSize'] / 1e6:.2f} MB, "
                          f"nodes {m['Nodes']:.0f}, renders {st['renders']}, fetches {st['fetches']}, "
                          f"errors {st['errors']}", flush=True)
                    next_report += args.report
            end_state = driver.execute_script("return window.screenState()")
            end = metrics(driver)
        finally:
            if driver is not None:
                driver.quit()
            proc.terminate()
            proc.wait(timeout=15)
            log.close()

    renders = end_state["renders"] - start_state["renders"]
    print(f"screens shown during the soak: {renders} ({renders / (args.minutes * 60):.2f}/s), "
          f"fetches {end_state['fetches'] - start_state['fetches']}, client errors {end_state['errors']}, "
          f"offline at end: {end_state['offline']}")
    print(f"{'metric':<18}{'start':>14}{'end':>14}{'ratio':>8}")
    ok = True
    for key in ("JSHeapUsedSize", "Nodes", "JSEventListeners", "Documents"):
        a, b = start[key], end[key]
        ratio = b / a if a else float("nan")
        print(f"{key:<18}{a:>14,.0f}{b:>14,.0f}{ratio:>8.3f}")
        if key in ("JSHeapUsedSize", "Nodes") and not ratio <= LIMIT:
            ok = False
    print(f"flat within {LIMIT - 1:.0%}: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
