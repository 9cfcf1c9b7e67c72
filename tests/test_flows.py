"""The fund-flow page's callbacks through the Flask test client on the drill-down package (figures known by
construction in tests/drilldown_factory.py): what is left at every level (the R11/R12 "what left"), retained
vs not yet disbursed, the URL round-trip, node clicks, export equals screen, and forged regions."""
from __future__ import annotations

import base64
import csv
import io
import json
import uuid
from urllib.parse import parse_qsl

import pytest

from tests.drilldown_factory import C, C2, CITY, EXPECTED, PROV, T1, T2, T3, V1A, V1B


def login(client, app, role: str, region: str) -> str:
    """Log in a fresh user. Users live in the app's own database (auth_engine), not in the drill-down
    package's database that drill_db points the read side at."""
    from core.auth import create_user
    name = f"{role}_{uuid.uuid4().hex[:6]}"
    pw = create_user(app.server.extensions["auth_engine"], name, role, region_code=region)
    r = client.post("/login", data={"username": name, "password": pw},
                    headers={"Origin": "http://localhost", "Referer": "http://localhost/login"})
    assert r.status_code in (302, 303), r.status_code
    return name


def _key(app, first_output: str, inputs) -> str:
    want = set(inputs)
    keys = [k for k, cb in app.callback_map.items() if first_output in k
            and want <= {f"{getattr(i['id'], 'value', i['id'])}.{i['property']}" for i in cb["inputs"]}]
    assert len(keys) == 1, (first_output, keys)
    return keys[0]


def call(client, app, first_output: str, inputs: dict, state: dict | None = None, trigger: str | None = None):
    """POST the callback whose outputs include ``first_output`` with inputs {"id.prop": value}; returns the
    response JSON ({} for a 204: nothing to update)."""
    key = _key(app, first_output, inputs)
    outs = [o for o in key.strip(".").split("...")] if key.startswith("..") else [key]
    body = {
        "output": key,
        "outputs": [dict(id=o.rsplit(".", 1)[0], property=o.rsplit(".", 1)[1]) for o in outs]
        if key.startswith("..") else dict(id=key.rsplit(".", 1)[0], property=key.rsplit(".", 1)[1]),
        "inputs": [dict(id=k.rsplit(".", 1)[0], property=k.rsplit(".", 1)[1], value=v) for k, v in inputs.items()],
        "state": [dict(id=k.rsplit(".", 1)[0], property=k.rsplit(".", 1)[1], value=v) for k, v in (state or {}).items()],
        "changedPropIds": [trigger] if trigger else list(inputs),
    }
    r = client.post("/_dash-update-component", json=body,
                    headers={"Origin": "http://localhost", "Referer": "http://localhost/"})
    if r.status_code == 204:
        return {}
    assert r.status_code == 200, r.data[:500]
    return json.loads(r.data)["response"]


def render(client, app, state: dict) -> dict:
    return call(client, app, "flows-breadcrumb.children", {"flows-state.data": state})


def gaps(resp) -> dict[str, dict]:
    return {r["region_code"]: r for r in resp["flows-gaps"]["rowData"]}


def sankey(resp) -> tuple[list[str], dict[tuple[str, str], float]]:
    d = resp["flows-sankey"]["figure"]["data"][0]
    labels = d["node"]["label"]
    links = {}
    for s, t_, v in zip(d["link"]["source"], d["link"]["target"], d["link"]["value"]):
        links[(labels[s], labels[t_])] = v
    return labels, links


NAV_INPUTS = ("flows-fund.value", "flows-category.value", "flows-year-from.value", "flows-year-to.value",
              "flows-sankey.clickData", "flows-gaps.cellClicked", "flows-reset-expand.n_clicks")


def navigate(client, app, state: dict, trigger: str, value):
    inputs = {k: None for k in NAV_INPUTS}
    inputs[trigger] = value
    return call(client, app, "state-url.search", inputs, {"flows-state.data": state}, trigger=trigger)


def layout_state(app, search: str) -> dict:
    """Open /flows with the query string the way Dash Pages does and read the state the page stores."""
    import dash
    q = dict(parse_qsl(search.lstrip("?")))
    page = next(p for p in dash.page_registry.values() if p["path"] == "/flows")
    with app.server.test_request_context("/flows" + search):
        lay = page["layout"](**q)
    return next(c for c in lay.children if getattr(c, "id", None) == "flows-state").data


