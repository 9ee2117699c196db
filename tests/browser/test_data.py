"""The 数据管理 page in Debian's Chromium: a file uploaded through the page is checked, previewed,
confirmed and published, and the overview shows the new figure without a server restart."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from data import db, opstore
from data.scope import Scope
from metrics.engine import kpi_value
from metrics.format import fmt_value
from tests.browser.conftest import (
    browser_account,
    console_errors,
    external,
    requested_urls,
    screenshot,
)
from tests.intake_demo import build_small_demo, export_book, header_index

pytestmark = pytest.mark.browser

COUNTY = "360102"  # 东湖区
CARD = "#overview-card-hotline_on_time_rate .kpi-value"
OVERVIEW = f"/?region={COUNTY}&month=2026-10&period=month"


@pytest.fixture(scope="module")
def data_server(tmp_path_factory, own_server):
    """``python app.py`` on its own small demo (the test publishes: the shared demo stays as it is)."""
    directory = tmp_path_factory.mktemp("data-browser")
    pointer = build_small_demo(directory)
    browser_account(pointer, role="reporter")  # the 数据管理 page is for 报送员 and 管理员
    return own_server(pointer, directory), pointer


@pytest.fixture
def same_db(data_server, monkeypatch):
    """The test process reads the served database too (to know what the card should say)."""
    monkeypatch.setenv("COCKPIT_DB", str(data_server[1]))
    monkeypatch.delenv("COCKPIT_VIEWER_SCOPE", raising=False)
    db.reset_reader()
    yield data_server[0]
    db.reset_reader()
    opstore.dispose()


def _card(driver, base: str) -> str:
    driver.get(base + OVERVIEW)
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, CARD))
    return driver.find_element(By.CSS_SELECTOR, CARD).text


def _files(tmp_path):
    """The province's 2026-10 hotline month as exported, edited by hand in 东湖区's rows (the
    first ones): a good file (fewer tickets closed on time, and a county name that does not
    match its code, to confirm) and a bad one."""
    book = export_book("hotline")
    ws = book["热线月度统计"]
    cols = header_index(ws)
    assert {ws.cell(r, cols["区县代码"]).value for r in (2, 3, 4, 5)} == {COUNTY}
    ws.cell(2, cols["按时办结量"]).value = ws.cell(2, cols["按时办结量"]).value // 2
    ws.cell(3, cols["区县名称"]).value = "西湖区"
    good = tmp_path / "东湖区热线2026年10月.xlsx"
    book.save(good)
    ws.cell(4, cols["受理量"]).value = "很多"
    ws.cell(5, cols["统计月份"]).value = "2026-13"
    bad = tmp_path / "东湖区热线（有误）.xlsx"
    book.save(bad)
    return good, bad


def _upload(driver, path) -> None:
    driver.find_element(By.CSS_SELECTOR, "#data-upload input[type=file]").send_keys(str(path))


def _show(driver, element_id: str) -> None:
    driver.execute_script("document.getElementById(arguments[0]).scrollIntoView({block: 'start'});"
                          " window.scrollBy(0, -70);", element_id)
    time.sleep(0.4)


def test_an_uploaded_file_is_checked_previewed_published_and_shown_on_the_overview(same_db, browser, tmp_path):
    base = same_db
    scope = Scope.province("360000")
    before = kpi_value("hotline_on_time_rate", COUNTY, "2026-10", "month", scope=scope).value
    assert _card(browser, base) == fmt_value(before, "%")
    good, bad = _files(tmp_path)

    browser.get(base + "/data")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "data-version-number"))
    assert "v1" in browser.find_element(By.ID, "data-version-number").text

    _upload(browser, bad)
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, "data-upload-problems"))
    _show(browser, "data-upload-panel")
    screenshot(browser, "data-upload-report")
    report = browser.find_element(By.ID, "data-upload-report").text
    assert "校验未通过" in report and "受理量" in report and "很多" in report and "统计月份" in report
    assert not browser.find_element(By.ID, "data-upload-publish").is_displayed()

    _upload(browser, good)
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, "data-diff"))
    _show(browser, "data-upload-panel")
    screenshot(browser, "data-upload-preview")
    report = browser.find_element(By.ID, "data-upload-report").text
    assert "校验通过" in report and "12345 按时办结率" in report and "南昌市" in report and "西湖区" in report
    assert [" ".join(browser.find_element(By.ID, f"data-total-{k}").text.split())
            for k in ("added", "changed", "removed")] == \
        ["新增 0 行", "修改 1 行", "删除 0 行"]
    publish = browser.find_element(By.ID, "data-upload-publish")
    assert not publish.is_enabled()  # the warning must be confirmed first
    browser.find_element(By.CSS_SELECTOR, "#data-upload-confirm input[type=checkbox]").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "data-upload-publish").is_enabled())
    browser.find_element(By.ID, "data-upload-publish").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, "data-upload-published"))
    assert "已发布：当前数据版本 v2（此前 v1）" in browser.find_element(By.ID, "data-upload-published").text
    assert "v2" in browser.find_element(By.ID, "data-version-number").text
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")  # the history ends the page
    time.sleep(0.4)
    screenshot(browser, "data-history")
    assert "已发布" in browser.find_element(By.ID, "data-history-table").text
    errors = console_errors(browser)

    after = kpi_value("hotline_on_time_rate", COUNTY, "2026-10", "month", scope=scope).value
    assert after < before
    assert _card(browser, base) == fmt_value(after, "%") != fmt_value(before, "%")  # same server, no restart
    assert external(requested_urls(browser)) == []
    assert errors + console_errors(browser) == []


def _edit_cell(driver, grid_id: str, row: int, col: str, text: str) -> None:
    """Type into one grid cell (single-click edit) and commit it with Enter."""
    cell = driver.find_element(By.CSS_SELECTOR, f"#{grid_id} .ag-row[row-id='{row}'] .ag-cell[col-id='{col}']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    cell.click()
    time.sleep(0.3)
    editor = driver.switch_to.active_element
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.BACK_SPACE, text, Keys.ENTER)
    time.sleep(0.3)


def test_the_task_form_marks_problem_cells_then_publishes_the_corrected_row(same_db, browser):
    base = same_db
    browser.get(base + "/data")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#data-tasks-grid .ag-row"))
    _edit_cell(browser, "data-tasks-grid", 4, "progress", "150")
    _edit_cell(browser, "data-tasks-grid", 5, "evidence_url", "见附件")
    browser.find_element(By.ID, "data-tasks-submit").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, "data-tasks-problems"))
    bad = browser.find_elements(By.CSS_SELECTOR, "#data-tasks-grid .data-cell--error")
    assert sorted((c.find_element(By.XPATH, "..").get_attribute("row-id"), c.get_attribute("col-id")) for c in bad) == \
        [("4", "progress"), ("5", "evidence_url")]
    problems = browser.find_element(By.ID, "data-tasks-problems").text
    assert "第 4 行「完成进度」" in problems and "第 5 行「佐证材料链接」" in problems
    _show(browser, "data-tasks-panel")
    screenshot(browser, "data-form-problems")

    _edit_cell(browser, "data-tasks-grid", 4, "progress", "90")
    _edit_cell(browser, "data-tasks-grid", 5, "evidence_url", "")
    browser.find_element(By.ID, "data-tasks-submit").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#data-tasks-report #data-diff"))
    assert not browser.find_elements(By.CSS_SELECTOR, "#data-tasks-grid .data-cell--error")
    browser.find_element(By.ID, "data-tasks-publish").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, "data-tasks-published"))
    browser.get(base + "/tasks?task=4")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "tasks-row-4"))
    assert "90%" in browser.find_element(By.ID, "tasks-row-4").text
    assert console_errors(browser) == []


def test_rollback_asks_first_then_switches_the_version(same_db, browser):
    browser.get(same_db + "/data")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "data-history-table"))
    current = int(browser.find_element(By.ID, "data-version-number").text.split("v")[-1])
    target = current - 1
    button = browser.find_element(By.XPATH, f"//button[normalize-space()='回滚至 v{target}']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "data-rollback-confirm").is_displayed())
    assert f"确认将数据回滚至 v{target}" in browser.find_element(By.ID, "data-rollback-question").text
    assert f"v{current}" in browser.find_element(By.ID, "data-version-number").text  # nothing yet
    browser.find_element(By.ID, "data-rollback-confirm").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "data-rollback-done"))
    assert f"v{target}" in browser.find_element(By.ID, "data-version-number").text
    assert not browser.find_element(By.ID, "data-rollback-confirm").is_displayed()
    assert console_errors(browser) == []
