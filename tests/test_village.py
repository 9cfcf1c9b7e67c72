"""The village page's callbacks through the Flask test client on the drill-down package
(tests/drilldown_factory.py: 壕塘 has 3 incomes of 78,000, 330 generated expenses plus the two
PRJ-WS1 payments of 30,000 and 24,000, and 20 registered persons in 10 households)."""
from __future__ import annotations

import json
import math
from urllib.parse import parse_qs

import pytest

from core.security import full_id_numbers
from tests import drilldown_factory as F

from tests.drill_support import audit_actions, call, export, last_audit_id, login, output_key, render

V1A, V1B, V6 = F.V1A, F.V1B, F.V6
EXPENSES = F.expense_amounts() + [30000.0, 24000.0]          # every expense of 壕塘 by construction


@pytest.fixture
def client(dash_app, drill_db):
    return dash_app.server.test_client()


def _render(client, app, state):
    status, resp, text = render(client, app, "village-breadcrumb.children", "village-state", state)
    assert status == 200, text[:500]
    return resp, text


def _texts(component) -> str:
    """All strings inside a serialised component tree."""
    return json.dumps(component, ensure_ascii=False)


def _ledger(client, app, state, request):
    key = output_key(app, "village-ledger.getRowsResponse")
    status, resp, text = call(client, app, key, [{"id": "village-ledger", "property": "getRowsRequest", "value": request}],
                              [{"id": "village-state", "property": "data", "value": state}])
    assert status == 200, text[:300]
    return resp["village-ledger"]["getRowsResponse"], text


def test_village_page_shows_the_village_known_by_construction(client, dash_app):
    login(client, "province_leader", "430000000000")
    resp, _ = _render(client, dash_app, {"village": V1A})
    crumb = _texts(resp["village-breadcrumb"]["children"])
    for name in ("湖南省", "衡阳市", "衡阳县", "西渡镇", "壕塘社区居委会"):
        assert name in crumb
    assert resp["village-content"]["style"] == {"display": "block"}
    kpis = _texts(resp["village-kpis"]["children"])
    assert "7.8 万元" in kpis                                     # income 50,000 + 20,000 + 8,000
    assert f"{sum(EXPENSES) / 1e4:,.1f} 万元" in kpis             # every expense
    assert "335" in kpis                                          # 3 incomes + 332 expenses
    # categories: income by category known by construction
    cats = {(d["name"], y): x for d in resp["village-categories"]["figure"]["data"] for y, x in zip(d["y"], d["x"])}
    assert cats[("收入", "上级补助收入")] == pytest.approx(70000.0)
    assert cats[("收入", "集体经营收入")] == pytest.approx(8000.0)
    # the monthly timeline: January 2023 income 50,000 and payments to households 20 persons x 500
    tl = {d["name"]: dict(zip(d["x"], d["y"])) for d in resp["village-timeline"]["figure"]["data"]}
    assert tl["收入"]["2023-01"] == pytest.approx(50000.0)
    assert tl["发放到户"]["2023-01"] == pytest.approx(10000.0)
    # projects of the village: PRJ-WS1 with 54,000 paid from the ledger
    projects = resp["village-projects"]["rowData"]
    assert [p["project_code"] for p in projects] == ["PRJ-WS1"]
    assert projects[0]["ledger_paid"] == pytest.approx(54000.0)
    assert "/project?project=PRJ-WS1" in projects[0]["link"]
    assert projects[0]["fund_name"] == "2023年农村安全饮水工程"      # the fund's name, not only its code


