"""No dashboard view scans the raw tables (issue 8): every page is opened, as a browser would, by
viewers at every level, every SQL statement the callbacks issue is captured, and SQLite's query plan
of each must not read a raw table (payments, ledger, invoices, people, the registers) except by an
index lookup on equality (one village, one project, one person, one entry). Roll-up tables (agg_*)
and small reference tables may be read freely. New pages are covered automatically."""
from __future__ import annotations

import re

from sqlalchemy import event

from scripts.dash_session import DashSession, data_pages

RAW = ("payments", "ledger", "invoices", "people", "officials", "village_cadres", "enterprises",
       "real_estate", "vehicles", "deaths", "disabled_persons")
VIEWERS = [("province_leader", "430000000000"), ("city_official", "430400000000"),
           ("county_official", "430421000000"), ("analyst", "430421100000")]
QUERIES = [{}, {"region": "430421000000"}, {"region": "430421100000"}, {"village": "430421100203"},
           {"county": "430421000000"}]


def _bad_plan_rows(conn, sql: str, params) -> list[str]:
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    bad = []
    for r in rows:
        detail = r[-1]
        m = re.match(r"(SCAN|SEARCH) (\w+)", detail)
        if not m or m.group(2) not in RAW:
            continue
        if m.group(1) == "SCAN":
            bad.append(detail)          # a full scan (of the table or a whole index)
        elif "=" not in detail.split("(", 1)[-1]:
            bad.append(detail)          # a range search: e.g. every payment of a whole city
    return bad


def test_every_page_reads_rollups_or_indexed_lookups(drill_db, dash_app):
    from core.db import get_engine
    engine = get_engine(drill_db)
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    opened = 0
    try:
        from data_access.cache import invalidate
        invalidate()
        for role, region in VIEWERS:
            s = DashSession(dash_app, dash_app.server.test_client())
            s.login_new_user(dash_app.server.extensions["auth_engine"], role, region)
            for path in data_pages():
                for q in QUERIES:
                    for call in s.open_page(path, q):
                        assert call.status in (200, 204), (path, q, call.output, call.status, call.body[:300])
                        opened += 1
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert opened >= len(VIEWERS) * len(QUERIES), "the walker drove too few callbacks to mean anything"
    assert statements, "no SQL was captured: the walker did not reach the read side"
    print(f"{opened} callback calls, {len(statements)} statements")
    problems = []
    with engine.connect() as conn:
        for sql, params in {(s, tuple(p) if isinstance(p, (list, tuple)) else p): None for s, p in statements}:
            try:
                bad = _bad_plan_rows(conn, sql, params)
            except Exception:       # a statement SQLite cannot EXPLAIN with these parameters
                continue
            if bad:
                problems.append(f"{bad}: {sql[:300]}")
    assert not problems, "view queries scanning raw tables:\n" + "\n".join(sorted(set(problems)))


def test_the_plan_check_catches_a_scan(drill_db):
    """The check itself can fail: a raw GROUP BY over payments is flagged, an indexed lookup is not."""
    from core.db import get_engine
    with get_engine(drill_db).connect() as conn:
        assert _bad_plan_rows(conn, "SELECT village_code, SUM(amount) FROM payments GROUP BY village_code", ())
        assert not _bad_plan_rows(conn, "SELECT SUM(amount) FROM payments WHERE village_code = ?",
                                  ("430421100203",))
        assert not _bad_plan_rows(conn, "SELECT * FROM agg_region_year", ())
