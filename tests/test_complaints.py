"""The complaints page (issue 6) on the hand-made package of tests/complaints_factory.py.

Every deadline edge of the service rule (accepted on day 7 / day 8, closed on the last allowed day /
the day after, with and without an extension, month ends, still open or not accepted at as-of) is a
complaint of that package with its expected outcome written next to it; the page's figures and
overdue lists must match those and agree with the clues of R22/R23 stored by the rules engine.
The callbacks are POSTed through the Flask test client as the browser does."""
from __future__ import annotations

import base64
import io
import json
from urllib.parse import parse_qsl, urlparse

import pandas as pd
import pytest
from sqlalchemy import select

from core import schema
from core.scope import Scope
from tests import complaints_factory as F
from tests.conftest import imported_database, using_database

COUNTY = Scope(F.C1)
OFFICER = Scope(F.C1, complaints=True)


@pytest.fixture(scope="module")
def cdb(dash_app):
    with using_database(imported_database("complaints", F.build)) as url:
        yield url


# --- the data_access figures -------------------------------------------------------------------
def test_funnel_counts_and_rates(cdb):
    from data_access import complaints as dac
    f = dac.complaint_funnel(COUNTY, F.C1)
    for k, v in F.EXPECTED["county"].items():
        assert f[k] == pytest.approx(v), k
    assert f["accept_rate"] == pytest.approx(17 / 20)
    assert f["close_rate"] == pytest.approx(11 / 17)
    assert f["substantiation_rate"] == pytest.approx(5 / 11)
    assert f["accepted_in_time_rate"] == pytest.approx(15 / 17)
    assert f["closed_in_time_rate"] == pytest.approx(8 / 11)
    assert f["population"] == 4000 and f["per_10k"] == pytest.approx(50.0)
    # a period: months of receipt 2024-01..2024-02 -> A7 A8 X1 X2 L30 O3 O4 R1 P1 W1
    g = dac.complaint_funnel(COUNTY, F.C1, "2024-01", "2024-02")
    assert (g["received"], g["accepted"], g["closed"], g["substantiated"]) == (10, 10, 8, 3)


def test_overview_kpis_use_the_same_numbers(cdb):
    from data_access import complaints as dac
    from data_access import overview
    k = overview.kpis(COUNTY, F.C1, 2024)
    assert k["complaints"] == dac.complaint_funnel(COUNTY, F.C1, "2024-01", "2024-12")
    assert k["complaints"]["received"] == 18          # M1 and M2 were received in 2023


def test_breakdowns_show_every_channel_and_category(cdb):
    from data_access import complaints as dac
    ch = dac.breakdown(COUNTY, F.C1, None, None, "channel").set_index("channel")
    assert list(ch.index) == ["online", "letter", "visit", "phone", "wechat"]
    assert ch["received"].to_dict() == {"online": 5, "letter": 6, "visit": 4, "phone": 3, "wechat": 2}
    cat = dac.breakdown(COUNTY, F.C1, "2024-06", "2024-06", "category").set_index("category")
    assert list(cat.index) == ["livelihood_funds", "poverty_alleviation", "village_finance", "work_style", "other"]
    assert cat["received"].to_dict() == {"livelihood_funds": 2, "poverty_alleviation": 0, "village_finance": 0,
                                         "work_style": 0, "other": 0}
    months = dac.breakdown(COUNTY, F.C1, None, None, "period").set_index("period")["received"]
    assert months.to_dict() == {"2023-11": 2, "2024-01": 7, "2024-02": 3, "2024-03": 2, "2024-04": 2,
                                "2024-05": 2, "2024-06": 2}


