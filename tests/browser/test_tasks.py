"""The 督办 page in Debian's Chromium: offline, cross-filtered by a bar click, restored from its URL."""

import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import console_errors, external, requested_urls, screenshot

pytestmark = pytest.mark.browser

BAR_POINT = """
const g = document.querySelector('#tasks-lead .js-plotly-plot');
if (!g || !g._fullData) return null;
const trace = g._fullData.findIndex(t => t.name === arguments[0]);
const i = Array.from(g._fullData[trace].y).indexOf(arguments[1]);
const groups = g.querySelectorAll('g.trace.bars');
return groups[trace].querySelectorAll('g.point path')[i];
"""


def wait_heading(driver, text, timeout=30):
    WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".page-head h2"), text))


def click(driver, element_id):
    """Click an element, again if a re-render replaced it under the pointer."""
    WebDriverWait(driver, 20, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.ID, element_id).click() or True)


def click_bar(driver, trace: str, unit: str):
    """Hover, then click the ``trace`` segment of ``unit``'s bar (plotly clicks what it hovers)."""
    def attempt(d):
        bar = d.execute_script(BAR_POINT, trace, unit)
        if bar is None:
            return False
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", bar)
        ActionChains(d).move_to_element(bar).pause(0.3).move_by_offset(1, 0).pause(0.5).click().perform()
        return True

    WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException,)).until(attempt)


def row_ids(driver) -> list[str]:
    """The ids of the table's rows (read in one script: the table may be re-rendering)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#tasks-table tbody tr')).map(r => r.id)")


def test_the_tasks_page_loads_offline_with_the_twelve_tasks(server, browser):
    browser.get(server + "/tasks?month=2023-08&task=6")
    wait_heading(browser, "重点任务督办 · 江西省")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(BAR_POINT, "逾期", "省政府办公厅"))
    time.sleep(0.5)
    screenshot(browser, "tasks-1920x1080")
    assert len(row_ids(browser)) == 12
    overdue = browser.find_element(By.ID, "tasks-row-6")
    assert "tasks-row--overdue" in overdue.get_attribute("class") and "逾期31天" in overdue.text
    assert "启动省级数字政府决策指挥中心门户平台建设" in browser.find_element(By.ID, "tasks-detail").text
    body = browser.find_element(By.TAG_NAME, "body").text
    for text in ["截至2023年8月31日", "各牵头单位任务数", "任务总数", "长期任务"]:
        assert text in body
    urls = requested_urls(browser)
    assert urls and external(urls) == []
    assert console_errors(browser) == []


def test_a_click_on_a_lead_unit_bar_filters_the_table(server, browser):
    browser.get(server + "/tasks?month=2026-10")
    wait_heading(browser, "重点任务督办 · 江西省")
    click_bar(browser, "逾期", "省政务服务办")
    WebDriverWait(browser, 20).until(lambda d: "lead=" in d.current_url)
    WebDriverWait(browser, 20).until(lambda d: row_ids(d) == ["tasks-row-4", "tasks-row-7"])
    assert "筛选：省政务服务办" in browser.find_element(By.CSS_SELECTOR, ".tasks-panel-table h3").text
    assert "省政务服务办" in browser.find_element(By.CSS_SELECTOR, ".tasks-filter-lead").text
    assert console_errors(browser) == []


def test_a_card_filters_by_status_and_a_reloaded_url_restores_the_view(server, browser):
    browser.get(server + "/tasks?month=2026-10")
    wait_heading(browser, "重点任务督办 · 江西省")
    click(browser, "tasks-card-overdue")
    WebDriverWait(browser, 20).until(lambda d: row_ids(d) == ["tasks-row-4", "tasks-row-6"])
    assert "status=" in browser.current_url
    click(browser, "tasks-link-4")
    WebDriverWait(browser, 20).until(EC.text_to_be_present_in_element((By.ID, "tasks-detail"), "四、推动数据汇集共享"))
    table, detail = browser.find_element(By.ID, "tasks-table").text, browser.find_element(By.ID, "tasks-detail").text
    browser.refresh()
    wait_heading(browser, "重点任务督办 · 江西省")
    WebDriverWait(browser, 20).until(EC.text_to_be_present_in_element((By.ID, "tasks-detail"), "四、推动数据汇集共享"))
    assert browser.find_element(By.ID, "tasks-table").text == table
    assert browser.find_element(By.ID, "tasks-detail").text == detail
    assert "tasks-card--active" in browser.find_element(By.ID, "tasks-card-overdue").get_attribute("class")


def test_the_tasks_page_fits_a_1366_screen(server, browser):
    browser.set_window_size(1366, 768)
    browser.get(server + "/tasks?month=2023-08&task=6")
    wait_heading(browser, "重点任务督办 · 江西省")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(BAR_POINT, "逾期", "省政府办公厅"))
    time.sleep(0.5)
    screenshot(browser, "tasks-1366x768")
    # no horizontal scrolling, and the table sits beside the detail panel without overlapping it
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    table = browser.find_element(By.CSS_SELECTOR, ".tasks-panel-table").rect
    side = browser.find_element(By.CSS_SELECTOR, ".tasks-side").rect
    assert table["x"] + table["width"] <= side["x"]


def test_an_unknown_status_in_the_url_gets_a_chinese_message(server, browser):
    browser.get(server + "/tasks?status=拖延")
    err = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "tasks-error")))
    assert "未知的任务状态：'拖延'" in err.text
    assert "Traceback" not in browser.page_source
