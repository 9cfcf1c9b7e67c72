"""A web request's reads share one database connection and give it back when the request ends
(core/db.py: on PostgreSQL each checkout costs a pre-ping and a rollback, ~0.7 ms a query)."""
from __future__ import annotations

import itertools

from sqlalchemy import event

from scripts.dash_session import DashSession


def _watch(engine):
    """Number every pool checkout; record, per SELECT, the checkout its connection came from."""
    counter = itertools.count(1)
    reads: list[int] = []

    def on_checkout(_dbapi, record, _proxy):
        record.info["checkout_no"] = next(counter)

    def on_execute(conn, _cursor, statement, _params, _context, executemany):
        if not executemany and statement.lstrip().upper().startswith("SELECT"):
            reads.append(conn.info.get("checkout_no"))

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "before_cursor_execute", on_execute)

    def stop():
        event.remove(engine, "checkout", on_checkout)
        event.remove(engine, "before_cursor_execute", on_execute)
    return reads, stop


def test_a_callback_reads_on_one_connection_and_gives_it_back(dash_app, app_db):
    from core.db import get_engine, read_engine
    from data_access.cache import invalidate
    engine = read_engine(get_engine(app_db))      # (on PostgreSQL the reads' own engine: results in binary)
    invalidate()                                   # cold: the callbacks really read
    s = DashSession(dash_app, dash_app.server.test_client())
    s.login_new_user(dash_app.server.extensions["auth_engine"], "county_official", "430421000000")
    bodies = s.initial_bodies("/")                 # the overview: kpis, trend, rankings, table
    assert bodies
    reads, stop = _watch(engine)
    try:
        for body in bodies:
            reads.clear()
            call = s.post("/", body)
            assert call.status == 200, call.body[:300]
            # the session check and every read of the callback: several statements, one checkout
            assert len(reads) >= 3, reads
            assert len(set(reads)) == 1, reads
            # and the connection is back in the pool once the response is out
            assert engine.pool.checkedout() == 0
    finally:
        stop()


def test_reads_outside_a_request_take_their_own_connection(app_db):
    """The command line and background jobs have no request: each read checks a connection out and
    returns it at once, as before."""
    from core.db import get_engine, read_engine
    from core.scope import Scope
    from data_access import overview
    engine = read_engine(get_engine(app_db))
    reads, stop = _watch(engine)
    try:
        overview.subregions.uncached(Scope(region_code="430000000000"), None, None, "county")
        overview.kpis.uncached(Scope(region_code="430000000000"), None, None)
    finally:
        stop()
    assert len(reads) >= 2 and len(set(reads)) == len(reads), reads
    assert engine.pool.checkedout() == 0
