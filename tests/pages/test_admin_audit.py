"""审计日志 and 权限清单 pages, called directly as an admin (and as others, who are refused):
the chain status at the top, the filters, the CSV export of what they select (read back and
checked by hand), and the permission matrix."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import dash
import pytest
from dash import no_update
from flask import g
from sqlalchemy import text

import app
from data import audit, db, identity, opstore
from pages import admin_audit as page
from pages import admin_permissions as perm_page
from tests.intake_demo import build_small_demo
from tests.pages.tree import by_id, texts
from web import admin_routes
from web.session import viewing_as


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    return build_small_demo(tmp_path_factory.mktemp("admin-audit"))


@pytest.fixture(autouse=True)
def admin_env(small_demo, tmp_path, monkeypatch):
    """The small demo for names; an empty operational store of the test's own."""
    monkeypatch.setenv("COCKPIT_DB", str(small_demo))
    monkeypatch.setenv("COCKPIT_OPSTORE_URL", f"sqlite:///{tmp_path / 'ops.sqlite'}")
    monkeypatch.delenv("COCKPIT_AUDIT_RETENTION_DAYS", raising=False)
    db.reset_reader()
    yield
    db.reset_reader()
    opstore.dispose()


def _principal(username: str, role: str, region: str = "360000", dept: str | None = None):
    user = identity.create_user(username, role=role, region=region, dept=dept, actor="测试")
    return identity.principal_for_user(user)


@pytest.fixture
def admin():
    with viewing_as(_principal("admin01", "admin")) as p:
        yield p


@pytest.fixture
def history(monkeypatch):
    """A small log: 张三 and 李四 on three days (and the two account creations of the fixtures)."""
    now = datetime.now()
    moments = iter([now - timedelta(days=3), now - timedelta(days=2), now - timedelta(days=2), now - timedelta(days=1),
                    now])
    monkeypatch.setattr(audit, "_now", lambda: next(moments, datetime.now()))
    audit.record("登录成功", actor="zhangsan", role="leader", outcome="成功", region="360102", ip="10.0.0.1")
    audit.record("导出", actor="zhangsan", role="leader", outcome="成功", target="=cmd|' /C calc'!A0",
                 region="360102", month="2026-10")
    audit.record("登录失败", actor="lisi", outcome="失败", ip="10.0.0.2", detail={"reason": "密码错误"})
    audit.record("页面访问", actor="lisi", role="analyst", outcome="成功", target="/services?region=360100",
                 region="360100")
    audit.record("登录成功", actor="zhangsan", role="leader", outcome="成功", region="360102")
    monkeypatch.setattr(audit, "_now", datetime.now)
    return now