def test_benford_and_round_amounts_match_an_independent_count(client, dash_app):
    login(client, "analyst", F.C)
    resp, _ = _render(client, dash_app, {"village": V1A})
    fig = resp["village-benford"]["figure"]
    observed = fig["data"][0]
    digits = [int(f"{a:e}"[0]) for a in EXPENSES]
    counts = [digits.count(d) for d in range(1, 10)]
    assert observed["customdata"] == counts and sum(counts) == 332
    mad = sum(abs(c / 332 - math.log10(1 + 1 / d)) for d, c in zip(range(1, 10), counts)) / 9
    assert mad > 0.015                                             # Nigrini: nonconformity
    assert f"MAD = {mad:.4f}" in fig["layout"]["title"]["text"] and "不符合" in fig["layout"]["title"]["text"]
    n_round = sum(1 for a in EXPENSES if a % 1000 == 0)
    assert n_round >= 35                                            # every 10th generated + both project payments
    assert f"{n_round} / 332" in _texts(resp["village-round"]["children"])
    assert f"{n_round / 332 * 100:.1f}%" in _texts(resp["village-round"]["children"])


def test_benford_needs_300_expenses(client, dash_app):
    login(client, "analyst", F.C)
    resp, _ = _render(client, dash_app, {"village": V1B})             # 春风: one expense
    title = _texts(resp["village-benford"]["figure"]["layout"])
    assert "数据不足" in title and "1 笔" in title


def test_ledger_sorts_and_filters_in_sql_over_whitelisted_columns(client, dash_app):
    login(client, "analyst", F.C)
    state = {"village": V1A}
    block, _ = _ledger(client, dash_app, state, {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}})
    assert block["rowCount"] == 335 and len(block["rowData"]) == 100
    block2, _ = _ledger(client, dash_app, state, {"startRow": 300, "endRow": 400, "sortModel": [], "filterModel": {}})
    assert len(block2["rowData"]) == 35
    req = {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "amount", "sort": "desc"}],
           "filterModel": {"amount": {"filterType": "number", "type": "greaterThan", "filter": 20000}}}
    block, _ = _ledger(client, dash_app, state, req)
    big = sorted([a for a in EXPENSES if a > 20000] + [50000.0], reverse=True)   # + the 50,000 income
    assert block["rowCount"] == len(big)
    assert [r["amount"] for r in block["rowData"]] == pytest.approx(big)
    assert block["rowData"][0]["entry_id"] == "E-IN0"
    # text filter and a date range
    req = {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "entry_date", "sort": "asc"}],
           "filterModel": {"project_code": {"filterType": "text", "type": "equals", "filter": "PRJ-WS1"}}}
    block, _ = _ledger(client, dash_app, state, req)
    assert [r["entry_id"] for r in block["rowData"]] == ["E-WS1", "E-WS2"]
    req = {"startRow": 0, "endRow": 100, "sortModel": [],
           "filterModel": {"entry_date": {"filterType": "date", "type": "inRange", "dateFrom": "2023-01-03 00:00:00",
                                          "dateTo": "2023-03-03 00:00:00"}, "direction": {"filterType": "set", "values": ["income"]}}}
    block, _ = _ledger(client, dash_app, state, req)
    assert sorted(r["entry_id"] for r in block["rowData"]) == ["E-IN0", "E-IN1", "E-IN2"]
    # columns outside the whitelist are ignored (no injection, no filter on the ID number)
    req = {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "amount; DROP TABLE ledger", "sort": "desc"}],
           "filterModel": {"village_code": {"filterType": "text", "type": "equals", "filter": V6},
                           "counterparty_id": {"filterType": "text", "type": "startsWith", "filter": "4304"}}}
    block, _ = _ledger(client, dash_app, state, req)
    assert block["rowCount"] == 335


