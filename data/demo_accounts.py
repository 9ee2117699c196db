"""Demo accounts: on the first start against the demo database, one account per role.

Only a database the demo generator built (its ``meta`` table names a ``generator_version``)
gets them, and only while the operational store has no account at all. Each password is
generated, printed once and written to ``demo-accounts.txt`` beside the database pointer
(mode 0600: only its owner can read it). A real deployment starts with
``python -m cockpit.users create-admin`` instead.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from data import db, identity
from data.scope import Scope

FILE_NAME = "demo-accounts.txt"


def accounts_file() -> Path:
    """Where the demo passwords are written: beside the database pointer."""
    return db.pointer_path().parent / FILE_NAME


def is_demo_database() -> bool:
    """Whether the database being served was built by the demo generator (``data.demo``)."""
    try:
        row = db.cursor().execute("SELECT value FROM meta WHERE key = 'generator_version'").fetchone()
    except Exception:  # noqa: BLE001 — no meta table, no file: not the demo
        return False
    return bool(row and row[0])


def _plan() -> list[dict]:
    """One account per role, at the demo province, its first city and that city's first county."""
    from metrics.regions import get_region, root_region, visible_children
    from metrics.spending_view import departments

    province = root_region()
    everything = Scope.province(province)
    city = visible_children(province, scope=everything)[0]
    county = next((c for c in visible_children(city.code, scope=everything) if c.code == "360102"),
                  visible_children(city.code, scope=everything)[0])
    depts = departments(scope=everything)
    dept_code = "D01" if "D01" in depts else next(iter(depts))
    pname = get_region(province, scope=everything).name
    return [
        {"username": "demo-leader", "role": "leader", "region": province, "display_name": f"{pname}领导（演示）"},
        {"username": "demo-analyst", "role": "analyst", "region": city.code,
         "display_name": f"{city.name}分析员（演示）"},
        {"username": "demo-county", "role": "leader", "region": county.code,
         "display_name": f"{county.name}领导（演示）"},
        {"username": "demo-dept", "role": "dept", "region": province, "dept": dept_code,
         "display_name": f"{pname}{depts[dept_code]}（演示）"},
        {"username": "demo-reporter", "role": "reporter", "region": province,
         "display_name": f"{pname}报送员（演示）"},
        {"username": "demo-admin", "role": "admin", "region": province, "display_name": f"{pname}管理员（演示）"},
    ]


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    os.chmod(path, 0o600)


def ensure_demo_accounts(*, out=None) -> list[dict] | None:
    """Create the demo accounts if this is the demo database and nobody has an account yet;
    print them (``out``, default stdout) and write the file. Return them, or None if nothing was done."""
    if identity.count_users() > 0 or not is_demo_database():
        return None
    made = []
    for plan in _plan():
        password = identity.generate_password(plan["username"])
        identity.create_user(plan["username"], role=plan["role"], region=plan["region"], dept=plan.get("dept"),
                             display_name=plan["display_name"], password=password, actor="演示数据初始化")
        made.append({**plan, "password": password})
    path = accounts_file()
    lines = ["# 领导驾驶舱 · 演示账号（首次启动时生成；仅本文件属主可读。正式部署请删除这些账号）",
             "# 角色\t用户名\t密码\t范围"]
    lines += [f"{identity.ROLES[a['role']]}\t{a['username']}\t{a['password']}\t{a['display_name']}" for a in made]
    _write_private(path, "\n".join(lines) + "\n")
    stream = out or sys.stdout
    print("\n已为演示数据库创建演示账号（密码只显示这一次；另存于 "
          f"{path}，仅本用户可读）：", file=stream)
    for a in made:
        print(f"  {identity.ROLES[a['role']]:<5}\t{a['username']:<14}\t{a['password']}\t{a['display_name']}",
              file=stream)
    print("", file=stream, flush=True)
    return made
