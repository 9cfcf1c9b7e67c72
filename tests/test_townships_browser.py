"""The township comparison in headless Chromium on the drill-down package: both languages, a click on a
township's bar opens its fund flow, no console error."""
from __future__ import annotations

import pytest

from tests.drilldown_factory import C, T4

pytestmark = pytest.mark.browser


def test_townships_page_in_chinese_drills_down(live_server, browser, drill_db):
    page = browser.login(live_server, live_server.user("county_official", C))
    page.open("/townships?year=2023&metric=complaints_per_10k")
    page.wait_for_graphs(min_graphs=2)
    page.wait_until(lambda d: "井头镇" in page.text() and "每万人投诉举报偏高" in page.text(), 20, "ranking table")
    body = page.text()
    assert "乡镇对比" in body and "上界 25.0" in body
    page.screenshot("townships-zh")
    bars = page.driver.find_elements("css selector", "#townships-ranking g.point path")
    assert len(bars) == 5
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(page.driver).move_to_element(bars[-1]).click().perform()      # the top bar: 井头镇
    page.wait_until(lambda d: "/flows" in d.current_url, 20, "the bar did not open the fund flow")
    assert f"region={T4}" in page.driver.current_url
    page.wait_idle()
    page.wait_for_graphs(min_graphs=1)
    assert "井头镇" in page.driver.find_element("css selector", "nav[aria-label=breadcrumb]").text


def test_townships_page_in_english(live_server, browser, drill_db):
    page = browser.login(live_server, live_server.user("county_official", C), lang="en")
    page.open("/townships?year=2023")
    page.wait_for_graphs(min_graphs=2)
    page.wait_until(lambda d: "Funds per household" in page.text(), 20, "ranking")
    body = page.text()
    assert "Townships of a county compared" in body and "乡镇对比" not in body
    page.screenshot("townships-en")