def test_subregions_per_10k_and_overdue(cdb):
    from data_access import complaints as dac
    s = dac.subregions(COUNTY, F.C1, None, None).set_index("region_code")
    assert set(s.index) == {F.T1, F.T2}
    assert s.loc[F.T1, "name"] == "西渡镇" and s.loc[F.T2, "name"] == "集兵镇"
    for code, v in F.EXPECTED["per_10k"].items():
        assert s.loc[code, "per_10k"] == pytest.approx(v)
    assert (s.loc[F.T1, "accept_overdue"], s.loc[F.T1, "close_overdue"]) == (4, 5)
    assert (s.loc[F.T2, "accept_overdue"], s.loc[F.T2, "close_overdue"]) == (0, 0)
    v = dac.subregions(COUNTY, F.T1, None, None).set_index("region_code")
    assert v["received"].to_dict() == {F.V1: 7, F.V2: 7}


def _list(scope=COUNTY, **kw):
    from data_access import complaints as dac
    df, total = dac.complaint_list(scope, F.C1, None, None, (), (), 0, 100, **kw)
    return df.set_index("complaint_id"), total


def test_every_deadline_edge(cdb):
    """The timeliness of each hand-made complaint at the as-of date 2024-06-30."""
    df, total = _list()
    assert total == 20
    # accepted on day 7: in time; day 8: one day late
    assert (df.loc["A7", "days_to_accept"], df.loc["A7", "accept_days_overdue"]) == (7, 0)
    assert (df.loc["A8", "days_to_accept"], df.loc["A8", "accept_days_overdue"]) == (8, 1)
    # closed on the last allowed day (3 months) and the day after
    assert (df.loc["A7", "close_limit"], df.loc["A7", "closed_date"], df.loc["A7", "close_days_overdue"]) == \
        ("2024-04-08", "2024-04-08", 0)
    assert (df.loc["A8", "close_limit"], df.loc["A8", "close_days_overdue"]) == ("2024-04-09", 1)
    # with an extension: 4 months
    assert (df.loc["X1", "close_limit"], df.loc["X1", "close_days_overdue"]) == ("2024-05-02", 0)
    assert (df.loc["X2", "close_limit"], df.loc["X2", "close_days_overdue"]) == ("2024-05-03", 1)
    # month end: 30 Nov + 3 months = 29 Feb (leap year)
    assert (df.loc["M1", "close_limit"], df.loc["M1", "close_days_overdue"]) == ("2024-02-29", 0)
    assert df.loc["M2", "close_days_overdue"] == 1
    # still open at as-of: due on as-of itself is not overdue, due the day before is
    assert (df.loc["O1", "close_limit"], df.loc["O1", "close_days_overdue"], df.loc["O1", "status"]) == \
        ("2024-06-30", 0, "open")
    assert (df.loc["O2", "close_limit"], df.loc["O2", "close_days_overdue"]) == ("2024-06-29", 1)
    assert (df.loc["O3", "close_limit"], df.loc["O3", "close_days_overdue"]) == ("2024-06-29", 1)   # 29 Feb + 4 months
    assert (df.loc["O4", "close_limit"], df.loc["O4", "close_days_overdue"]) == ("2024-07-01", 0)
    # not accepted at as-of: 7 days old is in time, 8 days old is late
    assert (df.loc["N1", "status"], df.loc["N1", "accept_days_overdue"]) == ("not_accepted", 0)
    assert df.loc["N2", "accept_days_overdue"] == 1 and df.loc["N3", "accept_days_overdue"] == 23
    assert pd.isna(df.loc["N1", "substantiated"]) and df.loc["A7", "substantiated"] == True  # noqa: E712


def test_timeliness_distributions_and_counts(cdb):
    from data_access import complaints as dac
    tl = dac.timeliness(COUNTY, F.C1, None, None)
    assert tl["as_of"] == F.AS_OF
    acc = {(r.days, r.in_time): r.n for r in tl["accept"].itertuples()}
    assert acc[(7, True)] == 1 and acc[(8, False)] == 1 and acc[(30, False)] == 1 and (7, False) not in acc
    clo = {(r.days, r.in_time, r.extension): r.n for r in tl["close"].itertuples()}
    assert clo[(91, True, False)] == 2            # A7 (8 Jan -> 8 Apr), M1 (30 Nov -> 29 Feb)
    assert clo[(92, False, False)] == 2           # A8, M2
    assert clo[(121, True, True)] == 1 and clo[(122, False, True)] == 1     # X1, X2
    assert (tl["accept_overdue"], tl["close_overdue"]) == (4, 5)
    assert (tl["accept_overdue_open"], tl["close_overdue_open"]) == (2, 2)   # N2 N3; O2 O3
    assert (tl["not_accepted"], tl["open"]) == (3, 6)


