"""Issue #12's probe, re-run as an attacker would: over HTTP, against gunicorn, on a fresh demo.

    python bench/probe_attacks.py [--keep]

Starts gunicorn (production mode: a strong SECRET_KEY; one worker, because without Redis the
login throttle counts per process) on a free loopback port with
a private database, job directory and operational store in a temporary directory, runs each
attack and prints one table: the attack, what a safe server answers, what this one answered.
Exit status 1 if any attack got through. The pytest suite checks the same things one by one
(tests/web/); this is the closing note's evidence in one command.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSWORD = "Probe-Password-2026!"
UPDATE = "/_dash-update-component"
LEAK = re.compile(r"Traceback|File \"|site-packages|/work/|/root/|\.py\b")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_body(pathname: str, search: str = "") -> dict:
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"]}


def what_if_body(pp: float, mode: str) -> dict:
    state = {"kpi": "online_handling_rate", "region": "360000", "h": 6, "view": "month"}
    return {"output": "forecast-whatif-result.children",
            "outputs": {"id": "forecast-whatif-result", "property": "children"},
            "inputs": [{"id": "forecast-whatif-pp", "property": "value", "value": pp},
                       {"id": "forecast-whatif-mode", "property": "value", "value": mode}],
            "state": [{"id": "forecast-state", "property": "data", "value": state}],
            "changedPropIds": ["forecast-whatif-pp.value"]}


class Probe:
    def __init__(self, keep: bool):
        self.dir = Path(tempfile.mkdtemp(prefix="cockpit-probe-"))
        self.keep = keep
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "COCKPIT_DB": str(self.dir / "db" / "cockpit.duckdb"),
                    "COCKPIT_JOBS_DIR": str(self.dir / "jobs"), "COCKPIT_CACHE_DIR": str(self.dir / "cache"),
                    "COCKPIT_SECRET_KEY": secrets.token_urlsafe(48), "COCKPIT_BIND": f"127.0.0.1:{self.port}",
                    "COCKPIT_WORKERS": "1", "COCKPIT_WARM": "0", "COCKPIT_ENV": "production"}
        self.env.pop("COCKPIT_OPSTORE_URL", None)
        self.rows: list[tuple[str, str, str, bool]] = []
        self.failed = 0  # failed logins from this address so far (the throttle counts them)
        self.server: subprocess.Popen | None = None

    # ------------------------------------------------------------ set-up
    def start(self) -> None:
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("COCKPIT_")})
        self.server = subprocess.Popen([sys.executable, "-m", "gunicorn", "app:server"], cwd=ROOT, env=self.env,
                                       stdout=open(self.dir / "server.log", "wb"), stderr=subprocess.STDOUT,
                                       start_new_session=True)
        deadline = time.time() + 900
        while time.time() < deadline:
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.server.poll() is not None:
                raise SystemExit("服务未能启动：\n" + (self.dir / "server.log").read_text()[-2000:])
            time.sleep(1)
        raise SystemExit("服务在 15 分钟内未就绪")

    def stop(self) -> None:
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(30)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def user(self, role: str, region: str, dept: str | None = None) -> str:
        from data import identity

        name = f"probe-{role}-{secrets.token_hex(3)}"
        identity.create_user(name, role=role, region=region, dept=dept, password=PASSWORD, actor="probe")
        return name

    def login(self, username: str, password: str = PASSWORD, session: requests.Session | None = None,
              ip: str | None = None) -> tuple[requests.Session, requests.Response]:
        s = session or requests.Session()
        headers = {"X-Forwarded-For": ip} if ip else {}
        page = s.get(self.base + "/login", headers=headers).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        resp = s.post(self.base + "/login", data={"username": username, "password": password, "csrf": csrf},
                      allow_redirects=False, headers=headers)
        self.failed += resp.status_code == 401
        return s, resp

    def row(self, attack: str, expected: str, got: str, ok: bool) -> None:
        self.rows.append((attack, expected, got, ok))
        print(("  ok  " if ok else "  FAIL") + f"  {attack}: {got}", flush=True)

    @staticmethod
    def clean(resp: requests.Response) -> bool:
        return resp.status_code < 500 and not LEAK.search(resp.text)

    def denials(self) -> int:
        from data import audit

        return audit.count(action="拒绝")

    # ------------------------------------------------------------ the attacks
    def run(self) -> None:
        admin = self.user("admin", "360000")
        county = self.user("leader", "360102")
        admin_s, _ = self.login(admin)
        county_s, _ = self.login(county)
        anon = requests.Session()
        deps = admin_s.get(self.base + "/_dash-dependencies").json()
        outputs = [d["output"] for d in deps]

        codes = [anon.post(self.base + UPDATE, json={"output": o, "outputs": [], "inputs": [], "changedPropIds": []})
                 .status_code for o in outputs]
        self.row("匿名 POST 每个回调", "全部 401", f"{len(codes)} 个回调：{sorted(set(codes))}",
                 set(codes) == {401})
        pages = ["/", "/services", "/spending", "/projects", "/forecast", "/ranking", "/briefing", "/data",
                 "/admin/audit", "/screen", "/api/screen", "/data/export/services.xlsx", "/admin/audit/export.csv"]
        got = {p: anon.get(self.base + p, allow_redirects=False).status_code for p in pages}
        self.row("匿名访问页面、接口与下载", "页面 302 到登录，接口/下载 401",
                 ", ".join(f"{p} {c}" for p, c in got.items()),
                 all(c in (302, 401) for c in got.values()))

        resp = county_s.post(self.base + UPDATE, json=page_body("/", "?month=0000-01"))
        said = "有中文提示" if "月份" in resp.text else resp.text[:60]
        self.row("month=0000-01", "中文提示，非 5xx", f"{resp.status_code}，{said}",
                 self.clean(resp) and "月份" in resp.text)
        for body, ctype, want in (("not json", "application/json", 400), ("[1, 2", "application/json", 400),
                                  ('{"output": "nope"}', "application/json", 400), ("{}", "text/plain", 415)):
            resp = county_s.post(self.base + UPDATE, data=body, headers={"Content-Type": ctype,
                                                                         "Origin": self.base})
            self.row(f"畸形回调请求体 {body!r} ({ctype})", f"{want}，中文", f"{resp.status_code} {resp.text[:40]}",
                     resp.status_code == want and bool(CHINESE.search(resp.text)) and self.clean(resp))
        big = "x" * (21 * 2**20)
        resp = county_s.post(self.base + UPDATE, data=big, headers={"Content-Type": "application/json"})
        self.row("21 MB 请求体", "413，中文", f"{resp.status_code} {resp.text[:30]}", resp.status_code == 413)
        resp = county_s.post(self.base + UPDATE, json=page_body("/"), headers={"Origin": "https://evil.example"})
        self.row("外站 Origin 的 POST", "403", str(resp.status_code), resp.status_code == 403)
        resp = county_s.get(self.base + "/no-such-page")
        self.row("不存在的页面", "中文 404", f"{resp.status_code} {'中文' if CHINESE.search(resp.text) else ''}",
                 resp.status_code == 404 and bool(CHINESE.search(resp.text)))
        h = anon.get(self.base + "/login").headers
        need = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy")
        missing = [k for k in need if k not in h]
        server = h.get("Server", "")
        self.row("安全响应头与版本泄露", "CSP、XFO、nosniff、Referrer-Policy；Server 不含版本",
                 f"缺少 {missing or '无'}；Server: {server or '（无）'}",
                 not missing and not re.search(r"\d", server))
        for url in ("/boundaries/110000/county.json", "/boundaries/360000/county/110100.json"):
            resp = county_s.get(self.base + url)
            self.row(f"外省边界 {url}", "404", str(resp.status_code), resp.status_code == 404)
        resp = county_s.post(self.base + UPDATE, json=page_body("/ranking"))
        self.row("县级用户打开 /ranking", "200", str(resp.status_code), resp.status_code == 200)

        # forged callbacks naming the city and the province: no rows of them, one denial each
        before = self.denials()
        leaked = []
        for region in ("360100", "360000", "360700"):
            resp = county_s.post(self.base + UPDATE, json=page_body("/", f"?region={region}"))
            others = set(re.findall(r'"(36\d{4})"', resp.text)) - {"360102", "360100", "360000"}
            if others or resp.status_code >= 500:
                leaked.append(region)
        after = self.denials()
        self.row("县级用户伪造市、省、外市的 region", "无数据行，每次一条拒绝审计",
                 f"泄露 {leaked or '无'}；新增拒绝审计 {after - before} 条", not leaked and after - before >= 3)

        # six anonymous exports at once
        def export(_):
            return anon.post(self.base + UPDATE, json={"output": "briefing-download.data", "outputs": [],
                                                        "inputs": [], "changedPropIds": []}).status_code
        with ThreadPoolExecutor(6) as pool:
            codes = list(pool.map(export, range(6)))
        self.row("6 个并发匿名导出", "全部 401，不启动进程", str(codes), set(codes) == {401})

        # 80 what-if values: nothing written to the forecast disk cache
        cache = self.dir / "cache" / "forecast"
        files_before = len(list(cache.glob("*"))) if cache.exists() else 0
        admin_s.post(self.base + UPDATE, json=what_if_body(0, "ramp"))
        files_base = len(list(cache.glob("*"))) if cache.exists() else 0
        bad = 0
        for i in range(80):
            r = admin_s.post(self.base + UPDATE, json=what_if_body(round(-2 + 0.05 * (i + 1), 2),
                                                                 "ramp" if i % 2 else "flat"))
            bad += r.status_code >= 500
        files_after = len(list(cache.glob("*"))) if cache.exists() else 0
        self.row("80 个不同的 what-if 值", "不写盘，无 5xx",
                 f"磁盘缓存文件 {files_before}→{files_base}（基线）→{files_after}；5xx {bad}",
                 files_after == files_base and bad == 0)

        # passwords: lockout after five, throttling of one address
        victim = self.user("analyst", "360100")
        s = requests.Session()
        for _ in range(5):  # from one address: these count toward its throttle too
            self.login(victim, "Wrong-password-1", s)
        _, resp = self.login(victim, PASSWORD, s)
        self.row("同一账号连续 5 次错误密码", "锁定，正确密码也拒绝", f"{resp.status_code} {'账号已锁定' in resp.text}",
                 resp.status_code == 401 and "账号已锁定" in resp.text)
        # TOTP replay
        import pyotp

        from data import identity

        second = self.user("leader", "360000")
        identity.enable_totp(second, actor="probe")
        code = pyotp.TOTP(identity.totp_secret(second)).now()
        results = []
        for _ in range(2):
            s, resp = self.login(second)
            page = s.get(self.base + "/login/totp").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            results.append(s.post(self.base + "/login/totp", data={"code": code, "csrf": csrf},
                                  allow_redirects=False).status_code)
            self.failed += results[-1] == 401  # the throttle counts a failed second factor too
        self.row("同一动态验证码用两次", "第二次 401", str(results), results == [303, 401])

        # logout revokes
        s, _ = self.login(self.user("leader", "360000"))
        cookie = s.cookies.get_dict()
        page = s.get(self.base + "/logout").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        s.post(self.base + "/logout", data={"csrf": csrf}, allow_redirects=False)
        replay = requests.get(self.base + "/api/screen", cookies=cookie, allow_redirects=False)
        self.row("退出后重放旧 cookie", "401", str(replay.status_code), replay.status_code == 401)

        # one address trying many accounts: refused once it has failed 30 times (every failure above counts)
        spray, first_429, tries = requests.Session(), None, 0
        while first_429 is None and tries < 40:
            tries += 1
            before = self.failed
            code = self.login(self.user("analyst", "360100"), "Wrong-password-1", spray)[1].status_code
            if code == 429:
                first_429 = before
        self.row("同一地址对多个账号各试一次密码", "失败满 30 次后 429（正确密码也拒绝）",
                 f"失败 {first_429} 次后首次 429", first_429 == 30)
        s, resp = self.login(self.user("analyst", "360100"), PASSWORD)
        self.row("限流期间同一地址用正确密码登录", "429", str(resp.status_code), resp.status_code == 429)

        # the audit log: a row edited with SQL is named by verify
        store = Path(self.env["COCKPIT_DB"]).with_suffix(".ops.sqlite")
        with sqlite3.connect(store) as con:
            seq = con.execute("SELECT max(seq) FROM audit_log WHERE action = '登录失败'").fetchone()[0]
            con.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = ?", [seq])
        out = subprocess.run([sys.executable, "-m", "cockpit.audit", "verify"], cwd=ROOT, env=self.env,
                             capture_output=True, text=True)
        self.row("用 SQL 改一条审计记录", f"verify 指出第 {seq} 条，退出码非 0",
                 f"退出码 {out.returncode}：{(out.stdout + out.stderr).strip().splitlines()[-1][:60]}",
                 out.returncode != 0 and f"第 {seq} 条" in out.stdout + out.stderr)

        # a job directory someone else prepared: the server refuses to start
        planted = self.dir / "planted-jobs"
        planted.mkdir(mode=0o777)
        planted.chmod(0o777)
        env = {**self.env, "COCKPIT_JOBS_DIR": str(planted), "COCKPIT_BIND": f"127.0.0.1:{_free_port()}"}
        out = subprocess.run([sys.executable, "-m", "gunicorn", "app:server"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
        self.row("预先创建的全局可写任务目录", "拒绝启动（中文原因）",
                 f"退出码 {out.returncode}：{(out.stderr.strip().splitlines() or [''])[-1][:50]}",
                 out.returncode != 0 and bool(CHINESE.search(out.stderr)))

    def table(self) -> str:
        lines = ["| 攻击 | 期望 | 结果 | |", "|---|---|---|---|"]
        lines += [f"| {a} | {e} | {g} | {'✓' if ok else '✗'} |" for a, e, g, ok in self.rows]
        return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    args = parser.parse_args()
    probe = Probe(args.keep)
    try:
        print(f"starting gunicorn on {probe.base} in {probe.dir} …", flush=True)
        probe.start()
        probe.run()
    finally:
        probe.stop()
    print()
    print(probe.table())
    return 0 if all(ok for *_, ok in probe.rows) else 1


if __name__ == "__main__":
    threading.current_thread().name = "probe"
    sys.exit(main())
