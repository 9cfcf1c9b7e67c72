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