def test_overdue_lists_agree_with_rules_r22_r23(cdb):
    from core.db import get_engine
    from data_access import complaints as dac
    from data_access.base import read_df
    for rule in ("R22", "R23"):
        od = dac.overdue(COUNTY, F.C1, None, None, rule)
        got = dict(zip(od["complaint_id"], od["days_overdue"]))
        assert got == F.EXPECTED[rule.lower()], rule
        assert list(od["days_overdue"]) == sorted(od["days_overdue"], reverse=True)
        clues = read_df(select(schema.clues.c.record_id, schema.clues.c.region_code, schema.clues.c.evidence_json)
                        .where(schema.clues.c.rule == rule), get_engine(cdb))
        mine = clues[clues["region_code"].str.startswith("430421")]
        assert set(mine["record_id"]) == set(got), rule
        if rule == "R23":
            for rid, ev in zip(mine["record_id"], mine["evidence_json"]):
                e = json.loads(ev)
                assert e["days_over"] == got[rid]
                assert e["deadline"] == od.set_index("complaint_id").loc[rid, "due_date"]
    r22 = dac.overdue(COUNTY, F.C1, None, None, "R22").set_index("complaint_id")
    assert r22.loc["N3", "status"] == "open" and r22.loc["L30", "status"] == "done"
    assert r22.loc["A8", "due_date"] == "2024-01-08"


def test_repeats_follow_runs_across_the_period_start(cdb):
    from data_access import complaints as dac
    r = dac.repeats(COUNTY, F.C1, None, None)
    assert (r["second"], r["third_plus"]) == (1, 1)          # R2, R3; P2 came 91 days after P1: a new run
    m = r["matters"]
    assert len(m) == 1 and m.iloc[0]["complaint_ids"] == "R1, R2, R3" and m.iloc[0]["fund_code"] == "F-DB"
    # R3 (May) is still the third although R1 was received more than 90 days before May
    r = dac.repeats(COUNTY, F.C1, "2024-05", "2024-06")
    assert (r["second"], r["third_plus"]) == (0, 1)
    r = dac.repeats(COUNTY, F.C1, "2024-01", "2024-04")
    assert (r["second"], r["third_plus"]) == (1, 0)
    r = dac.repeats(COUNTY, F.C1, "2024-01", "2024-03")
    assert (r["second"], r["third_plus"]) == (0, 0) and r["matters"].empty


def test_corroboration_pairs_complaints_with_data_clues(cdb):
    from data_access import complaints as dac
    c = dac.corroboration(COUNTY, F.C1, None, None)
    by = {(r.match, r.fund_code if r.match == "fund" else r.project_code if r.match == "project" else r.region_code): r
          for r in c.itertuples()}
    p = by[("project", "PRJ2")]
    assert (p.complaint_ids, p.rules, p.clues, p.region_code) == ("P1, P2", "R14", 1, F.V2A)
    f = by[("fund", "F-DB")]
    assert (f.complaint_ids, f.rules, f.clues, f.substantiated) == ("R1, R2, R3", "R08", 1, 2)
    # the late-handling clues (R22/R23) of V1 and V2 are no corroboration
    assert set(c["region_code"]) == {F.V2A}
    assert list(c["match"]).index("project") < list(c["match"]).index("region")


