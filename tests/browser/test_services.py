"""The 政务服务 page in Debian's Chromium: drawn offline, cross-filtered by clicks, restored from its URL."""

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
const g = document.querySelector('#services-map .js-plotly-plot');
if (!g || !g._fullLayout || !g._fullLayout.map) return null;
const m = g._fullLayout.map._subplot.map;
if (!m.loaded()) return null;
let locations = 0; g._fullData.forEach(t => locations += (t.locations || []).length);
return {locations: locations};
"""
PANELS = ["#services-map", "#services-trend", "#services-depts", "#services-hotline", "#services-items-box"]


def wait_heading(driver, text, timeout=30):
    WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".page-head h2"), text))


def wait_map(driver, timeout=30):
    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(MAP_READY))


def wait_graphs(driver, timeout=30):
    """Every panel has drawn its plot (or grid)."""
    WebDriverWait(driver, timeout).until(lambda d: all(
        d.find_elements(By.CSS_SELECTOR, f"{p} .js-plotly-plot, {p} .ag-root") for p in PANELS))


def overlaps(driver) -> list[str]:
    """Pairs of panels whose boxes intersect (a broken grid at this window size)."""
    return driver.execute_script("""
        const ps = [...document.querySelectorAll('.services-page .panel')].map(e => [e, e.getBoundingClientRect()]);
        const out = [];
        for (let i = 0; i < ps.length; i++) for (let j = i + 1; j < ps.length; j++) {
            const a = ps[i][1], b = ps[j][1];
            if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
                out.push(ps[i][0].className + ' × ' + ps[j][0].className);
        }
        const wide = [...document.querySelectorAll('.services-page .panel')]
            .filter(e => e.scrollWidth > e.clientWidth + 2).map(e => 'overflow ' + e.className);
        return out.concat(wide);
    """)


def _hover_click(driver, element, dx=0, dy=0):
    # pause on the spot: plotly takes the clicked point from its (throttled) hover state
    ActionChains(driver).move_to_element_with_offset(element, dx, dy).pause(0.3).move_by_offset(1, 0).pause(0.6)\
        .click().perform()


def _click_region(driver, code: str, level: str):
    """Click the map at a point inside region ``code`` (projected by the map itself)."""
    p = boundaries("360000", level).set_index("code").loc[code, "geometry"].representative_point()
    canvas = driver.find_element(By.CSS_SELECTOR, "#services-map canvas.maplibregl-canvas")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    x, y = driver.execute_script(
        "const g = document.querySelector('#services-map .js-plotly-plot');"
        "const m = g._fullLayout.map._subplot.map; const pt = m.project([arguments[0], arguments[1]]);"
        "const r = m.getCanvas().getBoundingClientRect(); return [pt.x - r.width / 2, pt.y - r.height / 2];",
        p.x, p.y)
    _hover_click(driver, canvas, int(x), int(y))


def test_the_page_draws_every_panel_offline_in_chinese(server, browser):
    browser.get(server + "/services")
    wait_heading(browser, "政务服务 · 江西省")
    assert wait_map(browser)["locations"] == 11
    wait_graphs(browser)
    time.sleep(0.5)
    screenshot(browser, "services-1920x1080")
    body = browser.find_element(By.TAG_NAME, "body").text
    for text in ["江西省各设区市 · 网上可办率", "近24个月走势", "各部门 · 网上可办率", "12345 政务服务便民热线",
                 "政务服务事项", "网上办件率", "数据截至"]:
        assert text in body
    assert len(browser.find_elements(By.CSS_SELECTOR, "#services-hotline-cards .kpi-card")) == 4
    assert overlaps(browser) == []
    headers = browser.find_elements(By.CSS_SELECTOR, "#services-items .ag-header-cell-text")
    assert "最多跑一次" in [h.text for h in headers]  # every column fits: none is scrolled out of view
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    time.sleep(0.3)
    screenshot(browser, "services-1920x1080-bottom")
    urls = requested_urls(browser)
    assert urls and external(urls) == []
    assert console_errors(browser) == []


def test_the_layout_holds_at_1366x768(server, browser):
    browser.set_window_size(1366, 768)
    browser.get(server + "/services?region=360100&kpi=online_handling_rate&item=SX0002&fc=1")
    wait_heading(browser, "政务服务 · 南昌市")
    wait_map(browser)
    wait_graphs(browser)
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "services-item-graph")))
    assert "预测自" in browser.find_element(By.ID, "services-fc-note").text
    time.sleep(0.5)
    screenshot(browser, "services-1366x768")
    assert overlaps(browser) == []
    for i, name in enumerate(("middle", "lower", "bottom")):
        browser.execute_script("window.scrollTo(0, arguments[0])", (i + 1) * 600)
        time.sleep(0.3)
        screenshot(browser, f"services-1366x768-{name}")
    assert console_errors(browser) == []


def test_a_reloaded_url_restores_the_same_view(server, browser):
    browser.get(server + "/services?region=360700&month=2025-06&period=month&kpi=on_time_rate&dept=D03&item=SX0035")
    wait_heading(browser, "政务服务 · 赣州市")
    wait_graphs(browser)
    ids = ["services-filters", "services-headline", "services-item", "services-hotline-cards"]
    first = {i: browser.find_element(By.ID, i).text for i in ids}
    browser.refresh()
    wait_heading(browser, "政务服务 · 赣州市")
    wait_graphs(browser)
    assert {i: browser.find_element(By.ID, i).text for i in ids} == first
    assert "部门：人力资源和社会保障局" in first["services-filters"]
    assert "按时办结率（当月）" in first["services-headline"]
    assert "社会保障卡补换（SX0035）" in first["services-item"]
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    time.sleep(0.5)
    screenshot(browser, "services-1920x1080-item")


def test_clicking_a_department_bar_cross_filters_the_page_and_the_chip_removes_it(server, browser):
    browser.get(server + "/services?region=360100&kpi=online_handling_rate")
    wait_heading(browser, "政务服务 · 南昌市")
    wait_graphs(browser)
    trend_before = browser.find_element(By.CSS_SELECTOR, "#services-trend").find_element(By.XPATH, "..").text
    bars = browser.find_elements(By.CSS_SELECTOR, "#services-depts .bars .point path")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", bars[-1])
    _hover_click(browser, bars[-1])  # the top bar: the best department
    WebDriverWait(browser, 20).until(lambda d: "dept=" in d.current_url)
    chip = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "services-chip-dept")))
    dept_name = chip.text.replace("部门：", "").replace("✕", "").strip()
    WebDriverWait(browser, 20).until(EC.text_to_be_present_in_element(
        (By.CSS_SELECTOR, ".services-panel--trend h3"), dept_name))
    wait_graphs(browser)
    assert browser.find_element(By.CSS_SELECTOR, "#services-trend").find_element(By.XPATH, "..").text != trend_before
    depts = {e.text for e in browser.find_elements(By.CSS_SELECTOR, "#services-items [col-id='dept_name'].ag-cell")}
    assert depts == {dept_name}
    browser.find_element(By.ID, "services-chip-dept-remove").click()
    WebDriverWait(browser, 20).until(lambda d: "dept=" not in d.current_url)
    WebDriverWait(browser, 20).until(EC.invisibility_of_element_located((By.ID, "services-chip-dept")))
    assert console_errors(browser) == []


def test_a_map_click_drills_down_and_an_item_click_shows_its_history(server, browser):
    browser.get(server + "/services")
    wait_heading(browser, "政务服务 · 江西省")
    wait_map(browser)
    _click_region(browser, "360100", "city")
    wait_heading(browser, "政务服务 · 南昌市")
    assert wait_map(browser)["locations"] == 9  # 南昌市's counties
    cell = WebDriverWait(browser, 20).until(EC.element_to_be_clickable(
        (By.CSS_SELECTOR, "#services-items .ag-center-cols-container [col-id='dept_name'].ag-cell")))
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    cell.click()
    WebDriverWait(browser, 20).until(lambda d: "item=" in d.current_url)
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "services-item-graph")))
    assert "region=360100" in browser.current_url
    assert "法定时限" in browser.find_element(By.ID, "services-item").text
    assert console_errors(browser) == []


def test_the_forecast_toggle_overlays_a_forecast_and_lives_in_the_url(server, browser):
    browser.get(server + "/services?region=360100&kpi=online_handling_rate")
    wait_heading(browser, "政务服务 · 南昌市")
    wait_graphs(browser)
    browser.find_element(By.CSS_SELECTOR, ".services-fc input").click()
    WebDriverWait(browser, 30).until(EC.text_to_be_present_in_element((By.ID, "services-fc-note"), "预测自"))
    assert "fc=" in browser.current_url
    names = browser.execute_script(
        "return document.querySelector('#services-trend .js-plotly-plot').data.map(t => t.name)")
    assert "预测" in names
    browser.refresh()
    WebDriverWait(browser, 30).until(EC.text_to_be_present_in_element((By.ID, "services-fc-note"), "预测自"))
    browser.find_element(By.CSS_SELECTOR, ".services-fc input").click()
    WebDriverWait(browser, 30).until(lambda d: "预测自" not in d.find_element(By.ID, "services-fc-note").text)
    assert console_errors(browser) == []


def test_an_unknown_department_in_the_url_gets_a_chinese_message(server, browser):
    browser.get(server + "/services?dept=D99")
    err = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "services-error")))
    assert "未知的部门代码：D99" in err.text
    assert "Traceback" not in browser.page_source
