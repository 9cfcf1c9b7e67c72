"""The township comparison's callbacks through the Flask test client on the drill-down package: the
metrics of EXPECTED, Tukey fences with their values, the URL round-trip, drill-down to the fund flow,
export equals screen, and forged counties."""
from __future__ import annotations

import base64
import csv
import io
import json
import re
import uuid
from urllib.parse import parse_qsl

import pytest

from tests.drilldown_factory import C, C2, CITY, EXPECTED, PROV, T1, T2, T3, T4, T5


def login(client, app, role: str, region: str) -> str:
    """Users live in the app's own database (auth_engine), not in drill_db's package database."""
    from core.auth import create_user
    name = f"{role}_{uuid.uuid4().hex[:6]}"
    pw = create_user(app.server.extensions["auth_engine"], name, role, region_code=region)
    r = client.post("/login", data={"username": name, "password": pw},
                    headers={"Origin": "http://localhost", "Referer": "http://localhost/login"})
    assert r.status_code in (302, 303), r.status_code
    return name


def call(client, app, first_output: str, inputs: dict, state: dict | None = None, trigger: str | None = None):
    want = set(inputs)
    keys = [k for k, cb in app.callback_map.items() if first_output in k
            and want <= {f"{getattr(i['id'], 'value', i['id'])}.{i['property']}" for i in cb["inputs"]}]
    assert len(keys) == 1, (first_output, keys)
    key = keys[0]
    outs = key.strip(".").split("...") if key.startswith("..") else [key]
    body = {"output": key,
            "outputs": [dict(id=o.rsplit(".", 1)[0], property=o.rsplit(".", 1)[1]) for o in outs]
            if key.startswith("..") else dict(id=key.rsplit(".", 1)[0], property=key.rsplit(".", 1)[1]),
            "inputs": [dict(id=k.rsplit(".", 1)[0], property=k.rsplit(".", 1)[1], value=v) for k, v in inputs.items()],
            "state": [dict(id=k.rsplit(".", 1)[0], property=k.rsplit(".", 1)[1], value=v)
                      for k, v in (state or {}).items()],
            "changedPropIds": [trigger] if trigger else list(inputs)}
    r = client.post("/_dash-update-component", json=body,
                    headers={"Origin": "http://localhost", "Referer": "http://localhost/"})
    if r.status_code == 204:
        return {}
    assert r.status_code == 200, r.data[:500]
    return json.loads(r.data)["response"]


def render(client, app, state: dict) -> dict:
    return call(client, app, "townships-breadcrumb.children", {"townships-state.data": state})


def rows(resp) -> dict[str, dict]:
    return {r["region_code"]: r for r in resp["townships-grid"]["rowData"]}


NAV = ("townships-county.value", "townships-year.value", "townships-metric.value", "townships-ranking.clickData",
       "townships-grid.cellClicked")


def navigate(client, app, state, trigger, value):
    inputs = {k: None for k in NAV}
    inputs[trigger] = value
    return call(client, app, "state-url.search", inputs, {"townships-state.data": state}, trigger=trigger)


def layout_state(app, search: str) -> dict:
    import dash
    q = dict(parse_qsl(search.lstrip("?")))
    page = next(p for p in dash.page_registry.values() if p["path"] == "/townships")
    with app.server.test_request_context("/townships" + search):
        lay = page["layout"](**q)
    return next(c for c in lay.children if getattr(c, "id", None) == "townships-state").data


@pytest.fixture(scope="module")
def county(drill_db, dash_app):
    c = dash_app.server.test_client()
    login(c, dash_app, "county_official", C)
    return c