def test_scope_and_confidential_fields(cdb):
    from data_access import complaints as dac
    south = Scope(F.C3)
    assert dac.complaint_funnel(south, F.C1)["received"] == 2             # a forged region is clamped
    df, total = dac.complaint_list(south, F.C1, None, None)
    assert total == 2 and set(df["complaint_id"]) == {"S1", "S2"}
    assert dac.complaint_detail(south, "A7") is None
    assert dac.overdue(south, F.C1, None, None, "R22").empty
    assert "summary" not in _list()[0].columns and "complainant_name" not in _list()[0].columns
    d = dac.complaint_detail(COUNTY, "A7")
    assert d and not any(k in d for k in ("summary", "complainant_name", "complainant_contact"))
    df, _ = _list(OFFICER)
    assert df.loc["A7", "complainant_name"] == "举报人A7" and df.loc["A7", "summary"].startswith("反映问题A7")
    assert dac.complaint_funnel(Scope.none(), F.C1) is None
    assert dac.complaint_list(Scope.none(), F.C1, None, None)[1] == 0


def test_list_sorts_and_filters_in_sql(cdb):
    from data_access import complaints as dac
    df, total = dac.complaint_list(COUNTY, F.C1, None, None, (("amount_involved", "desc"),),
                                   (("status", "in", ("closed",)),), 0, 3)
    assert total == 11 and list(df["complaint_id"]) == ["X1", "A7", "R1"]
    df, total = dac.complaint_list(COUNTY, F.C1, None, None, (("received_date", "asc"),),
                                   (("channel", "in", ("letter",)), ("received_date", "date", "greaterThan", "2024-02-01")))
    assert list(df["complaint_id"]) == ["O1", "R3", "N3", "N2"] and total == 4
    # a column outside the whitelist is ignored, not passed to SQL
    df, total = dac.complaint_list(COUNTY, F.C1, None, None, (("summary", "asc"), ("1;drop", "asc")),
                                   (("summary", "text", "contains", "x"),))
    assert total == 20


# --- callbacks through the Flask test client -----------------------------------------------------
def _spec(name: str):
    import app as appmod
    from dash._callback import GLOBAL_CALLBACK_MAP
    for key, v in {**GLOBAL_CALLBACK_MAP, **appmod.app.callback_map}.items():
        if v["callback"].__name__ == name and v["callback"].__module__ == "callbacks.complaints":
            return key, v
    raise KeyError(name)


def post(client, name: str, values: dict | None = None, changed: list[str] | None = None):
    """POST the complaints callback ``name`` with ``values`` {"id.prop": value} for its inputs/state;
    returns (status, raw text, response dict)."""
    from dash._utils import split_callback_id, stringify_id
    key, spec = _spec(name)
    values = values or {}

    def items(deps):
        out = []
        for d in deps:
            if isinstance(d["id"], dict) or str(d["id"]).startswith("{"):
                ident = d["id"] if isinstance(d["id"], dict) else json.loads(d["id"])
                out.append([{"id": dict(ident, table=tb, fmt=fm), "property": d["property"],
                             "value": values.get(f"{tb}.{fm}")} for tb in
                            ("compare", "r22", "r23", "repeats", "corroboration", "list") for fm in ("csv", "xlsx")])
            else:
                ident = str(getattr(d["id"], "value", d["id"]))
                out.append({"id": ident, "property": d["property"], "value": values.get(f"{ident}.{d['property']}")})
        return out

    inputs, state = items(spec["inputs"]), items(spec["state"])
    if changed is None:
        changed = [k for k in values if not k.startswith(tuple(str(getattr(s["id"], "value", s["id"]))
                                                                for s in spec["state"]))]
    changed = [c if not isinstance(c, dict) else stringify_id(c) + ".n_clicks" for c in changed]
    body = {"output": key, "outputs": split_callback_id(key), "inputs": inputs, "state": state,
            "changedPropIds": changed}
    r = client.post("/_dash-update-component", json=body,
                    headers={"Origin": "http://localhost", "Referer": "http://localhost/"})
    text = r.get_data(as_text=True)
    return r.status_code, text, (r.get_json().get("response", {}) if r.status_code == 200 else {})


