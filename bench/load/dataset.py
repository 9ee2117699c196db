"""The benchmarks' data: the demo database at a scale, a private copy per run, its accounts and
wall token, and the file that publishes the next month.

* The demo is built once per scale into ``/tmp/cockpit-bench-{scale}x`` by
  ``python -m data.demo --scale N --end-month 2026-09``, under ``flock /tmp/cockpit-bench-{scale}x.lock``
  (other helpers may build or copy the same directory at the same time; ``flock(1)`` and this
  module take the same lock). It is never served or written: every run works on a copy.
* The publish file is 2026-09 of the services family exported in the template's own format
  (``python -m data.intake export``, from a served copy: the server has brought it up to the code's
  schema) with its 统计月份 set to 2026-10: loading it publishes a new month. It is kept per scale and
  per fingerprint of the intake specs (a changed template needs a new file).
* Accounts are made with ``python -m cockpit.users`` in the copy's operational store.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROVINCE = "360000"  # the demo's province (江西)
END_MONTH = "2026-09"  # the base database ends here …
NEW_MONTH = "2026-10"  # … and the run publishes this month in the middle of the load
POINTER = "cockpit.duckdb"

# (key, user name, role, region, display name): the session mix's viewers and their scopes
ACCOUNTS = (
    ("province", "bench-province", "leader", "360000", "压测省领导"),
    ("city", "bench-city", "leader", "360700", "压测市领导"),
    ("county", "bench-county", "leader", "360102", "压测县领导"),
    ("analyst", "bench-analyst", "analyst", "360000", "压测分析员"),
)
WALL_PLAYLIST = "regions=cities&dwell=10"


class BenchError(RuntimeError):
    """A benchmark cannot run (the message says why, in Chinese)."""


def cache_dir(scale: int) -> Path:
    return Path(f"/tmp/cockpit-bench-{scale}x")


@contextmanager
def locked(scale: int):
    """``flock /tmp/cockpit-bench-{scale}x.lock``: one builder (or copier) of a scale at a time."""
    with open(f"/tmp/cockpit-bench-{scale}x.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(args: list[str], env: dict, log, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, **kw)
    if log is not None:
        log(f"$ {' '.join(args[:6])}{' …' if len(args) > 6 else ''} → {out.returncode}")
    return out


def _env(pointer: Path, extra: dict | None = None) -> dict:
    return {**os.environ, **(extra or {}), "COCKPIT_DB": str(pointer)}


_PROBE = """
import json
from data.scope import Scope
from metrics.regions import as_of, root_region, visible_children
root = root_region()
everything = Scope.province(root)
kids = {c: [r.code for r in visible_children(c, scope=everything)] for c in {root, "360700", "360100"}}
print(json.dumps({"root": root, "as_of": as_of()[1].strftime("%Y-%m"), "children": kids}))
"""


def probe(pointer: Path, extra_env: dict | None = None) -> dict:
    """The database's province, last month and the children of the regions the accounts use."""
    out = _run([sys.executable, "-c", _PROBE], _env(pointer, extra_env), None)
    if out.returncode != 0:
        raise BenchError(f"无法读取数据库 {pointer}：{out.stderr.strip()[-500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_base(scale: int, log=print) -> Path:
    """The shared demo at ``scale`` ending 2026-09 (built under the lock if missing) and its publish file."""
    root = cache_dir(scale)
    pointer = root / POINTER
    with locked(scale):
        root.mkdir(parents=True, exist_ok=True)
        if not (pointer.exists() or pointer.is_symlink()):
            log(f"生成 {scale}× 演示数据库（{root}，一次性，约 {1 if scale == 1 else 2} 分钟）…")
            out = _run([sys.executable, "-m", "data.demo", "--db", str(pointer), "--scale", str(scale),
                        "--end-month", END_MONTH], _env(pointer), log)
            if out.returncode != 0:
                raise BenchError(f"演示数据库生成失败：{out.stderr.strip()[-800:]}")
        info = probe(pointer)
        if info["as_of"] != END_MONTH or info["root"] != PROVINCE:
            raise BenchError(f"{pointer} 的数据截至 {info['as_of']}（省 {info['root']}），基准要求截至 {END_MONTH} 的"
                             f" {PROVINCE}：可能已被他人发布新月份。请删除 {root} 后重建")
    return pointer


def _spec_hash() -> str:
    """The intake specs' fingerprint: a template with other columns needs another file."""
    digest = hashlib.sha256()
    for spec in sorted((REPO / "data" / "intake" / "specs").glob("*.toml")):
        digest.update(spec.name.encode() + b"\0" + spec.read_bytes())
    return digest.hexdigest()[:10]


def publish_file(scale: int) -> Path:
    return cache_dir(scale) / f"services-{NEW_MONTH}-{_spec_hash()}.xlsx"


def ensure_publish_file(scale: int, pointer: Path, extra_env: dict | None = None, log=print) -> Path:
    """The file that publishes 2026-10, exported from ``pointer`` (the served copy, which the server
    has brought up to this code's schema at its start) once per scale and intake specs."""
    target = publish_file(scale)
    with locked(scale):
        if not target.exists():
            _write_publish_file(target, pointer, extra_env, log)
    return target


def _write_publish_file(target: Path, pointer: Path, extra_env: dict | None, log) -> None:
    from openpyxl import load_workbook

    exported = target.with_name(f"services-{END_MONTH}.export.xlsx")
    log(f"导出 {END_MONTH} 政务服务数据，改为 {NEW_MONTH}，作为压测中发布的新月份 …")
    out = _run([sys.executable, "-m", "data.intake", "export", "services", "--month", END_MONTH,
                "--out", str(exported)], _env(pointer, extra_env), log)
    if out.returncode != 0:
        raise BenchError(f"导出失败：{out.stderr.strip()[-800:]}")
    book = load_workbook(exported)
    sheet = book["月度统计"]
    column = next(c.column for c in sheet[1] if c.value == "统计月份")
    for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
        if cell.value == END_MONTH:
            cell.value = NEW_MONTH
    partial = target.with_suffix(".partial.xlsx")
    book.save(partial)
    os.replace(partial, target)  # another reader sees the whole file or none
    exported.unlink()


def make_run_copy(scale: int, run_dir: Path) -> Path:
    """A private copy of the shared demo (pointer, versions, operational store) in ``run_dir``."""
    base = cache_dir(scale)
    run_dir.mkdir(parents=True, exist_ok=True)
    with locked(scale):
        for item in base.iterdir():
            if not item.name.startswith("cockpit.") or item.name.endswith(".secret"):
                continue
            target = run_dir / item.name
            if item.is_symlink():
                target.symlink_to(os.readlink(item))  # relative: cockpit.versions/vNNNNNN.duckdb
            elif item.is_dir():
                shutil.copytree(item, target, symlinks=True)
            else:
                shutil.copy2(item, target)
    return run_dir / POINTER


_PASSWORD = re.compile(r"初始密码（[^）]*）：(\S+)")
_TOKEN = re.compile(r"^(dev_\S+)$", re.M)


def create_accounts(pointer: Path, extra_env: dict | None = None, log=print) -> dict:
    """The four viewers (password login) and one wall token in the operational store beside ``pointer``.

    An account that exists already (a server started elsewhere) gets a new generated password."""
    env = _env(pointer, extra_env)
    users = [sys.executable, "-m", "cockpit.users"]
    accounts = {}
    for key, username, role, region, name in ACCOUNTS:
        out = _run([*users, "create", "--username", username, "--role", role, "--region", region, "--name", name,
                    "--generate"], env, log, stdin=subprocess.DEVNULL)
        if out.returncode != 0 and "已存在" in out.stderr:
            out = _run([*users, "password", "--username", username, "--generate"], env, log,
                       stdin=subprocess.DEVNULL)
        found = _PASSWORD.search(out.stdout)
        if out.returncode != 0 or not found:
            raise BenchError(f"无法创建账号 {username}：{(out.stderr or out.stdout).strip()[-500:]}")
        accounts[key] = {"username": username, "password": found.group(1), "role": role, "region": region}
    out = _run([*users, "token", "create", "--name", "压测大屏", "--region", PROVINCE, "--playlist", WALL_PLAYLIST],
               env, log)
    token = _TOKEN.search(out.stdout)
    if out.returncode != 0 or not token:
        raise BenchError(f"无法创建大屏设备令牌：{(out.stderr or out.stdout).strip()[-500:]}")
    return {"accounts": accounts, "wall_token": token.group(1)}
