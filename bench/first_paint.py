"""First paint in Chromium (issue #13 §5): the overview and the wall, cold and on a second visit.

    python bench/first_paint.py                       # 1×, 5 runs, gunicorn with 2 workers
    python bench/first_paint.py --scale 10 --runs 3 --workers 1
    python bench/first_paint.py --serve                # the production mode: nginx + 2 nodes (scripts/serve.sh)

``--serve`` starts a private production mode (its own run directory, free ports, node 1 seeded
with a copy of the shared demo) through ``scripts/serve.sh``, measures through its nginx (the
precompressed, fingerprinted static files), and stops it afterwards.

What is measured, on a warmed server (every process reports its warm-up done on ``/healthz``,
then one uncounted visit of each page) over loopback, with Debian's headless Chromium at 1920×1080:

* **overview, cold**: a fresh browser profile (empty cache) logs in on the login form with
  ``next=/api/screen?…`` (a JSON answer that loads none of the page's files, so the cache stays
  empty), then navigates to ``/``. Timed from that navigation's start (``performance.timeOrigin``)
  until the first three charts are *drawn*, and until every chart of the page is.
* **overview, second visit**: the same profile (its HTTP cache and cookies) navigates away to the
  JSON answer and back to ``/``.
* **wall, cold**: a fresh profile opens ``/screen?device=TOKEN`` (the device token's exchange and
  its redirect included), until the first chart is drawn, and until every chart is.

*Drawn*: a ``.js-plotly-plot`` whose Plotly layout exists and whose ``.main-svg`` holds a trace
(``.trace``); a map chart (MapLibre) counts when its map reports ``loaded()`` with a fill layer on
its style; a card's sparkline (an SVG image drawn on the server, no Plotly chart) counts once it is
decoded. A script added before the page's own (DevTools ``Page.addScriptToEvaluateOnNewDocument``)
checks each animation frame and keeps the first time 1, 2, 3 … charts were drawn. "Every chart"
is the time the final count was reached once the page has settled (no new resource for 2 s).

*Bytes*: the navigation's and every resource's ``transferSize`` (Resource Timing: headers and the
compressed body over the wire; 0 for a file served from the cache), summed once the page has settled;
with it, the Plotly.js file(s) the page loaded (the partial ``plotly-cockpit.min.js``, or the full one).
Medians of ``--runs`` runs; one table.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.load.browser import chromium, sign_in  # noqa: E402
from bench.load.dataset import PROVINCE, BenchError, create_accounts, ensure_base, make_run_copy  # noqa: E402
from bench.load.server import GUNICORN, Server, free_port, serve_mode  # noqa: E402

# a logged-in page that loads no file of the cockpit's pages (JSON), to leave and to land on
NEUTRAL = f"/api/screen?region={PROVINCE}&kpi=online_handling_rate"

PROBE = """
(() => {
  try { performance.setResourceTimingBufferSize(5000); } catch (e) {}
  const fp = window.__firstPaint = {reached: [], charts: 0};
  function mapOf(g) {
    const m = g._fullLayout && g._fullLayout.map;
    return m && m._subplot && m._subplot.map;
  }
  function drawn(g) {
    if (!g._fullLayout || !g.querySelector('.main-svg')) return false;
    const map = mapOf(g);
    if (map) {
      try { return map.loaded() && map.getStyle().layers.some(l => l.type === 'fill'); } catch (e) { return false; }
    }
    return !!g.querySelector('.main-svg .trace');
  }
  function tick() {
    const graphs = document.querySelectorAll('.js-plotly-plot');
    const sparks = document.querySelectorAll('img.kpi-spark');  // the cards' sparklines: SVG images
    let n = 0;
    graphs.forEach(g => { if (drawn(g)) n += 1; });
    sparks.forEach(i => { if (i.complete && i.naturalWidth > 0) n += 1; });
    const t = performance.now();
    while (fp.reached.length < n) fp.reached.push(t);  // reached[k-1]: when k charts were first drawn
    fp.charts = graphs.length + sparks.length;
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
})();
"""

SETTLED = """
const fp = window.__firstPaint || {reached: [], charts: 0};
const res = performance.getEntriesByType('resource');
const nav = performance.getEntriesByType('navigation')[0];
const bytes = res.reduce((s, r) => s + (r.transferSize || 0), nav ? nav.transferSize || 0 : 0);
const slowest = res.map(r => ({url: r.name.replace(location.origin, ''), start: Math.round(r.startTime),
                                end: Math.round(r.responseEnd), bytes: r.transferSize}))
                  .sort((a, b) => (b.end - b.start) - (a.end - a.start)).slice(0, 8);
// static files that went to the server (transferSize > 0): a download, or a 304 revalidation round-trip
const asked = res.map(r => [r.transferSize, new URL(r.name).pathname])
                 .filter(([size, path]) => size > 0 && /^\\/(assets|_dash-component-suites|screen)\\//.test(path))
                 .map(([size, path]) => path);
// which Plotly.js the page loaded (the partial bundle, or the full plotly.min.js), from the server or the cache
const plotly = [...new Set(res.map(r => new URL(r.name).pathname.split('/').pop())
                              .filter(name => /^plotly(?!-locale)[^/]*\.js$/.test(name)))];
return {reached: fp.reached, charts: fp.charts, resources: res.length, bytes: bytes, static_asked: asked,
        plotly: plotly, ready: document.readyState, slowest: slowest,
        dcl: nav ? Math.round(nav.domContentLoadedEventEnd) : null, load: nav ? Math.round(nav.loadEventEnd) : null};
"""


# the renderer's main thread (DevTools Performance.getMetrics, seconds): TaskDuration is the wall time of
# its tasks, ThreadTime its CPU time; busy far above CPU means the thread waited for a core
METRICS = ("TaskDuration", "ThreadTime", "ScriptDuration", "V8CompileDuration")


def _metrics(driver) -> dict:
    return {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}


def measure(driver, url: str, base: str, timeout: float = 90, quiet: float = 2.0) -> dict:
    """Navigate to ``url`` and wait until it has settled; the chart times (ms), the bytes, the main thread."""
    before = _metrics(driver)
    driver.get(base + url)
    deadline = time.time() + timeout
    last_change, key, doc = time.time(), None, {"reached": []}
    while time.time() < deadline:
        doc = driver.execute_script(SETTLED)
        now = (len(doc["reached"]), doc["resources"], doc["charts"])
        if now != key:
            key, last_change = now, time.time()
        elif doc["ready"] == "complete" and doc["reached"] and time.time() - last_change >= quiet:
            after = _metrics(driver)  # a navigation to a new renderer process starts its counters at 0
            doc["main_thread"] = {k: after.get(k, 0) - (before.get(k, 0) if after.get(k, 0) >= before.get(k, 0)
                                                           else 0) for k in METRICS}
            return doc
        time.sleep(0.2)
    raise BenchError(f"{url} 在 {timeout:.0f} 秒内未画完图表（已画 {len(doc['reached'])} 个）")


def _fresh(profile_root: Path) -> tuple:
    profile = tempfile.mkdtemp(prefix="profile-", dir=profile_root)
    driver = chromium(profile)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
    driver.execute_cdp_cmd("Performance.enable", {})
    return driver, profile


def one_run(base: str, account: dict, token: str, profile_root: Path) -> dict:
    """One cold overview, its second visit, and one cold wall; each in a fresh profile where it says so."""
    out = {}
    driver, profile = _fresh(profile_root)
    try:
        sign_in(driver, base, account["username"], account["password"], next_path=NEUTRAL)
        out["overview_cold"] = measure(driver, "/", base)
        driver.get(base + NEUTRAL)
        out["overview_second"] = measure(driver, "/", base)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    driver, profile = _fresh(profile_root)
    try:
        out["wall_cold"] = measure(driver, f"/screen?device={quote(token)}", base)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return out


def _s(values: list[float]) -> str:
    return f"{statistics.median(values) / 1000:.2f} s", f"{min(values) / 1000:.2f}–{max(values) / 1000:.2f} s"


def _mb(values: list[float]) -> tuple[str, str]:
    return f"{statistics.median(values) / 2**20:.2f} MB", f"{min(values) / 2**20:.2f}–{max(values) / 2**20:.2f} MB"


def table(runs: list[dict]) -> str:
    rows = []
    specs = (("overview_cold", "overview, cold profile", 3, "≤ 1.2 s"),
             ("overview_second", "overview, second visit (same profile)", 3, "≤ 0.6 s"),
             ("wall_cold", "wall /screen, cold profile", 1, "≤ 1.0 s"))
    for key, label, k, goal in specs:
        docs = [r[key] for r in runs]
        kth = [d["reached"][k - 1] for d in docs if len(d["reached"]) >= k]
        every = [d["reached"][-1] for d in docs]
        counts = sorted({len(d["reached"]) for d in docs})
        first = "first chart" if k == 1 else f"first {k} charts"
        if kth:
            rows.append((f"{label}: {first} drawn", *_s(kth), f"{len(kth)}", goal))
        rows.append((f"{label}: every chart drawn ({'/'.join(map(str, counts))} charts)", *_s(every),
                     f"{len(every)}", "—"))
        asked = statistics.median([len(d.get("static_asked", [])) for d in docs])
        plotly = ", ".join(sorted({name for d in docs for name in d.get("plotly", [])})) or "none"
        rows.append((f"{label}: bytes transferred ({statistics.median([d['resources'] for d in docs]):.0f} requests, "
                     f"{asked:.0f} static files asked of the server; Plotly.js: {plotly})",
                     *_mb([d["bytes"] for d in docs]), f"{len(docs)}", "—"))
        threads = [d["main_thread"] for d in docs if d.get("main_thread")]
        if threads:
            med = {k: statistics.median([t[k] for t in threads]) for k in METRICS}
            rows.append((f"{label}: main thread until settled, busy (CPU) / script / compile",
                         f"{med['TaskDuration']:.2f} s ({med['ThreadTime']:.2f} s) / {med['ScriptDuration']:.2f} s / "
                         f"{med['V8CompileDuration']:.2f} s", "—", f"{len(threads)}", "—"))
    lines = ["| measure | median | min–max | runs | goal (#13) |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="首屏时间：总览与大屏，冷启动与二次访问（Chromium，一张表）")
    ap.add_argument("--scale", type=int, default=1, help="演示数据规模（默认 1×）")
    ap.add_argument("--runs", type=int, default=5, help="次数（取中位数，默认 5）")
    ap.add_argument("--workers", type=int, default=2, help="COCKPIT_WORKERS（默认 2，与 gunicorn.conf.py 相同）")
    ap.add_argument("--serve", action="store_true",
                    help="经 scripts/serve.sh 的生产模式测量（nginx + 2 个节点，各 --workers 个 worker）")
    ap.add_argument("--serve-cmd", default=GUNICORN,
                    help="启动服务的命令（none：服务已在别处启动，须给 --base-url 与 --db）")
    ap.add_argument("--stop-cmd", default="", help="停止服务的命令")
    ap.add_argument("--base-url", default="", help="服务地址（默认 127.0.0.1 上的空闲端口）")
    ap.add_argument("--db", type=Path, default=None, help="服务所用的数据库指针（仅 --serve-cmd none 时）")
    ap.add_argument("--processes", type=int, default=0, help="等待预热完成的服务进程数（默认 = worker 数）")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="给服务与命令行工具的环境变量")
    ap.add_argument("--warm-timeout", type=float, default=1800)
    ap.add_argument("--out", type=Path, default=None, help="日志目录（默认 /tmp/cockpit-first-paint-时间）")
    args = ap.parse_args(argv)
    external = args.serve_cmd in ("", "none") or args.serve
    if args.serve_cmd in ("", "none") and not (args.base_url and args.db):
        ap.error("--serve-cmd none 时须给出 --base-url 与 --db")
    out_dir = args.out or Path(f"/tmp/cockpit-first-paint-{time.strftime('%Y%m%d-%H%M%S')}")
    out_dir.mkdir(parents=True, exist_ok=True)
    extra = dict(pair.split("=", 1) for pair in args.env)
    server = None
    stop_cmd, processes, mode = args.stop_cmd, args.processes or args.workers, f"{args.workers} gunicorn worker(s)"
    health_urls: tuple[str, ...] = ()
    try:
        ensure_base(args.scale, log=lambda s: print(s, file=sys.stderr))
        if args.serve:
            print("启动生产模式（scripts/serve.sh）…", file=sys.stderr)
            serve_base, node_env, pointer, stop_cmd, health_urls = serve_mode(args.scale, out_dir,
                                                                              workers=args.workers,
                                                                              label="first-paint")
            extra = {**node_env, **extra}
            args.base_url = args.base_url or serve_base
            processes = args.processes or 2 * args.workers
            mode = f"production mode: nginx + 2 nodes × {args.workers} gunicorn worker(s)"
        else:
            pointer = args.db or make_run_copy(args.scale, out_dir / "db")
        creds = create_accounts(pointer, extra, log=lambda _s: None)
        env = {**os.environ, **extra, "COCKPIT_DB": str(pointer), "COCKPIT_WORKERS": str(args.workers)}
        env.setdefault("COCKPIT_SECRET_KEY", secrets.token_urlsafe(48))
        env.setdefault("COCKPIT_CACHE_DIR", str(out_dir / "cache"))  # no disk cache from another run
        if args.base_url:
            base = args.base_url.rstrip("/")
        else:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env.update({"COCKPIT_BIND": f"127.0.0.1:{port}", "COCKPIT_PORT": str(port)})
        server = Server(base, "" if external else args.serve_cmd, env, out_dir / "server.log",
                        stop_command=stop_cmd, health_urls=health_urls)
        server.start()
        server.wait_warm(processes, args.warm_timeout,
                         log=lambda s: print(s, file=sys.stderr))
        account, token = creds["accounts"]["province"], creds["wall_token"]
        print("预热访问（不计入）…", file=sys.stderr)
        one_run(base, account, token, out_dir)
        runs = []
        load_avg = [os.getloadavg()[0]]
        for i in range(args.runs):
            runs.append(one_run(base, account, token, out_dir))
            print(f"  第 {i + 1} 次：" + "，".join(f"{k} {runs[-1][k]['reached'][-1] / 1000:.2f} s（全部图表）"
                                                  for k in runs[-1]), file=sys.stderr)
        load_avg.append(os.getloadavg()[0])
    except BenchError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.stop()
        elif args.serve and stop_cmd:  # started, then failed before the server was watched
            subprocess.run(stop_cmd, shell=True, cwd=REPO, timeout=300)
    (out_dir / "runs.json").write_text(json.dumps(runs, ensure_ascii=False, indent=1))  # the slowest files of each
    text = table(runs)
    notes = (f"\n{args.scale}× demo, {mode} ({base}), warmed; headless Chromium "
             f"1920×1080 over loopback; medians of {args.runs} runs. Cold: fresh profile, logged in on the login "
             f"form (next = a JSON answer, so no page file is cached), then navigation to / timed from its start. "
             f"Second visit: same profile, away to that JSON answer and back to /. Wall: fresh profile opening "
             f"/screen?device=TOKEN (the token's exchange and redirect included). Shared 2-core machine: noisy "
             f"(load average, 1 min, at the first and last run: {load_avg[0]:.1f} / {load_avg[-1]:.1f}).")
    print(text + notes)
    (out_dir / "table.md").write_text(text + notes + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
