"""The 资金 page in Debian's Chromium: offline, restored from its URL, cross-filtered by a
department bar, and drilled from a unit to its projects and a project's payments."""

import time
from urllib.parse import quote

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import console_errors, external, requested_urls, screenshot

pytestmark = pytest.mark.browser

HEAD = (By.CSS_SELECTOR, ".page-head h2")
DRAWN = "const g = document.querySelector(arguments[0] + ' .js-plotly-plot'); return !!(g && g._fullLayout);"


def wait_page(driver, text="资金预算执行", timeout=30):
    WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element(HEAD, text))
    for sel in ("#spending-curve", "#spending-dept", "#spending-fund", "#spending-kind"):
        WebDriverWait(driver, timeout).until(lambda d, s=sel: d.execute_script(DRAWN, s))
    WebDriverWait(driver, timeout).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#spending-units .ag-row"))
    time.sleep(0.4)


def click_bar(driver, wrapper: str, index: int):
    """Hover then click bar ``index`` (plotly takes the clicked point from its hover state)."""
    bar = driver.find_elements(By.CSS_SELECTOR, f"{wrapper} g.trace.bars g.point path")[index]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", bar)
    ActionChains(driver).move_to_element(bar).pause(0.3).move_by_offset(1, 0).pause(0.5).click().perform()


def click_first_cell(driver, grid: str, col: str):
    cell = WebDriverWait(driver, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f"{grid} .ag-row[row-index='0'] .ag-cell[col-id='{col}']"))[0]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    text = cell.text
    cell.click()
    return text


def test_the_page_loads_offline_with_no_console_errors(server, browser):
    browser.get(server + "/spending")
    wait_page(browser, "资金预算执行 · 江西省")
    screenshot(browser, "spending-1920x1080")
    for panel, name in (("spending-dept", "spending-splits-1920x1080"), ("spending-units", "spending-units-1920x1080")):
        browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", browser.find_element(By.ID, panel))
        time.sleep(0.3)
        screenshot(browser, name)
    body = browser.find_element(By.TAG_NAME, "body").text
    for text in ["年度预算", "累计支付", "预算执行率", "与序时进度差", "运维经费占比", "应收回资金", "结余资金",
                 "序时进度", "累计", "数据截至", "按资金来源", "项目单位预算执行"]:
        assert text in body
    assert len(browser.find_elements(By.CSS_SELECTOR, "#spending-cards .kpi-card")) == 7
    urls = requested_urls(browser)
    assert urls and external(urls) == []
    assert console_errors(browser) == []


def test_the_page_fits_a_1366_screen(server, browser):
    browser.set_window_size(1366, 768)
    browser.get(server + "/spending?month=2025-06")
    wait_page(browser)
    screenshot(browser, "spending-1366x768")
    curve = browser.find_element(By.ID, "spending-curve")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", curve)
    time.sleep(0.3)
    screenshot(browser, "spending-curve-1366x768")
    dept = browser.find_element(By.ID, "spending-dept")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", dept)
    time.sleep(0.3)
    screenshot(browser, "spending-splits-1366x768")
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 1366  # no horizontal scrolling
    assert console_errors(browser) == []


def test_a_reloaded_url_restores_the_same_view(server, browser):
    browser.get(server + "/spending?region=360700&month=2025-06&dept=D19&show=all")
    wait_page(browser, "资金预算执行 · 赣州市")
    head = browser.find_element(By.CSS_SELECTOR, ".page-head").text
    cards = browser.find_element(By.ID, "spending-cards").text
    chips = browser.find_element(By.ID, "spending-chips").text
    units = browser.find_element(By.ID, "spending-units").text
    browser.refresh()
    wait_page(browser, "资金预算执行 · 赣州市")
    assert browser.find_element(By.CSS_SELECTOR, ".page-head").text == head
    assert browser.find_element(By.ID, "spending-cards").text == cards
    assert browser.find_element(By.ID, "spending-chips").text == chips
    assert browser.find_element(By.ID, "spending-units").text == units
    assert "2025年1—6月（累计）" in head and "部门：政务服务管理局" in chips
    assert browser.find_element(By.CSS_SELECTOR, ".spending-show input[value='all']").is_selected()


def test_a_department_bar_click_cross_filters_the_page_and_the_chip_removes_it(server, browser):
    browser.get(server + "/spending?month=2025-06")
    wait_page(browser)
    cards = browser.find_element(By.ID, "spending-cards").text
    fund = browser.execute_script(
        "return JSON.stringify(document.querySelector('#spending-fund .js-plotly-plot').data[0].x)")
    click_bar(browser, "#spending-dept", 0)
    WebDriverWait(browser, 20).until(lambda d: "dept=" in d.current_url)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "spending-chip-dept"))
    wait_page(browser)
    assert browser.find_element(By.ID, "spending-cards").text != cards
    assert browser.execute_script(
        "return JSON.stringify(document.querySelector('#spending-fund .js-plotly-plot').data[0].x)") != fund
    x = browser.find_element(By.CSS_SELECTOR, "#spending-chip-dept button")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", x)
    x.click()
    WebDriverWait(browser, 20).until(lambda d: "dept=" not in d.current_url)
    WebDriverWait(browser, 20).until(lambda d: not d.find_elements(By.ID, "spending-chip-dept"))
    wait_page(browser)
    assert browser.find_element(By.ID, "spending-cards").text == cards
    assert console_errors(browser) == []


def test_a_unit_click_lists_its_projects_and_a_project_click_its_payments(server, browser):
    browser.get(server + "/spending?region=360100&month=2025-06&show=all")
    wait_page(browser, "资金预算执行 · 南昌市")
    unit = click_first_cell(browser, "#spending-units", "owner_unit")
    WebDriverWait(browser, 20).until(lambda d: "unit=" + quote(unit) in d.current_url)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#spending-unit-projects .ag-row"))
    assert f"项目单位：{unit}" in browser.find_element(By.ID, "spending-chips").text
    project = click_first_cell(browser, "#spending-unit-projects", "name")
    WebDriverWait(browser, 20).until(lambda d: "project=" in d.current_url)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "spending-project-link"))
    panel = browser.find_element(By.ID, "spending-project").text
    assert project in panel and "批复以来累计支付" in panel
    link = browser.find_element(By.ID, "spending-project-link").get_attribute("href")
    assert "/projects?project=" in link
    drill = browser.find_element(By.ID, "spending-drill")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", drill)
    time.sleep(0.5)
    screenshot(browser, "spending-drill-1920x1080")
    browser.refresh()  # the drill-through is in the URL
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "spending-project-link"))
    assert project in browser.find_element(By.ID, "spending-project").text
    assert console_errors(browser) == []


def test_an_unknown_department_gets_a_chinese_message(server, browser):
    browser.get(server + "/spending?dept=D99")
    err = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "spending-error")))
    assert "未知的部门代码或无权查看：D99" in err.text
    assert "Traceback" not in browser.page_source