@pytest.fixture(scope="module")
def county_client(drill_db, dash_app):
    c = dash_app.server.test_client()
    login(c, dash_app, "county_official", C)
    return c


def test_left_per_level_is_the_rules_what_left(county_client, dash_app):
    """西渡镇 kept 6,000 of F-DB23 (year over: retained); every 2023 figure of EXPECTED["left_2023"]."""
    r = render(county_client, dash_app, {"region": C, "fund": "F-DB23"})
    g = gaps(r)
    for code in (C, T1, V1B, T3):
        assert g[code]["left"] == pytest.approx(EXPECTED["db23_left"][code]), code
        assert g[code]["retained"] == pytest.approx(EXPECTED["db23_left"][code])
        assert g[code]["pending"] == 0
    assert g[T1]["status"] == "截留（年度已结束）" and g[T1]["r12"] == "是"
    assert g[T1]["in_amount"] == 50000 and g[T1]["passed_on"] == 40000 and g[T1]["paid"] == 4000
    assert T2 not in g and V1A not in g             # nothing left there
    assert list(g)[0] == T3                         # largest gap first
    # the whole year 2023 (three funds): EXPECTED["left_2023"] inside the county
    g23 = gaps(render(county_client, dash_app, {"region": C, "year_from": 2023, "year_to": 2023}))
    for code in (C, T1, V1B, T3, V1A):
        assert g23[code]["left"] == pytest.approx(EXPECTED["left_2023"][code]), code


def test_not_yet_disbursed_while_the_year_is_young(county_client, dash_app):
    r = render(county_client, dash_app, {"region": T1, "fund": "F-DB24"})
    g = gaps(r)
    assert g[T1]["left"] == pytest.approx(EXPECTED["db24_pending"][T1])
    assert g[T1]["pending"] == pytest.approx(38000) and g[T1]["retained"] == 0
    assert g[T1]["status"] == "未拨付（年度未结束）"
    # a category over a range of years: both at once
    g = gaps(render(county_client, dash_app, {"region": T1, "category": "subsistence_allowance",
                                              "year_from": 2023, "year_to": 2024}))
    assert (g[T1]["left"], g[T1]["retained"], g[T1]["pending"]) == (44000, 6000, 38000)


def test_sankey_carries_every_amount(county_client, dash_app):
    r = render(county_client, dash_app, {"region": C, "fund": "F-DB23"})
    labels, links = sankey(r)
    assert "衡阳县" in labels and "西渡镇" in labels and "430421100000" not in labels
    assert links[("衡阳县", "西渡镇")] == 50000
    assert links[("衡阳县", "雷峰村委会")] == 10000           # straight past 井头镇
    assert links[("西渡镇", "发放到户")] == 4000               # 江口 paid by the township itself
    assert links[("西渡镇", "截留（年度已结束）")] == 6000
    assert links[("资金来源", "衡阳县")] == 150000
    # flow is conserved at every region node: in = out
    d = r["flows-sankey"]["figure"]["data"][0]
    for i, lab in enumerate(labels):
        if lab in ("衡阳县", "西渡镇", "杉桥镇"):
            inn = sum(v for s, t_, v in zip(d["link"]["source"], d["link"]["target"], d["link"]["value"]) if t_ == i)
            out = sum(v for s, t_, v in zip(d["link"]["source"], d["link"]["target"], d["link"]["value"]) if s == i)
            assert inn == pytest.approx(out), lab
    assert "衡阳县" in json.dumps(r["flows-breadcrumb"]["children"], ensure_ascii=False)


