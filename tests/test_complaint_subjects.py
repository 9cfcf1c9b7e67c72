""""A complaint about an official is never shown to that official" (issue 3).

The package has no subject column, so the complaint officer records who a complaint is about
(complaint_subjects) on the complaints page or with `manage.py complaints subjects`; a user whose
account carries that ID number (users.person_id) then never gets the complaint: not in the list,
the detail, the overdue lists, repeats, corroboration, exports, nor the clues on it. Counts stay.
Runs on the complaints package of tests/complaints_factory.py."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import delete, select

from core import schema
from core.idnumber import mask_id
from core.scope import Scope
from tests import complaints_factory as F
from tests.conftest import imported_database, using_database
from tests.package_factory import person
from tests.test_complaints import STATE, _all_text, _decoded_downloads, _every_response, _rows_request, post

OFFICIAL = person("430421", 311)          # 衡阳县's official the complaints are about
COLLEAGUE = person("430421", 312)
HIDDEN = ("A7", "N3", "R1")               # list/detail, R22 (and its clue), repeats + corroboration


@pytest.fixture
def sdb(dash_app):
    with using_database(imported_database("complaints", F.build)) as url:
        yield url
        from core.db import get_engine
        with get_engine(url).begin() as conn:
            conn.execute(delete(schema.complaint_subjects))
        from data_access.cache import invalidate
        invalidate()


def _record(cids, idn=OFFICIAL, officer=Scope(F.C1, complaints=True)):
    from data_access import complaints as dac
    for cid in cids:
        assert dac.change_subject(officer, "officer_t", cid, "add", id_number=idn) is None, cid


def _visible(scope):
    """Every complaint id the row-level views give ``scope``."""
    from data_access import clues as dcl
    from data_access import complaints as dac
    seen = set(dac.complaint_list(scope, F.C1, None, None)[0]["complaint_id"])
    for rule in ("R22", "R23"):
        seen |= set(dac.overdue(scope, F.C1, None, None, rule)["complaint_id"])
    for m in dac.repeats(scope, F.C1, None, None)["matters"]["complaint_ids"]:
        seen |= set(m.split(", "))
    for m in dac.corroboration(scope, F.C1, None, None)["complaint_ids"]:
        seen |= set(m.split(", "))
    clue_rows = dcl.clue_page(scope, {}, 0, 1000)["rows"]
    seen |= {r["record_id"] for r in clue_rows if r["table_name"] == "complaints"}
    seen |= {cid for cid in HIDDEN if dac.complaint_detail(scope, cid)}
    return seen


def test_recorded_subject_never_sees_the_complaint(sdb):
    from data_access import clues as dcl
    from data_access import complaints as dac
    me = Scope(F.C1, person_id=OFFICIAL)
    before = _visible(me)                        # cached now: recording must still take effect
    assert set(HIDDEN) <= before
    _record(HIDDEN)
    after = _visible(me)
    assert after == before - set(HIDDEN)
    assert dac.complaint_list(me, F.C1, None, None)[1] == 20 - 3
    # the clue of R22 on N3 is gone from the list and cannot be opened by id
    n3 = [r for r in dcl.clue_page(Scope(F.C1), {}, 0, 1000)["rows"] if r["record_id"] == "N3"]
    assert n3 and all(dcl.clue_detail(me, r["clue_id"]) is None for r in n3)
    # statistics still count it (otherwise the numbers themselves would give it away)
    assert dac.complaint_funnel(me, F.C1)["received"] == dac.complaint_funnel(Scope(F.C1), F.C1)["received"] == 20
    # a colleague, an unlinked user and the officer still see them; so does a province leader
    for other in (Scope(F.C1, person_id=COLLEAGUE), Scope(F.C1), Scope(F.C1, complaints=True),
                  Scope("430000000000")):
        assert set(HIDDEN) <= _visible(other), other
    # the officer who is themself the subject does not
    assert not set(HIDDEN) & _visible(Scope(F.C1, complaints=True, person_id=OFFICIAL))


def test_removing_the_subject_shows_it_again(sdb):
    from data_access import complaints as dac
    me = Scope(F.C1, person_id=OFFICIAL)
    officer = Scope(F.C1, complaints=True)
    _record(["A7"])
    assert dac.complaint_detail(me, "A7") is None
    items = dac.subjects(officer, "A7")
    assert [s["id_number"] for s in items] == [mask_id(OFFICIAL)]          # the officer has no pii grant
    assert dac.subjects(Scope(F.C1, complaints=True, pii=True), "A7")[0]["id_number"] == OFFICIAL
    assert dac.change_subject(officer, "officer_t", "A7", "remove", ref="0" * 16) == "complaints.subject.err_request"
    assert dac.change_subject(officer, "officer_t", "A7", "remove", ref=items[0]["ref"]) is None
    assert dac.complaint_detail(me, "A7") is not None


@pytest.mark.parametrize("scope,cid,idn,err", [
    (Scope(F.C1), "A7", OFFICIAL, "complaints.subject.err_role"),                      # not an officer
    (Scope(F.C1, pii=True), "A7", OFFICIAL, "complaints.subject.err_role"),
    (Scope(F.C3, complaints=True), "A7", OFFICIAL, "complaints.subject.err_scope"),     # 衡南县's officer
    (Scope(F.C1, complaints=True), "NOPE", OFFICIAL, "complaints.subject.err_scope"),
    (Scope(F.C1, complaints=True), "A7", OFFICIAL[:-1] + ("0" if OFFICIAL[-1] != "0" else "1"),
     "complaints.subject.err_id"),
    (Scope(F.C1, complaints=True, person_id=OFFICIAL), "A7", OFFICIAL, "complaints.subject.err_self"),
    (Scope.none(), "A7", OFFICIAL, "complaints.subject.err_role"),
])
def test_who_may_record_a_subject(sdb, scope, cid, idn, err):
    from data_access import complaints as dac
    assert dac.change_subject(scope, "x", cid, "add", id_number=idn) == err
    from core.db import get_engine
    with get_engine(sdb).connect() as conn:
        assert conn.execute(select(schema.complaint_subjects)).first() is None


# --- through the callbacks, as the browser (or anyone) POSTs them ----------------------------------------
def _client(dash_app, role, region, person_id=None, pii=False):
    from scripts.dash_session import DashSession
    c = dash_app.server.test_client()
    DashSession(dash_app, c).login_new_user(dash_app.server.extensions["auth_engine"], role, region, pii=pii,
                                            person_id=person_id)
    return c


def _subjects_post(c, cid, add=None, value=None, remove_ref=None):
    """POST the subjects callback: opened complaint ``cid``, the Record button (add=1) or a remove."""
    from dash._utils import stringify_id
    removes = [{"id": {"type": "complaints-subject-remove", "ref": remove_ref}, "property": "n_clicks", "value": 1}] \
        if remove_ref else []
    inputs = [{"id": "complaints-detail-id", "property": "data", "value": cid},
              {"id": "complaints-subject-add", "property": "n_clicks", "value": add},
              {"id": "complaints-subject-input", "property": "n_submit", "value": None},
              removes]
    changed = ["complaints-subject-add.n_clicks"] if add else (
        [stringify_id(removes[0]["id"]) + ".n_clicks"] if removes else ["complaints-detail-id.data"])
    outputs = [{"id": "complaints-subject-list", "property": "children"},
               {"id": "complaints-subject-msg", "property": "children"},
               {"id": "complaints-subject-input", "property": "value"},
               {"id": "complaints-subjects", "property": "style"}]
    body = {"output": "..complaints-subject-list.children...complaints-subject-msg.children..."
                      "complaints-subject-input.value...complaints-subjects.style..",
            "outputs": outputs, "inputs": inputs,
            "state": [{"id": "complaints-subject-input", "property": "value", "value": value}],
            "changedPropIds": changed}
    r = c.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost",
                                                            "Referer": "http://localhost/"})
    return r.status_code, r.get_data(as_text=True)


def _app_engine():
    import app as appmod
    return appmod.app.server.extensions["auth_engine"]


def _audit(action, since_id):
    from core.auth_schema import audit_log
    with _app_engine().connect() as conn:      # the audit log lives in the app's own database
        return conn.execute(select(audit_log.c.result, audit_log.c.target, audit_log.c.detail)
                            .where(audit_log.c.action == action, audit_log.c.id > since_id)).all()


def _last_audit_id():
    from sqlalchemy import func

    from core.auth_schema import audit_log
    with _app_engine().connect() as conn:
        return conn.execute(select(func.coalesce(func.max(audit_log.c.id), 0))).scalar()


def test_officer_records_a_subject_on_the_page_and_the_official_loses_it(sdb, dash_app):
    mark = _last_audit_id()
    officer = _client(dash_app, "complaint_officer", F.C1)
    st, text = _subjects_post(officer, "A7", add=1, value=OFFICIAL.lower()[:-1] + OFFICIAL[-1].lower())
    assert st == 200, text
    assert mask_id(OFFICIAL) in text and OFFICIAL not in text and "已登记" in text
    rows = _audit("complaint_subject", mark)
    assert [(r.result, r.target) for r in rows] == [("ok", "A7")]
    assert OFFICIAL not in rows[0].detail and mask_id(OFFICIAL) in rows[0].detail
    # the official the complaint is about: not in any response of the complaints page
    _record(["N3", "R1"])
    c = _client(dash_app, "county_official", F.C1, person_id=OFFICIAL)
    for name, (st, text, _) in _every_response(c).items():
        raw = _all_text(text) + _decoded_downloads(text)
        assert st in (200, 204), name
        for cid in HIDDEN:            # as a word: rule R14 is not complaint R1
            assert not re.search(rf"\b{cid}\b", raw), (name, cid)
    st, text, resp = post(c, "list_rows", {"complaints-list-grid.getRowsRequest": _rows_request(), STATE: {}})
    assert resp["complaints-list-grid"]["getRowsResponse"]["rowCount"] == 17
    # the colleague next door still sees them
    c2 = _client(dash_app, "county_official", F.C1, person_id=COLLEAGUE)
    st, text, resp = post(c2, "list_rows", {"complaints-list-grid.getRowsRequest": _rows_request(), STATE: {}})
    assert resp["complaints-list-grid"]["getRowsResponse"]["rowCount"] == 20


def test_forged_subject_posts_are_refused_and_audited(sdb, dash_app):
    mark = _last_audit_id()
    for role, region in (("county_official", F.C1), ("analyst", F.C1), ("province_leader", "430000000000")):
        c = _client(dash_app, role, region)
        st, text = _subjects_post(c, "A7", add=1, value=OFFICIAL)
        assert st in (200, 204) and OFFICIAL not in text
    south = _client(dash_app, "complaint_officer", F.C3)
    st, text = _subjects_post(south, "A7", add=1, value=OFFICIAL)
    assert "没有找到该投诉" in text
    from core.db import get_engine
    with get_engine(sdb).connect() as conn:
        assert conn.execute(select(schema.complaint_subjects)).first() is None
    assert [r.result for r in _audit("complaint_subject", mark)] == ["denied"]
    # a remove with a made-up ref changes nothing
    _record(["A7"])
    officer = _client(dash_app, "complaint_officer", F.C1)
    st, text = _subjects_post(officer, "A7", remove_ref="f" * 16)
    assert "请求无效" in text
    with get_engine(sdb).connect() as conn:
        assert conn.execute(select(schema.complaint_subjects.c.complaint_id)).scalars().all() == ["A7"]
    # the real ref (from the list the officer was shown) removes it
    ref = json.loads(_subjects_post(officer, "A7")[1])
    ref = json.dumps(ref)
    from data_access import complaints as dac
    real = dac.subjects(Scope(F.C1, complaints=True), "A7")[0]["ref"]
    assert real in ref
    st, text = _subjects_post(officer, "A7", remove_ref=real)
    assert "已删除" in text and "尚未登记" in text


# --- the command line ------------------------------------------------------------------------------------
def test_cli_loads_all_or_nothing(sdb, tmp_path):
    from core.db import get_engine
    from pipeline.complaint_subjects import load_subjects
    S = schema.complaint_subjects
    bad = tmp_path / "subjects.csv"
    wrong = OFFICIAL[:-1] + ("0" if OFFICIAL[-1] != "0" else "1")
    bad.write_text(f"complaint_id,id_number\nA7,{OFFICIAL}\nA8,{wrong}\nZZ9,{COLLEAGUE}\nA7,{OFFICIAL}\n",
                   encoding="utf-8")
    res = load_subjects(bad, engine=get_engine(sdb))
    assert res["loaded"] == 0
    assert res["errors"] == ["subjects.csv, row 3, column id_number: not a valid ID number (18 characters, check digit)",
                             "subjects.csv, row 5: repeats row 2"]
    bad.write_text(f"complaint_id,id_number\nA7,{OFFICIAL}\nZZ9,{COLLEAGUE}\n", encoding="utf-8")
    res = load_subjects(bad, engine=get_engine(sdb))
    assert res["errors"] == ["subjects.csv, row 3, column complaint_id: no complaint 'ZZ9' in the database"]
    with get_engine(sdb).connect() as conn:
        assert conn.execute(select(S)).first() is None                     # nothing half-loaded
    bad.write_text("complaint,id_number\nA7,x\n", encoding="utf-8")
    assert load_subjects(bad, engine=get_engine(sdb))["errors"] == ["subjects.csv: required column 'complaint_id' is missing"]
    good = tmp_path / "good.csv"
    good.write_bytes(f"complaint_id,id_number\r\nA7,{OFFICIAL}\r\nN3,{OFFICIAL}\r\nN3,{COLLEAGUE}\r\n".encode("gb18030"))
    res = load_subjects(good, engine=get_engine(sdb))
    assert (res["errors"], res["loaded"], res["unchanged"], res["removed"]) == ([], 3, 0, 0)
    res = load_subjects(good, engine=get_engine(sdb))                      # again: nothing changes
    assert (res["errors"], res["loaded"], res["unchanged"], res["removed"]) == ([], 0, 3, 0)
    good.write_text(f"complaint_id,id_number\nN3,{COLLEAGUE}\n", encoding="utf-8")
    res = load_subjects(good, engine=get_engine(sdb), replace=True)
    assert (res["loaded"], res["unchanged"], res["removed"]) == (0, 1, 1)
    from data_access import complaints as dac
    assert dac.complaint_detail(Scope(F.C1, person_id=OFFICIAL), "A7") is None       # A7 not in the file: kept
    assert dac.complaint_detail(Scope(F.C1, person_id=OFFICIAL), "N3") is not None
    assert dac.complaint_detail(Scope(F.C1, person_id=COLLEAGUE), "N3") is None


def test_the_filter_works_on_postgresql(pg_url, tmp_path, dash_app):
    from core.db import get_engine
    from data_access import clues as dcl
    from data_access import complaints as dac
    from pipeline.importer import import_package
    F.build(tmp_path / "pkg")
    import_package(tmp_path / "pkg", get_engine(pg_url))
    with using_database(pg_url):
        me = Scope(F.C1, person_id=OFFICIAL)
        assert set(HIDDEN) <= _visible(me)
        _record(HIDDEN)
        assert not set(HIDDEN) & _visible(me)
        assert set(HIDDEN) <= _visible(Scope(F.C1, person_id=COLLEAGUE))
        assert all(r["record_id"] != "N3" for r in dcl.clue_page(me, {}, 0, 1000)["rows"])
        assert dac.complaint_funnel(me, F.C1)["received"] == 20
