"""Viewers who may see the same region share its cached answers (data_access.base.memoize_in_region), and
only they: a province leader opening a county fills the cache for that county's official, while a viewer
with other grants (full ID numbers, complaint summaries, a linked ID number) keeps answers of their own."""
import contextlib

import pytest
from sqlalchemy import event

from core.db import get_engine, read_engine
from core.scope import Scope
from data_access import clues, complaints, flows, grades, overview
from tests.package_factory import C1, C3, CITY, PROV, T1, V1
from tests.test_data_access_scope import loaded_db  # noqa: F401  (the fixture)


@pytest.fixture
def db(loaded_db):  # noqa: F811  (the imported fixture)
    """The hand-made package on SQLite and on PostgreSQL (tests/test_data_access_scope.py)."""
    return loaded_db


@contextlib.contextmanager
def statements(url):
    """The SQL statements the read side sends while the block runs."""
    seen = []
    engines = {get_engine(url), read_engine(get_engine(url))}

    def count(conn, cursor, statement, *args):
        seen.append(statement)
    for e in engines:
        event.listen(e, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for e in engines:
            event.remove(e, "before_cursor_execute", count)


def test_narrowed_scope_keeps_the_grants_and_never_widens():
    s = Scope(CITY, pii=True, complaints=True, person_id="x")
    assert s.narrowed(C1) == Scope(C1, pii=True, complaints=True, person_id="x")
    assert s.narrowed(V1).region_code == V1
    assert Scope(C1).narrowed(CITY).is_empty          # above the scope
    assert Scope(C1).narrowed(C3).is_empty            # beside it
    assert Scope(C1).narrowed(None).is_empty and Scope.none().narrowed(C1).is_empty


# what a county's pages ask for its own region (the overview, complaints and clues pages, the grade)
def _county_pages(scope, region):
    return [
        overview.kpis(scope, region), overview.monthly(scope, region), overview.subregions(scope, region),
        complaints.complaint_funnel(scope, region), complaints.breakdown(scope, region, None, None, "channel"),
        complaints.subregions(scope, region, None, None), complaints.timeliness(scope, region, None, None),
        complaints.overdue(scope, region, None, None, "R22"), complaints.repeats(scope, region, None, None),
        complaints.corroboration(scope, region, None, None), clues.funnel(scope, region),
        clues.rule_precision(scope, region), clues.person_groups(scope, region), grades.region_grade(scope, region),
    ]


def _same(a, b):
    import pandas as pd
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    else:
        assert a == b or (a != a and b != b)


def test_a_leader_opening_a_county_fills_the_cache_for_its_official(db):
    with statements(db) as first:
        leader = _county_pages(Scope(PROV), C1)
    assert first, "the leader's answers were read from the database"
    with statements(db) as second:
        official = _county_pages(Scope(C1), None)
    assert second == []                               # every answer came from the leader's entries
    for a, b in zip(leader, official):
        _same(a, b)
    # the fund flow under the county: only the official's own fund list is read
    led = flows.flow(Scope(PROV), C1)
    with statements(db) as fourth:
        own = flows.flow(Scope(C1))
    assert fourth and not [q for q in fourth if "agg_fund_flow_group" in q or "agg_flow_edge_group" in q]
    assert len(own["nodes"]) > 0
    for k in ("root", "as_of", "paid_inside_all", "nodes", "edges"):
        _same(led[k], own[k])
    # a township analyst inside the county shares nothing of the county's (its own region is smaller)
    with statements(db) as third:
        township = overview.kpis(Scope(T1))
    assert third and township["region"] == T1


@pytest.fixture
def clue_db(tmp_path, monkeypatch):
    """The package of tests/clues_factory.py (people with several clues), on SQLite."""
    from tests import clues_factory
    from tests.conftest import imported_database
    url = imported_database("clues", clues_factory.build)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CACHE_DISABLED", raising=False)
    return url


def test_viewers_with_other_grants_do_not_share(clue_db):
    from tests.clues_factory import LI
    masked = clues.person_groups(Scope(PROV), C1)["person"].tolist()
    assert masked and all("*" in p for p in masked)          # no pii grant: masked
    assert LI not in masked
    full = clues.person_groups(Scope(C1, pii=True), None)["person"].tolist()
    assert LI in full and len(full) == len(masked)            # the entitled official: in full, not the leader's
    # and the other way round: a viewer without the grant, after an entitled one, still gets masks
    assert LI in clues.person_groups(Scope(CITY, pii=True), C1)["person"].tolist()
    assert all("*" in p for p in clues.person_groups(Scope(CITY), C1)["person"])


def test_a_request_outside_the_scope_is_still_refused(db):
    # the county official's forged wish for the other county, after the leader cached it
    other = overview.kpis(Scope(PROV), C3)
    assert other["region"] == C3
    mine = overview.kpis(Scope(C1), C3)
    assert mine["region"] == C1
    assert complaints.complaint_funnel(Scope(C1), C3)["region"] == C1
    assert overview.kpis(Scope.none(), C3) is None
    assert complaints.subregions(Scope.none(), C3, None, None).empty