def test_tail_is_aggregated_and_expands(county_client, dash_app):
    state = {"region": C, "fund": "F-DB23", "n_township": 1, "n_village": 1}
    r = render(county_client, dash_app, state)
    labels, links = sankey(r)
    assert "其他 2 个乡镇街道" in labels and "其他 2 个村社区" in labels
    assert links[("衡阳县", "其他 2 个乡镇街道")] == 70000          # 集兵镇 40,000 + 杉桥镇 30,000
    assert "已合并 2 个乡镇街道" in r["flows-tail"]["children"]
    d = r["flows-sankey"]["figure"]["data"][0]
    other = d["customdata"][labels.index("其他 2 个乡镇街道")]
    assert other == "o:township"
    out = navigate(county_client, dash_app, state, "flows-sankey.clickData", {"points": [{"customdata": other, "depth": 2}]})
    q = dict(parse_qsl(out["state-url"]["search"].lstrip("?")))
    assert q["n_township"] == "21" and q["n_village"] == "1"
    labels2, _ = sankey(render(county_client, dash_app, layout_state(dash_app, out["state-url"]["search"])))
    assert "集兵镇" in labels2 and "杉桥镇" in labels2 and not any(lab.startswith("其他 2 个乡镇") for lab in labels2)
    # in English the merged nodes read as English does
    en = dash_app.server.test_client()
    login(en, dash_app, "county_official", C)
    en.get("/lang/en")
    r = render(en, dash_app, state)
    labels, _ = sankey(r)
    assert "2 other townships" in labels and "2 other villages" in labels
    assert "2 townships merged" in r["flows-tail"]["children"]


def test_url_round_trip_and_node_clicks(county_client, dash_app):
    state = layout_state(dash_app, f"?region={C}")
    out = navigate(county_client, dash_app, state, "flows-fund.value", "F-DB23")
    search = out["state-url"]["search"]
    assert dict(parse_qsl(search.lstrip("?"))) == {"region": C, "fund": "F-DB23"}
    st = layout_state(dash_app, search)
    assert st["region"] == C and st["fund"] == "F-DB23"
    assert gaps(render(county_client, dash_app, st)) == gaps(render(county_client, dash_app, {"region": C, "fund": "F-DB23"}))
    # click 西渡镇: re-rooted there, filters kept
    out = navigate(county_client, dash_app, st, "flows-sankey.clickData", {"points": [{"customdata": f"r:{T1}", "depth": 2}]})
    st2 = layout_state(dash_app, out["state-url"]["search"])
    assert st2["region"] == T1 and st2["fund"] == "F-DB23"
    assert set(gaps(render(county_client, dash_app, st2))) == {T1, V1B}
    # a village opens the village page
    out = navigate(county_client, dash_app, st2, "flows-sankey.clickData", {"points": [{"customdata": f"r:{V1B}", "depth": 2}]})
    assert out["state-url"]["href"] == f"/village?village={V1B}"
    # a row of the gap table re-roots too
    out = navigate(county_client, dash_app, st, "flows-gaps.cellClicked", {"rowId": T3, "colId": "name"})
    assert layout_state(dash_app, out["state-url"]["search"])["region"] == T3


def test_forged_regions_yield_nothing_outside_scope(drill_db, dash_app):
    c = dash_app.server.test_client()
    login(c, dash_app, "analyst", T1)
    for forged in (C, C2, CITY, PROV, "430421103000", "junk"):
        r = render(c, dash_app, {"region": forged})
        assert all(code.startswith(T1[:9]) for code in gaps(r)), forged
        body = json.dumps(r, ensure_ascii=False)
        assert "衡南县" not in body and "杉桥镇" not in body and "衡阳市" not in body
    # a forged click outside the scope does nothing
    st = {"region": T1}
    assert navigate(c, dash_app, st, "flows-sankey.clickData", {"points": [{"customdata": f"r:{T3}", "depth": 1}]}) == {}
    # a click on a link (no "depth") is not a node click
    assert navigate(c, dash_app, st, "flows-sankey.clickData", {"points": [{"customdata": f"r:{T1}"}]}) == {}
    assert navigate(c, dash_app, st, "flows-gaps.cellClicked", {"rowId": C2}) == {}


def test_province_leader_sees_the_province_budget(drill_db, dash_app):
    c = dash_app.server.test_client()
    login(c, dash_app, "province_leader", PROV)
    g = gaps(render(c, dash_app, {"fund": "F-DB23"}))
    assert g[PROV]["in_amount"] == 300000 and g[PROV]["left"] == pytest.approx(EXPECTED["db23_left"][PROV])
    assert g[CITY]["left"] == pytest.approx(EXPECTED["db23_left"][CITY])
    assert C2 not in g                              # 衡南县 paid all it received


