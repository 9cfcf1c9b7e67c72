"""The fund-flow page in headless Chromium on the drill-down package: real figures, a click on a Sankey
node re-roots the flow (the URL changes and a reload keeps it), both languages, no console error."""
from __future__ import annotations

import time

import pytest

from tests.drilldown_factory import C, T1

pytestmark = pytest.mark.browser


def _click_node(page, label: str):
    from selenium.webdriver.common.action_chains import ActionChains
    nodes = page.driver.find_elements("css selector", "g.sankey-node")
    target = next(n for n in nodes if n.text.strip() == label)
    rect = target.find_element("css selector", "rect.node-rect")
    ActionChains(page.driver).move_to_element(rect).click().perform()


def test_flows_page_in_chinese_drills_down(live_server, browser, drill_db):
    page = browser.login(live_server, live_server.user("county_official", C))
    page.open(f"/flows?region={C}&fund=F-DB23")
    page.wait_for_graphs(min_graphs=1)
    page.wait_until(lambda d: "西渡镇" in page.text() and "截留（年度已结束）" in page.text(), 20, "gap table")
    body = page.text()
    assert "资金流向" in body and "衡阳县" in body and "发放到户" in body
    assert "430421100000" in body          # the division code column of the gap table, next to the name
    page.screenshot("flows-zh")
    _click_node(page, "西渡镇")
    page.wait_until(lambda d: f"region={T1}" in d.current_url, 20, "the click did not re-root the flow")
    page.wait_idle()
    page.wait_for_graphs(min_graphs=1)
    assert "F-DB23" in page.driver.current_url
    crumb = page.driver.find_element("css selector", "nav[aria-label=breadcrumb]").text
    assert "西渡镇" in crumb and "衡阳县" in crumb
    page.driver.refresh()                    # a reload restores the state from the URL
    page.wait_idle()
    page.wait_for_graphs(min_graphs=1)
    assert "西渡镇" in page.driver.find_element("css selector", "nav[aria-label=breadcrumb]").text
    page.screenshot("flows-zh-township")


def test_flows_page_in_english(live_server, browser, drill_db):
    """(A village node opens /village?village=CODE: asserted through the Flask test client in test_flows.py,
    so that this test does not depend on the village page.)"""
    page = browser.login(live_server, live_server.user("county_official", C), lang="en")
    page.open(f"/flows?region={C}&category=subsistence_allowance&year_from=2023&year_to=2024")
    page.wait_for_graphs(min_graphs=1)
    page.wait_until(lambda d: "Partly retained" in page.text(), 20, "gap table")
    body = page.text()
    assert "Fund flows" in body and "Not yet disbursed" in body and "资金流向" not in body
    page.screenshot("flows-en")
    _click_node(page, "西渡镇")
    page.wait_until(lambda d: f"region={T1}" in d.current_url, 20, "the click did not re-root the flow")
    assert "year_from=2023" in page.driver.current_url
    page.wait_idle()
    page.wait_for_graphs(min_graphs=1)
    time.sleep(0.5)


def test_fund_dropdown_searches_on_the_server(live_server, browser, drill_db, monkeypatch):
    """Typing in the fund dropdown asks the server (the list holds only the newest items of a province's
    ~1,800; here only one of the county's four, so that what is found must come from the server);
    picking a match puts the fund in the URL and the flow follows it."""
    from selenium.webdriver.common.keys import Keys
    monkeypatch.setattr("components.flows.FUND_OPTIONS", 1)     # the live server runs in this process
    page = browser.login(live_server, live_server.user("county_official", C))
    page.open(f"/flows?region={C}")
    page.wait_for_graphs(min_graphs=1)
    box = page.driver.find_element("css selector", "#flows-fund")
    box.click()
    page.wait_until(lambda d: "另有 3 项：输入名称或编码搜索" in page.text(), 20, "no line for the funds not listed")
    assert "2023年农村安全饮水工程" not in page.text()
    search = page.wait_css("input.dash-dropdown-search")      # the open dropdown's search box (a popover)
    search.send_keys("安全饮水")
    page.wait_until(lambda d: "2023年农村安全饮水工程（2023）" in page.text(), 20, "the search found nothing")
    assert "2023年农村低保资金（2023）" not in page.text()        # the list shows the matches only
    search.send_keys(Keys.ENTER)
    page.wait_until(lambda d: "fund=F-WS23" in d.current_url, 20, "the chosen fund is not in the URL")
    page.wait_idle()
    page.wait_for_graphs(min_graphs=1)
    assert "2023年农村安全饮水工程" in page.driver.find_element("css selector", "#flows-fund").text
