"""SQLite: big tables written into private staging files on a second core, then copied page by page.

The importer's typed tables are Arrow tables. Binding them row by row through Python's sqlite3 module
costs ~4.4 s per million payment rows on the one core that also validates. Instead, as soon as a big
table has been validated (and its references checked), a worker thread writes it into a throwaway SQLite
file of its own with the ADBC SQLite driver (C code, Arrow in, the GIL released), with exactly the
destination's CREATE TABLE and CREATE INDEX statements, and builds the indexes there. Inside the
import's one transaction the main connection then ATTACHes that file and runs
``INSERT INTO main.t SELECT * FROM stage.t``: into an empty table with the same schema, SQLite copies the
table's and every index's records in order without decoding them (its "transfer optimisation").
The main database is written only by the import's own connection, inside its transaction, so a failed
or killed import still leaves it as it was. The staging files live in a temporary folder that is removed
afterwards (a folder left by a killed process is removed by the next import).

Used only where it applies: SQLite, the ADBC driver installed (``adbc-driver-sqlite``), a table with at
least STAGE_AFTER_ROWS valid rows that is empty when it is validated and still empty when it is loaded;
otherwise the rows go through pipeline.bulk as before. A staging failure falls back to that path too.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Table
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

STAGE_AFTER_ROWS = 200_000
COPY_CACHE_KB = -8000
PREFIX = "import-stage-"


def adbc_available() -> bool:
    try:
        import adbc_driver_sqlite.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


def write_stage(path: Path, name: str, create_sql: str, index_sqls: list[str], frame: pa.Table,
                times: dict | None = None) -> None:
    """Write ``frame`` into a new SQLite file at ``path`` as table ``name`` (schema ``create_sql``), then
    build ``index_sqls``. The file is throwaway: no journal, no syncing. ``times``: gets the clock
    (time.perf_counter) at "written" (rows written) and "indexes" (indexes built)."""
    import adbc_driver_sqlite.dbapi as adbc
    times = times if times is not None else {}
    conn = adbc.connect(str(path), autocommit=True)
    try:
        cur = conn.cursor()
        try:
            # a small page cache: SQLite sorts index keys faster in small runs (measured: 1.05 s per
            # million payment rows for the four indexes with 8 MB, 1.6 s with 256 MB)
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-8000", "temp_store=FILE"):
                cur.execute(f"PRAGMA {pragma}")
                cur.fetchall()
            cur.execute(create_sql)
            conn.adbc_connection.set_autocommit(False)
            cur.adbc_ingest(name, frame, mode="append")
            times["written"] = time.perf_counter()
            for sql in index_sqls:
                cur.execute(sql)
            conn.adbc_connection.commit()
            times["indexes"] = time.perf_counter()
        finally:
            cur.close()
    finally:
        conn.close()


@dataclass
class _Job:
    name: str
    path: Path
    create_sql: str
    index_sqls: list[str]
    frame: pa.Table
    future: Future = field(default_factory=Future)
    times: dict = field(default_factory=dict)     # perf_counter at each step (see SqliteStager.timeline)

    def run(self) -> None:
        self.times["start"] = time.perf_counter()
        self.times["thread"] = threading.current_thread().name
        write_stage(self.path, self.name, self.create_sql, self.index_sqls, self.frame, self.times)


def _sweep_stale(root: Path) -> None:
    """Remove staging folders of import processes that no longer exist (killed mid-import)."""
    for d in root.glob(PREFIX + "*"):
        m = re.match(re.escape(PREFIX) + r"(\d+)-", d.name)
        if not m or not d.is_dir():
            continue
        pid = int(m.group(1))
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


class SqliteStager:
    """One import's staging: ``submit`` after validation, ``take`` inside the transaction, ``close``
    after it (on the same connection: SQLite detaches a database only outside a transaction)."""

    def __init__(self, max_tables: int):
        root = Path(tempfile.gettempdir())
        _sweep_stale(root)
        self.dir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-stage")
        self.jobs: dict[str, _Job] = {}
        self.max_tables = max_tables
        self.attached: list[str] = []
        self.taken: list[str] = []
        self.done: list[_Job] = []
        self.t0 = time.perf_counter()

    @classmethod
    def create(cls, engine: Engine) -> "SqliteStager | None":
        if engine.dialect.name != "sqlite" or not adbc_available():
            return None
        raw = engine.raw_connection()
        try:
            import sqlite3
            limit = raw.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED)
        finally:
            raw.close()
        if limit < 2:
            return None
        return cls(max_tables=min(8, limit - 1))

    def wants(self, rows: int) -> bool:
        return rows >= STAGE_AFTER_ROWS and len(self.jobs) + len(self.taken) < self.max_tables

    def submit(self, conn: Connection, table: Table, frame: pa.Table) -> None:
        """Start writing ``frame`` for ``table`` (read its DDL from the database ``conn`` is on)."""
        ddl = conn.exec_driver_sql("SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
                                   "ORDER BY type DESC, name", (table.name,)).all()
        create = [sql for kind, sql in ddl if kind == "table"]
        if len(create) != 1:
            return
        job = _Job(table.name, self.dir / f"{table.name}.sqlite", create[0],
                   [sql for kind, sql in ddl if kind == "index"], frame)
        job.times["submitted"] = time.perf_counter()
        job.future = self.pool.submit(job.run)
        self.jobs[table.name] = job

    def help_out(self) -> None:
        """Run the jobs the worker has not started yet on the calling thread (while the worker is busy
        with a big one, both cores write)."""
        for job in list(self.jobs.values()):
            if job.future.cancel():
                job.future = Future()
                try:
                    job.run()
                    job.future.set_result(None)
                except Exception as exc:  # noqa: BLE001 - handed to take(), which falls back
                    job.future.set_exception(exc)

    def ready_first(self, names: list[str]) -> list[str]:
        """``names`` with the tables still being staged moved to the end (the importer copies the others
        in while it waits for them)."""
        busy = [n for n in names if n in self.jobs and not self.jobs[n].future.done()]
        return [n for n in names if n not in busy] + busy

    def take(self, conn: Connection, table: Table) -> int | None:
        """Copy the staged rows into ``table`` (empty, inside the caller's transaction); the number of
        rows, or None when nothing was staged for it (or staging failed: the caller loads it itself)."""
        job = self.jobs.pop(table.name, None)
        if job is None:
            return None
        job.times["wait"] = time.perf_counter()
        try:
            job.future.result()
        except Exception:  # noqa: BLE001
            log.warning("staging %s failed; loading it directly", table.name, exc_info=True)
            return None
        alias = f"import_stage_{len(self.attached)}"
        raw = conn.connection.driver_connection
        raw.execute(f"ATTACH DATABASE ? AS {alias}", (str(job.path),))
        self.attached.append(alias)
        job.times["copy"] = time.perf_counter()
        # pages copied go straight on to the WAL: a big page cache would only hold them until the commit
        cache = raw.execute("PRAGMA cache_size").fetchone()[0]
        raw.execute(f"PRAGMA cache_size={COPY_CACHE_KB}")
        try:
            copied = raw.execute(f"INSERT INTO main.{table.name} SELECT * FROM {alias}.{table.name}").rowcount
        finally:
            raw.execute(f"PRAGMA cache_size={int(cache)}")
        if copied != job.frame.num_rows:        # never a silent loss: the import's transaction rolls back
            raise RuntimeError(f"staging {table.name}: {copied} rows copied of {job.frame.num_rows}")
        job.times["copied"] = time.perf_counter()
        self.taken.append(table.name)
        self.done.append(job)
        return job.frame.num_rows

    def timeline(self) -> dict:
        """Per staged table: rows, which thread wrote it, and seconds since the stager was created at
        which it was submitted, started, had its rows written, its indexes built, was waited for, began
        to be copied and was copied (the benchmark prints this)."""
        steps = ("submitted", "start", "written", "indexes", "wait", "copy", "copied")
        return {j.name: {"rows": j.frame.num_rows, "thread": j.times.get("thread"),
                         **{k: round(j.times[k] - self.t0, 2) for k in steps if k in j.times}} for j in self.done}

    def close(self, conn: Connection | None = None) -> None:
        """Detach (after the transaction) and remove the staging files; jobs not started are dropped."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        if conn is not None and self.attached:
            raw = conn.connection.driver_connection
            for alias in self.attached:
                try:
                    raw.execute(f"DETACH DATABASE {alias}")
                except Exception:  # noqa: BLE001 - the connection is closed or rolled back anyway
                    log.warning("could not detach %s", alias, exc_info=True)
        self.attached.clear()
        self.jobs.clear()
        shutil.rmtree(self.dir, ignore_errors=True)
