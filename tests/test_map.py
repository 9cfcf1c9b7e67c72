"""The anomaly map through the Flask test client on the clue package (tests/clues_factory.py)."""
from __future__ import annotations

import gzip
import json

import pytest

from tests import clues_factory as cf
from tests.conftest import imported_database, login, using_database
from tests.test_clues import post, _resp

COUNTY, OTHER = "430421000000", "430422000000"


@pytest.fixture(scope="module")
def map_db(dash_app, app_db):
    import os
    os.environ["APP_DB_URL_FOR_LOGIN"] = app_db
    with using_database(imported_database("clues", cf.build)) as url:
        yield url


def _client(dash_app, app_db, role, region):
    c = dash_app.server.test_client()
    with using_database(app_db):
        login(c, role, region)
    return c


def _draw(c, metric, year=None, changed=None):
    return post(c, "..map-counties.figure...map-year.options..",
                [{"id": "map-metric", "property": "value", "value": metric},
                 {"id": "map-year", "property": "value", "value": year}], changed=changed)


def test_county_map_real_shapes_payload_and_patch(dash_app, app_db, map_db):
    c = _client(dash_app, app_db, "province_leader", "430000000000")
    r = _draw(c, "anomaly_count", changed=[])
    fig = _resp(r)["map-counties"]["figure"]
    tr = fig["data"][0]
    assert tr["type"] == "choropleth" and len(tr["geojson"]["features"]) == 134 == len(tr["locations"])
    assert len(gzip.compress(r.data)) <= 500 * 1024
    i = tr["locations"].index(COUNTY)
    # 衡阳县: 4 flagged of 253 payments = 1.58% (1-2%: band C, class 3), hover shows name, value and sample
    assert tr["customdata"][i][1] == "衡阳县" and tr["customdata"][i][2] == "1.58%" and "253" in tr["customdata"][i][3]
    assert tr["z"][i] == 3
    j = tr["locations"].index("430102000000")       # 芙蓉区: no data in this package
    assert tr["z"][j] == 0
    # recolouring sends a patch, not the shapes again
    r2 = _draw(c, "grade", changed=["map-metric.value"])
    body = r2.get_data(as_text=True)
    assert "geojson" not in body and len(body) < 60000
    ops = json.loads(body)["response"]["map-counties"]["figure"]
    assert ops["__dash_patch_update"] == "__dash_patch_update"


def test_english_hover_and_forged_county_refused(dash_app, app_db, map_db):
    c = _client(dash_app, app_db, "county_official", OTHER)
    c.set_cookie("lang", "en")
    tr = _resp(_draw(c, "complaints_10k", changed=[]))["map-counties"]["figure"]["data"][0]
    i = tr["locations"].index(COUNTY)
    assert tr["customdata"][i][2] == "No data or outside your jurisdiction"     # 衡阳县 is not theirs
    assert "Complaints per 10,000 residents" in tr["hovertemplate"]
    # a forged click on a county outside the scope opens nothing
    r = post(c, "map-selection.data", [{"id": "map-counties", "property": "clickData",
                                        "value": {"points": [{"location": COUNTY}]}},
                                       {"id": "map-townships", "property": "clickData", "value": None}],
             [{"id": "map-selection", "property": "data", "value": {}}], changed=["map-counties.clickData"])
    assert r.status_code == 204 or "map-selection" not in r.get_data(as_text=True)
    r = post(c, "map-townships.figure", [{"id": "map-selection", "property": "data", "value": {"county": COUNTY}},
                                         {"id": "map-metric", "property": "value", "value": "grade"},
                                         {"id": "map-year", "property": "value", "value": None}])
    body = r.get_data(as_text=True)
    assert "西渡镇" not in body and "衡南县" in json.dumps(json.loads(body), ensure_ascii=False)


def test_drill_down_townships_villages_and_url(dash_app, app_db, map_db):
    c = _client(dash_app, app_db, "city_official", "430400000000")
    r = post(c, "map-selection.data", [{"id": "map-counties", "property": "clickData",
                                        "value": {"points": [{"location": COUNTY}]}},
                                       {"id": "map-townships", "property": "clickData", "value": None}],
             [{"id": "map-selection", "property": "data", "value": {}}], changed=["map-counties.clickData"])
    assert _resp(r)["map-selection"]["data"] == {"county": COUNTY, "township": None}
    fig = _resp(post(c, "map-townships.figure", [{"id": "map-selection", "property": "data", "value": {"county": COUNTY}},
                                                 {"id": "map-metric", "property": "value", "value": "grade"},
                                                 {"id": "map-year", "property": "value", "value": None}]))["map-townships"]["figure"]
    tr = fig["data"][0]
    assert all(f["properties"]["approximate"] for f in tr["geojson"]["features"])
    assert "近似" in fig["layout"]["title"]["text"]
    names = {row[0]: row for row in tr["customdata"]}
    assert names["430421104000"][2] == "数据不足"         # 井头镇: 20 payments < 30
    key = next(k for k in dash_app.callback_map if "map-panel.children" in k)
    out = _resp(post(c, key, [{"id": "map-selection", "property": "data", "value": {"county": COUNTY, "township": "430421100000"}},
                              {"id": "map-metric", "property": "value", "value": "anomaly_count"},
                              {"id": "map-year", "property": "value", "value": None}]))
    text = json.dumps(out, ensure_ascii=False)
    assert f"/townships?county={COUNTY}" in text and f"/village?village={cf.V1A}" in text
    assert "/clues?region=430421100000&table=payments" in text        # grade components link to their records
    # URL round trip
    url = _resp(post(c, "map-url.search", [{"id": "map-metric", "property": "value", "value": "grade"},
                                           {"id": "map-year", "property": "value", "value": 2023},
                                           {"id": "map-selection", "property": "data", "value": {"county": COUNTY}}]))
    search = url["map-url"]["search"]
    from urllib.parse import parse_qs
    q = {k: v[0] for k, v in parse_qs(search.lstrip("?")).items()}
    assert q == {"metric": "grade", "year": "2023", "county": COUNTY}
    from pages.map import layout
    from dash import dcc
    store = next(ch for ch in layout(**q).children if isinstance(ch, dcc.Store))
    assert store.data == {"metric": "grade", "county": COUNTY, "township": None, "year": 2023}
