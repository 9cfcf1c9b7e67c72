"""Clue pages through the Flask test client on a package with known clues (tests/clues_factory.py):
which rules ran, grouping and priority, paging/sorting/filtering in SQL, export equals screen, the
detail (masked), the workflow with roles and scope enforced on the server and recorded."""
from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from tests import clues_factory as cf
from tests.conftest import dash_post, imported_database, login, using_database

COUNTY, CITY, OTHER = "430421000000", "430400000000", "430422000000"
V1A = cf.V1A


@pytest.fixture(scope="module")
def clues_db(dash_app, app_db):
    import os
    _KEYS[:] = [dash_app]
    os.environ["APP_DB_URL_FOR_LOGIN"] = app_db
    with using_database(imported_database("clues", cf.build)) as url:
        yield url


def _out(app, first_id: str) -> str:
    for k in app.callback_map:
        if k.startswith(f"..{first_id}.") or k.startswith(f"{first_id}."):
            return k
    raise KeyError(first_id)


def post(c, key, inputs, state=None, changed=None):
    """dash_post with the outputs list a multi-output callback needs."""
    i, _, prop = key.rpartition(".")
    outs = {"id": i, "property": prop.split("@")[0]}
    if key.startswith(".."):
        outs = []
        for part in key.strip(".").split("..."):
            i, _, prop = part.rpartition(".")
            outs.append({"id": i, "property": prop.split("@")[0]})
    if changed == []:       # the initial call: nothing triggered it
        body = {"output": key, "outputs": outs, "inputs": inputs, "state": state or [], "changedPropIds": []}
        return c.post("/_dash-update-component", json=body,
                      headers={"Origin": "http://localhost", "Referer": "http://localhost/"})
    return dash_post(c, key, inputs, state, changed, outputs=outs)


def _resp(r):
    assert r.status_code == 200, r.status_code
    return r.get_json()["response"]


def _client(dash_app, role, region, pii=False):
    """A logged-in client (users live in the app's own database, not the read side's)."""
    import os
    c = dash_app.server.test_client()
    with using_database(os.environ["APP_DB_URL_FOR_LOGIN"]):
        login(c, role, region, pii=pii)
    return c


def grid(dash_app, c, state, start=0, end=100, sort=None, filt=None):
    req = {"startRow": start, "endRow": end, "sortModel": sort or [], "filterModel": filt or {}}
    r = post(c, "clues-grid.getRowsResponse", [{"id": "clues-grid", "property": "getRowsRequest", "value": req}],
                  [{"id": "clues-state", "property": "data", "value": state}])
    return _resp(r)["clues-grid"]["getRowsResponse"]


def render(dash_app, c, state):
    r = post(c, _out(dash_app, "clues-runs"), [{"id": "clues-state", "property": "data", "value": state}])
    return json.dumps(_resp(r), ensure_ascii=False)


def test_rules_not_run_and_flood_are_said(dash_app, clues_db):
    c = _client(dash_app, "analyst", COUNTY)
    text = render(dash_app, c, {})
    # vehicles register missing: R04 did not run, and the page says why
    assert "R04" in text and "车辆登记库" in text and "本规则未运行" in text
    # R20 fires on 139 of 334 ledger entries (> 5%): "check the rule or the data"
    assert "请检查规则或数据" in text and "R20" in text


def test_person_grouping_and_priority(dash_app, clues_db):
    from core.scope import Scope
    from data_access.clues import person_groups
    g = person_groups(Scope(COUNTY))
    top = g.iloc[0]
    assert top["rules"] == "R01,R03" and top["n_clues"] == 6
    assert top["amount_at_risk"] == cf.EXPECTED["li_amount"] and top["priority"] == cf.EXPECTED["li_priority"]
    assert top["person"].startswith("430") and "*" in top["person"]      # masked without pii
    assert person_groups(Scope(COUNTY, pii=True)).iloc[0]["person"] == cf.LI


def test_grid_pages_sorts_filters_in_scope(dash_app, clues_db):
    c = _client(dash_app, "analyst", COUNTY)
    first = grid(dash_app, c, {})
    from core.db import get_engine
    with get_engine(clues_db).connect() as conn:
        n_county = conn.exec_driver_sql("SELECT COUNT(*) FROM clues WHERE region_code LIKE '430421%'").scalar()
        n_all = conn.exec_driver_sql("SELECT COUNT(*) FROM clues").scalar()
    assert n_all > n_county     # R12 fires at the city too: not this county official's
    assert first["rowCount"] == n_county and len(first["rowData"]) == 100
    rows = grid(dash_app, c, {"rule": "R01"}, sort=[{"colId": "amount_at_risk", "sort": "asc"}])
    assert rows["rowCount"] == 4
    assert sorted(r["record_id"] for r in rows["rowData"]) == sorted(cf.EXPECTED["li_payments"] + cf.EXPECTED["zhang_payments"])
    assert all("*" in r["id_number"] for r in rows["rowData"])
    # the grid's own filter (whitelisted) and an unknown column (ignored)
    f = grid(dash_app, c, {}, filt={"amount_at_risk": {"filterType": "number", "type": "greaterThan", "filter": 20000},
                                    "evidence_json": {"filterType": "text", "type": "contains", "filter": "x"}})
    assert f["rowCount"] >= 1 and all(r["amount_at_risk"] > 20000 for r in f["rowData"])
    # priority (default order) is descending
    pr = [r["priority"] for r in first["rowData"]]
    assert pr == sorted(pr, reverse=True)