def _client(dash_app, role="county_official", region=F.C1):
    """A test client logged in as a fresh user (created in the app's own database: the read side
    is switched to the complaints package, users and sessions are not)."""
    from scripts.dash_session import DashSession
    c = dash_app.server.test_client()
    DashSession(dash_app, c).login_new_user(dash_app.server.extensions["auth_engine"], role, region)
    return c


STATE = "complaints-state.data"
RENDERS = ("render_summary", "render_compare", "render_timeliness", "render_repeats")


def _all_text(text: str) -> str:
    return json.dumps(json.loads(text), ensure_ascii=False) if text.strip().startswith("{") else text


def test_render_callbacks_show_the_numbers(cdb, dash_app):
    c = _client(dash_app)
    st, _, resp = post(c, "render_summary", {STATE: {}})
    assert st == 200
    funnel = resp["complaints-funnel"]["figure"]["data"][0]
    assert funnel["x"] == [20, 17, 11, 5]
    kpis = json.dumps(resp["complaints-kpis"]["children"], ensure_ascii=False)
    assert "85.0%" in kpis and "50.00" in kpis and "4,000.50" in kpis
    assert "2024-06-30" in json.dumps(resp["complaints-asof"], ensure_ascii=False)
    ch = resp["complaints-channel"]["figure"]["data"][0]
    assert ch["x"] == ["网上", "来信", "来访", "电话", "微信"] and ch["y"] == [5, 6, 4, 3, 2]
    assert [o["value"] for o in resp["complaints-from"]["options"]][:2] == ["2023-11", "2024-01"]
    st, _, resp = post(c, "render_compare", {STATE: {}})
    fig = resp["complaints-compare"]["figure"]["data"][0]
    assert dict(zip(fig["customdata"], fig["x"])) == {F.T1: 70.0, F.T2: 30.0}
    assert {r["name"] for r in resp["complaints-compare-grid"]["rowData"]} == {"西渡镇", "集兵镇"}
    st, _, resp = post(c, "render_timeliness", {STATE: {"from": "2024-01", "to": "2024-06"}})
    r22 = {r["complaint_id"]: r["days_overdue"] for r in resp["complaints-r22-grid"]["rowData"]}
    assert r22 == F.EXPECTED["r22"]
    r23 = {r["complaint_id"]: r["days_overdue"] for r in resp["complaints-r23-grid"]["rowData"]}
    assert r23 == {k: v for k, v in F.EXPECTED["r23"].items() if k != "M2"}       # M2 was received in 2023
    st, _, resp = post(c, "render_repeats", {STATE: {"region": F.T2}})
    assert [r["complaint_ids"] for r in resp["complaints-repeat-grid"]["rowData"]] == ["R1, R2, R3"]
    assert {r["match"] for r in resp["complaints-corroboration-grid"]["rowData"]} == {"同一项目", "同一资金", "同一地区"}


def _rows_request(sort=None, filt=None, start=0, end=100):
    return {"startRow": start, "endRow": end, "sortModel": sort or [], "filterModel": filt or {}}


def test_list_grid_blocks(cdb, dash_app):
    c = _client(dash_app)
    req = _rows_request([{"colId": "received_date", "sort": "asc"}],
                        {"channel": {"filterType": "text", "type": "contains", "filter": "来信"}})
    st, _, resp = post(c, "list_rows", {"complaints-list-grid.getRowsRequest": req, STATE: {}})
    data = resp["complaints-list-grid"]["getRowsResponse"]
    assert data["rowCount"] == 6
    assert [r["complaint_id"] for r in data["rowData"]] == ["A8", "L30", "O1", "R3", "N3", "N2"]
    assert {r["channel"] for r in data["rowData"]} == {"来信"}
    assert resp["complaints-list-query"]["data"]["filterModel"] == req["filterModel"]
    # a second block
    st, _, resp = post(c, "list_rows", {"complaints-list-grid.getRowsRequest": _rows_request(start=15, end=115),
                                        STATE: {}})
    assert len(resp["complaints-list-grid"]["getRowsResponse"]["rowData"]) == 5
    # nothing asked: nothing done
    st, _, _ = post(c, "list_rows", {STATE: {}})
    assert st == 204


