"""Engine creation (SQLite default, PostgreSQL by DATABASE_URL) and schema creation."""
from __future__ import annotations

import functools
from pathlib import Path

from sqlalchemy import create_engine, event
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
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


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
