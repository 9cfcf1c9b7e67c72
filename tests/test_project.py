"""The project page's callbacks through the Flask test client on the drill-down package:
PRJ-WS1 (contract 60,000, 8 of 10 wells, paid 30,000 + 24,000 from 壕塘's ledger, accepted 2023-10-20,
R13 at risk 6,000) and PRJ-HR1 (three households of 春风 paid 10,000 each)."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from core.security import full_id_numbers
from tests import drilldown_factory as F
from tests.drill_support import call, export, login, output_key, render


@pytest.fixture
def client(dash_app, drill_db):
    return dash_app.server.test_client()


def _render(client, app, state):
    status, resp, text = render(client, app, "project-breadcrumb.children", "project-state", state)
    assert status == 200, text[:500]
    return resp, text


def test_project_page_shows_fund_contract_progress_and_payments_against_acceptance(client, dash_app):
    login(client, "city_official", F.CITY)
    resp, text = _render(client, dash_app, {"project": "PRJ-WS1"})
    assert resp["project-content"]["style"] == {"display": "block"}
    crumb = json.dumps(resp["project-breadcrumb"]["children"], ensure_ascii=False)
    for name in ("衡阳市", "衡阳县", "西渡镇", "壕塘社区居委会", "壕塘社区安全饮水工程"):
        assert name in crumb
    assert "/village?village=" + F.V1A in crumb
    kpis = json.dumps(resp["project-kpis"]["children"], ensure_ascii=False)
    assert "2023年农村安全饮水工程" in kpis and "衡阳水利建设有限公司" in kpis
    assert "6.0 万元" in kpis                              # contract 60,000
    assert "8 / 10 口（80.0%）" in kpis                    # planned vs completed
    assert "5.4 万元" in kpis and "90.0%" in kpis          # paid 54,000 = 90% of the contract
    assert "4.8 万元" in kpis                              # due by progress 60,000 x 8/10
    assert "2023-10-20" in kpis
    pays = resp["project-payments"]["rowData"]
    assert [(p["record_id"], p["amount"], p["cumulative"], p["after_acceptance"]) for p in pays] == [
        ("E-WS1", 30000.0, 30000.0, False), ("E-WS2", 24000.0, 54000.0, True)]
    fig = resp["project-timeline"]["figure"]
    assert fig["data"][0]["y"] == [30000.0, 54000.0]
    assert fig["layout"]["shapes"][0]["x0"] == "2023-10-20"                  # the acceptance date
    assert [c["rule"] for c in resp["project-clues"]["rowData"]] == ["R13"]
    assert resp["project-clues"]["rowData"][0]["amount_at_risk"] == pytest.approx(6000.0)
    assert resp["project-clues"]["rowData"][0]["status"] == "新线索"          # the state in words, not "new"
    assert resp["project-beneficiaries"]["rowData"] == []


def test_beneficiaries_are_masked_unless_pii_and_link_by_an_opaque_key(client, dash_app):
    login(client, "analyst", F.C)
    resp, text = _render(client, dash_app, {"project": "PRJ-HR1"})
    rows = resp["project-beneficiaries"]["rowData"]
    heads = [p for p in F.village_people()[F.V1B][0:6:2]]
    assert len(rows) == 3 and all(r["amount"] == 10000.0 and r["n_payments"] == 1 for r in rows)
    assert all("*" in r["id_number"] and "/household?person=" in r["link"] for r in rows)
    assert not full_id_numbers(text) and all(h[0] not in text for h in heads)
    pays = resp["project-payments"]["rowData"]
    assert sum(p["amount"] for p in pays) == 30000.0 and all("*" in p["counterparty"] for p in pays)
    login(client, "analyst", F.C, pii=True)
    resp, _ = _render(client, dash_app, {"project": "PRJ-HR1"})
    assert sorted(r["id_number"] for r in resp["project-beneficiaries"]["rowData"]) == sorted(h[0] for h in heads)


def test_search_url_round_trip_and_scope(client, dash_app):
    login(client, "county_official", F.C)
    key = output_key(dash_app, "state-url.search", "project-search")
    status, resp, _ = call(client, dash_app, key, [{"id": "project-search", "property": "value", "value": "饮水"}],
                           [{"id": "project-state", "property": "data", "value": {"project": None, "q": None}}])
    search = resp["state-url"]["search"]
    query = {k: v[0] for k, v in parse_qs(search.lstrip("?")).items()}
    assert query == {"q": "饮水"}
    from pages.project import layout
    store = next(c for c in layout(**query)._traverse() if getattr(c, "id", None) == "project-state")
    resp, _ = _render(client, dash_app, store.data)
    rows = resp["project-results"]["rowData"]
    assert [r["project_code"] for r in rows] == ["PRJ-WS1"] and rows[0]["region"] == "壕塘社区居委会"
    assert "/project?project=PRJ-WS1" in rows[0]["link"]
    status, df, _ = export(client, dash_app, "project", "results", "csv",
                           [{"id": "project-state", "property": "data", "value": store.data}])
    assert df["项目编号"].tolist() == ["PRJ-WS1"]
    # an empty search lists every project of the scope
    resp, _ = _render(client, dash_app, {})
    assert {r["project_code"] for r in resp["project-results"]["rowData"]} == {"PRJ-WS1", "PRJ-HR1"}


def test_forged_out_of_scope_project_yields_nothing(client, dash_app):
    login(client, "county_official", F.C2)                # 衡南县
    resp, text = _render(client, dash_app, {"project": "PRJ-WS1"})
    assert resp["project-content"]["style"] == {"display": "none"}
    assert "壕塘" not in text and "衡阳水利" not in text and resp["project-payments"]["rowData"] == []
    assert resp["project-results"]["rowData"] == []       # no project of 衡阳县 in the search either
    resp, text = _render(client, dash_app, {"q": "PRJ"})
    assert resp["project-results"]["rowData"] == []
    for table in ("payments", "beneficiaries", "clues", "complaints"):
        status, df, raw = export(client, dash_app, "project", table, "xlsx",
                                 [{"id": "project-state", "property": "data", "value": {"project": "PRJ-HR1"}}])
        assert df is None


def test_exports_equal_the_screen(client, dash_app):
    login(client, "analyst", F.C)
    state = {"project": "PRJ-HR1"}
    resp, _ = _render(client, dash_app, state)
    st = [{"id": "project-state", "property": "data", "value": state}]
    for fmt in ("csv", "xlsx"):
        _, df, _ = export(client, dash_app, "project", "beneficiaries", fmt, st)
        rows = resp["project-beneficiaries"]["rowData"]
        assert df["身份证号"].tolist() == [r["id_number"] for r in rows]
        assert [float(a) for a in df["金额（元）"]] == [r["amount"] for r in rows]
        assert not full_id_numbers(df.to_csv())
        _, df, _ = export(client, dash_app, "project", "payments", fmt, st)
        assert df["记录编号"].tolist() == [p["record_id"] for p in resp["project-payments"]["rowData"]]
        assert df["来源"].tolist() == ["到户发放"] * 3
    _, df, _ = export(client, dash_app, "project", "clues", "csv", [{"id": "project-state", "property": "data",
                                                                    "value": {"project": "PRJ-WS1"}}])
    assert df["规则"].tolist() == ["R13"] and df["规则名称"].tolist() == ["超进度付款"]
    assert df["状态"].tolist() == ["新线索"]
