"""The village page in headless Chromium on the drill-down package: charts drawn, the ledger's rows
come from the server, clicking an entry shows its invoices; both languages; no console error."""
from __future__ import annotations

import pytest

from tests import drilldown_factory as F

pytestmark = pytest.mark.browser


def _open(browser, live_server, lang):
    page = browser.login(live_server, live_server.user("analyst", F.C), lang=lang)
    page.open(f"/village?village={F.V1A}")
    page.wait_for_graphs(min_graphs=4)
    page.wait_css("#village-ledger .ag-row[row-id] .ag-cell")
    return page


def test_village_page_drills_into_an_entry_in_chinese(drill_db, live_server, browser):
    page = _open(browser, live_server, "zh")
    body = page.text()
    assert "壕塘社区居委会" in body and "西渡镇" in body and "合成数据" in body
    assert "7.8 万元" in body and "不符合" in page.driver.page_source
    cell = page.wait_css('#village-ledger .ag-row[row-id] .ag-cell[col-id="entry_id"]')
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", cell)
    page.wait_until(lambda d: "entry=" in d.current_url, 20, "the entry did not reach the URL")
    entry = page.driver.current_url.split("entry=")[1].split("&")[0]
    page.wait_for_graphs(min_graphs=4)
    page.wait_until(lambda d: f"票据：{entry}" in d.find_element("tag name", "body").text, 20, "no invoice panel")
    page.screenshot("village-zh")
    # a reload restores the same state
    page.open(f"/village?village={F.V1A}&entry=E-WS2")
    page.wait_for_graphs(min_graphs=4)
    page.wait_css("#village-invoices .ag-row")
    assert "INV-WS2a" in page.text() and "INV-WS2b" in page.text()


def test_village_page_in_english(drill_db, live_server, browser):
    page = _open(browser, live_server, "en")
    body = page.text()
    assert "Village finance" in body and "Income" in body and "Ledger" in body
    page.screenshot("village-en")
    # sorting the ledger goes to the address bar (without reloading), and a reload restores the sort
    header = page.wait_css('#village-ledger .ag-header-cell[col-id="amount"] .ag-header-cell-label')
    page.driver.execute_script("arguments[0].click();", header)
    page.wait_until(lambda d: "grid=" in d.current_url and "amount" in d.current_url, 20, "sort not in the URL")
    page.open(page.driver.current_url.replace(live_server.url, ""))
    page.wait_css("#village-ledger .ag-row[row-id] .ag-cell")
    assert page.driver.find_elements("css selector",
                                     '#village-ledger .ag-header-cell[col-id="amount"][aria-sort="ascending"]')


def test_village_picker_without_a_village(drill_db, live_server, browser):
    page = browser.login(live_server, live_server.user("county_official", F.C))
    page.open("/village")
    assert "输入村名搜索" in page.text()
