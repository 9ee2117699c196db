"""The 系统管理 downloads and pages through the whole stack (login guard, hardening, routes):
admins get the audit CSV and the permission matrix as CSV and XLSX; anonymous requests get 401,
other roles and wall displays 403, each denial and each export in the audit log."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from urllib.parse import unquote

import openpyxl
import pytest

import app
from data import audit, db, identity, opstore
from tests.auth_helpers import anonymous_client
from tests.intake_demo import build_small_demo
from tests.web.dash_requests import LEAKS, UPDATE, page_json, ready, render
from web.auth import COOKIE, DEVICE_HEADER

ROUTES = ["/admin/audit/export.csv", "/admin/permissions/export.csv", "/admin/permissions/export.xlsx"]


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    return build_small_demo(tmp_path_factory.mktemp("admin-routes"))


@pytest.fixture(autouse=True)
def admin_env(small_demo, tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_DB", str(small_demo))
    monkeypatch.setenv("COCKPIT_OPSTORE_URL", f"sqlite:///{tmp_path / 'ops.sqlite'}")
    db.reset_reader()
    yield
    db.reset_reader()
    opstore.dispose()


def _client(username: str | None = None, role: str = "admin", region: str = "360000", dept: str | None = None):
    """A test client with a session of a new user (None: anonymous)."""
    client = anonymous_client(app.server)
    if username:
        user = identity.create_user(username, role=role, region=region, dept=dept, actor="测试")
        client.set_cookie(COOKIE, identity.create_session(user))
    return client


@pytest.fixture
def admin():
    return _client("admin01")


def _csv(resp) -> list[dict]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "text/csv" and resp.headers["Cache-Control"] == "no-store"
    raw = resp.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def _filter_callback(client, user=None, action=None, start=None, end=None):
    """POST the page's filter callback as the renderer would."""
    output = next(k for k in app.app.callback_map if "admin-audit-grid.rowData" in k)
    outputs = [{"id": part.split(".")[0], "property": part.split(".")[1]}
               for part in output.strip(".").split("...")]
    body = {"output": output, "outputs": outputs, "changedPropIds": ["admin-audit-user.value"],
            "inputs": [{"id": "admin-audit-user", "property": "value", "value": user},
                       {"id": "admin-audit-action", "property": "value", "value": action},
                       {"id": "admin-audit-dates", "property": "start_date", "value": start},
                       {"id": "admin-audit-dates", "property": "end_date", "value": end}]}
    return client.post(UPDATE, json=body)


# ---------------------------------------------------------------- who may download


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_downloads_get_401(route):
    resp = _client().get(route)
    assert resp.status_code == 401 and "请先登录" in resp.get_data(as_text=True)


@pytest.mark.parametrize("role, dept", [("leader", None), ("analyst", None), ("dept", "D01"), ("reporter", None)])
def test_other_roles_get_403_and_the_denial_is_recorded(role, dept):
    client = _client(f"u-{role}", role, "360100", dept)
    for route in ROUTES:
        resp = client.get(route)
        assert resp.status_code == 403, route
        assert not LEAKS.search(resp.get_data(as_text=True))
    denials = audit.search(action="拒绝")
    assert sorted(r["target"] for r in denials) == sorted(ROUTES)
    assert {r["actor"] for r in denials} == {f"u-{role}"}


def test_a_wall_display_gets_403():
    _, token = identity.create_device_token("大厅", region="360100", actor="admin")
    client = anonymous_client(app.server)
    for route in ROUTES:
        assert client.get(route, headers={DEVICE_HEADER: token}).status_code == 403


# ---------------------------------------------------------------- the audit CSV


def test_an_admin_downloads_the_filtered_audit_log(admin, monkeypatch):
    now = datetime.now()
    moments = iter([now - timedelta(days=4), now - timedelta(days=2), now - timedelta(days=1)])
    monkeypatch.setattr(audit, "_now", lambda: next(moments, datetime.now()))
    audit.record("登录成功", actor="zhangsan", role="leader", outcome="成功", region="360102")
    audit.record("导出", actor="zhangsan", role="leader", outcome="成功", target="简报.pdf", region="360102",
                 month="2026-10")
    audit.record("导出", actor="lisi", role="analyst", outcome="成功", target="@SUM(A1)", region="360100")
    monkeypatch.setattr(audit, "_now", datetime.now)
    start = (now - timedelta(days=3)).strftime("%Y-%m-%d")
    resp = admin.get(f"/admin/audit/export.csv?action=导出&start={start}&end={now:%Y-%m-%d}")
    table = _csv(resp)
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    assert unquote(resp.headers["Content-Disposition"].split("''")[1]).startswith("审计日志_")
    assert [(r["用户"], r["对象"], r["地区"], r["月份"]) for r in table] == [
        ("zhangsan", "简报.pdf", "东湖区", "2026-10"), ("lisi", "'@SUM(A1)", "南昌市", "")]

    assert [r["用户"] for r in _csv(admin.get("/admin/audit/export.csv?user=zhangsan"))] == ["zhangsan"] * 2
    exports = audit.search(action="审计导出")
    assert [r["actor"] for r in exports] == ["admin01", "admin01"]
    assert '"rows": 2' in exports[1]["detail"] and '"action": "导出"' in exports[1]["detail"]


