"""The 项目 page in Debian's Chromium: offline, restored from its URL, cross-filtered by a
tier click, and opening a project's detail from the Gantt and the alert table."""

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


def wait_page(driver, text="数字化项目建设管理", timeout=30):
    WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element(HEAD, text))
    for sel in ("#projects-funnel", "#projects-tier", "#projects-gantt"):
        WebDriverWait(driver, timeout).until(lambda d, s=sel: d.execute_script(DRAWN, s))
    time.sleep(0.4)


def click_bar(driver, wrapper: str, index: int, trace: int = 0):
    """Hover then click bar ``index`` of ``trace`` in the plot inside ``wrapper`` (plotly takes
    the clicked point from its hover state)."""
    bar = driver.find_elements(By.CSS_SELECTOR, f"{wrapper} g.trace.bars")[trace].find_elements(
        By.CSS_SELECTOR, "g.point path")[index]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", bar)
    ActionChains(driver).move_to_element(bar).pause(0.3).move_by_offset(1, 0).pause(0.5).click().perform()


def test_the_page_loads_offline_with_no_console_errors(server, browser):
    browser.get(server + "/projects")
    wait_page(browser, "数字化项目建设管理 · 江西省")
    screenshot(browser, "projects-1920x1080")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#projects-cards .kpi-card")) == 8
    body = browser.find_element(By.TAG_NAME, "body").text
    for text in ["在库项目数", "上云率", "截至2026年10月末", "生命周期各阶段", "终止（另计）", "规则预警", "政策依据",
                 "建设单位项目进度"]:
        assert text in body
    assert browser.find_elements(By.CSS_SELECTOR, "#projects-alerts-grid .ag-row")
    urls = requested_urls(browser)
    assert urls and external(urls) == []
    assert console_errors(browser) == []


def test_a_reloaded_url_restores_the_same_view(server, browser):
    browser.get(server + f"/projects?region=360700&month=2025-06&tier={quote('较大')}&funnel=budget")
    wait_page(browser, "数字化项目建设管理 · 赣州市")
    head = browser.find_element(By.CSS_SELECTOR, ".page-head").text
    funnel = browser.find_element(By.ID, "projects-funnel").text
    chips = browser.find_element(By.ID, "projects-rule-summary").text
    browser.refresh()
    wait_page(browser, "数字化项目建设管理 · 赣州市")
    assert browser.find_element(By.CSS_SELECTOR, ".page-head").text == head
    assert browser.find_element(By.ID, "projects-funnel").text == funnel
    assert browser.find_element(By.ID, "projects-rule-summary").text == chips
    assert "截至2025年6月末" in head
    assert "较大" in browser.find_element(By.ID, "projects-tier-filter").text
    assert browser.find_element(By.CSS_SELECTOR, ".projects-funnel-toggle input[value='budget']").is_selected()


def test_clicking_a_tier_cross_filters_the_funnel_and_the_alerts(server, browser):
    browser.get(server + "/projects?region=360000&month=2026-10")
    wait_page(browser)
    chips_before = browser.find_element(By.ID, "projects-rule-all").text
    funnel_before = browser.find_element(By.ID, "projects-funnel").text
    click_bar(browser, "#projects-tier", 3)  # 省重点
    WebDriverWait(browser, 20).until(lambda d: "tier=" in d.current_url)
    assert quote("省重点") in browser.current_url
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "projects-tier-filter"))
    wait_page(browser)
    assert "省重点项目" in browser.find_element(By.ID, "projects-funnel").find_element(By.XPATH, "..").text
    assert browser.find_element(By.ID, "projects-rule-all").text != chips_before
    assert browser.find_element(By.ID, "projects-funnel").text != funnel_before
    browser.find_element(By.ID, "projects-tier-clear").click()
    WebDriverWait(browser, 20).until(lambda d: "tier=" not in d.current_url)
    assert console_errors(browser) == []


def test_a_gantt_bar_and_an_alert_row_open_the_project_detail(server, browser):
    browser.get(server + "/projects?region=360000&month=2026-10")
    wait_page(browser)
    click_bar(browser, "#projects-gantt", 0)
    WebDriverWait(browser, 20).until(lambda d: "project=" in d.current_url)
    drawer = WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "projects-detail")))
    for text in ["项目编号", "建设资金", "生命周期", "合规情况", "在办预警"]:
        assert text in drawer.text
    browser.find_element(By.ID, "projects-detail-close").click()
    WebDriverWait(browser, 20).until(lambda d: "project=" not in d.current_url)
    WebDriverWait(browser, 20).until(lambda d: not d.find_elements(By.ID, "projects-detail"))
    wait_page(browser)
    first = browser.find_element(By.CSS_SELECTOR, "#projects-alerts-grid .ag-row[row-index='0']")
    project = first.get_attribute("row-id").split("|")[0]
    first.find_element(By.CSS_SELECTOR, "[col-id='view']").click()
    WebDriverWait(browser, 20).until(lambda d: f"project={project}" in d.current_url)
    drawer = WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "projects-detail")))
    assert project in drawer.text
    time.sleep(0.5)
    screenshot(browser, "projects-detail-1920x1080")
    assert console_errors(browser) == []


def test_the_layout_fits_1366x768(server, browser):
    browser.set_window_size(1366, 768)
    browser.get(server + f"/projects?tier={quote('一般')}")
    wait_page(browser)
    screenshot(browser, "projects-1366x768")
    # panels side by side do not overlap, and nothing overflows the page horizontally
    funnel = browser.find_element(By.ID, "projects-funnel").find_element(By.XPATH, "..").rect
    tier = browser.find_element(By.ID, "projects-tier").find_element(By.XPATH, "..").rect
    assert funnel["x"] + funnel["width"] <= tier["x"] or funnel["y"] + funnel["height"] <= tier["y"]
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    browser.get(server + "/projects?project=" + _a_project(browser))
    WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "projects-detail")))
    time.sleep(0.5)
    screenshot(browser, "projects-detail-1366x768")
    drawer = browser.find_element(By.ID, "projects-detail").rect
    assert drawer["x"] + drawer["width"] <= 1366


def _a_project(driver) -> str:
    row = driver.find_element(By.CSS_SELECTOR, "#projects-alerts-grid .ag-row[row-index='0']")
    return row.get_attribute("row-id").split("|")[0]


def test_an_unknown_tier_in_the_url_gets_a_chinese_message(server, browser):
    browser.get(server + "/projects?tier=abc")
    err = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "projects-error")))
    assert "未知的项目档次" in err.text
    assert "Traceback" not in browser.page_source
