"""Browser-test support: the app served on loopback in a thread, Debian's chromium driven by selenium.

    from tests.browser import browser, live_server   # fixtures (import them into the test module)

    def test_x(live_server, browser):
        user = live_server.user("county_official", "430421000000")     # a fresh user, logged in
        page = browser.login(live_server, user)
        page.open("/?region=430421000000")
        page.wait_for_graphs()                       # every dcc.Graph has drawn its plot
        page.screenshot("overview-zh")               # screenshots/overview-zh.png (git-ignored)
        page.assert_no_console_errors()

Every test that uses ``browser`` fails on a console error at the end even when it forgets to ask
(``assert_no_console_errors`` runs at teardown). Browser tests are skipped with a reason where chromium
or chromedriver is missing, except in CI (CI=true), where they must run.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    engine: object

    def user(self, role: str, region: str | None, pii: bool = False, person_id: str | None = None) -> tuple[str, str]:
        from core.auth import create_user
        name = f"b_{role}_{uuid.uuid4().hex[:6]}"
        pw = create_user(self.engine, name, role, region_code=region, pii=pii, person_id=person_id)
        return name, pw


@pytest.fixture(scope="session")
def live_server(dash_app, app_db):
    """The test app (hand-made package imported) served by werkzeug on a free loopback port."""
    from werkzeug.serving import make_server

    from core.db import get_engine
    port = _free_port()
    srv = make_server("127.0.0.1", port, dash_app.server, threaded=True)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield LiveServer(f"http://127.0.0.1:{port}", get_engine(app_db))
    srv.shutdown()


class Page:
    def __init__(self, driver, base: str):
        self.driver = driver
        self.base = base
        self._seen_logs: list[dict] = []

    # --- navigation ------------------------------------------------------------------------------
    def open(self, path: str, wait_css: str = "#_pages_content, #react-entry-point", timeout: float = 20):
        self.driver.get(self.base + path)
        self.wait_css(wait_css, timeout)
        self.wait_idle(timeout)
        return self

    def wait_css(self, css: str, timeout: float = 20):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(self.driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def wait_until(self, predicate, timeout: float = 20, message: str = ""):
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(self.driver, timeout).until(lambda d: predicate(d), message)

    def wait_idle(self, timeout: float = 20):
        """Until Dash has no callback in flight (the loading marker is gone and the tab is ready)."""
        def idle(d):
            return d.execute_script(
                "return document.readyState === 'complete' && "
                "!document.querySelector('[data-dash-is-loading=\"true\"]')")
        self.wait_until(idle, timeout, "Dash callbacks still running")
        time.sleep(0.2)
        self.wait_until(idle, timeout, "Dash callbacks still running")

    def wait_for_graphs(self, timeout: float = 30, min_graphs: int = 1):
        """Every dcc.Graph on the page has drawn (plotly's main svg or a map canvas is present)."""
        script = """
            const gs = Array.from(document.querySelectorAll('.dash-graph'));
            if (gs.length < arguments[0]) return false;
            return gs.every(g => g.querySelector('.main-svg') !== null);
        """
        self.wait_until(lambda d: d.execute_script(script, min_graphs), timeout, "graphs not drawn")
        self.wait_idle(timeout)

    def text(self) -> str:
        return self.driver.find_element("tag name", "body").text

    def click(self, css: str):
        el = self.wait_css(css)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
        el.click()
        self.wait_idle()

    def screenshot(self, name: str) -> Path:
        SHOTS.mkdir(exist_ok=True)
        path = SHOTS / f"{name}.png"
        h = self.driver.execute_script("return Math.max(document.body.scrollHeight, 900)")
        self.driver.set_window_size(1400, min(int(h) + 40, 4000))
        self.driver.save_screenshot(str(path))
        return path

    # --- console ---------------------------------------------------------------------------------
    def console_errors(self) -> list[dict]:
        logs = self.driver.get_log("browser")
        self._seen_logs.extend(logs)
        return [e for e in self._seen_logs if e.get("level") == "SEVERE" and not _ignorable(e)]

    def assert_no_console_errors(self):
        errs = self.console_errors()
        assert not errs, "browser console errors:\n" + "\n".join(e["message"] for e in errs)


def _ignorable(entry: dict) -> bool:
    msg = entry.get("message", "")
    return "favicon.ico" in msg


class Browser:
    def __init__(self, driver):
        self.driver = driver
        self.pages: list[Page] = []

    def page(self, server: LiveServer) -> Page:
        p = Page(self.driver, server.url)
        self.pages.append(p)
        return p

    def login(self, server: LiveServer, user: tuple[str, str], lang: str = "zh") -> Page:
        from selenium.webdriver.common.by import By
        self.driver.delete_all_cookies()
        p = self.page(server)
        self.driver.get(f"{server.url}/login?lang={lang}")
        p.wait_css("input[name=username]")
        self.driver.find_element(By.NAME, "username").send_keys(user[0])
        self.driver.find_element(By.NAME, "password").send_keys(user[1])
        self.driver.find_element(By.CSS_SELECTOR, "form button[type=submit], form input[type=submit]").click()
        p.wait_until(lambda d: "/login" not in d.current_url, 20, "login did not leave the login page")
        return p


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
              "--no-first-run", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--window-size=1400,1000", "--lang=zh-CN"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


@pytest.fixture(scope="session")
def _session_driver():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver must be installed in CI (.ci/run installs them)")
        pytest.skip("chromium/chromedriver not installed (apt-get install chromium chromium-driver)")
    d = _driver()
    yield d
    d.quit()


@pytest.fixture
def browser(_session_driver):
    """A Browser sharing one chromium per test session; fails the test on console errors."""
    _session_driver.get_log("browser")      # drop what earlier tests left
    b = Browser(_session_driver)
    yield b
    for p in b.pages:
        p.assert_no_console_errors()
    _session_driver.delete_all_cookies()
