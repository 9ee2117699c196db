"""Login in Debian's Chromium: a county leader (东湖区, 360102) signs in on the Chinese login page
and the overview shows that county only (cards, map and ranking); callbacks forged from the page
itself with ``fetch`` for the city (360100) and the province (360000) get zero rows, and the
audit log has a 拒绝 entry for each."""

from __future__ import annotations

import json
import time
from urllib.parse import urlparse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from data import audit, identity, opstore
from tests.auth_helpers import PASSWORD, unique_name
from tests.browser.conftest import _driver, console_errors, external, requested_urls, screenshot, sign_in
from tests.web.dash_requests import page_body
from tests.web.forge import rows, rows_naming

pytestmark = pytest.mark.browser

COUNTY, CITY, PROVINCE = "360102", "360100", "360000"
PLOTS = """
const out = {};
for (const id of ['overview-map', 'overview-ranking']) {
  const g = document.querySelector('#' + id + ' .js-plotly-plot');
  if (!g || !g._fullData) return null;
  out[id] = g._fullData.map(t => ({locations: t.locations || [], x: t.x || [], y: t.y || [], text: t.text || []}));
}
return out;
"""
FORGE = """
const done = arguments[arguments.length - 1];
fetch('/_dash-update-component', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                  body: JSON.stringify(arguments[0])})
  .then(r => r.text().then(t => done({status: r.status, body: t})))
  .catch(e => done({status: 0, body: String(e)}));
"""


