"""审计日志 and 权限清单 in Debian's Chromium: an admin logs in, sees the chain intact and the
rows, filters by user, sees a row edited with SQL named after 重新校验, and opens the
permission matrix. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import text

from data import audit, identity, opstore
from tests.auth_helpers import PASSWORD
from tests.browser.conftest import (
    console_errors,
    csp_violations,
    external,
    requested_urls,
    screenshot,
)
from tests.intake_demo import build_small_demo

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory, own_server):
    """``python app.py`` on a small demo of its own, with an admin and some history in its store."""
    directory = tmp_path_factory.mktemp("admin-browser")
    pointer = build_small_demo(directory)
    store = f"sqlite:///{pointer.with_name(pointer.stem + '.ops.sqlite')}"
    identity.create_user("audit-admin", role="admin", region="360000", display_name="系统管理员",
                         password=PASSWORD, actor="测试", url=store)
    identity.create_user("nc-leader", role="leader", region="360100", display_name="南昌市领导", password=PASSWORD,
                         actor="测试", url=store)
    for i, (actor, action, outcome, target) in enumerate([
            ("nc-leader", "登录成功", "成功", None), ("nc-leader", "页面访问", "成功", "/?region=360100"),
            ("nc-leader", "拒绝", "拒绝", "region=360000"), ("wang", "登录失败", "失败", None),
            ("nc-leader", "导出", "成功", "简报_南昌市_2026-10.pdf")]):
        audit.record(action, actor=actor, role="leader" if actor == "nc-leader" else None, outcome=outcome,
                     target=target, region="360100", month="2026-10" if i % 2 else None, ip="10.1.2.3", url=store)
    opstore.dispose()
    yield own_server(pointer, directory), store
    opstore.dispose()


def _log_in(browser, base: str, username: str) -> None:
    browser.get(base + "/login")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    WebDriverWait(browser, 30).until(lambda d: "/login" not in d.current_url)


def _click_option(browser, label: str) -> bool:
    """Click the open dropdown's option ``label`` (False: not there yet, or re-rendered meanwhile)."""
    try:
        for option in browser.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"):
            if option.text == label:
                option.click()
                return True
    except StaleElementReferenceException:
        pass
    return False


def _grid_rows(browser) -> list[str]:
    try:
        cells = browser.find_elements(By.CSS_SELECTOR, "#admin-audit-grid .ag-center-cols-container [col-id='actor']")
        return [c.text for c in cells]
    except StaleElementReferenceException:  # the grid re-rendered while being read: read again
        return []


def test_an_admin_reads_filters_and_verifies_the_audit_log(admin_server, browser):
    base, store = admin_server
    _log_in(browser, base, "audit-admin")
    requested_urls(browser)
    browser.get(base + "/admin/audit")
    wait = WebDriverWait(browser, 60)
    summary = wait.until(lambda d: d.find_element(By.ID, "admin-audit-summary"))
    assert summary.text.startswith("审计日志完整（")
    wait.until(lambda d: len(_grid_rows(d)) >= 7)
    assert "nc-leader" in _grid_rows(browser) and "wang" in _grid_rows(browser)
    time.sleep(0.5)  # the grid's columns settle
    path = screenshot(browser, "admin_audit")
    assert path.stat().st_size > 20_000

    # filter by user through the dropdown: the rows, the count and the export link follow
    browser.find_element(By.ID, "admin-audit-user").click()
    search = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".dash-dropdown-search"))
    search.send_keys("wang")
    wait.until(lambda d: _click_option(d, "wang"))
    wait.until(lambda d: set(_grid_rows(d)) == {"wang"})
    assert browser.find_element(By.ID, "admin-audit-count").text == "符合条件 1 条"
    assert browser.find_element(By.ID, "admin-audit-export").get_attribute("href").endswith(
        "/admin/audit/export.csv?user=wang")

    # a row edited with SQL is named after 重新校验
    with opstore.engine(store).begin() as con:
        con.execute(text("UPDATE audit_log SET actor = 'someone' WHERE seq = 4"))
    browser.find_element(By.ID, "admin-audit-verify").click()
    problems = wait.until(lambda d: d.find_element(By.ID, "admin-audit-problems"))
    assert "第 4 条审计记录的内容与哈希不符，已被改动" in problems.text
    screenshot(browser, "admin_audit_broken")

    browser.get(base + "/admin/permissions")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#admin-permissions-grid .ag-row"))
    assert "角色权限" in browser.find_element(By.TAG_NAME, "main").text
    time.sleep(0.5)
    screenshot(browser, "admin_permissions")

    assert not external(requested_urls(browser))
    assert not csp_violations(browser)
    errors = [e for e in console_errors(browser) if "favicon" not in e]
    assert not errors, "\n".join(errors)
    # repair the row for the next test (its hash still matches the original content)
    with opstore.engine(store).begin() as con:
        con.execute(text("UPDATE audit_log SET actor = 'nc-leader' WHERE seq = 4"))
    assert audit.check(store).intact


def test_a_leader_cannot_open_the_audit_log(admin_server, browser):
    base, store = admin_server
    _log_in(browser, base, "nc-leader")
    browser.get(base + "/admin/audit")
    WebDriverWait(browser, 30).until(lambda d: "无权" in d.find_element(By.TAG_NAME, "body").text)
    assert not browser.find_elements(By.ID, "admin-audit-grid")
    denial = audit.search(action="拒绝", actor="nc-leader", url=store)[0]
    assert "/admin" in denial["target"]
