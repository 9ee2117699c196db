"""The 简报 page in Debian's Chromium: the preview shows, export → progress → a file downloads."""

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import console_errors, csp_violations, external, requested_urls, screenshot

pytestmark = pytest.mark.browser


def test_preview_then_export_downloads_a_pdf(server, browser, tmp_path):
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.get(f"{server}/briefing?region=360000&month=2025-06")
    WebDriverWait(browser, 90).until(lambda d: d.find_elements(By.ID, "briefing-export"))
    preview = browser.find_element(By.ID, "briefing-preview").get_attribute("srcdoc")
    assert "一、总体情况" in preview and "2025年1—6月，全省网上可办率达" in preview
    browser.find_element(By.ID, "briefing-export").click()
    seen, deadline = set(), time.time() + 150
    while time.time() < deadline and not list(tmp_path.glob("*.pdf")):
        seen.add(browser.find_element(By.ID, "briefing-progress").get_attribute("value"))
        time.sleep(0.3)
    screenshot(browser, "briefing_exported")
    files = list(tmp_path.glob("*.pdf"))
    assert files and files[0].read_bytes()[:5] == b"%PDF-"
    assert len(seen - {"0"}) >= 1  # the bar moved while the file was written
    assert "已生成" in browser.find_element(By.ID, "briefing-status").text
    assert not external(requested_urls(browser))
    # the page, its same-origin preview iframe and the export all run under the CSP
    assert csp_violations(browser) == []
    assert console_errors(browser) == []


def test_a_second_export_while_one_runs_is_refused_in_chinese(server, browser, tmp_path):
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.get(f"{server}/briefing?region=360000&month=2025-06")
    WebDriverWait(browser, 90).until(lambda d: d.find_elements(By.ID, "briefing-export"))
    browser.find_element(By.ID, "briefing-export").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "briefing-export").get_attribute("disabled"))
    # the same viewer in a second tab, while the first export runs
    browser.switch_to.new_window("tab")
    browser.get(f"{server}/briefing?region=360000&month=2025-06")
    WebDriverWait(browser, 90).until(lambda d: d.find_elements(By.ID, "briefing-export"))
    browser.find_element(By.ID, "briefing-export").click()
    WebDriverWait(browser, 30).until(
        lambda d: "已有导出在进行中，请稍候" in d.find_element(By.ID, "briefing-status").text)
    assert csp_violations(browser) == []
    browser.switch_to.window(browser.window_handles[0])
    deadline = time.time() + 150
    while time.time() < deadline and not list(tmp_path.glob("*.pdf")):
        time.sleep(0.3)
    assert list(tmp_path.glob("*.pdf"))  # the first one still finishes
