"""First paint (#13 §5) in Chromium: the overview asks for Plotly.js (the cockpit's partial bundle, never
the full plotly.min.js) before its first callback, names every script by a fingerprinted URL (a second
visit asks the server for none), and the wall asks for its data while Plotly.js is still loading."""

import re

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import _driver, console_errors

pytestmark = pytest.mark.browser

FINGERPRINT = re.compile(r"\.v[\w-]+m\d+\.")
BUNDLE = "/assets/vendor/plotly-cockpit.min.js"
FULL = "/_dash-component-suites/plotly/"
RESOURCES = """return performance.getEntriesByType('resource').map(r => ({
  path: new URL(r.name).pathname, start: r.startTime, end: r.responseEnd, transfer: r.transferSize}));"""
# a chart is a Plotly chart with a trace drawn, or a card's sparkline (an SVG image) once decoded
DRAWN = ("return [...document.querySelectorAll('.js-plotly-plot')]"
         ".filter(g => g.querySelector('.main-svg .trace')).length"
         " + [...document.querySelectorAll('img.kpi-spark')].filter(i => i.complete && i.naturalWidth > 0).length")
# whether Plotly.js had run when the wall's script first asked /api/screen (before the page's own scripts)
FETCH_PROBE = """
window.__plotlyAtFirstFetch = null;
const fetch0 = window.fetch;
window.fetch = function (url) {
  if (String(url).indexOf('/api/screen') >= 0 && window.__plotlyAtFirstFetch === null)
    window.__plotlyAtFirstFetch = !!window.Plotly;
  return fetch0.apply(this, arguments);
};
"""


def _drawn(driver, charts: int, timeout: float = 60) -> None:
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(DRAWN) >= charts)


def test_the_overview_asks_for_plotly_first_and_a_second_visit_asks_for_no_script(server, browser):
    browser.get(server + "/")
    _drawn(browser, 3)
    res = browser.execute_script(RESOURCES)
    plotly = next(r for r in res if r["path"] == BUNDLE)
    first_callback = min(r["start"] for r in res if r["path"] == "/_dash-update-component")
    assert plotly["start"] < first_callback, "Plotly.js is preloaded, not fetched after the layout's callbacks"
    assert len([r for r in res if r["path"] == BUNDLE]) == 1
    assert [r["path"] for r in res if r["path"].startswith(FULL)] == [], "the full Plotly.js is never fetched"
    assert browser.execute_script("return typeof Plotly.newPlot") == "function"
    suites = [r["path"] for r in res if r["path"].startswith("/_dash-component-suites/")]
    assert [p for p in suites if not FINGERPRINT.search(p)] == []
    browser.get(server + "/healthz")
    browser.get(server + "/")
    _drawn(browser, 3)
    again = browser.execute_script(RESOURCES)
    assert [r["path"] for r in again if r["path"].startswith(("/_dash-component-suites/", BUNDLE))
            and r["transfer"] > 0] == []
    assert [r["path"] for r in again if r["path"].startswith(FULL)] == []
    assert console_errors(browser) == []


def test_the_wall_asks_for_its_data_before_plotly_has_run_and_draws_once_it_has(server):
    d = _driver(1920, 1080)
    try:
        d.set_page_load_timeout(60)
        d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FETCH_PROBE})
        d.get(server + "/screen")
        WebDriverWait(d, 60).until(lambda x: x.execute_script("return window.screenState().renders > 0"))
        _drawn(d, 3)
        assert d.execute_script("return window.__plotlyAtFirstFetch") is False
        res = d.execute_script(RESOURCES)
        assert [r["path"] for r in res if r["path"] == BUNDLE] == [BUNDLE]
        assert [r["path"] for r in res if r["path"].startswith(("/_dash-component-suites/", "/screen/"))] == []
        assert console_errors(d) == []
    finally:
        d.quit()