NON_OFFICERS = [("province_leader", "430000000000"), ("city_official", "430400000000"),
                ("county_official", F.C1), ("analyst", F.C1)]
SECRETS = ("summary", "complainant", "举报人", "反映问题", "13800000")


def _every_response(c, state=None):
    """The raw text of every complaints callback for a viewer (the list, a detail and each export too)."""
    state = state if state is not None else {}
    out = {}
    for name in RENDERS:
        out[name] = post(c, name, {STATE: state})
    out["list_rows"] = post(c, "list_rows", {"complaints-list-grid.getRowsRequest": _rows_request(), STATE: state})
    for cid in ("A7", "S1", "R1"):
        out[f"detail-{cid}"] = post(c, "detail", {"complaints-list-grid.cellClicked": {"rowId": cid, "colId": "x"}})
    for table in ("list", "r22", "r23", "compare", "repeats", "corroboration"):
        out[f"export-{table}"] = post(c, "export", {f"{table}.csv": 1, STATE: state,
                                                    "complaints-list-query.data": {}},
                                      changed=[{"type": "complaints-export", "table": table, "fmt": "csv"}])
    return out


@pytest.mark.parametrize("role,region", NON_OFFICERS)
def test_no_confidential_field_reaches_other_roles(cdb, dash_app, role, region):
    c = _client(dash_app, role, region)
    for name, (st, text, _) in _every_response(c).items():
        assert st in (200, 204), (name, st, text[:200])
        raw = text + _decoded_downloads(text)
        for s in SECRETS:
            assert s not in raw, (role, name, s)


def _decoded_downloads(text: str) -> str:
    try:
        payload = json.loads(text)
    except ValueError:
        return ""
    out = []
    for v in payload.get("response", {}).values():
        d = v.get("data") if isinstance(v, dict) else None
        if isinstance(d, dict) and "content" in d:
            out.append(base64.b64decode(d["content"]).decode("utf-8", "replace") if d.get("base64") else d["content"])
    return "\n".join(out)


def test_complaint_officer_sees_the_complainant(cdb, dash_app):
    c = _client(dash_app, "complaint_officer", F.C1)
    st, text, resp = post(c, "list_rows", {"complaints-list-grid.getRowsRequest": _rows_request(), STATE: {}})
    rows = {r["complaint_id"]: r for r in resp["complaints-list-grid"]["getRowsResponse"]["rowData"]}
    assert rows["A7"]["complainant_name"] == "举报人A7" and rows["A7"]["complainant_contact"]
    st, text, resp = post(c, "detail", {"complaints-list-grid.cellClicked": {"rowId": "A7"}})
    assert "举报人A7" in text and "反映问题A7" in text
    # a complaint outside the officer's county is not shown
    st, text, resp = post(c, "detail", {"complaints-list-grid.cellClicked": {"rowId": "S1"}})
    assert "举报人S1" not in text and "没有找到" in text


def test_forged_out_of_scope_region_gives_nothing_outside(cdb, dash_app):
    """衡南县's official asks for 衡阳县 and its township in every input: only 衡南县 comes back."""
    c = _client(dash_app, "county_official", F.C3)
    inside = ("S1", "S2")
    outside = [r[0] for r in F.ROWS if r[0] not in inside]
    for state in ({"region": F.C1}, {"region": F.T1}, {"region": F.V2A, "from": "2024-01"}):
        for name, (st, text, _) in _every_response(c, state).items():
            raw = _all_text(text) + _decoded_downloads(text)
            assert st in (200, 204), name
            for cid in outside:
                assert f'"{cid}"' not in raw and f"{cid}," not in raw and f", {cid}" not in raw, (state, name, cid)
            for place in ("西渡", "集兵", "保安", "衡阳县"):
                assert place not in raw, (state, name, place)
    st, _, resp = post(c, "render_summary", {STATE: {"region": F.C1}})
    assert resp["complaints-funnel"]["figure"]["data"][0]["x"][0] == 2
    # a drill-down click on a region outside the scope does not navigate
    st, _, _ = post(c, "navigate", {"complaints-compare.clickData": {"points": [{"customdata": F.T1}]},
                                    STATE: {"region": F.C3}})
    assert st == 204


