"""The complaints page in headless Chromium on the package of tests/complaints_factory.py: real numbers,
one drill-down by clicking a bar of the comparison, both languages, and no console error (the
``browser`` fixture fails the test on any)."""
from __future__ import annotations

import pytest

from tests import complaints_factory as F
from tests.conftest import imported_database, using_database

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cdb(dash_app):
    with using_database(imported_database("complaints", F.build)) as url:
        yield url


def _bar_of(page, name: str):
    """The bar of ``name`` in the comparison chart (plotly draws one path per point, bottom first)."""
    js = """
        const g = document.getElementById('complaints-compare');
        const gd = g.querySelector('.js-plotly-plot');
        const names = gd.data[0].y;
        const bars = gd.querySelectorAll('.bars .point');
        return [names.indexOf(arguments[0]), bars.length];
    """
    i, n = page.driver.execute_script(js, name)
    assert i >= 0 and n == 2, (i, n)
    return page.driver.find_elements("css selector", "#complaints-compare .bars .point path")[i]


def _open_tab(page, label: str, min_graphs: int = 0):
    """Click the page's tab named ``label``; only the open tab's graphs and grids are in the DOM."""
    tab = next((e for e in page.driver.find_elements("css selector", "#complaints-tabs .tab") if e.text == label), None)
    assert tab is not None, [e.text for e in page.driver.find_elements("css selector", "#complaints-tabs .tab")]
    tab.click()
    page.wait_idle()
    if min_graphs:
        page.wait_for_graphs(min_graphs=min_graphs)


def _graph_count(page) -> int:
    return page.driver.execute_script("return document.querySelectorAll('.dash-graph').length")


def test_complaints_page_in_chinese_drills_down(cdb, live_server, browser):
    page = browser.login(live_server, live_server.user("county_official", F.C1))
    page.open("/complaints")
    page.wait_for_graphs(min_graphs=4)
    assert _graph_count(page) == 4                    # the summary tab only: funnel, channel, category, month
    body = page.text()
    assert "投诉举报办理情况" in body and "合成数据" in body
    assert "2024-06-30" in body and "衡阳县" in body
    for label in ("收到", "受理", "办结", "查实", "概况", "地区对比", "办理时效", "投诉清单"):
        assert label in body, label
    # the funnel cards: 20 received, 17 accepted, 11 closed, 5 substantiated
    kpis = page.driver.find_element("id", "complaints-kpis").text.split()
    for n in ("20", "17", "11", "5"):
        assert n in kpis, kpis
    page.screenshot("complaints-zh")
    _open_tab(page, "办理时效", min_graphs=2)
    page.wait_until(lambda d: "L30" in page.text() and "N3" in page.text(), 20, "R22 rows not shown")
    for label in ("7 日内受理", "受理超期清单（R22）"):
        assert label in page.text(), label
    _open_tab(page, "投诉清单")
    page.wait_until(lambda d: "共 20 件" in page.text(), 20, "list count not shown")
    assert "举报人" not in page.text()                 # a county official never sees a complainant
    _open_tab(page, "地区对比", min_graphs=1)
    body = page.text()
    assert "西渡镇" in body and "集兵镇" in body
    # drill down: click 西渡镇's bar in the comparison chart
    from selenium.webdriver import ActionChains
    bar = _bar_of(page, "西渡镇")
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", bar)
    ActionChains(page.driver).move_to_element(bar).pause(0.3).click().perform()
    page.wait_until(lambda d: f"region={F.T1}" in d.current_url, 20, "the click did not drill down")
    assert "tab=compare" in page.driver.current_url          # the drill-down stays on the comparison
    page.wait_idle()
    page.wait_for_graphs(min_graphs=1)
    page.wait_until(lambda d: "西渡村委会" in page.text(), 20, "the villages of 西渡镇 are not compared")
    crumb = page.driver.find_element("id", "complaints-breadcrumb").text
    assert "衡阳县" in crumb and "西渡镇" in crumb
    page.screenshot("complaints-zh-township")
    _open_tab(page, "投诉清单")
    page.wait_until(lambda d: "共 14 件" in page.text(), 20, "the township's list not shown")


def test_complaints_page_in_english_for_the_officer(cdb, live_server, browser):
    page = browser.login(live_server, live_server.user("complaint_officer", F.C1), lang="en")
    page.open(f"/complaints?region={F.C1}&from=2024-01&to=2024-06&tab=list")
    page.wait_until(lambda d: "18 complaints" in page.text(), 20, "list count not shown")
    assert _graph_count(page) == 0                    # the list tab has no graph
    _open_tab(page, "Timeliness", min_graphs=2)
    assert "Late acceptance (R22)" in page.text()
    _open_tab(page, "Summary", min_graphs=4)
    body = page.text()
    assert "Complaints and reports" in body and "Synthetic data" in body
    assert "Received" in body and "Letter" in body
    assert "投诉举报办理情况" not in body
    _open_tab(page, "Complaint list")
    # the officer's list carries the complainant (columns off screen are not in the DOM: ask the grid)
    fields, first = page.driver.execute_script("""
        const api = dash_ag_grid.getApi('complaints-list-grid');
        return [api.getColumnDefs().map(c => c.field), api.getDisplayedRowAtIndex(0).data];""")
    assert {"summary", "complainant_name", "complainant_contact"} <= set(fields)
    assert first["complainant_name"] == f"举报人{first['complaint_id']}"
    page.screenshot("complaints-en")