def _export(c, app, state, fmt):
    inputs = {"flows-export-csv.n_clicks": 1 if fmt == "csv" else None,
              "flows-export-xlsx.n_clicks": 1 if fmt == "xlsx" else None}
    trig = "flows-export-csv.n_clicks" if fmt == "csv" else "flows-export-xlsx.n_clicks"
    return call(c, app, "flows-download.data", inputs, {"flows-state.data": state}, trigger=trig)["flows-download"]["data"]


def test_export_equals_screen_for_a_scoped_viewer(drill_db, dash_app):
    c = dash_app.server.test_client()
    login(c, dash_app, "analyst", T1)
    state = {"region": C, "category": "subsistence_allowance"}      # forged county: clamped to 西渡镇
    rows = render(c, dash_app, state)["flows-gaps"]["rowData"]
    assert [r["region_code"] for r in rows] == [T1, V1B]
    cols = [cd["field"] for cd in render(c, dash_app, state)["flows-gaps"]["columnDefs"]]
    d = _export(c, dash_app, state, "csv")
    assert d["filename"].endswith(".csv")
    got = list(csv.reader(io.StringIO(d["content"].lstrip("\ufeff"))))
    assert got[0][0] == "地区" and len(got) == len(rows) + 1
    for line, row in zip(got[1:], rows):
        assert line == ["" if row[f] is None else str(row[f]) for f in cols]
    x = _export(c, dash_app, state, "xlsx")
    from openpyxl import load_workbook
    ws = load_workbook(io.BytesIO(base64.b64decode(x["content"]))).active
    vals = list(ws.iter_rows(values_only=True))
    assert [list(v) for v in vals[1:]] == [[row[f] for f in cols] for row in rows]