def test_url_round_trip(cdb, dash_app):
    """state -> URL (navigate) -> layout(**query) -> the same state -> the same view."""
    import dash
    c = _client(dash_app)
    st, _, resp = post(c, "navigate", {"complaints-compare.clickData": {"points": [{"customdata": F.T1}]},
                                       STATE: {"from": "2024-01"}})
    search = resp["state-url"]["search"]
    query = dict(parse_qsl(urlparse(search).query))
    assert query == {"region": F.T1, "from": "2024-01"}
    st, _, resp = post(c, "navigate", {"complaints-to.value": "2024-03", STATE: query})
    query = dict(parse_qsl(urlparse(resp["state-url"]["search"]).query))
    assert query == {"region": F.T1, "from": "2024-01", "to": "2024-03"}
    page = next(p for p in dash.page_registry.values() if p["path"] == "/complaints")
    with dash_app.server.test_request_context("/complaints"):
        lay = page["layout"](**query)
    from scripts.dash_session import _walk
    comps = {}
    _walk(lay, comps)
    state = comps["complaints-state"]["data"]
    assert state == {"region": F.T1, "from": "2024-01", "to": "2024-03"}
    assert comps["complaints-from"]["value"] == "2024-01" and comps["complaints-to"]["value"] == "2024-03"
    st, _, resp = post(c, "render_summary", {STATE: state})
    crumb = json.dumps(resp["complaints-breadcrumb"]["children"], ensure_ascii=False)
    assert "西渡镇" in crumb and "衡阳县" in crumb
    # 西渡镇, received Jan-Mar 2024: A7 A8 X1 X2 L30 O1 O2 O3 O4
    assert resp["complaints-funnel"]["figure"]["data"][0]["x"] == [9, 9, 5, 2]
    # the grid click drills down too, and the open tab goes along (the drill-down stays on the comparison)
    st, _, resp = post(c, "navigate", {"complaints-compare-grid.cellClicked": {"rowId": F.V1}, STATE: state,
                                       "complaints-tabs.value": "compare"})
    query = dict(parse_qsl(urlparse(resp["state-url"]["search"]).query))
    assert query["region"] == F.V1 and query["tab"] == "compare"
    with dash_app.server.test_request_context("/complaints"):
        comps = {}
        _walk(page["layout"](**query), comps)
    assert comps["complaints-tabs"]["value"] == "compare"
    # the default tab is not written into the URL; an unknown one is not taken from it
    st, _, resp = post(c, "navigate", {"complaints-to.value": "2024-04", STATE: state, "complaints-tabs.value": "summary"})
    assert "tab" not in dict(parse_qsl(urlparse(resp["state-url"]["search"]).query))
    with dash_app.server.test_request_context("/complaints"):
        comps = {}
        _walk(page["layout"](tab="<script>"), comps)
    assert comps["complaints-tabs"]["value"] == "summary"


def _export(c, table, fmt, state, list_query=None):
    st, text, resp = post(c, "export", {f"{table}.{fmt}": 1, STATE: state, "complaints-list-query.data": list_query or {}},
                          changed=[{"type": "complaints-export", "table": table, "fmt": fmt}])
    assert st == 200, text[:300]
    d = resp["complaints-download"]["data"]
    if fmt == "csv":
        return d["filename"], pd.read_csv(io.StringIO(d["content"].lstrip("\ufeff")), dtype=str, keep_default_na=False)
    return d["filename"], pd.read_excel(io.BytesIO(base64.b64decode(d["content"])), dtype=str).fillna("")


