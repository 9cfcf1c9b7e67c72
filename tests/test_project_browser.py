"""The project page in headless Chromium: PRJ-HR1's payments and beneficiaries, one drill-down to a
beneficiary's household file; PRJ-WS1 in English with the acceptance date on the timeline."""
from __future__ import annotations

import pytest

from tests import drilldown_factory as F

pytestmark = pytest.mark.browser


def test_project_page_and_a_beneficiary_drill_down(drill_db, live_server, browser):
    page = browser.login(live_server, live_server.user("analyst", F.C))
    page.open("/project?project=PRJ-HR1")
    page.wait_for_graphs(min_graphs=1)
    page.wait_css("#project-beneficiaries .ag-row a")
    body = page.text()
    assert "春风社区危房改造" in body and "3 / 3 户" in body and "3.0 万元" in body
    page.screenshot("project-zh")
    link = page.wait_css("#project-beneficiaries .ag-row a")
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", link)
    page.wait_until(lambda d: "/household?person=" in d.current_url, 20, "no household page")
    page.wait_css("#household-payments .ag-row")
    assert "危房改造" in page.text() and "10,000.00" in page.text()


def test_project_page_in_english(drill_db, live_server, browser):
    page = browser.login(live_server, live_server.user("county_official", F.C), lang="en")
    page.open("/project?project=PRJ-WS1")
    page.wait_for_graphs(min_graphs=1)
    body = page.text()
    assert "Cumulative payments and the acceptance date" in page.driver.page_source
    assert "8 of 10" in body and "Paid beyond progress" in body
    page.screenshot("project-en")
