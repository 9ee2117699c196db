"""The 预测 page in Debian's Chromium: bands drawn, a working what-if, offline, restored from its URL."""

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import console_errors, csp_violations, external, requested_urls, screenshot

pytestmark = pytest.mark.browser

TRACES = """
const g = document.querySelector('#forecast-graph .js-plotly-plot');
if (!g || !g._fullData) return null;
const drawn = [...g.querySelectorAll('path.js-fill')].filter(p => (p.getAttribute('d') || '').length > 20);
return {names: g._fullData.map(t => t.name), fills: drawn.length,
        points: g._fullData.map(t => (t.x || []).length)};
"""


def wait_chart(driver, timeout=90):
    """The first visit fits the models (cached afterwards): allow for it."""
    WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".page-head h2"), "预测"))
    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(TRACES))


def test_the_forecast_draws_its_bands_offline_without_errors(server, browser):
    browser.get(server + "/forecast")
    state = wait_chart(browser)
    assert state["names"] == ["95% 区间", "80% 区间", "网上办件率（当月）", "预测", "目标"]
    assert state["fills"] == 2  # the two bands are filled shapes in the SVG
    assert state["points"][3] == 6  # six forecast months by default
    body = browser.find_element(By.TAG_NAME, "body").text
    for text in ["年底达到目标的概率为", "今后每月需", "回测", "Naive2", "区间覆盖率", "情景推演"]:
        assert text in body
    time.sleep(0.5)
    screenshot(browser, "forecast-1920x1080")
    urls = requested_urls(browser)
    assert urls and external(urls) == []
    assert console_errors(browser) == []
    assert csp_violations(browser) == []  # Dash, Plotly and the map run under the CSP


def test_the_page_is_served_with_a_csp_and_a_chinese_404(server, browser):
    import urllib.request

    with urllib.request.urlopen(server + "/forecast", timeout=30) as resp:
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'self'" in csp
        assert resp.headers["X-Frame-Options"] == "SAMEORIGIN" and "Python" not in resp.headers["Server"]
    browser.get(server + "/no-such-page")
    WebDriverWait(browser, 30).until(EC.presence_of_element_located((By.ID, "not-found-message")))
    assert "页面不存在" in browser.find_element(By.TAG_NAME, "body").text
    assert csp_violations(browser) == []
    assert all("status of 404" in e for e in console_errors(browser))  # the page itself answers 404


def test_moving_the_what_if_slider_changes_the_year_end_figure(server, browser):
    browser.get(server + "/forecast?kpi=online_handling_rate")
    wait_chart(browser)
    result = browser.find_element(By.ID, "forecast-whatif-result")
    before = result.text
    assert before.startswith("若今后每月提高 0.0 个百分点")
    thumb = browser.find_element(By.CSS_SELECTOR, "#forecast-whatif-pp [role='slider']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", thumb)
    thumb.click()
    thumb.send_keys(*([Keys.ARROW_RIGHT] * 10))  # +1.0 pp, step 0.1
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "forecast-whatif-result").text != before)
    WebDriverWait(browser, 30).until(
        EC.text_to_be_present_in_element((By.ID, "forecast-whatif-result"), "若今后每月提高 1.0 个百分点"))
    after = browser.find_element(By.ID, "forecast-whatif-result").text
    assert after.split("预计为 ")[1].split("（")[0] != before.split("预计为 ")[1].split("（")[0]
    browser.find_element(By.CSS_SELECTOR, "#forecast-whatif-mode input[value='flat']").click()
    WebDriverWait(browser, 30).until(
        EC.text_to_be_present_in_element((By.ID, "forecast-whatif-result"), "（每月相同）"))
    assert console_errors(browser) == []
    assert csp_violations(browser) == []


def test_a_reloaded_url_restores_the_kpi_region_and_horizon(server, browser):
    url = server + "/forecast?region=360700&kpi=budget_execution_rate&h=12"
    browser.get(url)
    state = wait_chart(browser)
    assert state["points"][3] == 12
    head = browser.find_element(By.CSS_SELECTOR, ".page-head").text
    side = browser.find_element(By.ID, "forecast-attainment").text
    assert "赣州市" in head and "预算执行率（累计）" in browser.find_element(By.TAG_NAME, "body").text
    browser.refresh()
    wait_chart(browser)
    assert browser.find_element(By.CSS_SELECTOR, ".page-head").text == head
    assert browser.find_element(By.ID, "forecast-attainment").text == side


def test_changing_the_horizon_updates_the_url_and_the_chart(server, browser):
    browser.get(server + "/forecast")
    wait_chart(browser)
    browser.find_element(By.CSS_SELECTOR, ".forecast-horizon input[value='18']").click()
    WebDriverWait(browser, 30).until(lambda d: "h=18" in d.current_url)
    WebDriverWait(browser, 90).until(lambda d: (d.execute_script(TRACES) or {"points": [0] * 4})["points"][3] == 18)


def test_the_layout_holds_at_1366x768(server, browser):
    browser.set_window_size(1366, 768)
    browser.get(server + "/forecast?kpi=budget_execution_rate&h=12")
    wait_chart(browser)
    time.sleep(0.5)
    screenshot(browser, "forecast-1366x768")
    chart = browser.find_element(By.CSS_SELECTOR, ".forecast-chart-panel").rect
    side = browser.find_element(By.CSS_SELECTOR, ".forecast-side").rect
    assert chart["x"] + chart["width"] <= side["x"]  # side by side, no overlap
    assert console_errors(browser) == []


def test_an_unknown_horizon_gets_a_chinese_message(server, browser):
    browser.get(server + "/forecast?h=7")
    err = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "forecast-error")))
    assert "预测期数不正确" in err.text
    assert "Traceback" not in browser.page_source