def test_rollup_equals_the_rules_own_flows(drill_db):
    """agg_fund_flow is the R11/R12 "what left", to the fen: recomputed here by the rules' Flows."""
    import pandas as pd

    from core.db import get_engine
    from core.settings import RuleSettings
    from pipeline.rules.base import Context
    from pipeline.rules.engine import latest_as_of, load_tables
    from pipeline.rules.flows import Flows
    eng = get_engine(drill_db)
    ref = Flows(Context(load_tables(eng), latest_as_of(eng), RuleSettings())).table.reset_index()
    got = pd.read_sql("SELECT fund_code, region_code, inflow, passed_on, paid, ledger, left_region FROM agg_fund_flow", eng)
    m = ref.merge(got, on=["fund_code", "region_code"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all() and len(m) == len(ref) > 20
    assert (m["left"] - m["left_region"]).abs().max() < 0.005
    assert (m["paid_x"] - m["paid_y"]).abs().max() < 0.005 and (m["ledger_x"] - m["ledger_y"]).abs().max() < 0.005


def test_grouped_rollup_gives_the_same_flow_as_summing_every_fund(drill_db, monkeypatch):
    """All funds, a category, a range of years are read from agg_fund_flow_group/agg_flow_edge_group (one
    row per region and year); summing the selected funds' own rows (the per-fund path) must give the same
    nodes, amounts, R12 marks and links, for every scope, region and choice."""
    import pandas as pd

    from core.scope import Scope
    from data_access import flows
    cases = [(Scope(PROV), [PROV, CITY, C, C2, T1]), (Scope(CITY), [CITY, C, T2]), (Scope(C), [C, T1, T3, V1A]),
             (Scope(C2), [C2]), (Scope(T1), [T1])]
    choices = [(None, None, None), ("subsistence_allowance", None, None), ("drinking_water", None, None),
               ("housing_renovation", 2023, 2023), (None, 2023, 2023), (None, 2024, 2024), (None, 2024, 2023),
               ("subsistence_allowance", 2024, None), ("no_such_category", None, None)]

    monkeypatch.setenv("CACHE_DISABLED", "1")          # the reference below must be computed, not recalled
    compared = 0
    for scope, regions in cases:
        for region in regions:
            for cat, a, b in choices:
                got = flows.flow.uncached(scope, region, None, cat, a, b)
                codes = got["funds"]

                def per_fund(root, category, year_from, year_to):
                    return flows._per_fund(codes, root, flows.as_of(Scope(PROV)))
                with monkeypatch.context() as mp:
                    mp.setattr(flows, "_grouped", per_fund)
                    ref = flows.flow.uncached(scope, region, None, cat, a, b)
                assert got["funds"] == ref["funds"] and got["root"] == ref["root"]
                assert got["paid_inside_all"] == pytest.approx(ref["paid_inside_all"])
                key = ["region_code"]
                g, r = got["nodes"].sort_values(key).reset_index(drop=True), ref["nodes"].sort_values(key).reset_index(drop=True)
                assert list(g["region_code"]) == list(r["region_code"]), (scope, region, cat, a, b)
                for col in ("in_amount", "from_outside", "passed_on", "paid", "ledger", "left", "retained", "pending"):
                    assert (g[col].astype(float) - r[col].astype(float)).abs().max() < 0.005 if len(g) else True, (col, scope, region, cat, a, b, g.to_dict("records"), r.to_dict("records"))
                assert list(g["r12"].astype(bool)) == list(r["r12"].astype(bool))
                ek = ["from_code", "to_code"]
                ge = got["edges"].fillna({"from_code": ""}).sort_values(ek).reset_index(drop=True)
                re_ = ref["edges"].fillna({"from_code": ""}).sort_values(ek).reset_index(drop=True)
                assert ge[ek].values.tolist() == re_[ek].values.tolist(), (scope, region, cat, a, b)
                assert ((ge["amount"].astype(float) - re_["amount"].astype(float)).abs() < 0.005).all()
                compared += len(g)
    assert compared > 100                          # the cases really had nodes to compare
    assert isinstance(got["nodes"], pd.DataFrame)


def test_rollups_command_rebuilds_a_missing_rollup(drill_db, tmp_path):
    """A database imported before agg_fund_flow_group existed has it empty: `manage.py rollups` fills it
    with what an import would have written."""
    import shutil
    import subprocess
    import sys

    import pandas as pd
    from sqlalchemy import text

    from core.db import get_engine
    copy = tmp_path / "old.sqlite"
    shutil.copy(drill_db.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    eng = get_engine(url)
    q = "SELECT * FROM agg_fund_flow_group ORDER BY category, region_code, year"
    want = pd.read_sql(q, eng)
    assert len(want) > 10
    with eng.begin() as conn:
        conn.execute(text("DROP TABLE agg_fund_flow_group"))
        conn.execute(text("DELETE FROM agg_flow_edge_group"))
    eng.dispose()
    r = subprocess.run([sys.executable, "manage.py", "rollups", "--database-url", url], capture_output=True, text=True,
                       cwd=str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    assert r.returncode == 0, r.stderr[-2000:]
    got = pd.read_sql(q, get_engine(url))
    pd.testing.assert_frame_equal(got, want)
    assert pd.read_sql("SELECT COUNT(*) AS n FROM agg_flow_edge_group", get_engine(url))["n"][0] > 0


def test_fund_dropdown_lists_a_page_and_searches_the_rest():
    """A province has ~1,800 fund items: the dropdown gets the newest 50 and a line saying how many more a
    search reaches; a search matches names and codes; the chosen fund is always an option."""
    import pandas as pd

    from components.flows import FUND_OPTIONS, MORE, fund_option_list
    funds = pd.DataFrame({"fund_code": [f"F{i:04d}" for i in range(120)],
                          "name": [f"{'危房改造' if i % 3 == 0 else '农村低保'}资金{i}" for i in range(120)],
                          "category": "x", "year": [2024 - i // 60 for i in range(120)]})
    opts = fund_option_list(funds, "zh")
    assert [o["value"] for o in opts[:FUND_OPTIONS]] == list(funds["fund_code"][:FUND_OPTIONS])
    assert opts[0]["label"] == "危房改造资金0（2024）"
    assert opts[-1] == {"label": "另有 70 项：输入名称或编码搜索", "value": MORE, "disabled": True}
    assert len(opts) == FUND_OPTIONS + 1
    hits = fund_option_list(funds, "en", query="危房")             # 40 names match: no "more" line
    assert len(hits) == 40 and all("危房改造" in o["label"] for o in hits) and hits[0]["label"].endswith("(2024)")
    assert [o["value"] for o in fund_option_list(funds, "zh", query="f0119")] == ["F0119"]
    # the chosen fund stays an option even when the list or the search leaves it out
    opts = fund_option_list(funds, "zh", selected="F0100", query="低保")
    assert "F0100" in [o["value"] for o in opts] and opts[-1]["value"] == MORE and opts[-1]["disabled"]


def test_fund_search_reaches_only_the_viewers_funds(drill_db, dash_app):
    """The search runs on the server over the viewer's own fund items: 衡南县 does not reach 衡阳县's
    drinking-water fund, whatever it types; 衡阳县 does."""
    def search(client, text, state=None):
        r = call(client, dash_app, "flows-fund.options", {"flows-fund.search_value": text},
                 {"flows-fund.value": None, "flows-state.data": state or {}})
        return [o["value"] for o in r["flows-fund"]["options"]] if r else None

    other = dash_app.server.test_client()
    login(other, dash_app, "county_official", C2)
    assert search(other, "安全饮水") == [] and search(other, "F-WS23") == []
    assert search(other, "低保") == ["F-DB23"]                 # allocated into 衡南县 in 2023 only
    own = dash_app.server.test_client()
    login(own, dash_app, "county_official", C)
    assert search(own, "安全饮水") == ["F-WS23"]
    assert search(own, "低保", {"year_from": 2024}) == ["F-DB24"]  # within the chosen years
    assert search(own, "   ") is None                        # nothing typed: the list stays as it is
    # the disabled "more" line is not a choice
    assert navigate(own, dash_app, {}, "flows-fund.value", "__more__") == {}


def test_fund_list_from_the_rollup_equals_the_raw_ways(drill_db, monkeypatch):
    """fund_options reads agg_fund_reach for a province, city, county or township viewer: for every region
    of the package it must list what the three raw ways give (a row of agg_fund_region at the region; an
    allocation to it or inside it; issued by it or inside it), which is what it asks when the table is
    not there (a database rolled up before it existed)."""
    from sqlalchemy import text

    from core.db import get_engine
    from core.scope import Scope
    from data_access import flows
    monkeypatch.setenv("CACHE_DISABLED", "1")
    with get_engine(drill_db).connect() as conn:
        # the county's townships, every region money was allocated to or issued by, and the regions above
        codes = sorted({r[0] for r in conn.execute(text(
            "SELECT code FROM regions WHERE level IN ('province', 'city', 'county', 'township') AND code LIKE :p "
            "UNION SELECT to_region_code FROM allocations UNION SELECT issuing_region_code FROM funds"),
            {"p": C[:6] + "%"})} | {PROV, CITY, C2})
        n_reach = conn.execute(text("SELECT COUNT(*) FROM agg_fund_reach")).scalar()
    assert n_reach > 0 and flows._reach_built()
    lists = {c: flows.fund_options(Scope(c)) for c in codes}
    with monkeypatch.context() as mp:
        mp.setattr(flows, "_reach_built", lambda: False)
        for c in codes:
            raw = flows.fund_options(Scope(c))
            assert lists[c].equals(raw), (c, lists[c], raw)
    # not a trivial list: the county's own fund, the province's and a fund allocated past a township
    assert {len(v) for v in lists.values()} != {len(lists[PROV])}
    assert len(lists[C]) > 0 and all(len(lists[t]) > 0 for t in (T1, T2, T3))


def test_fund_list_without_the_rollup_asks_the_raw_way(tmp_path, pkg_dir, monkeypatch):
    from sqlalchemy import text

    from core.db import get_engine
    from core.scope import Scope
    from data_access import flows
    from data_access.cache import invalidate
    from pipeline.importer import import_package
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "cache"))
    import_package(pkg_dir, get_engine(url), run_detect=False)
    county = "430421000000"
    before = flows.fund_options(Scope(county))
    assert len(before) > 0
    with get_engine(url).begin() as conn:
        conn.execute(text("DELETE FROM agg_fund_reach"))        # as in a database rolled up before it existed
    invalidate()
    assert not flows._reach_built()
    assert flows.fund_options(Scope(county)).equals(before)