def test_other_county_sees_none_of_these_and_forged_region_is_clamped(dash_app, clues_db):
    c = _client(dash_app, "county_official", OTHER)
    res = grid(dash_app, c, {"region": COUNTY, "rule": "R01"})
    assert res["rowCount"] == 0
    all_rows = grid(dash_app, c, {"region": COUNTY})
    assert all(r["region_code"].startswith("430422") for r in all_rows["rowData"])


def test_export_equals_screen(dash_app, clues_db):
    c = _client(dash_app, "county_official", COUNTY)
    state = {"table": "ledger", "min_amount": "5000"}
    sort = [{"colId": "amount_at_risk", "sort": "desc"}]
    screen = grid(dash_app, c, state, 0, 1000, sort=sort)
    req = {"startRow": 0, "endRow": 100, "sortModel": sort, "filterModel": {}}
    r = post(c, "clues-download.data", [{"id": "clues-csv", "property": "n_clicks", "value": 1},
                                             {"id": "clues-xlsx", "property": "n_clicks", "value": None}],
                  [{"id": "clues-state", "property": "data", "value": state},
                   {"id": "clues-grid", "property": "getRowsRequest", "value": req}], changed=["clues-csv.n_clicks"])
    data = _resp(r)["clues-download"]["data"]
    rows = list(csv.DictReader(io.StringIO(data["content"].lstrip("\ufeff"))))
    assert len(rows) == screen["rowCount"] > 0
    assert [x["编号"] for x in rows] == [str(x["clue_id"]) for x in screen["rowData"]]
    assert [float(x["风险金额（元）"]) for x in rows] == [x["amount_at_risk"] for x in screen["rowData"]]


def test_detail_masked_and_out_of_scope_refused(dash_app, clues_db):
    from core.scope import Scope
    from data_access.clues import clue_page
    cid = clue_page(Scope(COUNTY), {"rule": "R01"}, 0, 1)["rows"][0]["clue_id"]
    c = _client(dash_app, "county_official", COUNTY)
    text = render(dash_app, c, {"clue": cid})
    assert "被标记的记录" in text and "比对证据" in text and "date_of_death" in text
    assert cf.LI not in text and "430***********" in text and "李建国" not in text
    pii = _client(dash_app, "county_official", COUNTY, pii=True)
    assert cf.LI in render(dash_app, pii, {"clue": cid})
    other = _client(dash_app, "county_official", OTHER)
    t2 = render(dash_app, other, {"clue": cid})
    assert "不在您的辖区内" in t2 and "date_of_death" not in t2


_KEYS: list = []


def _act(c, ids, action, state=None, **kw):
    st = [{"id": "clues-grid", "property": "selectedRows", "value": [{"clue_id": i} for i in ids]},
          {"id": "clues-action", "property": "value", "value": action},
          {"id": "clues-reason", "property": "value", "value": kw.get("reason")},
          {"id": "clues-outcome", "property": "value", "value": kw.get("outcome")},
          {"id": "clues-recovered", "property": "value", "value": kw.get("recovered")},
          {"id": "clues-returned", "property": "value", "value": kw.get("returned")},
          {"id": "clues-note", "property": "value", "value": kw.get("note")},
          {"id": "clues-state", "property": "data", "value": state or {}}]
    key = next(k for k in _KEYS[0].callback_map if "clues-msg.children" in k)
    return post(c, key, [{"id": "clues-do", "property": "n_clicks", "value": 1}], st)


