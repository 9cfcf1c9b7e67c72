"""The household page in headless Chromium: search by name, open the file, both languages."""
from __future__ import annotations

import pytest

from tests import drilldown_factory as F

pytestmark = pytest.mark.browser
HEAD = F.village_people()[F.V1B][0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_household_search_and_file(drill_db, live_server, browser, lang):
    page = browser.login(live_server, live_server.user("analyst", F.C), lang=lang)
    page.open("/household")
    box = page.wait_css("#household-search")
    box.send_keys(HEAD[0])
    page.click("#household-go")
    link = page.wait_css("#household-results .ag-row a")
    assert HEAD[0] not in page.driver.page_source              # masked for a role without pii
    page.driver.execute_script("arguments[0].click();", link)
    page.wait_until(lambda d: "/household?person=" in d.current_url, 20, "no household file")
    page.wait_css("#household-payments .ag-row")
    assert HEAD[0] not in page.driver.current_url and HEAD[0] not in page.driver.page_source
    assert "13,000" in page.text() or "1.3 万元" in page.text()
    page.screenshot(f"household-{lang}")
