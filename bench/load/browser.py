"""Debian's Chromium through its ChromeDriver (as tests/browser/conftest.py starts it), for recording
the callback bodies and for the first-paint measurement."""

from __future__ import annotations

import json
from urllib.parse import urlparse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# the flags ARCHITECTURE.md asks for (offline, headless), as the browser tests use them
CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--disable-sync",
                "--disable-quic", "--disable-default-apps", "--disable-extensions", "--lang=zh-CN"]


def chromium(profile_dir: str | None = None, width: int = 1920, height: int = 1080) -> webdriver.Chrome:
    """A headless Chromium with the DevTools performance (network) log on; ``profile_dir``: its profile."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--window-size={width},{height}")
    if profile_dir:
        opts.add_argument(f"--user-data-dir={profile_dir}")
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(120)
    return driver


def sign_in(driver, base: str, username: str, password: str, next_path: str = "/") -> None:
    """Log in on the login form (``next_path``: where the form sends the browser afterwards)."""
    from urllib.parse import urlencode

    driver.get(f"{base}/login?{urlencode({'next': next_path})}")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(lambda d: urlparse(d.current_url).path != "/login")


def network_events(driver) -> list[dict]:
    """The DevTools Network.* events since the last call."""
    out = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method", "").startswith("Network."):
            out.append(msg)
    return out