@pytest.fixture(scope="module")
def county_leader(server, demo_db_path):
    """A 东湖区 leader in the served cockpit's operational store; (username, store URL)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COCKPIT_DB", str(demo_db_path))
        url = opstore.default_url()
    name = unique_name("dh-leader")
    identity.create_user(name, role="leader", region=COUNTY, password=PASSWORD, display_name="东湖区领导",
                         actor="测试", url=url)
    return name, url


@pytest.fixture
def driver():
    d = _driver(1920, 1080)
    d.login_as = None  # this test signs in by hand
    d.set_page_load_timeout(60)
    yield d
    d.quit()


def _forge(driver, search: str) -> dict:
    answer = driver.execute_async_script(FORGE, page_body("/", search))
    assert answer["status"] == 200, answer
    return json.loads(answer["body"])


def test_a_county_leader_sees_only_the_county_and_forged_callbacks_get_nothing(server, driver, county_leader):
    username, url = county_leader
    driver.get(server + "/")
    assert urlparse(driver.current_url).path == "/login"
    WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.ID, "login-card")))
    body = driver.find_element(By.TAG_NAME, "body").text
    for text in ("领导驾驶舱", "登录", "用户名", "密码", "审计日志"):
        assert text in body
    screenshot(driver, "login-page")
    # a wrong password first: said in Chinese, no way in
    sign_in_fails = driver.find_element(By.ID, "username")
    sign_in_fails.send_keys(username)
    driver.find_element(By.ID, "password").send_keys("Not-the-password-1")
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.ID, "login-error")))
    assert "用户名或密码错误" in driver.find_element(By.ID, "login-error").text
    assert [e for e in console_errors(driver) if "401" not in e] == []  # the refused POST is a 401, on purpose
    sign_in(driver, username, PASSWORD)
    assert urlparse(driver.current_url).path == "/"

    WebDriverWait(driver, 60).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".page-head h2"), "东湖区"))
    plots = WebDriverWait(driver, 60).until(lambda d: d.execute_script(PLOTS))
    WebDriverWait(driver, 20).until(EC.text_to_be_present_in_element((By.ID, "shell-user-role"), "东湖区"))
    time.sleep(1.0)
    screenshot(driver, "overview-county-360102")
    # the map: 东湖区 alone, with a value; no neighbour drawn, not even grey
    locations = [loc for trace in plots["overview-map"] for loc in trace["locations"]]
    assert locations == [COUNTY]
    # the ranking: one bar, 东湖区
    labels = [str(v) for trace in plots["overview-ranking"] for v in (*trace["x"], *trace["y"], *trace["text"])
              if isinstance(v, str)]
    assert labels and all("东湖区" in v for v in labels if not v.replace(".", "").replace("%", "").isdigit())
    page = driver.find_element(By.TAG_NAME, "body").text
    for other in ("西湖区", "青云谱区", "南昌市各县", "各设区市排名", "江西省数字"):
        assert other not in page
    assert len(driver.find_elements(By.CSS_SELECTOR, "#overview-cards .kpi-card")) >= 6
    assert driver.find_element(By.ID, "shell-user-name").text == f"东湖区领导（{username}）"
    nav = driver.find_element(By.ID, "shell-nav").text
    assert "总览" in nav and "数据管理" not in nav  # a leader's menu has no 数据管理
    assert external(requested_urls(driver)) == []
    errors = console_errors(driver)
    assert errors == [], errors

    # forged from the page itself: the same callback the renderer sends, for the city and the province
    before = len(audit.search(actor=username, action="拒绝", url=url))
    for code, names in ((CITY, ("南昌市", "西湖区", "360103", "360111")), (PROVINCE, ("江西省", "赣州", "360700"))):
        doc = _forge(driver, f"?region={code}&month=2026-10")
        assert rows(doc) == [] and rows_naming(doc, *names) == []
        assert "无权查看该地区" in json.dumps(doc, ensure_ascii=False)
    denials = audit.search(actor=username, action="拒绝", url=url)
    new = denials[: len(denials) - before]
    assert sorted(d["target"] for d in new) == [f"region={PROVINCE}", f"region={CITY}"]
    assert all(d["role"] == "leader" and d["outcome"] == "拒绝" for d in new)
    # and the leader's own page still answers, with rows
    assert rows_naming(_forge(driver, f"?region={COUNTY}&month=2026-10"), COUNTY)
    views = [r["target"] for r in audit.search(actor=username, action="页面访问", url=url)]
    assert "/" in views  # the page view was recorded when it rendered


def test_logging_out_from_the_header_ends_the_session(server, driver, county_leader):
    username, url = county_leader
    driver.get(server + "/login")
    sign_in(driver, username, PASSWORD)
    WebDriverWait(driver, 60).until(EC.element_to_be_clickable((By.ID, "shell-logout"))).click()
    WebDriverWait(driver, 20).until(lambda d: urlparse(d.current_url).path == "/login")
    assert "已退出登录" in driver.find_element(By.ID, "login-notice").text
    driver.get(server + "/services")
    assert urlparse(driver.current_url).path == "/login"  # the old cookie opens nothing
    assert audit.search(actor=username, url=url)[0]["action"] in ("退出登录", "页面访问")
    assert "退出登录" in [r["action"] for r in audit.search(actor=username, url=url)[:5]]


def test_a_wall_opens_with_its_device_token_and_goes_dark_when_it_is_revoked(server, driver, demo_db_path):
    from tests.browser.test_screen import _wait_drawn

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COCKPIT_DB", str(demo_db_path))
        url = opstore.default_url()
    name = unique_name("大厅大屏")
    token_id, token = identity.create_device_token(name, region="360100", playlist="sets=services&dwell=600",
                                                   actor="测试", url=url)
    driver.get(f"{server}/screen?device={token}&refresh=5")
    assert urlparse(driver.current_url).path == "/screen" and "device" not in driver.current_url
    assert not driver.find_elements(By.ID, "password")  # no login form on the wall
    _wait_drawn(driver)
    assert "南昌市" in driver.find_element(By.TAG_NAME, "body").text
    identity.revoke_device_token(token_id, actor="测试", url=url)
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "scr-error").is_displayed())
    assert "未获授权" in driver.find_element(By.ID, "scr-error").text
    # the figures are gone (the cards' ribbon and the charts), not just marked stale
    for panel in driver.find_elements(By.CSS_SELECTOR, ".scr-ribbon, .scr-main"):
        assert not panel.is_displayed()
    assert driver.find_elements(By.CSS_SELECTOR, ".scr-main")
    screenshot(driver, "screen-device-revoked")
    assert audit.search(actor=f"设备:{name}", action="拒绝", url=url)
