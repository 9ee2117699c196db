"""The big screen (/screen) in Debian's Chromium: draws the server's figures in every panel without
a script error, fits every wall without scrollbars or overlaps, stays readable, rotates,
re-queries, and survives a server restart."""

import itertools
import math
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import duckdb
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import (
    REPO,
    _driver,
    _free_port,
    browser_account,
    console_errors,
    external,
    requested_urls,
    screenshot,
)

pytestmark = pytest.mark.browser

# Every visible element and text box of the screen, measured in the page.
GEOMETRY = """
const root = document.getElementById('screen');
const vw = window.innerWidth, vh = window.innerHeight;
function shown(el) {
  for (let e = el; e && e !== document.body; e = e.parentElement) {
    const cs = getComputedStyle(e);
    if (e.hidden || cs.display === 'none' || cs.visibility === 'hidden' || parseFloat(cs.opacity) === 0) return false;
  }
  return el.getClientRects().length > 0;
}
const outside = [], texts = [];
for (const el of root.querySelectorAll('*')) {
  if (!shown(el)) continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  if (r.left < -1 || r.top < -1 || r.right > vw + 1 || r.bottom > vh + 1)
    outside.push([el.tagName, el.id || el.getAttribute('class'), r.left, r.top, r.right, r.bottom]);
  let box = null, str = '';
  if (el instanceof SVGElement) {
    if (el.tagName !== 'text' || !el.textContent.trim()) continue;
    box = r; str = el.textContent.trim();
  } else {
    const nodes = [...el.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim());
    if (!nodes.length) continue;
    const range = document.createRange();
    range.setStartBefore(nodes[0]); range.setEndAfter(nodes[nodes.length - 1]);
    box = range.getBoundingClientRect(); str = nodes.map(n => n.textContent.trim()).join(' ');
  }
  texts.push({text: str, font: parseFloat(getComputedStyle(el).fontSize), cls: el.getAttribute('class') || '',
              box: [box.left, box.top, box.right, box.bottom]});
}
const d = document.documentElement;
return {vw: vw, vh: vh, scroll: [d.scrollWidth, d.scrollHeight, document.body.scrollWidth, document.body.scrollHeight],
        scale: parseFloat(root.dataset.scale), width: root.offsetWidth, outside: outside, texts: texts};
"""

SIZES = [(1366, 768, "letterbox"), (1920, 1080, "letterbox"), (3840, 2160, "letterbox"), (6656, 1792, "letterbox"),
         (6656, 1792, "wide"), (5760, 1080, "wide")]


def _state(driver) -> dict:
    return driver.execute_script("return window.screenState()")


def _wait_drawn(driver, timeout=60):
    """Until the screen has rendered data and Plotly has drawn its four charts (the map's too)."""
    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(
        "const s = window.screenState && window.screenState();"
        "const g = document.querySelector('#scr-map-chart');"
        "const m = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot.map;"
        "return s && s.renders > 0 && document.querySelectorAll('#screen .js-plotly-plot').length === 4"
        " && m && m.loaded() && m.queryRenderedFeatures().length > 0 ? s : null;"))


def _viewport(driver, width, height):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def _overlaps(texts):
    """Pairs of text boxes that overlap (each shrunk by 15% of its height: line boxes touch)."""
    def core(b):
        pad = (b[3] - b[1]) * 0.15
        return b[0] + 1, b[1] + pad, b[2] - 1, b[3] - pad
    out = []
    for i, a in enumerate(texts):
        ax0, ay0, ax1, ay1 = core(a["box"])
        for b in texts[i + 1:]:
            bx0, by0, bx1, by1 = core(b["box"])
            if min(ax1, bx1) > max(ax0, bx0) and min(ay1, by1) > max(ay0, by0):
                out.append((a["text"], b["text"]))
    return out


@pytest.fixture(scope="module")
def wall():
    d = _driver(1920, 1080)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