def test_workflow_roles_scope_history_funnel_precision(dash_app, clues_db, app_db):
    from core import schema
    from core.auth_schema import audit_log
    from core.db import get_engine
    from core.scope import Scope
    from data_access.clues import clue_page, funnel, rule_precision
    ids = [r["clue_id"] for r in clue_page(Scope(COUNTY), {"rule": "R01,R03"}, 0, 100)["rows"]]
    assert len(ids) == 7
    # the province leader reads only; the admin has no scope at all
    lead = _client(dash_app, "province_leader", "430000000000")
    assert "不能更改线索状态" in json.dumps(_resp(_act(lead, ids[:1], "hand_over")), ensure_ascii=False)
    # an official of another county: refused and audited, nothing changed
    other = _client(dash_app, "county_official", OTHER)
    r = json.dumps(_resp(_act(other, ids[:2], "hand_over")), ensure_ascii=False)
    assert "已拒绝并记录" in r
    with get_engine(app_db).connect() as conn:
        denied = conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "clue_workflow",
                                                               audit_log.c.result == "denied")).all()
    assert any(str(ids[0]) in (d.detail or "") for d in denied)
    with get_engine(clues_db).connect() as conn:
        st = dict(conn.execute(select(schema.clues.c.clue_id, schema.clues.c.status)
                               .where(schema.clues.c.clue_id.in_(ids))).all())
    assert set(st.values()) == {"new"}
    # the analyst hands all seven over in one batch; the county official verifies and decides
    an = _client(dash_app, "analyst", COUNTY)
    out = _resp(_act(an, ids, "hand_over"))
    assert "clue" not in out["state-url"]["search"] and "done=" in out["state-url"]["search"]
    off = _client(dash_app, "county_official", COUNTY)
    _resp(_act(off, ids, "verify"))
    # a dismissal needs a reason
    assert "须选择原因" in json.dumps(_resp(_act(off, ids[:1], "dismiss")), ensure_ascii=False)
    _resp(_act(off, ids[:5], "confirm"))
    _resp(_act(off, ids[5:], "dismiss", reason="data_error"))
    _resp(_act(off, ids[:2], "outcome", outcome="disciplined", recovered=1000, returned=500))
    _resp(_act(off, ids[2:3], "outcome", outcome="corrected", recovered=500, returned=500))
    # an action from a status it cannot start from is refused
    assert "不允许此操作" in json.dumps(_resp(_act(off, ids[5:6], "verify")), ensure_ascii=False)
    f = funnel(Scope(COUNTY))
    assert (f["confirmed"], f["corrected"], f["cases"], f["disciplined"], f["dismissed"]) == (5, 3, 2, 2, 2)
    assert (f["recovered"], f["returned"]) == (2500.0, 1500.0)
    prec = rule_precision(Scope(COUNTY)).set_index("rule")
    assert prec.loc["R01", "decided"] + prec.loc["R03", "decided"] == 7
    assert prec.loc["R01", "precision"] + 0 >= 0 and prec.loc["R01", "thresholds"] == {}
    # history: who and when, for every change
    with get_engine(clues_db).connect() as conn:
        ev = conn.execute(select(schema.clue_events).where(schema.clue_events.c.clue_id == ids[0])
                          .order_by(schema.clue_events.c.event_id)).all()
        wf = conn.execute(select(schema.clue_workflow).where(schema.clue_workflow.c.clue_id == ids[0])).first()
    assert [e.action for e in ev] == ["hand_over", "verify", "confirm", "outcome"]
    assert all(e.username and e.at for e in ev) and ev[0].role == "analyst" and ev[1].role == "county_official"
    assert wf.assigned_region == COUNTY and wf.batch_id.startswith("JB-") and wf.outcome == "disciplined"
    text = render(dash_app, off, {"clue": ids[0]})
    assert "处理记录" in text and "交办" in text and "已处分" in text


def test_url_round_trip(dash_app, clues_db):
    from urllib.parse import parse_qs
    c = _client(dash_app, "analyst", COUNTY)
    st = [{"id": "clues-f-rule", "property": "value", "value": ["R01"]},
          {"id": "clues-f-status", "property": "value", "value": ["new"]},
          {"id": "clues-f-table", "property": "value", "value": []},
          {"id": "clues-f-fund", "property": "value", "value": None},
          {"id": "clues-f-min", "property": "value", "value": 100},
          {"id": "clues-f-max", "property": "value", "value": None},
          {"id": "clues-state", "property": "data", "value": {"region": COUNTY}}]
    key = next(k for k in dash_app.callback_map if k.startswith("state-url.search@") and
               any(i["id"] == "clues-apply" for i in dash_app.callback_map[k]["inputs"]))
    r = post(c, key, [{"id": "clues-apply", "property": "n_clicks", "value": 1},
                           {"id": "clues-grid", "property": "cellClicked", "value": None}], st, changed=["clues-apply.n_clicks"])
    search = _resp(r)["state-url"]["search"]
    q = {k: v[0] for k, v in parse_qs(search.lstrip("?")).items()}
    assert q == {"region": COUNTY, "rule": "R01", "status": "new", "min_amount": "100"}
    # the reloaded page gets the same state
    from pages.clues import layout
    from dash import dcc
    lay = layout(**q)
    store = next(ch for ch in lay.children if isinstance(ch, dcc.Store))
    assert {k: v for k, v in store.data.items() if v} == q
