"""Freshness in the browser: the overview's cards say how fresh their data is and a late
family's cards carry 「数据未按期更新」; the wall shows the same and still fits every size
with text ≥ 24 px and no overlaps (the late mark takes a line the ribbon makes room for)."""

from datetime import date, datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import ARTIFACTS, _driver, _free_port, screenshot
from tests.browser.test_screen import GEOMETRY, _overlaps, _serve, _viewport, _wait_drawn
from tests.freshness_rows import copy_with_freshness

pytestmark = pytest.mark.browser

ROWS = [("services", date(2026, 10, 1), datetime(2026, 11, 5, 9, 30)),
        ("hotline", date(2026, 10, 1), datetime(2026, 11, 5, 9, 30)),
        ("spending", date(2026, 9, 1), datetime(2026, 10, 8, 16, 0)),  # 2026-10 was due by 11-10
        ("projects", date(2026, 10, 1), datetime(2026, 11, 6, 10, 0))]


@pytest.fixture(scope="module")
def late_server(demo_db_path, tmp_path_factory):
    """The cockpit on a copy of the demo with freshness rows, its clock at 2026-11-20."""
    path = copy_with_freshness(demo_db_path, tmp_path_factory.mktemp("fresh") / "cockpit.duckdb", ROWS,
                               data_version="browser-fresh")
    port = _free_port()
    with pytest.MonkeyPatch.context() as mp, open(path.parent / "server.log", "a") as log:
        mp.setenv("COCKPIT_TODAY", "2026-11-20")
        mp.setenv("COCKPIT_WARM", "0")
        proc = _serve(path, port, log)
        yield f"http://127.0.0.1:{port}"
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def driver():
    d = _driver(1920, 1080)
    d.set_page_load_timeout(90)
    yield d
    d.quit()


def test_overview_cards_show_freshness_and_the_late_mark(late_server, driver):
    _viewport(driver, 1920, 1080)
    driver.get(late_server + "/")
    WebDriverWait(driver, 90).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#overview-cards .kpi-card"))
    fresh = driver.find_element(By.ID, "overview-card-online_available_rate")
    late = driver.find_element(By.ID, "overview-card-budget_execution_rate")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    fresh.screenshot(str(ARTIFACTS / "overview-card-fresh.png"))
    late.screenshot(str(ARTIFACTS / "overview-card-late.png"))
    assert fresh.find_element(By.CLASS_NAME, "kpi-fresh").text == "数据截至 2026-10 · 更新于 11-05"
    assert fresh.find_elements(By.CLASS_NAME, "kpi-late") == []
    badge = late.find_element(By.CLASS_NAME, "kpi-late")
    assert badge.text == "数据未按期更新" and badge.is_displayed()
    assert "数据截至 2026-09 · 更新于 10-08" in late.text
    # the badge sits inside its card
    card, mark = late.rect, badge.rect
    assert card["x"] <= mark["x"] and mark["x"] + mark["width"] <= card["x"] + card["width"]
    assert mark["y"] + mark["height"] <= card["y"] + card["height"]


@pytest.mark.parametrize(("width", "height", "layout", "sets"), [
    (1920, 1080, "letterbox", "services"), (1920, 1080, "letterbox", "spending"), (1366, 768, "letterbox", "services"),
    (6656, 1792, "wide", "services")])
def test_the_wall_shows_freshness_and_still_fits_readably(late_server, driver, width, height, layout, sets):
    _viewport(driver, width, height)
    driver.get(f"{late_server}/screen?layout={layout}&dwell=600&sets={sets}")
    _wait_drawn(driver)
    g = driver.execute_script(GEOMETRY)
    if width == 1920:
        screenshot(driver, f"screen-freshness-{sets}")
    assert g["outside"] == []
    assert [(t["text"], t["font"]) for t in g["texts"] if t["font"] < 24] == []
    assert _overlaps(g["texts"]) == []
    shown = {t["text"]: t["cls"] for t in g["texts"]}
    header = "数据截至 2026-10 · 更新于 11-05" if sets == "services" else "数据截至 2026-09 · 更新于 10-08"
    assert shown[header] == ("scr-asof" if sets == "services" else "scr-asof late")
    assert shown["数据未按期更新：预算执行"] == "scr-mark scr-mark--late"
    late_cards = driver.execute_script(
        "return [...document.querySelectorAll('.scr-card.late')].map(c => [c.dataset.kpi,"
        " c.querySelector('.scr-card-late').textContent])")
    assert late_cards == [["budget_execution_rate", "数据未按期更新"]]
