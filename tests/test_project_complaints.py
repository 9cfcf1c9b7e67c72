"""Linked complaints on the project page: summaries only for the complaint officer, never the
complainant (tests/project_factory.py adds two complaints naming PRJ-WS1 to the drill-down package)."""
from __future__ import annotations

import pytest

from tests import drilldown_factory as F
from tests import project_factory
from tests.conftest import imported_database, using_database
from tests.drill_support import export, login, render


@pytest.fixture(scope="module")
def prj_db(dash_app):
    with using_database(imported_database("drill_prj", project_factory.build)) as url:
        yield url


@pytest.fixture
def client(dash_app, prj_db):
    return dash_app.server.test_client()


def _render(client, app, state):
    status, resp, text = render(client, app, "project-breadcrumb.children", "project-state", state)
    assert status == 200, text[:300]
    return resp, text


def test_complaint_officer_sees_summaries_others_do_not(client, dash_app):
    login(client, "complaint_officer", F.C)
    resp, text = _render(client, dash_app, {"project": "PRJ-WS1"})
    rows = resp["project-complaints"]["rowData"]
    assert [r["complaint_id"] for r in rows] == ["Q31", "Q30"]
    assert rows[1]["summary"] == project_factory.SUMMARY and rows[1]["substantiated"] is True
    assert "举报人" not in text and "1390000" not in text
    _, df, _ = export(client, dash_app, "project", "complaints", "csv",
                      [{"id": "project-state", "property": "data", "value": {"project": "PRJ-WS1"}}])
    assert df["内容摘要"].tolist() == [r["summary"] for r in rows]
    login(client, "analyst", F.C)
    resp, text = _render(client, dash_app, {"project": "PRJ-WS1"})
    rows = resp["project-complaints"]["rowData"]
    assert [r["complaint_id"] for r in rows] == ["Q31", "Q30"]
    assert all("summary" not in r for r in rows) and project_factory.SUMMARY not in text
    assert "仅对投诉举报专员显示" in resp["project-complaints-note"]["children"]
    _, df, raw = export(client, dash_app, "project", "complaints", "xlsx",
                        [{"id": "project-state", "property": "data", "value": {"project": "PRJ-WS1"}}])
    assert "内容摘要" not in df.columns and len(df) == 2
