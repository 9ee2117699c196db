"""The 考核 page in Debian's Chromium: offline map, a map click focuses the radar, URL restore."""

import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from data.geo import boundaries
from tests.browser.conftest import console_errors, external, requested_urls, screenshot

pytestmark = pytest.mark.browser

MAP_READY = """
const g = document.querySelector('#ranking-map .js-plotly-plot');
if (!g || !g._fullLayout || !g._fullLayout.map) return null;
const m = g._fullLayout.map._subplot.map;
if (!m.loaded()) return null;
let locations = 0; g._fullData.slice(0, 2).forEach(t => locations += (t.locations || []).length);
return {locations: locations};
"""


def wait_heading(driver, text, timeout=30):
    WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".page-head h2"), text))


def wait_map(driver, timeout=40):
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.execute_script(MAP_READY))


def focus_line(driver) -> str:
    return driver.execute_script("const e = document.getElementById('ranking-focus-line'); return e && e.innerText")


def click_region(driver, code: str, level: str):
    """Click the map at a point inside region ``code`` (projected by the map itself)."""
    p = boundaries("360000", level).set_index("code").loc[code, "geometry"].representative_point()

    def attempt(d):
        canvas = d.find_element(By.CSS_SELECTOR, "#ranking-map canvas.maplibregl-canvas")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
        x, y = d.execute_script(
            "const g = document.querySelector('#ranking-map .js-plotly-plot');"
            "const m = g._fullLayout.map._subplot.map; const pt = m.project([arguments[0], arguments[1]]);"
            "const r = m.getCanvas().getBoundingClientRect(); return [pt.x - r.width / 2, pt.y - r.height / 2];",
            p.x, p.y)
        ActionChains(d).move_to_element_with_offset(canvas, int(x), int(y)).pause(0.3).move_by_offset(1, 0)\
            .pause(0.6).click().perform()
        return True

    WebDriverWait(driver, 20, ignored_exceptions=(StaleElementReferenceException,)).until(attempt)


def test_the_ranking_draws_the_cities_offline_with_table_radar_and_weights(server, browser):
    browser.get(server + "/ranking")
    wait_heading(browser, "综合评估排名 · 江西省")
    assert wait_map(browser)["locations"] == 11
    time.sleep(0.5)
    screenshot(browser, "ranking-1920x1080")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#ranking-table tbody tr")) == 11
    body = browser.find_element(By.TAG_NAME, "body").text
    for text in ["累计", "较上月", "政府治理精细度", "数字基础设施感知度", "权重为配置项：metrics/composite.toml",
                 "第 1 名"]:
        assert text in body
    assert browser.find_elements(By.CSS_SELECTOR, "#ranking-radar .js-plotly-plot")
    urls = requested_urls(browser)
    assert urls and external(urls) == []
    assert console_errors(browser) == []


def test_a_map_click_focuses_the_region_in_the_radar_and_the_table(server, browser):
    browser.get(server + "/ranking?month=2026-10")
    wait_heading(browser, "综合评估排名 · 江西省")
    wait_map(browser)
    before = focus_line(browser)
    click_region(browser, "360100", "city")
    WebDriverWait(browser, 20).until(lambda d: "focus=360100" in d.current_url)
    WebDriverWait(browser, 20).until(lambda d: (focus_line(d) or "").startswith("南昌市：综合得分"))
    assert focus_line(browser) != before
    row = browser.find_element(By.ID, "ranking-row-360100")
    assert "ranking-row--focus" in row.get_attribute("class")
    names = browser.execute_script(
        "return document.querySelector('#ranking-radar .js-plotly-plot')._fullData.map(t => t.name)")
    assert names == ["江西省各设区市平均", "南昌市"]
    assert console_errors(browser) == []


def test_the_level_toggle_ranks_the_counties_and_a_reload_restores_the_view(server, browser):
    browser.get(server + "/ranking?month=2025-06")
    wait_heading(browser, "综合评估排名 · 江西省")
    WebDriverWait(browser, 20, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".ranking-level input[value='county']").click() or True)
    WebDriverWait(browser, 20).until(lambda d: "level=county" in d.current_url)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "return document.querySelectorAll('#ranking-table tbody tr').length") == 100)
    assert wait_map(browser)["locations"] == 100
    head = browser.find_element(By.CSS_SELECTOR, ".page-head").text
    table = browser.find_element(By.ID, "ranking-table").text
    browser.refresh()
    wait_heading(browser, "综合评估排名 · 江西省")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "return document.querySelectorAll('#ranking-table tbody tr').length") == 100)
    assert browser.find_element(By.CSS_SELECTOR, ".page-head").text == head
    assert browser.find_element(By.ID, "ranking-table").text == table
    assert "2025年1—6月（累计）" in head


def test_the_ranking_fits_a_1366_screen(server, browser):
    browser.set_window_size(1366, 768)
    browser.get(server + "/ranking?level=county&focus=360102")
    wait_heading(browser, "综合评估排名 · 江西省")
    wait_map(browser)
    time.sleep(0.5)
    screenshot(browser, "ranking-1366x768")
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    panels = [browser.find_element(By.CSS_SELECTOR, c).rect for c in (".ranking-panel-map", ".ranking-panel-table")]
    assert panels[0]["x"] + panels[0]["width"] <= panels[1]["x"]
    browser.execute_script("document.querySelector('.ranking-row-bottom').scrollIntoView()")
    time.sleep(0.5)
    screenshot(browser, "ranking-1366x768-bottom")


def test_a_focus_outside_the_ranking_gets_a_chinese_message(server, browser):
    browser.get(server + "/ranking?focus=360102")
    err = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "ranking-error")))
    assert "不在本次排名范围" in err.text
    assert "Traceback" not in browser.page_source