def test_masking_in_the_ledger_and_households_follows_the_role(client, dash_app):
    since = last_audit_id(dash_app)
    login(client, "analyst", F.C)                          # no pii
    block, text = _ledger(client, dash_app, {"village": V1A}, {"startRow": 0, "endRow": 100, "sortModel": [],
                                                              "filterModel": {"counterparty_id": {"filterType": "text"}}})
    cadre_rows = [r for r in block["rowData"] if r["counterparty_id"]]
    assert cadre_rows and all("*" in r["counterparty_id"] and "*" in r["counterparty_name"] for r in cadre_rows)
    resp, text2 = _render(client, dash_app, {"village": V1A})
    rows = resp["village-households"]["rowData"]
    assert len(rows) == 20 and len({r["household_no"] for r in rows}) == 10
    assert all("*" in r["id_number"] and "*" in r["link"] for r in rows)
    assert not full_id_numbers(text) and not full_id_numbers(text2)
    assert not [a for a in audit_actions(dash_app, since) if a[0] == "pii_masked"]   # masked at the source
    # each household member links to the household page by an opaque key, never by the ID number
    people = F.village_people()[V1A]
    assert all(p[0] not in json.dumps(rows) for p in people)
    # an analyst with the pii grant sees the numbers
    login(client, "analyst", F.C, pii=True)
    resp, text = _render(client, dash_app, {"village": V1A})
    ids = {r["id_number"] for r in resp["village-households"]["rowData"]}
    assert ids == {p[0] for p in people}
    # a role that is not entitled to household files gets none (and is told so)
    login(client, "province_leader", "430000000000")
    resp, _ = _render(client, dash_app, {"village": V1A})
    assert resp["village-households"]["rowData"] == []
    assert "无权" in resp["village-households-note"]["children"]


def test_a_ledger_entry_shows_its_invoices_and_the_choice_goes_to_the_url(client, dash_app):
    login(client, "analyst", F.C)
    key = output_key(dash_app, "state-url.search", "village-pick")
    status, resp, text = call(client, dash_app, key,
                              [{"id": "village-pick", "property": "value", "value": V1A},
                               {"id": "village-ledger", "property": "cellClicked", "value": {"rowId": "E-WS2", "colId": "amount"}}],
                              [{"id": "village-state", "property": "data", "value": {"village": V1A}},
                               {"id": "village-ledger", "property": "getRowsRequest",
                                "value": {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "amount", "sort": "desc"}],
                                          "filterModel": {"category": {"filterType": "text", "type": "contains",
                                                                       "filter": "工程"}}}}],
                              changed=["village-ledger.cellClicked"])
    assert status == 200, text[:300]
    search = resp["state-url"]["search"]
    query = {k: v[0] for k, v in parse_qs(search.lstrip("?")).items()}
    assert {k: query[k] for k in ("village", "entry")} == {"village": V1A, "entry": "E-WS2"}
    assert json.loads(query["grid"])["sortModel"] == [{"colId": "amount", "sort": "desc"}]   # the ledger's sort and
    assert json.loads(query["grid"])["filterModel"]["category"]["filter"] == "工程"          # filter go along
    # the URL round-trip: the page's layout puts the query into its store, the render shows the invoices,
    # and the ledger comes back sorted and filtered as it was
    from pages.village import layout
    page = layout(**query)
    store = _find(page, "village-state")
    assert store["data"] == {"village": V1A, "entry": "E-WS2"}
    ledger = _find(page, "village-ledger")
    assert [d.get("sort") for d in ledger["columnDefs"] if d["field"] == "amount"] == ["desc"]
    assert ledger["filterModel"]["category"]["filter"] == "工程"
    # a forged column in the URL is dropped (only whitelisted columns sort or filter)
    forged = _find(layout(village=V1A, grid=json.dumps({"sortModel": [{"colId": "counterparty_id; --", "sort": "asc"}],
                                                        "filterModel": {"name": {"filter": "x"}}})), "village-ledger")
    assert not any(d.get("sort") for d in forged["columnDefs"]) and forged["filterModel"] == {}
    resp, _ = _render(client, dash_app, store["data"])
    inv = resp["village-invoices"]["rowData"]
    assert [i["invoice_id"] for i in inv] == ["INV-WS2a", "INV-WS2b"]
    assert sum(i["amount"] for i in inv) == pytest.approx(24000.0)
    assert "E-WS2" in resp["village-invoice-title"]["children"]
    # choosing another village in the picker starts over (the entry is dropped)
    status, resp, _ = call(client, dash_app, key,
                           [{"id": "village-pick", "property": "value", "value": V1B},
                            {"id": "village-ledger", "property": "cellClicked", "value": None}],
                           [{"id": "village-state", "property": "data", "value": {"village": V1A, "entry": "E-WS2"}},
                            {"id": "village-ledger", "property": "getRowsRequest", "value": None}],
                           changed=["village-pick.value"])
    assert resp["state-url"]["search"] == f"?village={V1B}"


