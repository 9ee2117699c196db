"""The overview in Debian's Chromium: drawn offline, drillable, and restored from its URL."""

import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from data.geo import boundaries
from tests.browser.conftest import console_errors, external, requested_urls, screenshot

pytestmark = pytest.mark.browser

MAP_READY = """
const g = document.querySelector('#overview-map .js-plotly-plot');
if (!g || !g._fullLayout || !g._fullLayout.map) return null;
const m = g._fullLayout.map._subplot.map;
if (!m.loaded()) return null;
const fills = m.getStyle().layers.filter(l => l.type === 'fill').map(l => l.id);
const seen = new Set(m.queryRenderedFeatures({layers: fills}).map(f => String(f.id)));
let locations = 0; g._fullData.forEach(t => locations += (t.locations || []).length);
return {locations: locations, rendered: seen.size};
"""


def wait_heading(driver, text, timeout=30):
    WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".page-head h2"), text))


def wait_map(driver, timeout=30):
    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(MAP_READY))


def test_the_overview_draws_all_100_counties_offline_in_chinese(server, browser):
    browser.get(server + "/")
    wait_heading(browser, "一屏统览 · 江西省")
    state = wait_map(browser)
    time.sleep(0.5)
    screenshot(browser, "overview-1920x1080")
    assert state["locations"] == 100
    assert state["rendered"] == 100  # distinct county ids MapLibre actually drew
    body = browser.find_element(By.TAG_NAME, "body").text
    for text in ["网上可办率", "预算执行率", "累计", "数据截至", "各设区市排名"]:
        assert text in body
    assert len(browser.find_elements(By.CSS_SELECTOR, "#overview-cards .kpi-card")) == 9
    urls = requested_urls(browser)
    assert urls and external(urls) == []
    assert console_errors(browser) == []


def _click_region(driver, code: str, level: str):
    """Click the map at a point inside region ``code`` (projected by the map itself)."""
    shapes = boundaries("360000", level).set_index("code")
    p = shapes.loc[code, "geometry"].representative_point()
    canvas = driver.find_element(By.CSS_SELECTOR, "#overview-map canvas.maplibregl-canvas")
    # wholly in view, so Selenium's offsets from the element's in-view centre are from its real centre
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    x, y = driver.execute_script(
        "const g = document.querySelector('#overview-map .js-plotly-plot');"
        "const m = g._fullLayout.map._subplot.map; const pt = m.project([arguments[0], arguments[1]]);"
        "const r = m.getCanvas().getBoundingClientRect(); return [pt.x - r.width / 2, pt.y - r.height / 2];",
        p.x, p.y)
    # pause on the spot: plotly takes the clicked point from its (throttled) hover state
    ActionChains(driver).move_to_element_with_offset(canvas, int(x), int(y)).pause(0.3).move_by_offset(1, 0)\
        .pause(0.6).click().perform()


def test_a_map_click_drills_down_and_the_breadcrumb_climbs_back(server, browser):
    browser.get(server + "/?level=city")
    wait_heading(browser, "一屏统览 · 江西省")
    wait_map(browser)
    _click_region(browser, "360100", "city")
    wait_heading(browser, "一屏统览 · 南昌市")
    assert "region=360100" in browser.current_url
    wait_map(browser)
    _click_region(browser, "360102", "county")
    wait_heading(browser, "一屏统览 · 东湖区")
    crumbs = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#overview-breadcrumb .crumb")]
    assert crumbs == ["江西省", "南昌市", "东湖区"]
    crumb = browser.find_element(By.ID, "overview-crumb-360000")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", crumb)  # clear of the sticky header
    crumb.click()
    wait_heading(browser, "一屏统览 · 江西省")
    assert console_errors(browser) == []


def test_a_reloaded_url_restores_the_same_view(server, browser):
    url = server + "/?region=360700&month=2025-06&period=month&kpi=on_time_rate"
    browser.get(url)
    wait_heading(browser, "一屏统览 · 赣州市")
    first = browser.find_element(By.CSS_SELECTOR, ".page-head").text
    cards = browser.find_element(By.ID, "overview-cards").text
    browser.refresh()
    wait_heading(browser, "一屏统览 · 赣州市")
    assert browser.find_element(By.CSS_SELECTOR, ".page-head").text == first
    assert browser.find_element(By.ID, "overview-cards").text == cards
    assert "2025年6月（当月）" in first
    assert "按时办结率（当月）" in browser.find_element(By.ID, "overview-ranking").find_element(By.XPATH, "..").text


def test_changing_a_control_updates_the_url(server, browser):
    browser.get(server + "/?region=360100&month=2025-06")
    wait_heading(browser, "一屏统览 · 南昌市")
    browser.find_element(By.CSS_SELECTOR, ".filter-period input[value='month']").click()
    WebDriverWait(browser, 20).until(lambda d: "period=month" in d.current_url)
    sub = (By.CSS_SELECTOR, ".page-sub")
    WebDriverWait(browser, 20).until(EC.text_to_be_present_in_element(sub, "2025年6月（当月）"))


def test_an_unknown_region_in_the_url_gets_a_chinese_message(server, browser):
    browser.get(server + "/?region=999999")
    err = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "overview-error")))
    assert "未知的地区代码：999999" in err.text
    assert "Traceback" not in browser.page_source