def test_every_township_side_by_side(county, dash_app):
    r = render(county, dash_app, {"year": 2023, "metric": "complaints_per_10k"})
    g = rows(r)
    assert set(g) == {T1, T2, T3, T4, T5}
    assert r["townships-county"]["value"] == C                    # the official lands on their own county
    for code, v in EXPECTED["complaints_per_10k"].items():
        assert g[code]["complaints_per_10k"] == pytest.approx(v), code
    for code, v in EXPECTED["substantiation"].items():
        assert g[code]["substantiation_rate"] == pytest.approx(v), code
    assert g[T3]["substantiation_rate"] is None                    # nothing closed: no rate, not 0
    # 西渡镇 2023: 140,000 entered (低保 50,000 + 饮水 60,000 + 危改 30,000), 72,000 paid, 150 households
    assert g[T1]["allocated_in"] == 140000 and g[T1]["paid_amount"] == 72000
    assert g[T1]["funds_per_household"] == pytest.approx(933.33) and g[T1]["share_paid"] == pytest.approx(0.5143)
    assert g[T1]["anomaly_rate"] == 0 and g[T1]["name"] == "西渡镇"
    # ranked by the metric: 井头镇 (60 per 10,000) first
    assert [x["region_code"] for x in r["townships-grid"]["rowData"]][:3] == [T4, T1, T2]
    assert r["townships-grid"]["rowData"][0]["rank"] == 1


def test_fence_lines_in_english_read_as_english(county, dash_app):
    """Found in a screenshot: the English fence lines had the Chinese full-width colon after each metric."""
    county.set_cookie("lang", "en")
    try:
        r = render(county, dash_app, {"year": 2023, "metric": "complaints_per_10k"})
    finally:
        county.delete_cookie("lang")
    fences = json.dumps(r["townships-fences"]["children"], ensure_ascii=False)
    assert "Complaints per 10,000 residents: " in fences
    assert "：" not in fences and "（" not in fences


def test_tukey_fences_and_outliers(county, dash_app):
    r = render(county, dash_app, {"year": 2023, "metric": "complaints_per_10k"})
    # complaints per 10,000: 10, 5, 0, 60, 0 -> Q1 0, Q3 10, IQR 10, fences -15 and 25: 井头镇 is high
    g = rows(r)
    assert g[T4]["outliers"] == "每万人投诉举报偏高"
    assert "每万人投诉举报偏高" not in g[T1]["outliers"]
    fences = json.dumps(r["townships-fences"]["children"], ensure_ascii=False)
    assert "下界 -15.0（Q1 0.0，Q3 10.0）上界 25.0" in fences
    assert "乡镇少于 4 个" in fences                                 # substantiation: only 3 townships closed any
    fig = r["townships-ranking"]["figure"]
    bars = fig["data"][0]
    red = [y for y, c in zip(bars["y"], bars["marker"]["color"]) if c == "#c0392b"]
    assert red == ["井头镇"]
    assert sorted(s["x0"] for s in fig["layout"]["shapes"]) == [-15.0, 25.0]
    assert any("25.0" in a["text"] for a in fig["layout"]["annotations"])
    # small multiples: one panel per township, same y range
    sm = r["townships-multiples"]["figure"]
    assert len(sm["data"]) == 5
    ranges = {json.dumps(v["range"]) for k, v in sm["layout"].items() if k.startswith("yaxis")}
    assert len(ranges) == 1


def test_url_round_trip_and_drill_down(county, dash_app):
    st = layout_state(dash_app, "")
    out = navigate(county, dash_app, st, "townships-metric.value", "share_paid")
    assert dict(parse_qsl(out["state-url"]["search"].lstrip("?"))) == {"metric": "share_paid"}
    st = layout_state(dash_app, out["state-url"]["search"])
    out = navigate(county, dash_app, st, "townships-year.value", 2023)
    search = out["state-url"]["search"]
    st2 = layout_state(dash_app, search)
    assert st2 == {"county": None, "year": 2023, "metric": "share_paid"}
    assert render(county, dash_app, st2)["townships-grid"] == render(
        county, dash_app, {"year": 2023, "metric": "share_paid"})["townships-grid"]
    # a bar opens that township's fund flow, for the same year
    out = navigate(county, dash_app, st2, "townships-ranking.clickData", {"points": [{"customdata": T1}]})
    assert out["state-url"]["href"] == f"/flows?region={T1}&year_from=2023&year_to=2023"
    out = navigate(county, dash_app, st2, "townships-grid.cellClicked", {"rowId": T4, "colId": "name"})
    assert out["state-url"]["href"].startswith(f"/flows?region={T4}")


