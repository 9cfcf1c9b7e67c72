"""Browser: the map and clue pages open, one drill-down each, no console errors; screenshots in both languages."""
from __future__ import annotations

import pytest

from tests import clues_factory as cf
from tests.conftest import imported_database, using_database

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def clue_data(dash_app):
    with using_database(imported_database("clues", cf.build)) as url:
        yield url


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_map_drill_down(live_server, browser, clue_data, lang):
    page = browser.login(live_server, live_server.user("city_official", "430400000000"), lang=lang)
    page.open("/map?metric=anomaly_count")
    page.wait_for_graphs(min_graphs=2)
    # the county map draws real county shapes, coloured
    n = page.driver.execute_script("return document.querySelectorAll('#map-counties path.choroplethlocation').length")
    assert n >= 134
    fills = page.driver.execute_script(
        "return Array.from(document.querySelectorAll('#map-counties path.choroplethlocation')).map(p => getComputedStyle(p).fill)")
    assert len(set(fills)) >= 2
    # click 衡阳县: its townships appear (approximate cells)
    page.driver.execute_script("""
        const gd = document.getElementById('map-counties').querySelector('.js-plotly-plot');
        const i = gd.data[0].locations.indexOf('430421000000');
        gd.emit('plotly_click', {points: [{location: '430421000000', pointNumber: i, curveNumber: 0,
                                           customdata: gd.data[0].customdata[i]}]});
    """)
    page.wait_until(lambda d: d.execute_script(
        "return document.querySelectorAll('#map-townships path.choroplethlocation').length") >= 20, 20, "townships")
    page.wait_idle()
    assert "430421000000" in page.driver.current_url
    text = page.text()
    assert ("衡阳县" in text) if lang == "zh" else ("Township" in text or "township" in text)
    page.screenshot(f"map-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_clue_page_opens_detail(live_server, browser, clue_data, lang):
    page = browser.login(live_server, live_server.user("analyst", "430421000000"), lang=lang)
    page.open("/clues?rule=R01,R03")
    try:
        page.wait_css("#clues-grid .ag-row", timeout=15)
    except Exception:
        page.screenshot(f"clues-debug-{lang}")
        raise
    page.wait_idle()
    text = page.text()
    assert ("R04" in text) and (("未运行" in text) if lang == "zh" else ("did not run" in text))
    # the filter from the URL is shown in its dropdown (not only applied to the grid)
    chosen = page.driver.find_element("css selector", "#clues-f-rule").text
    assert "R01" in chosen and "R03" in chosen, chosen
    cell = page.wait_css("#clues-grid .ag-row[row-index='0'] .ag-cell[col-id='clue_id']")
    page.driver.execute_script("arguments[0].click();", cell)
    try:
        page.wait_css(".clue-detail", timeout=20)
    except Exception:
        print("URL", page.driver.current_url, page.driver.execute_script("return document.querySelector('#clues-grid .ag-row[row-index=\"0\"]').outerHTML.slice(0,600)"))
        page.screenshot(f"clues-debug-{lang}")
        raise
    page.wait_idle()
    assert "date_of_death" in page.text() or "employer" in page.text()
    assert "clue=" in page.driver.current_url
    assert ("请选择处理操作" not in page.text()) and ("Choose an action" not in page.text())
    page.screenshot(f"clues-{lang}")
    # the per-rule precision is a tab of its own (drawn when opened)
    heading = "规则实测准确率" if lang == "zh" else "Measured precision per rule"
    assert heading not in page.text()
    tab = next(e for e in page.driver.find_elements("css selector", "#clues-tabs .tab")
               if e.text == ("规则准确率" if lang == "zh" else "Precision per rule"))
    tab.click()
    page.wait_until(lambda d: heading in page.text(), 20, "the precision tab shows nothing")
    assert "R01" in page.text()
