"""SQLite's staged load (pipeline.staging): big tables written into staging files on a worker thread and
copied into the empty tables inside the import's transaction. What a user would check: the database
holds exactly what the direct load writes (values and their storage types, indexes, roll-ups, clues);
a failing stager changes nothing but the speed; a kill -9 mid-load leaves the database as it was and
the next import removes the dead import's staging files."""
from __future__ import annotations

import os
import sqlite3
import tempfile
import textwrap
from pathlib import Path

import pytest

from core import schema
from core.db import get_engine
from pipeline import staging
from pipeline.importer import import_package
from tests.conftest import ROOT
from tests.test_import_corpus import fingerprint, kill_when

pytestmark = pytest.mark.skipif(not staging.adbc_available(), reason="adbc-driver-sqlite is not installed")


@pytest.fixture(scope="module")
def demo_pkg(tmp_path_factory) -> Path:
    from pipeline.generator import generate
    out = tmp_path_factory.mktemp("gen") / "demo"
    generate(scale="demo", seed=1, out=out)
    return out


def _tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as c:
        names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    skip = {"packages", "audit_log", "users", "sqlite_sequence", "import_jobs"}
    return sorted(n for n in names if n not in skip and not n.startswith("sqlite_"))


def _dump(path: Path, table: str) -> list[tuple]:
    """Every row with every value's storage class, in a fixed order (not the times rows were written)."""
    with sqlite3.connect(path) as c:
        cols = [r[1] for r in c.execute(f"PRAGMA table_info({table})") if r[2].upper() not in ("DATETIME", "TIMESTAMP") and r[1] != "seconds"]
        sel = ", ".join(f'"{x}", typeof("{x}")' for x in cols)
        return c.execute(f"SELECT {sel} FROM {table} ORDER BY {', '.join(chr(34) + x + chr(34) for x in cols)}").fetchall()


def _schema(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as c:
        return sorted(c.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))


def _import(pkg: Path, db: Path, monkeypatch, staged: bool, taken: list | None = None):
    if staged:
        monkeypatch.setattr(staging, "STAGE_AFTER_ROWS", 1)
        real_take = staging.SqliteStager.take

        def take(self, conn, table):
            n = real_take(self, conn, table)
            if n is not None and taken is not None:
                taken.append(table.name)
                raws.append(conn.connection.driver_connection)
            return n
        monkeypatch.setattr(staging.SqliteStager, "take", take)
    else:
        monkeypatch.setattr(staging.SqliteStager, "create", classmethod(lambda cls, engine: None))
    raws: list = []
    engine = get_engine(f"sqlite:///{db}")
    try:
        summary = import_package(pkg, engine)
        for raw in raws:     # the import's connection, back in the pool: its staging files detached
            assert not [r[1] for r in raw.execute("PRAGMA database_list") if r[1] not in ("main", "temp")]
        return summary
    finally:
        engine.dispose()
        monkeypatch.undo()


def test_the_staged_load_stores_exactly_what_the_direct_load_stores(demo_pkg, tmp_path, monkeypatch):
    taken: list[str] = []
    a, b = tmp_path / "staged.sqlite", tmp_path / "direct.sqlite"
    sa = _import(demo_pkg, a, monkeypatch, staged=True, taken=taken)
    sb = _import(demo_pkg, b, monkeypatch, staged=False)
    # the biggest tables went through the staging files (at most 8: SQLite attaches at most 10 databases)
    assert "payments" in taken and "people" in taken and len(taken) == 8, taken
    assert sa.tables["payments"].inserted == sb.tables["payments"].inserted == sb.tables["payments"].loaded > 60_000
    for name in schema.PACKAGE_TABLES:
        if sb.tables[name].present:
            assert sa.tables[name].inserted == sb.tables[name].inserted, name
    assert _schema(a) == _schema(b)          # the same tables and indexes
    assert _tables(a) == _tables(b)
    for t in _tables(a):                       # package tables, roll-ups and clues, value by value
        assert _dump(a, t) == _dump(b, t), t
    with sqlite3.connect(a) as c:
        assert c.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # the indexes are there and used
        plan = c.execute("EXPLAIN QUERY PLAN SELECT * FROM payments WHERE id_number = 'x'").fetchall()
        assert "ix_pay_id" in str(plan)
    assert not list(Path(tempfile.gettempdir()).glob(f"{staging.PREFIX}{os.getpid()}-*"))   # files removed
    # the same package again: the rows are there by key, nothing changes
    again = _import(demo_pkg, a, monkeypatch, staged=True)
    assert again.tables["payments"].inserted == 0 and again.tables["payments"].updated == 0
    assert again.tables["payments"].unchanged == sa.tables["payments"].loaded


def test_a_failing_stager_only_costs_speed(pkg_dir, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    monkeypatch.setattr(staging, "write_stage", broken)
    taken: list[str] = []
    _import(pkg_dir, a, monkeypatch, staged=True, taken=taken)
    assert taken == []
    _import(pkg_dir, b, monkeypatch, staged=False)
    assert fingerprint(f"sqlite:///{a}") == fingerprint(f"sqlite:///{b}")


KILLER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from pipeline import staging
    staging.STAGE_AFTER_ROWS = 1
    from core.db import get_engine
    from pipeline.importer import import_package
    def progress(stage, frac):
        if stage == "loading" and frac > 0.5:      # inside the transaction, staged tables copied in
            open({marker!r}, "w").write(stage)
            time.sleep(60)
    import_package({pkg!r}, get_engine({url!r}), run_detect=False, progress=progress)
""")


def test_kill_9_during_a_staged_load_leaves_the_database_as_it_was(demo_pkg, pkg_dir, tmp_path, monkeypatch):
    db = tmp_path / "db.sqlite"
    url = f"sqlite:///{db}"
    engine = get_engine(url)
    import_package(pkg_dir, engine, run_detect=False)      # something there already
    engine.dispose()
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM payments")                   # an empty table the demo package's payments go to
    before = fingerprint(url)
    get_engine(url).dispose()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    marker = tmp_path / "in-transaction"
    env = {**os.environ, "CACHE_DIR": str(tmp_path / "cache"), "TMPDIR": str(tmp)}
    kill_when(KILLER.format(root=str(ROOT), marker=str(marker), pkg=str(demo_pkg), url=url), env, marker)
    left = list(tmp.glob(staging.PREFIX + "*"))
    assert left and any(d.glob("payments.sqlite") for d in left)        # it was staging when it died
    assert fingerprint(url) == before
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    s = _import(demo_pkg, db, monkeypatch, staged=True)                  # and the next import works ...
    assert s.tables["payments"].inserted == s.tables["payments"].loaded > 60_000
    assert not [d for d in tmp.glob(staging.PREFIX + "*") if not d.name.startswith(f"{staging.PREFIX}{os.getpid()}-")]
    assert not list(tmp.glob(staging.PREFIX + "*"))                     # ... and removes the dead one's files