@pytest.mark.parametrize("query, message", [
    ("start=2026-02-30", "日期格式应为 YYYY-MM-DD"),
    ("start=2026-10-05&end=2026-10-01", "开始日期应不晚于结束日期"),
    ("end=<script>", "日期格式应为 YYYY-MM-DD"),
])
def test_bad_filters_are_a_400_in_chinese(admin, query, message):
    resp = admin.get(f"/admin/audit/export.csv?{query}")
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    assert "<script>" not in resp.headers.get("Content-Type", "") and resp.mimetype == "text/plain"


# ---------------------------------------------------------------- the permission matrix


def test_an_admin_downloads_the_permission_matrix_as_csv_and_xlsx(admin):
    identity.create_user("leader-nc", role="leader", region="360100", display_name="南昌市领导", actor="测试")
    identity.create_user("dept-dh", role="dept", region="360102", dept="D01", actor="测试")
    identity.create_device_token("大厅大屏", region="360100", playlist="regions=cities", actor="admin01")

    table = _csv(admin.get("/admin/permissions/export.csv"))
    assert list(table[0])[:10] == ["账号类型", "用户名", "姓名/名称", "角色", "地区代码", "地区", "部门代码", "部门",
                                   "状态", "登录方式"]
    rows = {r["用户名"]: r for r in table}
    assert set(rows) == {"admin01", "leader-nc", "dept-dh", "设备 1"}
    nc = rows["leader-nc"]
    assert (nc["姓名/名称"], nc["角色"], nc["地区"], nc["系统管理"], nc["数据管理"], nc["分析页面"]) == \
        ("南昌市领导", "领导", "南昌市", "—", "—", "可用")
    assert nc["数据范围"] == "南昌市及所辖县（市、区）" and "审计日志" not in nc["可用页面"]
    assert rows["admin01"]["系统管理"] == "可用" and "审计日志" in rows["admin01"]["可用页面"]
    assert rows["dept-dh"]["部门代码"] == "D01" and rows["dept-dh"]["数据范围"].startswith("东湖区；仅")
    assert rows["设备 1"]["账号类型"] == "大屏设备" and rows["设备 1"]["可用页面"] == "数据大屏"

    resp = admin.get("/admin/permissions/export.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert unquote(resp.headers["Content-Disposition"].split("''")[1]).endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["用户权限", "角色权限", "大屏设备"]
    people = list(book["用户权限"].iter_rows(values_only=True))
    assert people[0][:4] == ("账号类型", "用户名", "姓名/名称", "角色") and len(people) == 4
    roles = {r[0]: r for r in book["角色权限"].iter_rows(min_row=2, values_only=True)}
    assert roles["系统管理"][2:8] == ("—", "—", "—", "—", "可用", "—")
    walls = list(book["大屏设备"].iter_rows(min_row=2, values_only=True))
    assert walls[0][1:4] == ("大厅大屏", "360100", "南昌市")

    assert [r["target"] for r in audit.search(action="权限导出")] == ["权限清单 XLSX", "权限清单 CSV"]


# ---------------------------------------------------------------- the pages and their callbacks


def test_only_an_admin_renders_the_admin_pages(admin):
    ready(admin)
    for path, words in (("/admin/audit", "审计日志完整"), ("/admin/permissions", "角色权限")):
        resp = render(admin, path)
        assert resp.status_code == 200 and words in page_json(resp)
    leader = _client("leader01", "leader", "360100")
    ready(leader)
    for path in ("/admin/audit", "/admin/permissions"):
        resp = render(leader, path)
        assert resp.status_code == 403 and "审计日志完整" not in resp.get_data(as_text=True)


def test_the_filter_callback_answers_admins_only(admin):
    audit.record("登录成功", actor="zhangsan", role="leader", outcome="成功")
    resp = _filter_callback(admin, user="zhangsan")
    assert resp.status_code == 200
    data = resp.get_json()["response"]
    rows = data["admin-audit-grid"]["rowData"]
    assert [r["actor"] for r in rows] == ["zhangsan"]
    assert data["admin-audit-export"]["href"] == "/admin/audit/export.csv?user=zhangsan"

    leader = _client("leader02", "leader", "360100")
    resp = _filter_callback(leader, user="zhangsan")
    assert resp.status_code == 403 and "zhangsan" not in resp.get_data(as_text=True)
    assert _filter_callback(_client(), user="zhangsan").status_code == 401

    # forged values are a Chinese message, never a 500
    resp = _filter_callback(admin, user={"$ne": None}, start="2026-13-40")
    assert resp.status_code == 200
    assert "筛选条件应为文字" in json.dumps(resp.get_json(), ensure_ascii=False)
