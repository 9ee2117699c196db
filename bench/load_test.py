"""The load benchmark (issue #13 §6): the session mix of real use under locust, a publish of a new
month in the middle, one worker against two. Prints one table.

    python bench/load_test.py                                  # 10×, 50 users, 5 min, 1 and 2 workers
    python bench/load_test.py --scale 1 --users 10 --duration 60 --during 20 --workers 1
    python bench/load_test.py --serve --rss-match "nginx|redis|celery|gunicorn"   # the production mode
    python bench/load_test.py --serve-cmd "bash scripts/serve.sh" --base-url http://127.0.0.1:8080 \\
        --stop-cmd "bash scripts/serve.sh stop" --processes 4 --rss-match "nginx|redis|celery|gunicorn"

For each worker count, on a private copy of the demo database (built once per scale under
``/tmp/cockpit-bench-{scale}x``, ending 2026-09; see bench/load/dataset.py):

1. accounts (``python -m cockpit.users``: a province, a city and a county leader, an analyst) and
   a wall's device token;
2. the server (``gunicorn app:server`` with ``COCKPIT_WORKERS``; or ``--serve-cmd``), waited for
   until every serving process reports its warm-up done on ``/healthz``;
3. the callback bodies recorded in Chromium from the served app (bench/load/record.py);
4. locust, headless (bench/load/locustfile.py): ``--users`` officials with a think time, ``--walls``
   walls, one export a minute; at ``--publish-at`` seconds ``nice -n 10 python -m data.intake load
   FILE --yes`` publishes 2026-10 (the services family), at the priority the production mode's
   数据管理 worker runs publishes (``INTAKE_NICE``);
5. a capacity run (``--capacity-seconds``): the same officials without think time, for the
   throughput that one worker against two is about (a closed loop with think time cannot show it).

Phases: *before* is from the end of the ramp-up to the publish's start; *during* is the publish's
start + ``--during`` seconds; *after* is the rest. The RSS of every server process is sampled each
second (psutil). Logs, the request log and the scenario (0600: it holds passwords) stay in ``--out``.
The machine is shared: quote the figures with the load average the table reports.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.load import report  # noqa: E402
from bench.load.dataset import (  # noqa: E402
    NEW_MONTH,
    BenchError,
    create_accounts,
    ensure_base,
    ensure_publish_file,
    make_run_copy,
    probe,
)
from bench.load.record import record_all  # noqa: E402
from bench.load.server import GUNICORN, RssSampler, Server, free_port, serve_mode  # noqa: E402

LOCUSTFILE = REPO / "bench" / "load" / "locustfile.py"
RETRIED = "closed keep-alive connection (retried)"  # as bench/load/locustfile.py names the first attempt


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _extra_env(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise BenchError(f"--env 应为 KEY=VALUE：{pair}")
        out[key] = value
    return out


def _locust(base: str, scenario: Path, log: Path, out: Path, *, users: int, spawn: float, seconds: int,
            think: str, classes: list[str]) -> subprocess.Popen:
    env = {**os.environ, "COCKPIT_LOAD_SCENARIO": str(scenario), "COCKPIT_LOAD_LOG": str(log),
           "COCKPIT_LOAD_THINK": think}
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(spawn),
           "-t", f"{seconds}s", "--host", base, "--only-summary", "--stop-timeout", "60", "--loglevel", "WARNING",
           *classes]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(out, "ab"), stderr=subprocess.STDOUT)


class Publish(threading.Thread):
    """The publish of the new month, timed; then the time until every serving process has warmed
    its caches again for the new version (``/healthz``)."""

    def __init__(self, cmd: list[str], env: dict, log: Path, sampler: RssSampler, server: Server, processes: int,
                 timeout: float):
        super().__init__(name="publish", daemon=True)
        self.cmd, self.env, self.log, self.sampler = cmd, env, log, sampler
        self.server, self.processes, self.timeout = server, processes, timeout
        self.started = self.finished = self.rewarmed = None
        self.code = None

    def run(self) -> None:
        self.started = time.time()
        with open(self.log, "ab") as fh:
            proc = subprocess.Popen(self.cmd, cwd=REPO, env=self.env, stdout=fh, stderr=subprocess.STDOUT)
            self.sampler.extra["publish CLI"] = proc.pid
            self.code = proc.wait()
        self.sampler.extra.pop("publish CLI", None)
        self.finished = time.time()
        if self.code == 0:
            try:
                self.server.wait_warm(self.processes, self.timeout, log=lambda _s: None, as_of=NEW_MONTH)
                self.rewarmed = time.time()
            except BenchError as exc:
                say(f"发布后未能全部重新预热：{exc}")


def run_config(args, workers: int) -> dict:
    """One worker count: server, recording, the session run with its publish, the capacity run."""
    run_dir = args.out / f"workers-{workers}"
    run_dir.mkdir(parents=True, exist_ok=True)
    extra = _extra_env(args.env)
    stop_cmd, serve_base, health_urls = args.stop_cmd, args.base_url, ()
    if args.serve:  # the production mode: nginx, one node of ``workers`` workers, Redis, PostgreSQL, Celery
        say(f"[{workers} worker(s)] 启动生产模式（scripts/serve.sh）…")
        serve_base, node_env, pointer, stop_cmd, health_urls = serve_mode(args.scale, run_dir, nodes=1,
                                                                          workers=workers, label="load")
        extra = {**node_env, **extra}
    else:
        pointer = args.db if args.db else make_run_copy(args.scale, run_dir)
    say(f"[{workers} worker(s)] 数据库副本 {pointer}")
    creds = create_accounts(pointer, extra, log=lambda _s: None)
    info = probe(pointer, extra)
    env = {**os.environ, **extra, "COCKPIT_DB": str(pointer), "COCKPIT_WORKERS": str(workers)}
    env.setdefault("COCKPIT_SECRET_KEY", secrets.token_urlsafe(48))
    env.setdefault("COCKPIT_CACHE_DIR", str(run_dir / "cache"))  # no forecast or boundary cache from another run
    if serve_base:
        base = serve_base.rstrip("/")
    else:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env.update({"COCKPIT_BIND": f"127.0.0.1:{port}", "COCKPIT_PORT": str(port)})
    command = "" if args.serve or args.serve_cmd in ("", "none") else args.serve_cmd
    server = Server(base, command, env, run_dir / "server.log", stop_command=stop_cmd, health_urls=health_urls)
    processes = args.processes or workers
    result: dict = {"workers": workers, "base": base}
    try:
        t = time.time()
        server.start()
        server.wait_warm(processes, args.warm_timeout, log=say)
        result["warm_s"] = time.time() - t
        new_month_file = ensure_publish_file(args.scale, pointer, extra, log=say)
        if args.recorded:
            say(f"[{workers} worker(s)] 服务就绪，预热 {result['warm_s']:.0f} 秒（{base}）；回调沿用 {args.recorded}")
            recorded = json.loads(args.recorded.read_text(encoding="utf-8"))["recorded"]
        else:
            say(f"[{workers} worker(s)] 服务就绪，预热 {result['warm_s']:.0f} 秒（{base}）；录制回调 …")
            recorded = record_all(base, creds["accounts"], info["children"], log=say)
        scenario = run_dir / "scenario.json"
        scenario.touch(mode=0o600)
        scenario.write_text(json.dumps({**creds, "recorded": recorded, "walls": args.walls,
                                        "export_every": args.export_every}, ensure_ascii=False))
        sampler = RssSampler(server.proc.pid if server.proc else None, match=args.rss_match)
        sampler.start()
        load_avg = [os.getloadavg()[0]]
        # the session mix, with the publish in the middle
        log = run_dir / "requests.tsv"
        log.unlink(missing_ok=True)
        total = args.users + args.walls + (1 if args.export_every > 0 else 0)
        classes = ["CockpitUser"] + (["WallUser"] if args.walls else []) + (["ExportUser"] if args.export_every else [])
        say(f"[{workers} worker(s)] 压测 {args.users} 用户 + {args.walls} 大屏"
            f"{' + 每分钟导出' if args.export_every > 0 else ''}，{args.duration} 秒 …")
        t0 = time.time()
        locust = _locust(base, scenario, log, run_dir / "locust.log", users=total, spawn=args.spawn_rate,
                         seconds=args.duration, think=" ".join(map(str, args.think)), classes=classes)
        sampler.extra["locust"] = locust.pid  # the load generator shares the machine: its CPU is reported
        pub_cmd = [c.format(file=new_month_file, db=pointer) for c in args.publish_cmd.split()]
        publish = Publish(pub_cmd, env, run_dir / "publish.log", sampler, server, processes, args.warm_timeout)
        publish_at = args.publish_at if args.publish_at is not None else args.duration / 2
        while time.time() < t0 + publish_at and locust.poll() is None:
            time.sleep(0.2)
        if locust.poll() is None and publish_at < args.duration:
            say(f"[{workers} worker(s)] 发布 {NEW_MONTH} …")
            publish.start()
        locust.wait()
        end = time.time()
        load_avg.append(os.getloadavg()[0])
        if publish.is_alive():
            say(f"[{workers} worker(s)] 等待发布完成、各进程重新预热 …")
            publish.join()  # the capacity run starts on a warm server, as the first run did
        rewarmed = publish.rewarmed - publish.started if publish.rewarmed else None
        if publish.code not in (None, 0):
            tail = (run_dir / "publish.log").read_text(errors="replace").strip().splitlines()[-3:]
            say(f"[{workers} worker(s)] 警告：发布失败（退出码 {publish.code}）：{' / '.join(tail)}")
        result.update(t0=t0, steady_from=t0 + total / args.spawn_rate + 5, end=end, events=report.read_log(log),
                      publish_started=publish.started, publish_finished=publish.finished, publish_code=publish.code,
                      rewarmed=rewarmed, versions=server.versions(processes))
        # the capacity run: no think time, officials only
        if args.capacity_seconds > 0:
            say(f"[{workers} worker(s)] 吞吐量测试：{args.users} 用户、无思考时间，{args.capacity_seconds} 秒 …")
            cap_log = run_dir / "capacity.tsv"
            cap_log.unlink(missing_ok=True)
            c0 = time.time()
            cap = _locust(base, scenario, cap_log, run_dir / "locust-capacity.log", users=args.users,
                          spawn=args.spawn_rate, seconds=args.capacity_seconds, think="0 0", classes=["CockpitUser"])
            sampler.extra["locust"] = cap.pid
            cap.wait()
            result.update(cap_from=c0 + args.users / args.spawn_rate + 5, cap_end=time.time(),
                          cap_events=report.read_log(cap_log))
            load_avg.append(os.getloadavg()[0])
        sampler.stop()
        result.update(rss=sampler.rows, cpu=sampler.cpu, machine=sampler.machine)
        result["load_avg"] = load_avg
    finally:
        server.stop()
    log_text = (run_dir / "server.log").read_text(errors="replace") if (run_dir / "server.log").exists() else ""
    result["tracebacks"] = log_text.count("Traceback")
    return result


def _rows(results: list[dict], args) -> list[tuple[str, str, list[str]]]:
    rows = []
    per = []
    for r in results:
        per.append(report.by_phase(r["events"], r["steady_from"], r["publish_started"], args.during))
    for name in (*report.INTERACTIVE, "all interactive", *report.OTHER):
        for phase in report.PHASES:
            cells = [p.get((name, phase)) for p in per]
            if any(cells):
                rows.append((name, phase, [c.cell() if c else "—" for c in cells]))
    # throughput of the session run, per phase
    for phase in report.PHASES:
        cells = []
        for r in results:
            start, end = _phase_span(r, phase, args.during)
            reqs = report.throughput(r["events"], start, end)
            clicks = sum(1 for e in r["events"] if e.kind == "interaction" and e.name in report.INTERACTIVE
                         and start <= e.start < end) / max(end - start, 1e-9)
            cells.append(f"{reqs:.1f} req/s · {clicks:.2f} clicks/s" if end > start else "—")
        rows.append(("throughput (session mix)", phase, cells))
    if any("cap_events" in r for r in results):
        cells, base = [], None
        for r in results:
            if "cap_events" not in r:
                cells.append("—")
                continue
            ev = r["cap_events"]
            reqs = report.throughput(ev, r["cap_from"], r["cap_end"])
            clicks = report.throughput(ev, r["cap_from"], r["cap_end"], kind="interaction")
            st = report.stats([e for e in ev if e.kind == "interaction" and e.name in report.INTERACTIVE
                               and e.start >= r["cap_from"]])
            base = base or clicks
            ratio = f" · ×{clicks / base:.2f}" if base else ""
            cells.append(f"{reqs:.1f} req/s · {clicks:.2f} clicks/s{ratio} · p95 {st.p95 or 0:.0f} ms · "
                         f"{st.errors} err")
        rows.append(("capacity (no think time)", "—", cells))
    cells = []
    for r in results:
        if r["publish_started"] is None:
            cells.append("not run")
            continue
        before = report.by_phase(r["events"], r["steady_from"], r["publish_started"], args.during)
        b = before.get(("all interactive", "before"))
        worst, settled = report.spike(r["events"], r["publish_started"], b.p95 if b and b.p95 else 0.0)
        took = (r["publish_finished"] or r["end"]) - r["publish_started"]
        rewarm = f"{r['rewarmed']:.0f} s" if r.get("rewarmed") is not None else "—"
        if settled is not None and settled >= r["end"] - r["publish_started"] - 10:
            settled = f"> {r['end'] - r['publish_started']:.0f} (not by the end of the run)"
        cells.append(f"{took:.1f} s, exit {r['publish_code']} · worst 10-s p95 {worst or 0:.0f} ms · "
                     f"back within 1.5× before-p95 after {settled if settled is not None else '?'} s · "
                     f"every process warm again after {rewarm}")
    rows.append(("publish of 2026-10 (CLI, nice 10)", "during", cells))
    cells = []
    for r in results:
        v = r["versions"]
        months = sorted({d.get("as_of") for d in v.values()})
        vers = sorted({str(d.get("version")) for d in v.values()})
        cells.append(f"v{'/'.join(vers)} · {'/'.join(str(m) for m in months)} on {len(v)} process(es)")
    rows.append(("data version after the run", "after", cells))
    cells = []
    for r in results:
        start, end = _phase_span(r, "before", args.during)
        cells.append(report.cpu_cell(report.cpu_cores(r["cpu"], r["machine"], start, end), os.cpu_count()))
    rows.append(("CPU cores used (session mix)", "before", cells))
    if any("cap_events" in r for r in results):
        rows.append(("CPU cores used (capacity run)", "—",
                     [report.cpu_cell(report.cpu_cores(r["cpu"], r["machine"], r["cap_from"], r["cap_end"]),
                                      os.cpu_count()) if "cap_events" in r else "—" for r in results]))
    rows.append((RETRIED, "whole run (not errors)",
                 [str(sum(1 for e in r["events"] + r.get("cap_events", []) if e.name == RETRIED)) for r in results]))
    rss = [dict(report.rss_summary(r["rss"])) for r in results]
    order = ("master", "worker", "export", "chromium", "publish", "all server")
    labels = sorted(dict.fromkeys(k for d in rss for k in d),
                    key=lambda k: (next((i for i, w in enumerate(order) if w in k), len(order)), k))
    for label in labels:
        rows.append((label, "whole run", [d.get(label, "—") for d in rss]))
    rows.append(("warm-up before the run", "—", [f"{r['warm_s']:.0f} s" for r in results]))
    rows.append(("server log tracebacks", "—", [str(r["tracebacks"]) for r in results]))
    rows.append(("load average (1 min): start / end", "—",
                 [" / ".join(f"{x:.1f}" for x in r["load_avg"]) for r in results]))
    return rows


def _phase_span(r: dict, phase: str, during: float) -> tuple[float, float]:
    pub = r["publish_started"]
    if pub is None:
        return (r["steady_from"], r["end"]) if phase == "before" else (0.0, 0.0)
    return {"before": (r["steady_from"], pub), "during": (pub, min(pub + during, r["end"])),
            "after": (pub + during, r["end"])}[phase]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="压测：真实会话组合、压测中发布新月份、1 与 2 个 worker 对比（一张表）")
    ap.add_argument("--scale", type=int, default=10, help="演示数据规模（默认 10×）")
    ap.add_argument("--users", type=int, default=50, help="同时在线的领导/分析员（默认 50）")
    ap.add_argument("--duration", type=int, default=300, help="压测秒数（默认 300）")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="COCKPIT_WORKERS（默认 1 2）")
    ap.add_argument("--walls", type=int, default=4, help="大屏数量（默认 4，每 dwell 秒轮询 /api/screen）")
    ap.add_argument("--export-every", type=float, default=60, help="简报导出间隔秒（默认 60；0 不导出）")
    ap.add_argument("--think", type=float, nargs=2, default=[3, 10], metavar=("MIN", "MAX"),
                    help="两次点击之间的思考时间（秒，默认 3 10）")
    ap.add_argument("--spawn-rate", type=float, default=5, help="每秒新登录用户数（默认 5）")
    ap.add_argument("--publish-at", type=float, default=None, help="第几秒开始发布（默认压测时长的一半）")
    ap.add_argument("--during", type=float, default=60, help="“发布中”阶段的长度（秒，默认 60）")
    ap.add_argument("--capacity-seconds", type=int, default=60, help="无思考时间的吞吐量测试秒数（0 跳过）")
    ap.add_argument("--serve", action="store_true",
                    help="经 scripts/serve.sh 的生产模式压测（nginx、1 个节点 × --workers 个 worker、Redis、"
                         "PostgreSQL、Celery 导出与数据管理 worker）")
    ap.add_argument("--serve-cmd", default=GUNICORN,
                    help="启动服务的命令（默认 gunicorn app:server；none：服务已在别处启动，须给 --base-url 与 --db）")
    ap.add_argument("--stop-cmd", default="", help="停止服务的命令（后台守护进程，如 serve.sh 的 stop）")
    ap.add_argument("--base-url", default="", help="服务地址（默认 127.0.0.1 上的空闲端口，并据此设 COCKPIT_BIND）")
    ap.add_argument("--db", type=Path, default=None, help="服务所用的数据库指针（仅 --serve-cmd none 时）")
    ap.add_argument("--processes", type=int, default=0, help="等待预热完成的服务进程数（默认 = worker 数）")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="给服务与命令行工具的环境变量")
    ap.add_argument("--rss-match", default="", help="另外采样 RSS 的进程（命令行正则，如 nginx|redis|celery）")
    ap.add_argument("--publish-cmd", default=f"nice -n 10 {sys.executable} -m data.intake load {{file}} --yes",
                    help="发布命令（{file}：新月份文件，{db}：数据库指针）")
    ap.add_argument("--warm-timeout", type=float, default=1800, help="等待预热的最长秒数")
    ap.add_argument("--recorded", type=Path, default=None,
                    help="沿用此前一次运行的 scenario.json 中录制的回调（同一代码、同一规模；省去录制）")
    ap.add_argument("--out", type=Path, default=None, help="日志目录（默认 /tmp/cockpit-load-时间）")
    args = ap.parse_args(argv)
    if args.serve_cmd in ("", "none") and not (args.base_url and args.db):
        ap.error("--serve-cmd none 时须给出 --base-url 与 --db")
    if args.db and len(args.workers) > 1:
        ap.error("--db（别处启动的服务）只能测一种配置：请只给一个 --workers")
    if args.base_url and urlsplit(args.base_url).scheme not in ("http", "https"):
        ap.error("--base-url 应以 http:// 或 https:// 开头")
    args.out = args.out or Path(f"/tmp/cockpit-load-{time.strftime('%Y%m%d-%H%M%S')}")
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        ensure_base(args.scale, log=say)
        results = [run_config(args, w) for w in args.workers]
    except BenchError as exc:
        say(f"错误：{exc}")
        return 2
    columns = [f"{r['workers']} worker{'s' if r['workers'] > 1 else ''}" for r in results]
    text = report.table(columns, _rows(results, args))
    notes = (f"\n{args.scale}× demo; {args.users} officials (think {args.think[0]:g}–{args.think[1]:g} s) + "
             f"{args.walls} walls + "
             + (f"one 简报 export every {args.export_every:g} s" if args.export_every > 0 else "no export")
             + f", {args.duration} s; publish of "
             f"{NEW_MONTH} at {args.publish_at if args.publish_at is not None else args.duration / 2:g} s; "
             f"'during' = publish start + {args.during:g} s. Cells: p50 / p95 of each click (all its requests, "
             f"first sent → last answered), n, errors; RSS: median / peak. Shared 2-core machine: noisy, and "
             f"locust and Chromium run on it too. Logs: {args.out}")
    print(text + "\n" + notes)
    (args.out / "table.md").write_text(text + "\n" + notes + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
