"""A database created by an earlier version gets the indexes added to existing tables since then
(core.db.create_schema, run by every import and by `manage.py rollups`), and the views use them."""
from __future__ import annotations

from sqlalchemy import inspect, text


def test_an_index_added_since_is_built_on_an_existing_database(tmp_path):
    from core.db import create_schema, make_engine
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    create_schema(engine)
    with engine.begin() as conn:                 # as a database of the version before the index
        conn.execute(text("DROP INDEX ix_agg_pay_month_level"))
    assert "ix_agg_pay_month_level" not in {i["name"] for i in inspect(engine).get_indexes("agg_pay_month")}
    create_schema(engine)
    assert "ix_agg_pay_month_level" in {i["name"] for i in inspect(engine).get_indexes("agg_pay_month")}
    create_schema(engine)                        # and again: nothing to do, no error
    engine.dispose()


def test_the_townships_by_month_read_the_level_index(app_db):
    """The townships of a county month by month: through (level, region_code), not the whole range of
    the county's codes (its villages are ~93% of those rows at province scale)."""
    from sqlalchemy import event

    from core.db import get_engine
    from core.scope import Scope
    from data_access import townships
    engine = get_engine(app_db)
    seen = []

    def capture(conn, _cursor, statement, params, _context, executemany):
        if "agg_pay_month" in statement and not executemany:
            seen.append((statement, params))
    event.listen(engine, "before_cursor_execute", capture)
    try:
        townships.monthly.uncached(Scope(region_code="430000000000"), "430421000000", None)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert seen
    with engine.connect() as conn:
        plan = " ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + seen[0][0], seen[0][1]))
    assert "ix_agg_pay_month_level" in plan, plan


def test_the_project_search_reads_the_newest_from_its_index_on_postgresql(pg_url):
    """The project page's list (newest first, then by code, 50 at a time) can be read in the order of
    ix_projects_recent and stop at the limit, instead of sorting every project of a province (13.6 ms against
    0.4 ms at province scale). The test database is small, so the planner is told that sorting is expensive,
    as it is for 29k projects; without an index in the statement's order it would still have to sort."""
    import datetime as dt
    import random

    from sqlalchemy import insert

    from core import schema
    from core.db import create_schema, make_engine
    from core.scope import Scope
    from data_access.base import scope_bounds
    from data_access.project import SEARCH_LIMIT, _search_stmt
    engine = make_engine(pg_url)
    create_schema(engine)
    rng = random.Random(3)
    rows = [{"project_code": f"XM{i:06d}", "fund_code": "F1", "region_code": f"4304{rng.randrange(10, 99)}000000",
             "name": f"项目{i}", "contract_amount": 1000.0,
             "start_date": dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(365))} for i in range(2000)]
    with engine.begin() as conn:
        conn.execute(insert(schema.projects), rows)
        conn.exec_driver_sql("ANALYZE projects")
    stmt = _search_stmt(SEARCH_LIMIT, False)
    sql = str(stmt.compile(engine, compile_kwargs={"render_postcompile": True}))
    params = {**scope_bounds(Scope(region_code="430000000000")), "param_1": SEARCH_LIMIT}
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_sort = off")
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql, params))
        got = [r[0] for r in conn.execute(stmt, params)]
    engine.dispose()
    assert "ix_projects_recent" in plan and "Sort" not in plan, plan
    newest = sorted(rows, key=lambda r: (-r["start_date"].toordinal(), r["project_code"]))[:SEARCH_LIMIT]
    assert got == [r["project_code"] for r in newest]