def test_forged_county_and_clicks_stay_in_scope(county, drill_db, dash_app):
    r = render(county, dash_app, {"county": C2, "year": 2023})
    assert set(rows(r)) == {T1, T2, T3, T4, T5} and r["townships-county"]["value"] == C
    assert "车江" not in json.dumps(r, ensure_ascii=False)
    assert navigate(county, dash_app, {"year": 2023}, "townships-ranking.clickData",
                    {"points": [{"customdata": "430422002000"}]}) == {}
    # a township analyst sees their own township only
    c = dash_app.server.test_client()
    login(c, dash_app, "analyst", T1)
    for forged in (None, C, C2, PROV):
        assert set(rows(render(c, dash_app, {"county": forged}))) == {T1}
    # the province picks any county of theirs
    p = dash_app.server.test_client()
    login(p, dash_app, "province_leader", PROV)
    r = render(p, dash_app, {"county": C2})
    assert set(rows(r)) == {"430422002000"} and {o["value"] for o in r["townships-county"]["options"]} == {C, C2}


def test_a_region_in_the_address_opens_its_county(drill_db, dash_app):
    """The breadcrumb (and the other pages) link with ?region=: a county or a township opens that county, a city
    its first county; before, the page read only ?county= and showed the viewer's first county instead."""
    from core.scope import Scope
    from data_access.townships import resolve_county
    assert layout_state(dash_app, "?region=" + C2)["county"] == C2
    assert layout_state(dash_app, "?county=" + C + "&region=" + C2)["county"] == C         # county wins
    p = dash_app.server.test_client()
    login(p, dash_app, "province_leader", PROV)
    r = render(p, dash_app, layout_state(dash_app, "?region=430422002000"))
    assert r["townships-county"]["value"] == C2 and set(rows(r)) == {"430422002000"}
    assert resolve_county(Scope(PROV), CITY) == C and resolve_county(Scope(PROV), "430422002000") == C2
    assert resolve_county(Scope(C), CITY) == C                                     # not theirs: their own
    # the breadcrumb's links carry the region, and each opens a county of that region
    crumb = json.dumps(r["townships-breadcrumb"]["children"], ensure_ascii=False)
    hrefs = re.findall(r'"href": "([^"]+)"', crumb)
    assert any(h.startswith("/townships?") and "region=" + CITY in h for h in hrefs), hrefs


def _export(c, app, state, fmt):
    trig = f"townships-export-{fmt}.n_clicks"
    inputs = {"townships-export-csv.n_clicks": None, "townships-export-xlsx.n_clicks": None, trig: 1}
    return call(c, app, "townships-download.data", inputs, {"townships-state.data": state},
                trigger=trig)["townships-download"]["data"]


def test_export_equals_screen(drill_db, dash_app):
    c = dash_app.server.test_client()
    login(c, dash_app, "county_official", C)
    state = {"county": C2, "year": 2023, "metric": "complaints_per_10k"}     # forged county: clamped
    r = render(c, dash_app, state)
    screen = r["townships-grid"]["rowData"]
    fields = [cd["field"] for cd in r["townships-grid"]["columnDefs"]]
    d = _export(c, dash_app, state, "csv")
    got = list(csv.reader(io.StringIO(d["content"].lstrip("\ufeff"))))
    assert got[0][:2] == ["名次", "乡镇"] and len(got) == len(screen) + 1
    for line, row in zip(got[1:], screen):
        assert line == ["" if row[f] is None else str(row[f]) for f in fields]
    assert "430422" not in d["content"]
    x = _export(c, dash_app, state, "xlsx")
    from openpyxl import load_workbook
    vals = list(load_workbook(io.BytesIO(base64.b64decode(x["content"]))).active.iter_rows(values_only=True))
    assert [list(v) for v in vals[1:]] == [[row[f] if row[f] != "" else None for f in fields] for row in screen]