def _find(tree, id_):
    """The props of the component ``id_`` inside a layout tree."""
    for c in tree._traverse():
        if getattr(c, "id", None) == id_:
            return c.to_plotly_json()["props"]
    return None


def test_the_picker_lists_only_villages_in_scope(client, dash_app):
    login(client, "county_official", F.C)
    key = output_key(dash_app, "village-pick.options")
    status, resp, _ = call(client, dash_app, key, [{"id": "village-pick", "property": "search_value", "value": "社区"}],
                           [{"id": "village-pick", "property": "value", "value": None}])
    codes = {o["value"] for o in resp["village-pick"]["options"]}
    assert {V1A, V1B} <= codes and V6 not in codes and all(c.startswith("430421") for c in codes)
    assert any("壕塘社区居委会" in o["label"] for o in resp["village-pick"]["options"])


def test_forged_out_of_scope_village_or_entry_yields_nothing(client, dash_app):
    login(client, "analyst", F.C2)                          # 衡南县: 壕塘 is not theirs
    resp, text = _render(client, dash_app, {"village": V1A, "entry": "E-WS2"})
    assert resp["village-content"]["style"] == {"display": "none"}
    assert resp["village-households"]["rowData"] == [] and resp["village-invoices"]["rowData"] == []
    assert "壕塘" not in text and "E-WS2" not in json.dumps(resp["village-invoices"])
    block, _ = _ledger(client, dash_app, {"village": V1A}, {"startRow": 0, "endRow": 100})
    assert block == {"rowData": [], "rowCount": 0}
    status, df, raw = export(client, dash_app, "village", "ledger", "csv",
                             [{"id": "village-state", "property": "data", "value": {"village": V1A}},
                              {"id": "village-ledger", "property": "getRowsRequest", "value": None}])
    assert df is None and "content" not in raw
    # inside the own county, an entry of another village (out of scope) shows no invoices
    login(client, "analyst", F.C)
    resp, _ = _render(client, dash_app, {"village": V1A, "entry": "E-V6"})
    assert resp["village-invoices"]["rowData"] == []
    key = output_key(dash_app, "state-url.search", "village-pick")
    status, resp, _ = call(client, dash_app, key,
                           [{"id": "village-pick", "property": "value", "value": V6},
                            {"id": "village-ledger", "property": "cellClicked", "value": None}],
                           [{"id": "village-state", "property": "data", "value": {"village": V1A}}],
                           changed=["village-pick.value"])
    assert "state-url" not in resp                         # no navigation to a village outside the scope


