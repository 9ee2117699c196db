"""Browser tests: a served cockpit on 127.0.0.1 and Debian's Chromium driven by Selenium."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "screenshots"
CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--disable-sync",
                "--disable-quic", "--disable-default-apps", "--disable-extensions", "--lang=zh-CN"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """``python app.py`` on a free port with ``env`` over this process's environment; its base URL
    once ``/healthz`` answers, and the process stopped after the block."""
    port = _free_port()
    full = {**os.environ, "COCKPIT_PORT": str(port), **env}
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=full, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 90
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"服务未能启动：{log_path.read_text()}")
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=5)
                    break
                except OSError:
                    if time.time() > deadline:
                        raise RuntimeError("服务在 90 秒内未响应") from None
                    time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(demo_db_path):
    """``python app.py`` on a free port against the session's demo database."""
    browser_account(demo_db_path)  # a province leader
    with running_app({"COCKPIT_DB": str(demo_db_path)}, demo_db_path.parent / "server.log") as base:
        yield base


@pytest.fixture(scope="module")
def own_server():
    """Start ``python app.py`` on a module's own database (a test that publishes or writes the store
    must not touch the shared demo): ``base = own_server(pointer, directory)``; stopped after the module.
    No warm-up, a private boundary cache, and the operational store beside ``pointer``."""
    with ExitStack() as stack:

        def start(pointer: Path, directory: Path) -> str:
            env = {"COCKPIT_DB": str(pointer), "COCKPIT_WARM": "0", "COCKPIT_CACHE_DIR": str(directory / "cache")}
            with pytest.MonkeyPatch.context() as mp:
                for name in ("COCKPIT_VIEWER_SCOPE", "COCKPIT_VIEWER_NAME", "COCKPIT_OPSTORE_URL"):
                    mp.delenv(name, raising=False)
                return stack.enter_context(running_app(env, directory / "server.log"))

        yield start


# login (web/auth.py): each served cockpit gets one browser account before it starts (see
# browser_account), and a driver that lands on the login form signs in as it, then goes on
BROWSER_USER = "browser-viewer"
BROWSER_PASSWORD = "Br0wser-" + secrets.token_urlsafe(12)


def browser_account(db_path, role: str = "leader", region: str = "360000") -> None:
    """The browser account (a province ``role``) in the operational store beside ``db_path``."""
    from data import identity, opstore

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COCKPIT_DB", str(db_path))
        url = opstore.default_url()
    user = identity.get_user(BROWSER_USER, url=url)
    if user is None:
        identity.create_user(BROWSER_USER, role=role, region=region, password=BROWSER_PASSWORD,
                             display_name="浏览器测试", actor="测试", url=url)
    elif (user.role, user.region_code) != (role, region):  # (a restarted server keeps its sessions otherwise)
        identity.update_user(BROWSER_USER, role=role, region=region, actor="测试", url=url)


class _Chrome(webdriver.Chrome):
    """Chromium that signs in when a page sends it to the login form (``login_as = None``: never)."""

    login_as: tuple[str, str] | None = (BROWSER_USER, BROWSER_PASSWORD)

    def get(self, url: str) -> None:
        super().get(url)
        if self.login_as and urlparse(url).path != "/login" and urlparse(self.current_url).path == "/login":
            from selenium.common.exceptions import TimeoutException

            try:
                sign_in(self, *self.login_as)
            except TimeoutException:  # a server without the browser account: the test signs in itself
                pass


def sign_in(driver, username: str, password: str) -> None:
    """Fill in the login form the driver shows and wait until it has left it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.ID, "username").clear()
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 10).until(lambda d: urlparse(d.current_url).path != "/login")


def _driver(width: int, height: int) -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--window-size={width},{height}")
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return _Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


# every Content-Security-Policy violation of a page, kept where a test can read it (injected by
# DevTools before the page's own scripts, so the policy does not block the listener itself)
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
    {directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile}));
"""


@pytest.fixture
def browser():
    """A 1920×1080 headless Chromium."""
    d = _driver(1920, 1080)
    d.set_page_load_timeout(60)
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _CSP_LISTENER})
    yield d
    d.quit()


def csp_violations(driver) -> list[dict]:
    """The page's CSP violations so far (the console also reports them as SEVERE errors)."""
    return driver.execute_script("return window.__cspViolations || []")


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for since the last call (from the DevTools network log)."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def external(urls: list[str]) -> list[str]:
    """The URLs that would leave 127.0.0.1."""
    return [u for u in urls if urlparse(u).scheme in ("http", "https", "ws", "wss")
            and urlparse(u).hostname not in ("127.0.0.1", "localhost")]


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
