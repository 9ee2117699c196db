"""The production mode, short version of the two-node run: ``bash scripts/serve.sh`` starts Redis,
PostgreSQL, two gunicorn nodes with their replication followers, two Celery workers (and the
数据管理 intake worker), beat and nginx on free loopback ports in a temporary run directory, on a
small demo database; the tests talk to it over HTTP as a browser and a clerk would, and the last one stops it all.

Starting takes a few minutes on two cores (the demo build, the static files' brotli, the nodes'
imports): one start serves the whole module."""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests
from openpyxl import load_workbook

pytestmark = pytest.mark.deploy

REPO = Path(__file__).resolve().parents[2]
SERVE = ["bash", "scripts/serve.sh"]
PASSWORD = "Cockpit-Deploy-2026!"
CLIENT_IP = "203.0.113.7"  # documentation range (RFC 5737): what the trusted proxy says the client is


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Served:
    """The running production mode: its ports, run directory and each node's environment."""

    def __init__(self, run_dir: Path, pg_dir: Path, conf: Path, ports: dict[str, int]):
        self.run_dir, self.pg_dir, self.conf, self.ports = run_dir, pg_dir, conf, ports
        self.url = f"http://127.0.0.1:{ports['nginx']}"
        self.node_urls = [f"http://127.0.0.1:{p}" for p in (ports["node1"], ports["node2"])]

    def env(self, node: int = 1) -> dict[str, str]:
        """What a CLI on ``node`` runs with (``serve.sh env N``), over this process's environment."""
        # as the README says: eval "$(bash scripts/serve.sh env N)"
        out = subprocess.run(["bash", "-c", 'eval "$(bash scripts/serve.sh env "$1")" && env -0', "_", str(node)],
                             cwd=REPO, env=self.serve_env(), capture_output=True, text=True, check=True).stdout
        values = dict(item.split("=", 1) for item in out.split("\0") if item.startswith("COCKPIT_"))
        values.pop("COCKPIT_SERVE_CONF", None)
        return {**{k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}, **values}

    def serve_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
        env["COCKPIT_SERVE_CONF"] = str(self.conf)
        return env

    def python(self, code: str, node: int = 1, **env) -> str:
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**self.env(node), **env},
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def serve(self, command: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([*SERVE, command], cwd=REPO, env=self.serve_env(), capture_output=True, text=True,
                              timeout=timeout)

    def recorded_pids(self) -> list[int]:
        pids = []
        for f in (self.run_dir / "pids").glob("*.pid"):
            pids.append(int(f.read_text().split()[0]))
        postmaster = self.pg_dir / "data" / "postmaster.pid"
        if postmaster.exists():
            pids.append(int(postmaster.read_text().splitlines()[0]))
        return pids


def _ours(*dirs: Path) -> list[str]:
    """Every live process whose command line or environment names one of ``dirs``."""
    found = []
    marks = [str(d) for d in dirs]
    for p in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            text = " ".join(p.info["cmdline"] or [])
            seen = [text, *p.environ().values()]
            if any(mark in x for mark in marks for x in seen):
                found.append(f"{p.pid} {text[:120]}")
        except psutil.Error:
            continue
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    run_dir = root / "run"
    # the cluster runs as the postgres user (we are root in CI), which cannot enter pytest's 0700 tmp
    pg_dir = Path(tempfile.mkdtemp(prefix="cockpit-serve-pg-", dir="/tmp"))
    os.chmod(pg_dir, 0o711)
    names = ("nginx", "node1", "node2", "redis", "pg")
    ports = dict(zip(names, _free_ports(len(names)), strict=True))
    conf = root / "serve.conf"
    conf.write_text("\n".join([
        f"RUN_DIR={run_dir}",
        f"NGINX_PORT={ports['nginx']}",
        "NODES=2",
        f'NODE_PORTS="{ports["node1"]} {ports["node2"]}"',
        f"REDIS_PORT={ports['redis']}",
        f"PG_PORT={ports['pg']}",
        f"PG_DIR={pg_dir}",
        'DEMO_ARGS="--months 14"',
        "GUNICORN_WORKERS=1",
        "GUNICORN_THREADS=4",
        "CELERY_WORKERS=2",
        "WARM=0",  # two cores: the test measures nothing, and a warm-up per process would slow it all
        "TRUSTED_PROXIES=127.0.0.1",  # the test client plays the load balancer that names the client
    ]) + "\n")
    s = Served(run_dir, pg_dir, conf, ports)
    try:
        started = s.serve("start")
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        yield s
    finally:
        s.serve("stop", timeout=300)
        shutil.rmtree(pg_dir, ignore_errors=True)


def _login(s: Served, username: str, *, client_ip: str | None = None) -> requests.Session:
    session = requests.Session()
    page = session.get(s.url + "/login", timeout=30).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    headers = {"X-Forwarded-For": client_ip} if client_ip else {}
    resp = session.post(s.url + "/login", data={"username": username, "password": PASSWORD, "csrf": csrf},
                        headers=headers, allow_redirects=False, timeout=30)
    assert resp.status_code == 303, resp.text[:500]
    return session


def _make_user(s: Served, role: str = "admin") -> str:
    return s.python(f"""
from data import identity
import secrets
u = identity.create_user("deploy-" + secrets.token_hex(4), role={role!r}, region="360000",
                         password={PASSWORD!r}, actor="测试")
print(u.username)
""").strip()


@pytest.fixture(scope="module")
def admin(served) -> requests.Session:
    return _login(served, _make_user(served))


def _page(session: requests.Session, url: str) -> str:
    resp = session.get(url, timeout=60)
    assert resp.status_code == 200, resp.text[:300]
    return resp.text


# ------------------------------------------------------------------ nginx serves the static files


def test_nginx_serves_a_component_suite_file_precompressed_with_a_long_life_and_dashs_own_bytes(served, admin):
    html = _page(admin, served.url + "/")
    suites = re.findall(r'src="(/_dash-component-suites/[^"]+)"', html)
    renderer = next(u for u in suites if "dash_renderer" in u)
    assert re.search(r"\.v[\w-]+m[0-9a-f]+\.", renderer), renderer  # Dash's fingerprint in the page
    via_nginx = requests.get(served.url + renderer, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=30)
    assert via_nginx.status_code == 200
    assert via_nginx.headers["Content-Encoding"] == "gzip"
    assert via_nginx.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    body = gzip.decompress(via_nginx.raw.read())
    from_dash = requests.get(served.node_urls[0] + renderer, headers={"Accept-Encoding": "identity"}, timeout=30)
    assert from_dash.status_code == 200 and len(from_dash.content) > 10_000
    assert body == from_dash.content
    # served by nginx itself: the access log names no node for it
    log = (served.run_dir / "logs" / "nginx-access.log").read_text()
    line = next(x for x in reversed(log.splitlines()) if renderer in x)
    assert "upstream=- " in line, line


def test_an_asset_lives_long_only_with_dashs_mtime_in_its_url(served, admin):
    html = _page(admin, served.url + "/")
    css = re.search(r'href="(/assets/cockpit\.css\?m=[0-9.]+)"', html).group(1)
    assert requests.get(served.url + css, timeout=30).headers["Cache-Control"] == \
        "public, max-age=31536000, immutable"
    bare = requests.get(served.url + "/assets/cockpit.css", timeout=30)
    assert bare.status_code == 200 and bare.headers["Cache-Control"] == "no-cache"
    assert bare.content == requests.get(served.node_urls[1] + "/assets/cockpit.css", timeout=30).content


def test_plotly_and_every_file_of_the_wall_come_from_nginx_precompressed_and_immutable(served, admin):
    html = _page(admin, served.url + "/")
    # the partial Plotly.js (assets/vendor/plotly-cockpit.min.js), never the full plotly.min.js
    preload = r'<link rel="preload" as="script" href="(/assets/vendor/plotly-cockpit\.min\.js\?m=[0-9.]+)">'
    plotly = re.search(preload, html).group(1)
    token = served.python("from data.identity import create_device_token\n"
                          "print(create_device_token('部署测试大屏', region='360000', actor='测试')[1])").strip()
    page = requests.get(served.url + f"/screen?device={token}", timeout=60)
    assert page.status_code == 200
    files = re.findall(r'(?:src|href)="(/(?:assets|_dash-component-suites)/[^"]+)"', page.text)
    assert plotly in files and len(files) == 5  # the pages' own Plotly.js: one cached copy for both
    assert not [url for url in files if "/plotly/" in url]
    for url in files:
        resp = requests.get(served.url + url, headers={"Accept-Encoding": "gzip"}, timeout=30)
        assert resp.status_code == 200, url
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
        assert resp.headers["Content-Encoding"] == "gzip", url
    log = (served.run_dir / "logs" / "nginx-access.log").read_text()
    line = next(x for x in reversed(log.splitlines()) if plotly in x)
    assert "upstream=- " in line, line  # nginx's own file, not the app's


# ------------------------------------------------------------------ login, nodes


def test_login_through_nginx_records_the_client_address_from_x_forwarded_for(served):
    username = _make_user(served, "leader")
    _login(served, username, client_ip=CLIENT_IP)
    rows = json.loads(served.python(f"""
import json
from sqlalchemy import select
from data.opstore import audit_log, engine
with engine().connect() as con:
    rows = con.execute(select(audit_log.c.action, audit_log.c.ip).where(audit_log.c.actor == {username!r})).all()
print(json.dumps([list(r) for r in rows], ensure_ascii=False))
"""))
    assert ["登录成功", CLIENT_IP] in rows


def test_both_nodes_answer_their_health_check_on_the_same_version(served):
    bodies = [requests.get(u + "/healthz", timeout=30).json() for u in served.node_urls]
    assert [b["status"] for b in bodies] == ["ok", "ok"]
    assert bodies[0]["version"] == bodies[1]["version"] is not None
    assert bodies[0]["pid"] != bodies[1]["pid"]
    assert requests.get(served.url + "/healthz", timeout=30).json()["version"] == bodies[0]["version"]


# ------------------------------------------------------------------ an export on a Celery worker


def _export_body(session: requests.Session, url: str) -> dict:
    deps = session.get(url + "/_dash-dependencies", timeout=30).json()
    output = next(d["output"] for d in deps if "briefing-download.data" in d["output"])
    return {"output": output,
            "outputs": [{"id": "briefing-download", "property": "data"},
                        {"id": "briefing-status", "property": "children"}],
            "inputs": [{"id": "briefing-export", "property": "n_clicks", "value": 1}],
            "state": [{"id": "briefing-format", "property": "value", "value": "pptx"},
                      {"id": "briefing-request", "property": "data", "value": {"region": "360000",
                                                                               "month": "2026-10"}}],
            "changedPropIds": ["briefing-export.n_clicks"]}


def test_the_briefing_export_runs_on_a_celery_worker_and_returns_the_file(served, admin):
    html = _page(admin, served.url + "/briefing")
    end_id = json.loads(html.split('id="_dash-config" type="application/json">')[1].split("</script>")[0])["end_id"]
    body = _export_body(admin, served.url)
    started = admin.post(served.url + "/_dash-update-component", json=body, params={"endId": end_id}, timeout=60)
    assert started.status_code == 200, started.text[:500]
    handles = started.json()
    task_id = handles["job"].rpartition("~")[0]
    deadline, answer = time.time() + 240, None
    while answer is None and time.time() < deadline:
        resp = admin.post(served.url + "/_dash-update-component", json=body, timeout=60,
                          params={"endId": end_id, "cacheKey": handles["cacheKey"], "job": handles["job"]})
        assert resp.status_code in (200, 204), resp.text[:500]
        if resp.status_code == 200 and "response" in resp.json():
            answer = resp.json()["response"]
        time.sleep(1)
    assert answer is not None, "the export never answered"
    assert answer["briefing-status"]["children"].startswith("已生成 简报_360000_2026-10.pptx")
    download = answer["briefing-download"]["data"]
    assert download["filename"] == "简报_360000_2026-10.pptx"
    assert base64.b64decode(download["content"])[:2] == b"PK"  # a PPTX is a zip file
    # a Celery worker ran it: the task id the page was handed is in a worker's log, succeeded
    logs = "".join(p.read_text() for p in (served.run_dir / "logs").glob("celery-w*.log"))
    assert re.search(rf"Task background_callback_\w+\[{task_id}\] succeeded", logs), task_id


# ------------------------------------------------------------------ 数据管理: checked and published as jobs


def _poster(session: requests.Session, url: str, end_id: str):
    def post(params: dict, body: dict) -> tuple[int, dict | None]:
        resp = session.post(url + "/_dash-update-component", json=body, params={"endId": end_id, **params},
                            timeout=60)
        try:
            return resp.status_code, resp.json()
        except ValueError:
            return resp.status_code, None

    return post


def _data_page(session: requests.Session, url: str) -> tuple[str, list[str]]:
    html = _page(session, url + "/data")
    end_id = json.loads(html.split('id="_dash-config" type="application/json">')[1].split("</script>")[0])["end_id"]
    return end_id, [d["output"] for d in session.get(url + "/_dash-dependencies", timeout=30).json()]


def _hotline_edit(s: Served, tmp: Path, changes: dict[tuple[int, str], object]) -> bytes:
    """The published 2026-10 12345 month as exported, with cells changed: (row, header) → value."""
    exported = tmp / "hotline-2026-10-edit.xlsx"
    done = subprocess.run([sys.executable, "-m", "data.intake", "export", "hotline", "--month", "2026-10",
                           "--out", str(exported)], cwd=REPO, env=s.env(1), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    book = load_workbook(exported)
    sheet = book["热线月度统计"]
    cols = {cell.value: cell.column for cell in sheet[1] if cell.value}
    for (row, header), value in changes.items():
        old = sheet.cell(row, cols[header]).value
        sheet.cell(row, cols[header]).value = value(old) if callable(value) else value
    book.save(exported)
    return exported.read_bytes()


def _contents(raw: bytes) -> str:
    return "data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64," + \
        base64.b64encode(raw).decode("ascii")


def _intake_log(s: Served) -> str:
    return "".join(p.read_text() for p in (s.run_dir / "logs").glob("celery-i*.log"))


def test_an_upload_checked_on_one_node_is_published_from_the_other_by_the_intake_worker(served, admin, tmp_path):
    from tests.intake_jobs import find_output, publish_body, run_job, upload_body

    raw = _hotline_edit(served, tmp_path, {(2, "受理量"): lambda v: v + 100})
    before = [requests.get(u + "/healthz", timeout=30).json()["version"] for u in served.node_urls]
    end_id, keys = _data_page(admin, served.url)
    # the check on node 1, 发布 on node 2: nothing ties a clerk to a node (no stickiness in nginx)
    node1, node2 = (_poster(admin, u, end_id) for u in served.node_urls)
    checked = run_job(node1, upload_body(find_output(keys, "data-upload-report.children", "data-upload.contents"),
                                         _contents(raw), "热线2026年10月.xlsx"), timeout=300)
    token = checked["data-upload-token"]["data"]
    assert token, json.dumps(checked, ensure_ascii=False)[:2000]
    staging = served.run_dir / "shared" / "staging"
    assert (staging / "cockpit" / f"{token}.duckdb").exists()  # on the shared directory, private
    assert oct((staging / "cockpit" / f"{token}.duckdb").stat().st_mode & 0o777) == "0o600"
    assert oct(staging.stat().st_mode & 0o777) == "0o700" and oct((staging / "cockpit").stat().st_mode & 0o777) == \
        "0o700"
    done = run_job(node2, publish_body(find_output(keys, "data-upload-actions.className", "data-version.children"),
                                       token), timeout=300)
    text = json.dumps(done, ensure_ascii=False)
    assert f"已发布：当前数据版本 v{before[0] + 1}" in text, text[:2000]
    deadline, seen = time.time() + 30, []
    while time.time() < deadline:
        seen = [requests.get(u + "/healthz", timeout=30).json()["version"] for u in served.node_urls]
        if seen == [before[0] + 1] * 2:
            break
        time.sleep(0.3)
    assert seen == [before[0] + 1] * 2
    # both jobs ran on the intake worker (under nice), none on the export workers
    log = _intake_log(served)
    assert len(re.findall(r"Task background_callback_\w+\[[\w-]+\] succeeded", log)) >= 2, log[-3000:]
    pid = int((served.run_dir / "pids" / "celery-i1.pid").read_text().split()[0])
    assert psutil.Process(pid).nice() == 10
    # audited as today: the publish by the clerk the server knows
    rows = served.python("from data import audit; import json; "
                         "print(json.dumps([r['outcome'] for r in audit.search(action='发布', limit=5)]))")
    assert "成功" in json.loads(rows)


def test_a_bad_upload_gets_the_row_and_column_messages_through_the_job(served, admin, tmp_path):
    from tests.intake_jobs import find_output, run_job, upload_body

    raw = _hotline_edit(served, tmp_path, {(4, "受理量"): "很多"})
    end_id, keys = _data_page(admin, served.url)
    answer = run_job(_poster(admin, served.url, end_id),
                     upload_body(find_output(keys, "data-upload-report.children", "data-upload.contents"),
                                 _contents(raw), "坏文件.xlsx"), timeout=300)
    text = json.dumps(answer["data-upload-report"], ensure_ascii=False)
    assert "校验未通过：坏文件.xlsx，未发布" in text and "受理量" in text and "很多" in text, text[:2000]
    assert answer["data-upload-token"]["data"] is None


def test_a_change_checked_through_one_node_is_cancelled_through_the_other(served, admin, tmp_path):
    from tests.intake_jobs import find_output, outputs_of, run_job, upload_body

    raw = _hotline_edit(served, tmp_path, {(3, "受理量"): lambda v: v + 5})
    end_id, keys = _data_page(admin, served.url)
    checked = run_job(_poster(admin, served.node_urls[0], end_id),
                      upload_body(find_output(keys, "data-upload-report.children", "data-upload.contents"),
                                  _contents(raw), "热线.xlsx"), timeout=300)
    token = checked["data-upload-token"]["data"]
    staged = served.run_dir / "shared" / "staging" / "cockpit" / f"{token}.duckdb"
    assert token and staged.exists()
    key = find_output([k for k in keys if "data-upload.contents" not in k], "data-upload-report.children",
                      "data-upload-outcome.children", "data-history.children")  # 取消
    body = {"output": key, "outputs": outputs_of(key),
            "inputs": [{"id": "data-upload-cancel", "property": "n_clicks", "value": 1}],
            "state": [{"id": "data-upload-token", "property": "data", "value": token}],
            "changedPropIds": ["data-upload-cancel.n_clicks"]}
    resp = admin.post(served.node_urls[1] + "/_dash-update-component", json=body, timeout=60)
    assert resp.status_code == 200, resp.text[:500]
    assert "已取消" in json.dumps(resp.json()["response"], ensure_ascii=False)
    assert not staged.exists()


def test_a_leader_is_refused_at_submission_and_the_denial_is_audited(served):
    from tests.intake_jobs import find_output, publish_body

    username = _make_user(served, "leader")
    leader = _login(served, username)
    _page(leader, served.url + "/")
    keys = [d["output"] for d in leader.get(served.url + "/_dash-dependencies", timeout=30).json()]
    resp = leader.post(served.url + "/_dash-update-component", timeout=60, json=publish_body(
        find_output(keys, "data-upload-actions.className", "data-version.children"), "0" * 24))
    assert resp.status_code == 403 and "无权访问" in resp.json()["message"]
    denied = served.python("from data import audit; import json; "
                           f"print(json.dumps([r['target'] for r in audit.search(action='拒绝', actor={username!r})]))")
    assert json.loads(denied), denied


# ------------------------------------------------------------------ a publish under load


def _hotline_month(s: Served, tmp: Path) -> Path:
    """The last month of 12345 figures, exported through the CLI and relabelled as the next month."""
    exported = tmp / "hotline-2026-10.xlsx"
    done = subprocess.run([sys.executable, "-m", "data.intake", "export", "hotline", "--month", "2026-10",
                           "--out", str(exported)], cwd=REPO, env=s.env(1), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    book = load_workbook(exported)
    sheet = book["热线月度统计"]
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, 1).value == "2026-10":
            sheet.cell(row, 1).value = "2026-11"
    out = tmp / "hotline-2026-11.xlsx"
    book.save(out)
    return out


def test_a_publish_under_load_reaches_both_nodes_and_no_request_fails(served, admin, tmp_path):
    upload = _hotline_month(served, tmp_path)
    before = [requests.get(u + "/healthz", timeout=30).json()["version"] for u in served.node_urls]
    stop = threading.Event()
    outcomes: list[tuple[str, int | str]] = []
    lock = threading.Lock()
    router = {"output": ".._pages_content.children..._pages_store.data..",
              "outputs": [{"id": "_pages_content", "property": "children"},
                          {"id": "_pages_store", "property": "data"}],
              "changedPropIds": ["_pages_location.pathname"]}

    def load(worker: int) -> None:
        session = requests.Session()
        session.cookies.update(admin.cookies)
        pages = ["/", "/services", "/spending", "/projects"]
        i = worker
        while not stop.is_set():
            path = pages[i % len(pages)]
            i += 1
            try:
                if i % 3 == 0:
                    resp = session.get(served.url + "/healthz", timeout=60)
                elif i % 3 == 1:
                    resp = session.get(served.url + path, timeout=60)
                else:
                    body = {**router, "inputs": [
                        {"id": "_pages_location", "property": "pathname", "value": path},
                        {"id": "_pages_location", "property": "search", "value": ""}]}
                    resp = session.post(served.url + "/_dash-update-component", json=body, timeout=60)
                result: int | str = resp.status_code
            except requests.RequestException as exc:
                result = type(exc).__name__
            with lock:
                outcomes.append((path, result))

    threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(3)
        published = subprocess.run([sys.executable, "-m", "data.intake", "load", str(upload), "--yes"], cwd=REPO,
                                   env={**served.env(1), "COCKPIT_TODAY": "2026-12-15"}, capture_output=True,
                                   text=True, timeout=600)
        assert published.returncode == 0, published.stdout[-2000:] + published.stderr[-2000:]
        switched = time.time()
        seen: list = []
        while time.time() - switched < 10:
            seen = [requests.get(u + "/healthz", timeout=30).json() for u in served.node_urls]
            if all(b["version"] == before[0] + 1 for b in seen):
                break
            time.sleep(0.2)
        reached = time.time() - switched
        time.sleep(2)  # the load goes on across the switch on both nodes
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    assert before[0] == before[1]
    assert [b["version"] for b in seen] == [before[0] + 1] * 2, seen
    assert [b["as_of"] for b in seen] == ["2026-11"] * 2
    assert reached < 10
    failed = [o for o in outcomes if o[1] != 200]
    assert len(outcomes) > 20 and not failed, f"{len(failed)} of {len(outcomes)} requests failed: {failed[:10]}"


# ------------------------------------------------------------------ start again, stop


def test_a_second_start_leaves_what_runs_alone(served):
    before = sorted(served.recorded_pids())
    again = served.serve("start", timeout=600)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "启动节点" not in again.stdout and "准备数据库" not in again.stdout
    assert sorted(served.recorded_pids()) == before
    status = served.serve("status", timeout=60)
    assert status.returncode == 0 and "停止" not in status.stdout, status.stdout



def test_stop_leaves_no_process_running(served):
    pids = served.recorded_pids()
    assert len(pids) == 11  # redis, postgres, 2 nodes, 2 followers, 2 Celery workers, 1 intake worker, beat, nginx
    stopped = served.serve("stop", timeout=300)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "已全部停止" in stopped.stdout
    alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not alive, alive
    assert _ours(served.run_dir, served.pg_dir) == []
    status = served.serve("status", timeout=60)
    assert status.returncode == 3 and "运行" not in status.stdout.split("\n", 1)[1]