def test_small_multiples_show_each_townships_months_on_shared_axes():
    """One small chart per township, ranked like the ranking chart: paid per household per month, a month
    without payments is a gap (not zero), and the same y range for all; complaints per 10,000 residents
    for the complaint metrics."""
    import pandas as pd

    from components.townships import small_multiples
    df = pd.DataFrame({"region_code": ["T1", "T2"], "name": ["甲镇", "乙镇"], "households": [100, 50],
                       "population": [20000, 5000], "funds_per_household": [1.0, 2.0],
                       "complaints_per_10k": [3.0, 1.0]})
    monthly = pd.DataFrame({"region_code": ["T1", "T1", "T1", "T2", "T2"],
                            "period": ["2024-01", "2024-02", "2024-03", "2024-01", "2024-03"],
                            "paid_amount": [1000.0, 2000.0, 1500.0, 5000.0, 250.0],
                            "complaints": [2, 0, 4, 1, 3]})
    fig = small_multiples(monthly, df, "funds_per_household", "zh")
    first, second = fig["data"]
    assert first["name"] == "乙镇" and second["name"] == "甲镇"          # highest funds per household first
    assert first["x"] == ["2024-01", "2024-02", "2024-03"]
    assert first["y"] == [100.0, None, 5.0]                               # 乙镇 paid nothing in February
    assert second["y"] == [10.0, 20.0, 15.0]
    assert fig["layout"]["yaxis"]["range"] == fig["layout"]["yaxis2"]["range"] == [0, pytest.approx(110.0)]
    fig = small_multiples(monthly, df, "complaints_per_10k", "en")
    by_name = {d["name"]: d["y"] for d in fig["data"]}
    assert by_name == {"甲镇": [1.0, 0.0, 2.0], "乙镇": [2.0, None, 6.0]}


def test_funds_per_household_labels_share_one_unit():
    """Bars and fences of one chart in one unit: "12,961 元" next to "9,386 元", never "1.3 万元" beside it."""
    from components.townships import fence_text, fmt_metric
    assert fmt_metric("funds_per_household", 12961.4, "zh") == "12,961 元"
    assert fmt_metric("funds_per_household", 9386.42, "zh") == "9,386 元"
    assert fmt_metric("funds_per_household", 12961.4, "en") == "¥12,961"
    text = fence_text("funds_per_household", {"low": 6135.73, "q1": 8000.0, "q3": 9000.0, "high": 11096.18}, "zh")
    assert "6,136 元" in text and "11,096 元" in text and "万元" not in text


def test_fence_quartiles_are_numpys_linear_quantiles():
    """The fences' quartiles (computed in plain Python) equal numpy's (and pandas') linear quantiles exactly,
    over samples of every size the page meets, missing values left out."""
    import random

    import numpy as np

    from components.townships import tukey
    rng = random.Random(8)
    for _ in range(3000):
        n = rng.randint(4, 80)
        v = [rng.choice([rng.uniform(-1e5, 1e5), rng.random(), float(rng.randint(0, 9)), rng.lognormvariate(3, 2)])
             for _ in range(n)]
        f = tukey(v + [None, float("nan")])
        q1, q3 = np.quantile(np.array(v), [0.25, 0.75])
        assert (f["q1"], f["q3"], f["n"]) == (float(q1), float(q3), n)
        assert f["low"] == f["q1"] - 1.5 * (f["q3"] - f["q1"])
    assert tukey([1.0, None, 2.0, 3.0]) is None                 # three values: no fences


def test_the_comparison_is_shared_by_the_county_and_not_by_a_township_inside_it(drill_db, tmp_path, monkeypatch):
    """A leader opening the county fills the cache for the county's official (data_access.base.memoize_narrowed);
    an analyst scoped to one township of it gets their own township only, even after that."""
    from core.scope import Scope
    from data_access import townships
    from tests.test_shared_cache import statements
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "cache"))
    leader = [townships.townships(Scope(PROV), C), townships.monthly(Scope(PROV), C), townships.years(Scope(PROV), C)]
    assert set(leader[0]["region_code"]) == {T1, T2, T3, T4, T5} and len(leader[1]) and leader[2]
    with statements(drill_db) as official_sql:
        official = [townships.townships(Scope(C), None), townships.monthly(Scope(C), None), townships.years(Scope(C), None)]
    assert official_sql == []                         # every answer came from the leader's entries
    import pandas as pd
    pd.testing.assert_frame_equal(leader[0], official[0])
    pd.testing.assert_frame_equal(leader[1], official[1])
    assert leader[2] == official[2]
    with statements(drill_db) as analyst_sql:
        own = townships.townships(Scope(T2), C)
    assert analyst_sql and own["region_code"].tolist() == [T2]
    assert set(townships.monthly(Scope(T2), C)["region_code"]) == {T2}
    # a forged wish for another county still gives the official their own
    assert set(townships.townships(Scope(C), C2)["region_code"]) == {T1, T2, T3, T4, T5}
