"""The permission matrix (权限清单) for compliance review: every account and wall display, its
role, region, department, the pages and actions it may use, and what data that covers.

Read from the one source of access rules, :mod:`data.identity` (``ROLES``, ``ACCESS``,
``area_of``, ``scope_of``), so the export cannot drift from what the guard enforces. Region and
department names come from the analytical file being served. Files: CSV (UTF-8 with a BOM, for
Excel) and XLSX (three sheets: 用户权限, 角色权限, 大屏设备).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from data import identity

# what each area lets its users do (the areas and who may open them: data.identity.ACCESS)
AREA_ACTIONS = {
    "analytical": "查看本范围的指标、地图、明细、考核和预测；下载图表数据和月度简报",
    "screen": "查看数据大屏（只读）",
    "data": "下载模板、导出本范围已发布的数据；上传、填报、发布和回滚本范围的数据",
    "admin": "管理用户和大屏设备令牌；查看、校验和导出审计日志与权限清单",
}
SCREEN_PAGE = ("数据大屏", "/screen")
YES, NO = "可用", "—"
_DEPARTMENTS_SQL = Path(__file__).parent / "intake" / "sql" / "codes_departments.sql"


@dataclass(frozen=True)
class Places:
    """Region and department names (from the analytical file) for the matrix's wording."""

    regions: dict[str, tuple[str, str]]  # code → (name, level)
    departments: dict[str, str]          # code → name

    @classmethod
    def load(cls) -> Places:
        """The names in the database being served (empty where it cannot be read)."""
        import duckdb

        from data import db
        from data.scope import Scope
        from metrics.regions import region_tree, root_region

        unreadable = (LookupError, OSError, duckdb.Error)  # no database yet: codes without names
        try:
            regions = {r.code: (r.name, r.level) for r in region_tree(scope=Scope.province(root_region()))}
        except unreadable:
            regions = {}
        try:
            df = db.query(db.read_sql(_DEPARTMENTS_SQL))
            departments = {str(c): str(n) for c, n in zip(df["code"], df["name"], strict=True)}
        except unreadable:
            departments = {}
        return cls(regions=regions, departments=departments)

    def region_name(self, code: str) -> str:
        found = self.regions.get(code)
        return found[0] if found else f"（未知地区 {code}）"

    def department_name(self, code: str | None) -> str:
        if not code:
            return ""
        return self.departments.get(code, code)

    def scope_text(self, region: str, dept: str | None = None) -> str:
        """What a region (and department) scope covers, in words."""
        found = self.regions.get(region)
        if found is None:
            text = f"地区代码 {region}（当前数据库中没有此地区，看不到任何数据）"
        else:
            name, level = found
            text = {"province": f"{name}全省（全部设区市和县（市、区））",
                    "city": f"{name}及所辖县（市、区）"}.get(level, name)
        if dept:
            text += f"；仅{self.department_name(dept)}的数据"
        return text


ADMIN_PATH = "/admin"


def is_admin(viewer) -> bool:
    """Whether ``viewer`` (a :class:`~data.identity.Principal`, or None) may open the 系统管理 pages:
    the rule of :data:`data.identity.ACCESS`, never a wall display."""
    if viewer is None or getattr(viewer, "is_device", False):
        return False
    return identity.may_open(getattr(viewer, "role", None), ADMIN_PATH)


