"""The overview in headless Chromium: real numbers from the database, both languages, one drill-down,
and no console error (the ``browser`` fixture fails the test on any)."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_overview_shows_real_numbers_in_chinese_and_drills_down(live_server, browser):
    page = browser.login(live_server, live_server.user("province_leader", "430000000000"))
    page.open("/")
    page.wait_for_graphs(min_graphs=4)
    body = page.text()
    assert "民生资金与监督总览" in body and "合成数据" in body
    # the hand-made package paid 20,000 yuan in 40 payments to 12 households (tests/package_factory.py)
    assert "2.0 万元" in body and "40 笔" in body, body[:2000]
    assert re.search(r"受益户数\s+12\b", body), body[:2000]
    assert "衡阳县" in body and "衡南县" in body     # the charts rank counties
    assert "衡阳市" in body                         # the table lists the cities
    page.screenshot("overview-zh")
    # drill down through the breadcrumb's target: the county row link of the sub-region table
    page.open("/?region=430421000000")
    page.wait_for_graphs(min_graphs=4)
    assert "衡阳县" in page.text()


def test_overview_in_english(live_server, browser):
    page = browser.login(live_server, live_server.user("city_official", "430400000000"), lang="en")
    page.open("/")
    page.wait_for_graphs(min_graphs=4)
    body = page.text()
    assert "Livelihood funds and supervision overview" in body and "Synthetic data" in body
    assert "40 payments" in body, body[:2000]
    assert "民生资金与监督总览" not in body
    page.screenshot("overview-en")