@pytest.mark.parametrize(("width", "height", "layout"), SIZES)
def test_the_screen_fits_the_wall_readably_without_scrollbars_or_overlaps(server, wall, width, height, layout):
    _viewport(wall, width, height)
    wall.get(f"{server}/screen?layout={layout}&dwell=600")
    _wait_drawn(wall)
    time.sleep(0.5)
    g = wall.execute_script(GEOMETRY)
    screenshot(wall, f"screen-{width}x{height}" + ("-wide" if layout == "wide" else ""))
    assert (g["vw"], g["vh"]) == (width, height)
    assert _state(wall)["errors"] == 0 and console_errors(wall) == []
    assert max(g["scroll"][0], g["scroll"][2]) <= width and max(g["scroll"][1], g["scroll"][3]) <= height
    assert g["outside"] == []
    if layout == "wide":  # the canvas takes the wall's shape (1080 high) and the panels use it
        assert g["width"] == max(1920, int(1080 * width / height))
        assert g["scale"] == pytest.approx(height / 1080, rel=1e-3)
    else:
        assert g["width"] == 1920
        assert g["scale"] == pytest.approx(min(width / 1920, height / 1080), rel=1e-3)
    # font sizes on the canvas: rendered size = computed size × scale
    assert len(g["texts"]) > 80
    small = [(t["text"], t["font"]) for t in g["texts"] if t["font"] < 24]
    assert small == []
    figures = [t for t in g["texts"] if "scr-card-value" in t["cls"]]
    assert len(figures) == 9 and min(t["font"] for t in figures) >= 48
    assert _overlaps(g["texts"]) == []
    body = wall.find_element(By.TAG_NAME, "body").text
    for text in ["江西省数字政府建设运行监测", "网上可办率", "目标", "各设区市排名", "预警播报",
                 "项目全周期", "预算执行与序时进度"]:
        assert text in body
    # the as-of month; once the publisher records freshness, the family's own (test_freshness.py)
    assert "数据截至 2026年10月" in body or "数据截至 2026-10 · 更新于" in body


def test_the_screen_loads_only_from_this_server_and_other_pages_do_not_load_it(server, wall):
    _viewport(wall, 1920, 1080)
    requested_urls(wall)
    wall.get(server + "/screen")
    _wait_drawn(wall)
    urls = requested_urls(wall)
    assert any("/api/screen?" in u for u in urls) and any("/boundaries/360000/city.json" in u for u in urls)
    assert external(urls) == []
    assert console_errors(wall) == []
    wall.get(server + "/")
    WebDriverWait(wall, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#overview-cards .kpi-card"))
    urls = requested_urls(wall)
    assert urls and not [u for u in urls if "/screen" in u]  # no screen JS or CSS on the Dash pages
    assert wall.find_element(By.ID, "nav-screen").get_attribute("href").endswith("/screen")


# each panel's figure as drawn: its traces' types, the size it was drawn at, and the map's centre and zoom
DRAWN = """
return Object.fromEntries(['trend', 'funnel', 'map', 'spending'].map(name => {
  const g = document.getElementById('scr-' + name + '-chart'), L = g._fullLayout;
  return [name, {types: g._fullData.map(t => t.type), width: L.width, height: L.height,
                 panel: [g.clientWidth, g.clientHeight], map: L.map ? {center: L.map.center, zoom: L.map.zoom} : null}];
}));
"""


def test_every_panel_draws_the_servers_figure_fitted_to_its_panel_with_no_error(server, wall):
    _viewport(wall, 1920, 1080)
    wall.get(server + "/screen?dwell=600&layout=wide")
    _wait_drawn(wall)
    figures = wall.execute_script(
        "return fetch('/api/screen?region=360000&kpi=online_handling_rate').then(r => r.json()).then(d => d.figures)")
    drawn = wall.execute_script(DRAWN)
    for name, fig in figures.items():
        assert drawn[name]["types"] == [t.get("type", "scatter") for t in fig["data"]], name
        assert [drawn[name]["width"], drawn[name]["height"]] == drawn[name]["panel"], name
    # the map's zoom is the server's, rescaled from the size it was fitted to to the panel's
    lay, m = figures["map"]["layout"], drawn["map"]
    scale = min(m["panel"][0] / lay["width"], m["panel"][1] / lay["height"])
    assert m["map"]["zoom"] == pytest.approx(lay["map"]["zoom"] + math.log2(scale), abs=1e-6)
    assert m["map"]["center"] == pytest.approx(lay["map"]["center"])
    # a wider wall refits every figure in place (the same divs), and the map is drawn again
    _viewport(wall, 5760, 1080)
    WebDriverWait(wall, 20).until(lambda d: _state(d)["width"] == 5760)
    _wait_drawn(wall)
    time.sleep(0.5)
    wide = wall.execute_script(DRAWN)
    assert wide["map"]["width"] > drawn["map"]["width"] and wide["map"]["map"]["zoom"] >= drawn["map"]["map"]["zoom"]
    assert _state(wall)["errors"] == 0 and console_errors(wall) == []


def test_a_bad_query_string_shows_a_chinese_message_on_the_screen(server, wall):
    wall.get(server + "/screen?dwell=abc")
    box = WebDriverWait(wall, 10).until(lambda d: d.find_element(By.ID, "scr-error"))
    assert box.is_displayed() and "dwell" in box.text and "秒" in box.text


def test_rotation_advances_on_schedule_and_the_operator_keys_work(server, wall):
    _viewport(wall, 1920, 1080)
    wall.get(server + "/screen?regions=cities&sets=services&dwell=2&refresh=60")
    _wait_drawn(wall)
    start = len(_state(wall)["turns"])
    WebDriverWait(wall, 60).until(lambda d: len(_state(d)["turns"]) >= start + 4)
    seen = _state(wall)["turns"][start - 1 if start else 0:]
    assert all(b == (a + 1) % 12 for a, b in itertools.pairwise(seen)), seen  # in order, none skipped
    assert _state(wall)["dwellMs"] == 2000  # one screen per dwell of 2 s: the timer the page set, not a stopwatch
    regions = ["360000"] + [f"36{n:02d}00" for n in range(1, 12)]  # 江西省, 南昌市, 景德镇市…
    # the region of the turn is drawn (read both at once: the rotation goes on meanwhile)
    WebDriverWait(wall, 30).until(lambda d: (lambda s: s["region"] == regions[s["index"]])(_state(d)))
    body = wall.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.SPACE)
    paused = _state(wall)
    assert paused["paused"] and wall.find_element(By.ID, "scr-paused").is_displayed()
    time.sleep(3)
    assert _state(wall)["index"] == paused["index"]
    body.send_keys(Keys.ARROW_RIGHT)
    assert _state(wall)["index"] == (paused["index"] + 1) % 12
    body.send_keys(Keys.PAGE_UP)
    body.send_keys(Keys.ARROW_LEFT)
    assert _state(wall)["index"] == (paused["index"] - 1) % 12
    WebDriverWait(wall, 10).until(lambda d: d.execute_script(
        "return document.getElementById('screen').dataset.region") ==
        regions[(paused["index"] - 1) % 12])
    body.send_keys(Keys.SPACE)
    assert not _state(wall)["paused"] and not wall.find_element(By.ID, "scr-paused").is_displayed()
    assert _state(wall)["errors"] == 0  # every turn redrew the same divs with the next screen's figures