def test_exports_equal_the_screen_for_a_scoped_viewer(client, dash_app):
    login(client, "analyst", F.C)                          # scoped, no pii
    state = {"village": V1A}
    req = {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "amount", "sort": "desc"}],
           "filterModel": {"category": {"filterType": "text", "type": "equals", "filter": "干部报酬"},
                           "amount": {"filterType": "number", "type": "greaterThan", "filter": 5000}}}
    block, _ = _ledger(client, dash_app, state, req)
    assert 0 < block["rowCount"] <= 100
    since = last_audit_id(dash_app)
    for fmt in ("csv", "xlsx"):
        status, df, raw = export(client, dash_app, "village", "ledger", fmt,
                                 [{"id": "village-state", "property": "data", "value": state},
                                  {"id": "village-ledger", "property": "getRowsRequest", "value": req}])
        assert status == 200
        assert df["账目编号"].tolist() == [r["entry_id"] for r in block["rowData"]]
        assert [float(a) for a in df["金额（元）"]] == pytest.approx([r["amount"] for r in block["rowData"]])
        shown_ids = [r["counterparty_id"] or "" for r in block["rowData"]]
        assert df["对方证件号"].fillna("").tolist() == shown_ids
        assert not full_id_numbers(df.to_csv())
    assert sum(1 for a in audit_actions(dash_app, since) if a[0] == "export") == 2
    # the households table: the file holds what the grid holds, masked
    resp, _ = _render(client, dash_app, state)
    rows = resp["village-households"]["rowData"]
    status, df, _ = export(client, dash_app, "village", "households", "xlsx",
                           [{"id": "village-state", "property": "data", "value": state},
                            {"id": "village-ledger", "property": "getRowsRequest", "value": None}])
    assert df["身份证号"].tolist() == [r["id_number"] for r in rows]
    assert df["姓名"].tolist() == [r["link"].split("](")[0][1:].replace("\\*", "*") for r in rows]
    assert [float(x) for x in df["发放金额（元）"]] == pytest.approx([r["paid"] for r in rows])
    assert not full_id_numbers(df.to_csv())
    # invoices and projects export too
    status, df, _ = export(client, dash_app, "village", "invoices", "csv",
                           [{"id": "village-state", "property": "data", "value": {"village": V1A, "entry": "E-WS2"}},
                            {"id": "village-ledger", "property": "getRowsRequest", "value": None}])
    assert df["票据编号"].tolist() == ["INV-WS2a", "INV-WS2b"]
    status, df, _ = export(client, dash_app, "village", "projects", "xlsx",
                           [{"id": "village-state", "property": "data", "value": state},
                            {"id": "village-ledger", "property": "getRowsRequest", "value": None}])
    assert df["项目名称"].tolist() == ["壕塘社区安全饮水工程"]


def test_english_labels(client, dash_app):
    login(client, "analyst", F.C)
    client.set_cookie("lang", "en")
    resp, _ = _render(client, dash_app, {"village": V1A})
    assert "Income" in _texts(resp["village-kpis"]["children"])
    assert "nonconformity" in resp["village-benford"]["figure"]["layout"]["title"]["text"]


def test_members_who_share_a_relation_are_listed_by_id_number_not_by_link_key(tmp_path, monkeypatch):
    """Two children of one household, and two people paid in the village but registered nowhere: each pair in the
    order of their ID numbers. (Ordered by the link key, a token derived from SECRET_KEY, they came in another
    order on every server.) The pairs are chosen so that their keys sort the other way."""
    import datetime as dt

    from core import schema
    from core.db import create_schema, get_engine
    from core.scope import Scope
    from data_access import village
    from data_access.household import person_key
    url = f"sqlite:///{tmp_path / 'ties.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "cache"))
    engine = get_engine(url)
    create_schema(engine)
    candidates = [f"43042119900101{n:04d}" for n in range(1, 60)]

    def reversed_pair(pool):            # a < b by ID number, key(a) > key(b)
        return next((a, b) for a in pool for b in pool if a < b and person_key(a) > person_key(b))
    child_a, child_b = reversed_pair(candidates[:20])
    out_a, out_b = reversed_pair(candidates[20:])
    head = candidates[40]
    V = "430421100013"
    with engine.begin() as conn:
        conn.execute(schema.people.insert(), [
            {"id_number": i, "name": n, "village_code": V, "household_no": "H1", "relation_to_head": r,
             "poverty_registered": False}
            for i, n, r in ((head, "户主甲", "户主"), (child_b, "子女乙", "子女"), (child_a, "子女丙", "子女"))])
        conn.execute(schema.payments.insert(), [
            {"payment_id": f"P{k}", "fund_code": "F1", "id_number": i, "name": f"外来{k}", "village_code": V,
             "amount": 100.0, "paid_date": dt.date(2023, 5, 1), "period": "2023-05"}
            for k, i in enumerate((out_b, out_a, head))])
    rows = village.households(Scope(V, pii=True), V)
    ids = rows["id_number"].tolist()
    assert ids == [child_a, child_b, head, out_a, out_b]          # (relations sort as text: 子女 before 户主)
    assert rows["household_no"].tolist() == ["H1"] * 3 + [None, None]
    assert rows["registered_here"].tolist() == [True, True, True, False, False]