def _day(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d")


def _csv(href: str, viewer) -> list[dict]:
    """The export route's CSV for ``href``, as ``viewer`` (the guard's place in a request)."""
    with app.server.test_request_context(href):
        g.cockpit_viewer = viewer  # what the login guard sets for the request
        resp = admin_routes.audit_export_response()
        body = b"".join(resp.iter_encoded())
    assert resp.status_code == 200, body.decode()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


# ---------------------------------------------------------------- 审计日志


def test_the_audit_page_is_registered_under_admin():
    reg = dash.page_registry["pages.admin_audit"]
    assert (reg["path"], reg["name"]) == ("/admin/audit", "审计日志")
    assert identity.area_of(reg["path"]) == "admin" and identity.ACCESS["admin"] == {"admin"}
    reg = dash.page_registry["pages.admin_permissions"]
    assert (reg["path"], reg["name"]) == ("/admin/permissions", "权限清单")
    assert identity.area_of(reg["path"]) == "admin"


def test_an_admin_sees_the_chain_status_first_then_the_newest_rows(admin, history):
    layout = page.layout()
    status = by_id(layout, "admin-audit-status-body")
    assert by_id(layout, "admin-audit-summary").children == "审计日志完整（6 条）"  # 5 + the admin's creation
    assert "audit-status--ok" in status.className
    assert "保留期 180 天" in texts(status)
    grid = by_id(layout, "admin-audit-grid")
    assert [r["seq"] for r in grid.rowData] == [6, 5, 4, 3, 2, 1]
    first = grid.rowData[-1]
    assert (first["actor"], first["action"], first["target"]) == ("测试", "用户创建", "admin01")
    row = next(r for r in grid.rowData if r["seq"] == 2)
    assert (row["actor"], row["role"], row["action"], row["region"], row["ip"]) == \
        ("zhangsan", "leader", "登录成功", "东湖区（360102）", "10.0.0.1")
    assert by_id(layout, "admin-audit-count").children == "符合条件 6 条"
    users = [o["value"] for o in by_id(layout, "admin-audit-user").options]
    actions = [o["value"] for o in by_id(layout, "admin-audit-action").options]
    assert users == sorted(["测试", "zhangsan", "lisi"]) and set(actions) == \
        {"用户创建", "登录成功", "导出", "登录失败", "页面访问"}
    assert by_id(layout, "admin-audit-export").href == "/admin/audit/export.csv"


def test_the_filters_select_by_user_action_and_dates(admin, history):
    rows, count, href, error, _ = page.filter_audit("zhangsan", None, None, None)
    assert [r["seq"] for r in rows] == [6, 3, 2] and count == "符合条件 3 条" and error == ""
    assert href == "/admin/audit/export.csv?user=zhangsan"

    rows, count, href, *_ = page.filter_audit("zhangsan", "登录成功", None, None)
    assert [r["seq"] for r in rows] == [6, 2]
    assert href == "/admin/audit/export.csv?user=zhangsan&action=%E7%99%BB%E5%BD%95%E6%88%90%E5%8A%9F"

    two_days_ago = _day(history - timedelta(days=2))
    rows, count, href, *_ = page.filter_audit(None, None, two_days_ago, two_days_ago)  # one day, both ends included
    assert [(r["seq"], r["actor"]) for r in rows] == [(4, "lisi"), (3, "zhangsan")]
    assert href == f"/admin/audit/export.csv?start={two_days_ago}&end={two_days_ago}"

    rows, *_ = page.filter_audit(None, "登录失败", _day(history - timedelta(days=5)), None)
    assert [(r["seq"], r["detail"]) for r in rows] == [(4, '{"reason": "密码错误"}')]
    rows, count, *_ = page.filter_audit("nobody", None, None, None)
    assert rows == [] and count == "符合条件 0 条"


@pytest.mark.parametrize("inputs, message", [
    ((None, None, "2026-13-01", None), "日期格式应为 YYYY-MM-DD"),
    ((None, None, "2026-10-05", "2026-10-01"), "开始日期应不晚于结束日期"),
    (({"$ne": 1}, None, None, None), "筛选条件应为文字"),
    ((None, ["登录"], None, None), "筛选条件应为文字"),
    ((None, None, 20261001, None), "日期格式应为 YYYY-MM-DD"),
])
def test_malformed_filters_get_a_chinese_message_and_keep_the_table(admin, history, inputs, message):
    rows, count, href, error, cls = page.filter_audit(*inputs)
    assert (rows, count, href) == (no_update, no_update, no_update)
    assert message in error and cls == "error-banner"


def test_the_csv_export_holds_exactly_the_filtered_rows(admin, history):
    two_days_ago = _day(history - timedelta(days=2))
    _, _, href, *_ = page.filter_audit("zhangsan", None, two_days_ago, _day(history))
    table = _csv(href, admin)
    assert list(table[0]) == ["序号", "时间", "用户", "角色", "操作", "对象", "地区代码", "地区", "月份", "结果",
                              "IP 地址", "详情", "前序哈希", "哈希"]
    # oldest first; 张三's three rows minus the one three days ago
    assert [(r["序号"], r["用户"], r["操作"], r["地区代码"], r["地区"], r["月份"]) for r in table] == [
        ("3", "zhangsan", "导出", "360102", "东湖区", "2026-10"),
        ("6", "zhangsan", "登录成功", "360102", "东湖区", ""),
    ]
    assert table[0]["对象"] == "'=cmd|' /C calc'!A0"  # a formula is text in a spreadsheet, never run
    stored = {r["seq"]: r for r in audit.search()}
    assert table[1]["哈希"] == stored[6]["hash"] and table[1]["前序哈希"] == stored[5]["hash"]
    assert datetime.fromisoformat(table[1]["时间"]) == stored[6]["at"]
    # the export is itself in the log, with what it selected
    last = audit.search(limit=1)[0]
    assert (last["action"], last["actor"], last["outcome"]) == ("审计导出", "admin01", "成功")
    assert '"actor": "zhangsan"' in last["detail"] and '"rows": 2' in last["detail"]


def test_the_unfiltered_export_has_every_row_and_an_empty_one_the_header(admin, history):
    assert [r["序号"] for r in _csv("/admin/audit/export.csv", admin)] == ["1", "2", "3", "4", "5", "6"]
    assert _csv("/admin/audit/export.csv?user=nobody", admin) == []


def test_reverify_names_a_row_edited_with_sql(admin, history):
    with opstore.engine().begin() as con:
        con.execute(text("UPDATE audit_log SET outcome = '成功' WHERE seq = 4"))
    status = page.reverify(1)
    assert "audit-status--broken" in status.className
    assert by_id(status, "admin-audit-summary").children == "审计日志校验未通过：发现 1 处问题（共 6 条）"
    assert texts(by_id(status, "admin-audit-problems")) == "第 4 条审计记录的内容与哈希不符，已被改动"
    assert by_id(page.layout(), "admin-audit-summary").children.startswith("审计日志校验未通过")


def test_the_url_can_carry_the_filters(admin, history):
    layout = page.layout(user="lisi", action="登录失败")
    assert [r["seq"] for r in by_id(layout, "admin-audit-grid").rowData] == [4]
    assert by_id(layout, "admin-audit-user").value == "lisi"
    bad = page.layout(start="yesterday")
    assert "日期格式应为" in by_id(bad, "admin-audit-error").children
    assert len(by_id(bad, "admin-audit-grid").rowData) == 6


@pytest.mark.parametrize("role, dept", [("leader", None), ("analyst", None), ("dept", "D01"), ("reporter", None)])
def test_anyone_but_an_admin_is_refused_and_the_denial_recorded(history, role, dept):
    with viewing_as(_principal(f"user-{role}", role, "360100", dept)):
        layout = page.layout()
        assert texts(layout).endswith("无权访问：审计日志仅限管理员查看")
        rows, _count, _href, error, _ = page.filter_audit("zhangsan", None, None, None)
        assert rows == [] and error == page.DENIED
        assert page.reverify(1).children == page.DENIED
        assert "无权访问" in texts(perm_page.layout())
    denials = audit.search(action="拒绝")
    assert [r["actor"] for r in denials] == [f"user-{role}"] * 4
    assert [r["target"] for r in denials][::-1] == ["/admin/audit", "/admin/audit（筛选）", "/admin/audit（校验）",
                                                    "/admin/permissions"]


def test_nobody_logged_in_is_refused():
    layout = page.layout()
    assert "无权访问" in texts(layout)
    assert audit.search(action="拒绝")[0]["actor"] == "匿名"


# ---------------------------------------------------------------- 权限清单


def test_the_permission_page_lists_the_rule_and_every_account(admin):
    identity.create_user("leader-nc", role="leader", region="360100", display_name="南昌市领导", actor="测试")
    identity.create_user("dept-dh", role="dept", region="360102", dept="D01", actor="测试")
    identity.create_user("gone", role="analyst", region="360000", actor="测试")
    identity.deactivate_user("gone", actor="测试")
    identity.create_device_token("大厅大屏", region="360100", playlist="regions=cities&dwell=20", actor="admin01")
    layout = perm_page.layout()
    assert "4 个账号、1 台大屏设备" in texts(layout)

    roles = by_id(layout, "admin-permissions-roles")
    cells = [[texts(td) for td in tr.children] for tr in roles.children[1].children]
    heads = [texts(th) for th in roles.children[0].children.children]
    assert heads[:7] == ["功能区", "领导", "分析员", "部门用户", "报送员", "管理员", "大屏设备"]
    by_area = {c[0]: c[1:7] for c in cells}
    assert by_area["系统管理"] == ["—", "—", "—", "—", "可用", "—"]
    assert by_area["数据管理"] == ["—", "—", "—", "可用", "可用", "—"]
    assert by_area["数据大屏"] == ["可用"] * 6

    rows = {r["username"]: r for r in by_id(layout, "admin-permissions-grid").rowData}
    assert set(rows) == {"admin01", "leader-nc", "dept-dh", "gone", "设备 1"}
    nc = rows["leader-nc"]
    assert (nc["role_name"], nc["region_name"], nc["status"], nc["area_admin"], nc["area_data"]) == \
        ("领导", "南昌市", "启用", "—", "—")
    assert nc["scope"] == "南昌市及所辖县（市、区）" and "总览" in nc["pages"] and "审计日志" not in nc["pages"]
    dh = rows["dept-dh"]
    assert dh["region_name"] == "东湖区" and dh["dept"] == "D01" and dh["scope"].startswith("东湖区；仅")
    assert rows["admin01"]["scope"] == "江西省全省（全部设区市和县（市、区））"
    assert "审计日志" in rows["admin01"]["pages"] and "权限清单" in rows["admin01"]["pages"]
    gone = rows["gone"]
    assert (gone["status"], gone["pages"], gone["area_analytical"], gone["scope"]) == \
        ("已停用", "无", "—", "无（账号已停用）")
    wall = rows["设备 1"]
    assert (wall["kind"], wall["pages"], wall["area_screen"], wall["area_analytical"]) == \
        ("大屏设备", "数据大屏", "可用", "—")
    assert "regions=cities&dwell=20" in wall["actions"]
