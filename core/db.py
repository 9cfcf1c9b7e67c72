"""Engine creation (SQLite default, PostgreSQL by DATABASE_URL) and schema creation."""
from __future__ import annotations

import functools
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine

from core.settings import get_settings


def _sqlite_pragmas(dbapi_conn, _rec):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=OFF")
    cur.execute("PRAGMA cache_size=-200000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA mmap_size=1073741824")
    cur.close()


# PostgreSQL's pool, for the engine of writes and schema and for the reads' binary engine alike
_PG_POOL = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        event.listen(eng, "connect", _sqlite_pragmas)
        return eng
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, **_PG_POOL)


@functools.lru_cache(maxsize=1)
def _binary_cursor():
    """psycopg cursors that ask PostgreSQL for results in binary: the roll-ups are mostly floats, and
    parsing their text took half of a read (a city's fund-flow rows, 1,042 x 11: 3.5 -> 1.6 ms). The
    Python values are the same (psycopg loads every type from either format)."""
    import psycopg

    class BinaryCursor(psycopg.Cursor):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.format = psycopg.pq.Format.BINARY
    return BinaryCursor


@functools.lru_cache(maxsize=8)
def _binary_engine_for(url: str) -> Engine:
    return create_engine(url, **_PG_POOL, connect_args={"cursor_factory": _binary_cursor()})


def read_engine(engine: Engine) -> Engine:
    """The engine ``reading`` uses: on PostgreSQL (psycopg) one whose results come in binary, for the
    dashboard's reads only (SQLAlchemy's schema reflection expects text); else ``engine`` itself."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return engine
    return _binary_engine_for(engine.url.render_as_string(hide_password=False))


@functools.lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine(url: str | None = None) -> Engine:
    return _engine_for(url or get_settings().database_url)


def create_schema(engine: Engine) -> None:
    import core.schema  # noqa: F401  (registers the tables)
    from core.schema import metadata
    try:
        import core.auth_schema  # noqa: F401  (users, sessions, audit: added by the access-control work)
    except ImportError:
        pass
    metadata.create_all(engine)
    # an index added to an existing table since the database was created (create_all only creates the
    # missing tables): built here, so that an upgrade gets it at its next import or `manage.py rollups`
    insp = inspect(engine)
    for table in metadata.sorted_tables:
        if not table.indexes or not insp.has_table(table.name):
            continue
        have = {ix["name"] for ix in insp.get_indexes(table.name)}
        for index in table.indexes:
            if index.name and index.name not in have:
                index.create(engine)


# --- one read connection per web request -----------------------------------------------------------
# A request's reads share one pooled connection, opened on its first read and closed when the request
# ends (app.py installs share_reads_in_request and close_request_connections): a checkout costs a
# pre-ping and a rollback on return, ~0.7 ms a query on PostgreSQL. The connection is in autocommit, so
# every statement sees what is committed when it runs, exactly as a fresh connection per query did (a
# write made during the request, on its own connection, is seen by the reads after it). Outside a request
# (the command line, background jobs, tests calling data_access directly) every read takes its own
# connection as before.
def _request_connections() -> dict | None:
    try:
        from flask import g, has_app_context
    except ImportError:                                   # pragma: no cover (flask is a dependency)
        return None
    if not has_app_context() or not g.get("_share_reads"):
        return None
    return g.setdefault("_read_conns", {})


def share_reads_in_request() -> None:
    """Called at the start of a web request: its reads will share one connection (until teardown)."""
    from flask import g
    g._share_reads = True


def close_request_connections(_exc=None) -> None:
    from flask import g, has_app_context
    if not has_app_context():
        return
    conns = g.pop("_read_conns", None) or {}
    g.pop("_share_reads", None)
    for conn in conns.values():
        conn.close()


@contextmanager
def reading(engine=None):
    """A connection for reads: the request's shared one when there is a request, else a fresh one."""
    eng = read_engine(engine or get_engine())
    conns = _request_connections()
    if conns is None:
        with eng.connect() as conn:
            yield conn
        return
    conn = conns.get(eng)
    if conn is None or conn.closed or conn.invalidated:
        conn = conns[eng] = eng.connect().execution_options(isolation_level="AUTOCOMMIT")
    yield conn