def _serve(db_path, port, log):
    browser_account(db_path)
    env = {**os.environ, "COCKPIT_DB": str(db_path), "COCKPIT_PORT": str(port),
           "COCKPIT_CACHE_DIR": str(db_path.parent / "cache")}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 90
    while time.time() < deadline:
        assert proc.poll() is None, "服务未能启动"
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("服务在 90 秒内未响应")


def _card_target(driver, kpi):
    return driver.execute_script(
        f"const c = document.querySelector('.scr-card[data-kpi=\"{kpi}\"] .scr-card-target');"
        " return c && c.textContent;")


def test_a_server_restart_keeps_the_data_on_screen_and_new_data_appears_after_it(demo_db_path, wall, tmp_path):
    db = tmp_path / "cockpit.duckdb"
    shutil.copy(demo_db_path, db)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "server.log", "a")
    proc = _serve(db, port, log)
    try:
        _viewport(wall, 1920, 1080)
        wall.get(base + "/screen?refresh=5&dwell=600")
        _wait_drawn(wall)
        assert _card_target(wall, "online_available_rate") == "目标 ≥95.0%"
        # the refresh re-queries, and draws in place: the same chart elements, no new ones
        wall.execute_script("document.querySelectorAll('#screen .js-plotly-plot').forEach(g => g.__kept = 1)")
        fetched = _state(wall)["fetches"]
        WebDriverWait(wall, 15).until(lambda d: _state(d)["fetches"] >= fetched + 2)
        assert wall.execute_script(
            "return [...document.querySelectorAll('#screen .js-plotly-plot')].filter(g => g.__kept).length") == 4

        proc.terminate()
        proc.wait(timeout=15)
        WebDriverWait(wall, 20).until(lambda d: d.find_element(By.ID, "scr-offline").is_displayed())
        time.sleep(3)
        assert _state(wall)["offline"]
        assert not wall.find_element(By.ID, "scr-error").is_displayed()
        assert _card_target(wall, "online_available_rate") == "目标 ≥95.0%"  # the last data stays
        assert "江西省数字政府建设运行监测" in wall.find_element(By.TAG_NAME, "body").text
        screenshot(wall, "screen-offline")

        with duckdb.connect(str(db)) as con:  # new data while the server is down
            con.execute("UPDATE kpi_target SET target = 96.5 WHERE kpi_id = 'online_available_rate' "
                        "AND region_code = '360000' AND year = 2026")
            con.execute("UPDATE meta SET value = 'screen-test' WHERE key = 'data_version'")
        proc = _serve(db, port, log)
        WebDriverWait(wall, 40).until(lambda d: _card_target(d, "online_available_rate") == "目标 ≥96.5%")
        assert not wall.find_element(By.ID, "scr-offline").is_displayed()
        assert not _state(wall)["offline"]
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