def _pages(pages: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Page names by area (the wall display counts as a page of its own area)."""
    by_area: dict[str, list[str]] = {area: [] for area in identity.ACCESS}
    for name, path in [*pages, SCREEN_PAGE]:
        area = identity.area_of(path)
        if name not in by_area.setdefault(area, []):
            by_area[area].append(name)
    return by_area


def _status(user: identity.User, now: datetime) -> str:
    if not user.active:
        return "已停用"
    if user.locked_until is not None and user.locked_until > now:
        return f"锁定至 {user.locked_until:%Y-%m-%d %H:%M}"
    return "启用"


def _login(user: identity.User) -> str:
    ways = []
    if user.has_password:
        ways.append("密码 + 动态验证码" if user.has_totp else "密码")
    if user.oidc_subject:
        ways.append("统一身份认证")
    return "、".join(ways) or "（无登录方式）"


def user_rows(users: Iterable[identity.User], places: Places, pages: Iterable[tuple[str, str]], *,
              now: datetime | None = None) -> list[dict]:
    """One row per account: who, role, region, department, and what they may open and do."""
    now = now or datetime.now()
    by_area = _pages(pages)
    rows = []
    for u in users:
        areas = {area: u.active and u.role in roles for area, roles in identity.ACCESS.items()}
        allowed = [a for a, ok in areas.items() if ok]
        dept = u.dept_code if u.role == "dept" else None
        rows.append({
            "kind": "用户", "username": u.username, "display_name": u.display_name, "role": u.role,
            "role_name": identity.ROLES.get(u.role, u.role), "region": u.region_code,
            "region_name": places.region_name(u.region_code), "dept": dept or "",
            "dept_name": places.department_name(dept), "status": _status(u, now), "login": _login(u),
            **{f"area_{a}": YES if ok else NO for a, ok in areas.items()},
            "pages": "、".join(p for a in allowed for p in by_area.get(a, [])) or "无",
            "actions": "；".join(AREA_ACTIONS.get(a, identity.AREA_NAMES.get(a, a)) for a in allowed) or "无",
            "scope": places.scope_text(u.region_code, dept) if u.active else "无（账号已停用）",
        })
    return rows


def device_rows(devices: Iterable[identity.Device], places: Places) -> list[dict]:
    """One row per wall-display token: its region and playlist; read-only, the wall only."""
    rows = []
    for d in devices:
        active = d.revoked_at is None
        areas = {area: active and area in identity.DEVICE_AREAS for area in identity.ACCESS}
        rows.append({
            "kind": "大屏设备", "username": f"设备 {d.token_id}", "display_name": d.name, "role": "device",
            "role_name": "大屏设备", "region": d.region_code, "region_name": places.region_name(d.region_code),
            "dept": "", "dept_name": "",
            "status": "有效" if active else f"已吊销（{d.revoked_at:%Y-%m-%d %H:%M}）", "login": "设备令牌",
            **{f"area_{a}": YES if ok else NO for a, ok in areas.items()},
            "pages": SCREEN_PAGE[0] if active else "无",
            "actions": (AREA_ACTIONS["screen"] + (f"；播放列表 {d.playlist}" if d.playlist else ""))
            if active else "无",
            "scope": places.scope_text(d.region_code) if active else "无（令牌已吊销）",
        })
    return rows


def columns() -> list[tuple[str, str]]:
    """(key, Chinese header) of a matrix row, in order."""
    return [("kind", "账号类型"), ("username", "用户名"), ("display_name", "姓名/名称"), ("role_name", "角色"),
            ("region", "地区代码"), ("region_name", "地区"), ("dept", "部门代码"), ("dept_name", "部门"),
            ("status", "状态"), ("login", "登录方式"),
            *[(f"area_{a}", identity.AREA_NAMES.get(a, a)) for a in identity.ACCESS],
            ("pages", "可用页面"), ("actions", "可执行操作"), ("scope", "数据范围")]


def role_rows() -> list[dict]:
    """The rule itself: for each area, which roles (and wall displays) may open it."""
    out = []
    for area, roles in identity.ACCESS.items():
        row = {"area": identity.AREA_NAMES.get(area, area), "actions": AREA_ACTIONS.get(area, "")}
        row.update({identity.ROLES[r]: YES if r in roles else NO for r in identity.ROLES})
        row["大屏设备"] = YES if area in identity.DEVICE_AREAS else NO
        out.append(row)
    return out


def matrix(pages: Iterable[tuple[str, str]], *, places: Places | None = None, url: str | None = None) -> list[dict]:
    """Every account, then every wall display, as matrix rows."""
    places = places or Places.load()
    pages = list(pages)
    return user_rows(identity.list_users(url=url), places, pages) + \
        device_rows(identity.list_device_tokens(url=url), places)


def _cell(value) -> str:
    from data.audit import csv_cell

    return csv_cell(value)


def write_csv(rows: list[dict], out: TextIO) -> None:
    """The per-account matrix as CSV (open ``out`` with ``encoding="utf-8-sig"``)."""
    cols = columns()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([h for _, h in cols])
    for r in rows:
        writer.writerow([_cell(r.get(k)) for k, _ in cols])


def write_xlsx(rows: list[dict], out: BinaryIO, *, generated: datetime | None = None, by: str = "") -> None:
    """The matrix as a workbook: 用户权限 (per account), 角色权限 (the rule), 大屏设备."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    generated = generated or datetime.now()
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DCE6F2")

    def sheet(ws, headers: list[str], body: list[list], widths: list[int]) -> None:
        ws.append(headers)
        for c in ws[1]:
            c.font, c.fill = head_font, head_fill
        for line in body:
            ws.append([_cell(v) for v in line])
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = w
        for row in ws.iter_rows(min_row=2):
            for c in row:
                c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"

    cols = columns()
    wb = Workbook()
    users_ws = wb.active
    users_ws.title = "用户权限"
    width = {"actions": 48, "pages": 40, "scope": 36, "display_name": 16, "region_name": 14, "status": 14,
             "login": 16}
    people = [r for r in rows if r["kind"] == "用户"]
    sheet(users_ws, [h for _, h in cols], [[r.get(k) for k, _ in cols] for r in people],
          [width.get(k, 11) for k, _ in cols])
    roles = role_rows()
    role_headers = ["功能区", "可执行操作", *identity.ROLES.values(), "大屏设备"]
    sheet(wb.create_sheet("角色权限"), role_headers,
          [[r["area"], r["actions"], *[r[h] for h in role_headers[2:]]] for r in roles],
          [12, 56, *[10] * (len(role_headers) - 2)])
    devices = [r for r in rows if r["kind"] == "大屏设备"]
    device_cols = [("username", "设备"), ("display_name", "名称"), ("region", "地区代码"), ("region_name", "地区"),
                   ("status", "状态"), ("actions", "可执行操作"), ("scope", "数据范围")]
    sheet(wb.create_sheet("大屏设备"), [h for _, h in device_cols], [[r.get(k) for k, _ in device_cols]
                                                                    for r in devices], [10, 18, 10, 14, 22, 48, 36])
    wb["用户权限"].oddFooter.left.text = f"导出时间 {generated:%Y-%m-%d %H:%M}" + (f" · 导出人 {by}" if by else "")
    wb.properties.creator = "领导驾驶舱"
    wb.save(out)
