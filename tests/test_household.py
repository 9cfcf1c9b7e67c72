"""The household page (一户一档) through the Flask test client on the drill-down package.

春风 (430421100014): household H00 = the head (paid 低保 2023 January and February 500 each, 危房改造
10,000 in July 2023, 低保 January 2024 500) and the spouse (低保 500 x 2 in 2023 and 500 in 2024)."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from core.security import full_id_numbers
from tests import drilldown_factory as F
from tests.drill_support import audit_actions, call, export, last_audit_id, login, output_key, render


@pytest.fixture
def client(dash_app, drill_db):
    return dash_app.server.test_client()


HEAD, SPOUSE = F.village_people()[F.V1B][0], F.village_people()[F.V1B][1]


def _search(client, app, query):
    key = output_key(app, "household-results.rowData")
    status, resp, text = call(client, app, key, [{"id": "household-go", "property": "n_clicks", "value": 1},
                                                 {"id": "household-search", "property": "n_submit", "value": None}],
                              [{"id": "household-search", "property": "value", "value": query}],
                              changed=["household-go.n_clicks"])
    assert status == 200, text[:300]
    return resp.get("household-results", {}).get("rowData", []), text


def _render(client, app, state):
    status, resp, text = render(client, app, "household-breadcrumb.children", "household-state", state)
    assert status == 200, text[:300]
    return resp, text


def _key(row) -> str:
    from urllib.parse import parse_qs, urlsplit
    href = row["link"].split("](", 1)[1][:-1]
    return parse_qs(urlsplit(href).query)["person"][0]


def test_search_by_id_number_then_the_household_file_with_standards(client, dash_app):
    since = last_audit_id(dash_app)
    login(client, "analyst", F.C)                              # entitled, no pii
    rows, text = _search(client, dash_app, HEAD[0])
    assert len(rows) == 1 and rows[0]["village"] == "春风社区居委会" and "*" in rows[0]["id_number"]
    assert not full_id_numbers(text)
    key = _key(rows[0])
    assert HEAD[0] not in key and not any(ch.isdigit() for ch in key[:0])
    resp, text = _render(client, dash_app, {"person": key})
    assert resp["household-content"]["style"] == {"display": "block"}
    crumb = json.dumps(resp["household-breadcrumb"]["children"], ensure_ascii=False)
    assert "衡阳县" in crumb and "西渡镇" in crumb and "春风社区居委会" in crumb
    members = resp["household-members"]["rowData"]
    assert len(members) == 2 and [m["relation_to_head"] for m in members] == ["户主", "配偶"]
    assert [m["paid"] for m in members] == [11500.0, 1500.0]
    pays = resp["household-payments"]["rowData"]
    assert len(pays) == 7 and sum(p["amount"] for p in pays) == 13000.0
    assert {p["year"] for p in pays} == {2023, 2024}
    assert {p["fund_code"] for p in pays} == {"F-DB23", "F-HR23", "F-DB24"}
    hr = [p for p in pays if p["fund_code"] == "F-HR23"]
    assert [(p["amount"], p["standard"], p["unit"], p["deviation"]) for p in hr] == [(10000.0, 10000.0, "户", 0.0)]
    assert all(p["standard"] == 500.0 for p in pays if p["fund_code"] != "F-HR23")
    kpis = json.dumps(resp["household-kpis"]["children"], ensure_ascii=False)
    assert "1.3 万元" in kpis
    assert not full_id_numbers(text) and HEAD[1] not in text and SPOUSE[1] not in text
    assert not [a for a in audit_actions(dash_app, since) if a[0] == "pii_masked"]


def test_search_by_name_prefix_and_pii_grant(client, dash_app):
    login(client, "county_official", F.C, pii=True)
    rows, _ = _search(client, dash_app, HEAD[1])
    assert HEAD[0] in [r["id_number"] for r in rows]         # full numbers with the pii grant
    resp, _ = _render(client, dash_app, {"person": _key(next(r for r in rows if r["id_number"] == HEAD[0]))})
    assert resp["household-title"]["children"].startswith(HEAD[1])
    assert {m["id_number"] for m in resp["household-members"]["rowData"]} == {HEAD[0], SPOUSE[0]}


def test_url_carries_only_an_opaque_key_and_round_trips(client, dash_app):
    login(client, "analyst", F.C)
    rows, _ = _search(client, dash_app, HEAD[0])
    href = rows[0]["link"].split("](", 1)[1][:-1]
    assert HEAD[0] not in href and not full_id_numbers(href)
    from urllib.parse import parse_qs, urlsplit
    query = {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}
    from pages.household import layout
    with dash_app.server.test_request_context("/household?" + urlencode(query)):
        from flask import g

        from core.viewer import Viewer
        from core.scope import Scope
        g.viewer = Viewer(user_id=1, username="x", role="analyst", scope=Scope(F.C))
        store = next(c for c in layout(**query)._traverse() if getattr(c, "id", None) == "household-state")
    resp, _ = _render(client, dash_app, store.data)
    assert len(resp["household-payments"]["rowData"]) == 7


def test_forged_or_foreign_keys_and_unentitled_roles_get_nothing(client, dash_app):
    from data_access.household import person_key
    login(client, "analyst", F.C2)                             # 衡南县: 春风 is not theirs
    rows, _ = _search(client, dash_app, HEAD[0])
    assert rows == []
    resp, text = _render(client, dash_app, {"person": person_key(HEAD[0])})
    assert resp["household-content"]["style"] == {"display": "none"} and resp["household-payments"]["rowData"] == []
    assert "春风" not in text
    for forged in (HEAD[0], "AAAA", person_key(HEAD[0])[:-2] + "xx"):
        login(client, "analyst", F.C)
        resp, _ = _render(client, dash_app, {"person": forged})
        assert resp["household-payments"]["rowData"] == []
    _, df, _ = export(client, dash_app, "household", "payments", "csv",
                      [{"id": "household-state", "property": "data", "value": {"person": HEAD[0]}}])
    assert df is None
    login(client, "province_leader", "430000000000")          # not entitled
    resp, _ = _render(client, dash_app, {"person": person_key(HEAD[0])})
    assert resp["household-payments"]["rowData"] == [] and "无权" in resp["household-message"]["children"]
    rows, _ = _search(client, dash_app, HEAD[0])
    assert rows == []
    _, df, _ = export(client, dash_app, "household", "payments", "xlsx",
                      [{"id": "household-state", "property": "data", "value": {"person": person_key(HEAD[0])}}])
    assert df is None


def test_exports_equal_the_screen(client, dash_app):
    from data_access.household import person_key
    login(client, "analyst", F.C)
    state = {"person": person_key(HEAD[0])}
    resp, _ = _render(client, dash_app, state)
    pays, members = resp["household-payments"]["rowData"], resp["household-members"]["rowData"]
    for fmt in ("csv", "xlsx"):
        _, df, _ = export(client, dash_app, "household", "payments", fmt,
                          [{"id": "household-state", "property": "data", "value": state}])
        assert df["发放编号"].tolist() == [p["payment_id"] for p in pays]
        assert df["身份证号"].tolist() == [p["id_number"] for p in pays]
        assert [float(x) for x in df["标准（元）"]] == [p["standard"] for p in pays]
        assert not full_id_numbers(df.to_csv()) and HEAD[1] not in df.to_csv()
        _, df, _ = export(client, dash_app, "household", "members", fmt,
                          [{"id": "household-state", "property": "data", "value": state}])
        assert df["身份证号"].tolist() == [m["id_number"] for m in members]
