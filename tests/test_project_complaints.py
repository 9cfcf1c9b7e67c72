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


def test_a_complaint_about_the_viewer_is_not_in_their_project_list(prj_db):
    """A viewer linked to an ID number (users.person_id) does not see, among the project's complaints, the one
    recorded as being about them; everyone else still does (docs/complaints.md)."""
    import datetime as dt

    from core import schema
    from core.db import get_engine
    from core.scope import Scope
    from data_access import project as dp
    me = "430421198001010013"
    engine = get_engine(prj_db)
    with engine.begin() as conn:
        conn.execute(schema.complaint_subjects.insert().values(complaint_id="Q30", id_number=me,
                                                               recorded_at=dt.datetime(2024, 1, 2), recorded_by="t"))
    try:
        with using_database(prj_db):
            mine = dp.complaints.uncached(Scope(F.C, person_id=me), "PRJ-WS1")
            other = dp.complaints.uncached(Scope(F.C, person_id="430421198001010021"), "PRJ-WS1")
            plain = dp.complaints.uncached(Scope(F.C), "PRJ-WS1")
        assert mine["complaint_id"].tolist() == ["Q31"]
        assert other["complaint_id"].tolist() == plain["complaint_id"].tolist() == ["Q31", "Q30"]
    finally:
        with engine.begin() as conn:
            conn.execute(schema.complaint_subjects.delete().where(schema.complaint_subjects.c.id_number == me))