def test_export_equals_screen(cdb, dash_app):
    from components.complaints import columns
    c = _client(dash_app, "analyst", F.T1)
    q = {"sortModel": [{"colId": "amount", "sort": "desc"}],
         "filterModel": {"status": {"filterType": "text", "type": "contains", "filter": "办结"}}}
    st, _, resp = post(c, "list_rows", {"complaints-list-grid.getRowsRequest": _rows_request(q["sortModel"],
                                                                                            q["filterModel"]),
                                        STATE: {}})
    screen = resp["complaints-list-grid"]["getRowsResponse"]["rowData"]
    assert [r["complaint_id"] for r in screen][:2] == ["X1", "A7"] and len(screen) == 7   # 西渡镇's closed
    defs = [d for d in columns("list", "zh") if not d.get("hide")]
    for fmt in ("csv", "xlsx"):
        name, frame = _export(c, "list", fmt, {}, resp["complaints-list-query"]["data"])
        assert name.endswith(f".{fmt}") and F.T1 in name
        assert list(frame.columns) == [d["headerName"] for d in defs]
        assert len(frame) == len(screen)
        for row, (_, got) in zip(screen, frame.iterrows()):
            for d in defs:
                want = row.get(d["field"])
                g = got[d["headerName"]]
                if isinstance(want, (int, float)) and want is not None and not isinstance(want, bool):
                    assert float(g) == pytest.approx(float(want)), (fmt, d["field"])
                else:
                    assert g == ("" if want is None else str(want)), (fmt, d["field"], g, want)
    # the overdue list and the comparison as well
    st, _, resp = post(c, "render_timeliness", {STATE: {}})
    screen = resp["complaints-r23-grid"]["rowData"]
    _, frame = _export(c, "r23", "csv", {})
    assert list(frame["编号"]) == [r["complaint_id"] for r in screen]
    assert [int(x) for x in frame["超期天数"]] == [r["days_overdue"] for r in screen]
    st, _, resp = post(c, "render_compare", {STATE: {}})
    _, frame = _export(c, "compare", "xlsx", {})
    assert list(frame["地区"]) == [r["name"] for r in resp["complaints-compare-grid"]["rowData"]]
    assert "region_code" not in frame.columns


def test_exports_are_audited(cdb, dash_app):
    from core.auth_schema import audit_log
    engine = dash_app.server.extensions["auth_engine"]
    c = _client(dash_app, "analyst", F.T1)
    from sqlalchemy import func
    count = select(func.count()).select_from(audit_log).where(audit_log.c.action == "export")
    with engine.connect() as conn:
        before = conn.execute(count).scalar()
    _export(c, "r22", "csv", {})
    with engine.connect() as conn:
        assert conn.execute(count).scalar() == before + 1      # one download, one audit row
        rows = conn.execute(select(audit_log.c.username, audit_log.c.target, audit_log.c.detail)
                            .where(audit_log.c.action == "export")
                            .order_by(audit_log.c.id.desc()).limit(1)).all()
    assert rows and rows[0][1] == f"complaints-r22-{F.T1}.csv" and rows[0][0].startswith("s_analyst_")
    detail = json.loads(rows[0][2])
    assert detail["rows"] == 4 and detail["table"] == "r22"        # 西渡镇: A8, L30, N2, N3


def test_days_figures_count_in_whole_numbers():
    """A region with a complaint or two a day: the count axis ticks at whole numbers (plotly chose 0.2,
    0.4, ... for a tallest bar of 1); a taller distribution keeps plotly's own ticks."""
    import pandas as pd

    from components.complaints import days_figure
    few = pd.DataFrame({"days": [3, 17, 19, 40], "in_time": [True, True, True, False],
                        "extension": [False, False, True, False], "n": [1, 1, 1, 1]})
    fig = days_figure(few, "close", "en")
    assert fig["layout"]["yaxis"]["dtick"] == 1
    assert sum(sum(tr["y"]) for tr in fig["data"]) == 4
    many = pd.DataFrame({"days": [1, 2], "in_time": [True, True], "n": [30, 12]})
    assert "dtick" not in days_figure(many, "accept", "zh")["layout"]["yaxis"]
