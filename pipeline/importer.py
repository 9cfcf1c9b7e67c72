"""Load a data package into the database, then rebuild the roll-ups and run the clue rules.

One transaction for the whole package: a structural problem refuses the package and the database
is untouched; row problems go to the rejects report and the valid rows load. Keyed tables are
upserted by key (importing the same package twice changes nothing); keyless registers are
snapshots and replaced as a whole when the package carries them.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from core import schema
from core.db import create_schema, get_engine
from pipeline.bulk import _is_empty, ensure_transaction, insert_frame, replace_register, upsert_frame
from pipeline.geo.reference import load_divisions
from pipeline.package_reader import (Limits, PackageError, RawPackage, Reject, TypedTable, read_package,
                                     validate_source)
from pipeline.spec import LOAD_ORDER, TABLES
from pipeline.staging import SqliteStager

STAGES = ("reading", "validating", "loading", "rollups", "detection")


@dataclass
class TableResult:
    present: bool
    read: int = 0                 # data records in the file (misshapen ones included)
    loaded: int = 0               # valid rows taken from the package (loaded + rejected = read)
    rejected: int = 0
    inserted: int = 0             # of the loaded rows: new keys
    updated: int = 0              # existing keys whose values changed
    unchanged: int = 0            # already in the database as they are
    removed: int = 0              # registers (replaced as a whole): old rows no longer there
    ignored_columns: list = field(default_factory=list)
    encoding: str | None = None
    bad_id_kept: int = 0          # payments kept with an ID number whose check digit is wrong (a clue)


@dataclass
class ImportSummary:
    package_id: int | None
    as_of_date: str
    synthetic: bool
    tables: dict[str, TableResult]
    rejects: list[Reject]
    ignored_files: list[str]
    seconds: dict[str, float]
    file: str = ""
    detection: str = "not_run"    # "done", "not_run", "unavailable"
    job: str = ""                 # the upload page's job id (data_access.imports): finds this row after a kill
    staging: dict = field(default_factory=dict)   # SQLite: the staged tables' timeline (pipeline.staging)

    def to_json(self) -> dict:
        return {
            "refused": False, "package_id": self.package_id, "file": self.file, "as_of_date": self.as_of_date,
            "synthetic": self.synthetic,
            "tables": {k: {"loaded": v.loaded, "updated": v.updated, "inserted": v.inserted, "unchanged": v.unchanged,
                           "removed": v.removed, "rejected": v.rejected, "ignored": v.ignored_columns, "read": v.read,
                           "encoding": v.encoding, **({"bad_id_kept": v.bad_id_kept} if k == "payments" else {})}
                       for k, v in self.tables.items() if v.present},
            "rejected_total": len(self.rejects), "ignored_files": self.ignored_files,
            "detection": self.detection, "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            **({"job": self.job} if self.job else {}),
        }


def ensure_reference_regions(conn) -> int:
    """Fill `regions` from the shipped Hunan divisions where it is empty."""
    if conn.execute(select(func.count()).select_from(schema.regions)).scalar():
        return 0
    div = load_divisions()
    div["parent_code"] = div["parent_code"].replace("", None)
    return insert_frame(conn, schema.regions, div, replace=False)


REGION_COLUMNS = {"funds": ["issuing_region_code"], "allocations": ["from_region_code", "to_region_code"],
                  "projects": ["region_code"], "people": ["village_code"], "payments": ["village_code"],
                  "ledger": ["village_code"], "complaints": ["region_code"], "officials": ["region_code"],
                  "village_cadres": ["village_code"], "real_estate": ["region_code"], "regions": ["parent_code"]}


def _in(col, pool) -> np.ndarray:
    """Which values of a pyarrow column are in ``pool`` (missing: False)."""
    vs = pa.array(list(pool), type=pa.string()) if not isinstance(pool, pa.Array) else pool
    return np.asarray(pc.fill_null(pc.is_in(col, value_set=vs), False).to_numpy(zero_copy_only=False), dtype=bool)


def _column_set(tbl: pa.Table, col: str) -> set:
    return set(pc.unique(tbl.column(col)).drop_null().to_pylist())


def _ref_keys(typed: dict[str, TypedTable], tbl: str, col: str, db_keys: Callable[[str, str], set]) -> pa.Array:
    """The values a reference to ``tbl``.``col`` may name: those in the package and those in the database."""
    keys = _column_set(typed[tbl].frame, col) if tbl in typed else set()
    return pa.array(sorted(keys | db_keys(tbl, col)), type=pa.string())


def _check_refs(typed: dict[str, TypedTable], name: str, labels: dict[str, str], known_regions: set[str],
                db_keys: Callable[[str, str], set]) -> None:
    """Reference checks of table ``name`` against the others: unknown region, fund, ledger entry.
    Offending rows become rejects (with their file row numbers) and leave its typed frame. Called as
    soon as the table is valid: what it refers to (regions, funds, ledger) is validated before it, so
    this gives what checking every table at the end would give."""
    if "regions" in typed:
        known_regions = known_regions | _column_set(typed["regions"].frame, "code")
    known = pa.array(sorted(known_regions), type=pa.string())
    tt = typed[name]
    df = tt.frame
    bad = np.zeros(len(df), dtype=bool)
    reasons = []
    for col in REGION_COLUMNS.get(name, []):
        v = df.column(col)
        m = _np_valid(v) & ~_in(v, known) & ~bad
        reasons += [(i, col, "reject.unknown_region") for i in np.flatnonzero(m)]
        bad |= m
    if name == "allocations" and len(df):
        from core.scope import prefix_of
        f = [x or "" for x in df.column("from_region_code").to_pylist()]
        t = [x or "" for x in df.column("to_region_code").to_pylist()]
        ok = np.array([a != "" and b != "" and a != b and b.startswith(prefix_of(a)) for a, b in zip(f, t)], dtype=bool)
        m = ~ok & ~bad
        reasons += [(i, "to_region_code", "reject.not_a_child_region") for i in np.flatnonzero(m)]
        bad |= m
    for col, tbl, key in TABLES[name].refs:
        m = ~_in(df.column(col), _ref_keys(typed, tbl, key, db_keys)) & ~bad
        reasons += [(i, col, f"reject.unknown_{tbl}") for i in np.flatnonzero(m)]
        bad |= m
    if bad.any():
        rows = tt.file_rows if tt.file_rows is not None else np.arange(len(df)) + 2
        for i, col, key in reasons:
            tt.rejects.append(Reject(labels.get(name, f"{name}.csv"), int(rows[i]), col, str(df.column(col)[int(i)].as_py()), key))
        tt.rejects.sort(key=lambda r: (r.row or 0))
        tt.frame = df.filter(pa.array(~bad))
        tt.file_rows = rows[~bad]
        if name == "payments":
            from core.idnumber import valid_mask
            tt.bad_id_rows = int((~valid_mask(tt.frame.column("id_number"))).sum())


def _np_valid(col) -> np.ndarray:
    return np.asarray(pc.is_valid(col).to_numpy(zero_copy_only=False), dtype=bool)


def _keep_needed(fresh: dict, run_detect: bool) -> None:
    """Of the fresh typed tables, keep only the columns detection (and the clue roll-ups) will read."""
    from pipeline.rollups import FRESH_COLUMNS
    need = {k: set(v) for k, v in FRESH_COLUMNS.items()}
    if run_detect:
        try:
            from pipeline.rules.engine import COLUMNS
        except ImportError:
            COLUMNS = {}
        for k, v in COLUMNS.items():
            need.setdefault(k, set()).update(v)
    for name in [n for n in fresh if not n.startswith("_")]:
        cols = [c for c in fresh[name].column_names if c in need.get(name, ())]
        if cols:
            fresh[name] = fresh[name].select(cols)
        else:
            del fresh[name]


def _import_pragmas(conn, on: bool) -> None:
    """SQLite: a bigger page cache while the import's transaction runs (index builds and the roll-ups'
    sorts stay in memory); back to the connection's default afterwards (core.db)."""
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql(f"PRAGMA cache_size={IMPORT_CACHE_KB if on else -200000}")


IMPORT_CACHE_KB = -1_000_000        # 1 GB


def _log(action_result: str, target: str, detail: dict, engine: Engine, actor: str | None) -> None:
    from core.audit import log_event
    log_event("import", target, action_result, detail, engine=engine, actor=actor)


def import_package(path: str | Path, engine: Engine | None = None, run_detect: bool = True,
                   progress: Callable[[str, float], None] | None = None,
                   imported_by: str | None = None, limits: Limits | None = None,
                   label: str | None = None, job: str | None = None) -> ImportSummary:
    """Validate and load one package (see the module docstring). ``progress(stage, fraction)`` is
    called as each of STAGES advances. Raises PackageError (the database untouched) when the package
    is refused. ``label``: the name shown in the history (default: the file or folder name). ``job``:
    an id written into the history row (``summary_json``) in the same transaction as the data, so that
    whoever finds the job's process killed can tell whether its data were committed."""
    engine = engine or get_engine()
    create_schema(engine)
    label = label or Path(path).name
    try:
        return _import(path, engine, run_detect, progress or (lambda stage, frac: None), imported_by, limits, label,
                       job or "")
    except PackageError as exc:
        _log("denied", label, {"reason": exc.key, "file": exc.file, "column": exc.column}, engine, imported_by)
        raise


def _import(path, engine: Engine, run_detect: bool, say, imported_by, limits, label, job: str = "") -> ImportSummary:
    secs: dict[str, float] = {}
    t0 = time.perf_counter()
    say("reading", 0.0)
    raw: RawPackage = read_package(path, limits)
    say("reading", 1.0)
    secs["reading"] = time.perf_counter() - t0

    names = [n for n in LOAD_ORDER if n in raw.sources]
    stager = SqliteStager.create(engine)      # SQLite + ADBC: big tables bound on the second core
    try:
        t0 = time.perf_counter()
        typed = _validate(raw, engine, names, say, stager)
        secs["validating"] = time.perf_counter() - t0

        results = {n: TableResult(present=n in typed) for n in TABLES}
        fresh: dict = {}     # tables loaded into empty ones: their typed frames are exactly what the database holds
        with engine.connect() as conn:
            try:
                with conn.begin():
                    t0 = time.perf_counter()
                    summary = _load(conn, raw, typed, names, results, fresh, stager, say, imported_by, label, job,
                                    run_detect, secs)
                    secs["loading"] = time.perf_counter() - t0

                    t0 = time.perf_counter()
                    say("rollups", 0.0)
                    from pipeline.rollups import build_rollups
                    build_rollups(conn, fresh)
                    _import_pragmas(conn, False)
            finally:
                if stager is not None:
                    stager.close(conn)      # SQLite detaches the staging files only outside a transaction
    finally:
        if stager is not None:
            stager.close()
    summary.staging = stager.timeline() if stager is not None else {}
    _analyze(engine)
    secs["rollups"] = time.perf_counter() - t0      # (with the commit)
    say("rollups", 1.0)
    typed = None
    _keep_needed(fresh, run_detect)

    if run_detect:
        t0 = time.perf_counter()
        say("detection", 0.0)
        try:
            from pipeline.rules.engine import detect
        except ImportError:
            detect = None
        if detect is not None:
            detect(engine, fresh=fresh)
            from pipeline.rollups import build_clue_rollups
            with engine.begin() as conn:
                build_clue_rollups(conn, fresh)
            summary.detection = "done"
        else:
            summary.detection = "unavailable"
        secs["detection"] = time.perf_counter() - t0
        with engine.begin() as conn:       # the history row says whether detection finished
            conn.execute(update(schema.packages).where(schema.packages.c.id == summary.package_id)
                         .values(summary_json=json.dumps(summary.to_json(), ensure_ascii=False)))
        say("detection", 1.0)
    fresh.clear()
    from pipeline.rollups import analyze_rollups
    analyze_rollups(engine)
    from data_access.cache import invalidate
    invalidate()
    _log("ok", label, {"package_id": summary.package_id, "loaded": sum(r.loaded for r in results.values()),
                       "rejected": len(summary.rejects)}, engine, imported_by)
    return summary


def _analyze(engine: Engine) -> None:
    """PostgreSQL: VACUUM (ANALYZE) what was just loaded and rolled up. Autovacuum may be off or late (it
    was off on our own server: every table unanalysed half an hour after an import, and the planner
    estimating one row per roll-up range). The statistics are a sample per table; the vacuum sets the
    visibility map and the rows' hint bits, without which the first reads of a fresh table write its
    pages back and no index-only scan is possible (a county's funds read 973 allocation rows from 386
    heap pages, 5 ms, instead of the index alone, ~1 ms). ~16 s at province scale (ANALYZE alone: ~7 s).
    SQLite: see analyze_rollups (run at the end of the import, after the clues' roll-up)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")


def _validate(raw: RawPackage, engine: Engine, names: list[str], say, stager: SqliteStager | None) -> dict:
    """Validate every table, checking its references as soon as it is valid (what it refers to is
    validated before it). A big table that is empty in the database goes to the stager right away, so
    that it is written on the other core while the next tables are validated."""
    say("validating", 0.0)
    typed: dict[str, TypedTable] = {}
    labels = {n: raw.sources[n].label for n in names}
    # payments, by far the biggest table, refer only to regions and funds: validated right after them,
    # their staging (the longest) starts as early as it can
    first = [n for n in ("regions", "funds", "payments") if n in names]
    order = first + [n for n in names if n not in first]
    with engine.connect() as conn:
        known = set(load_divisions()["code"]) | set(conn.execute(select(schema.regions.c.code)).scalars())

        def db_keys(table: str, col: str) -> set:
            return set(conn.execute(select(getattr(schema, table).c[col])).scalars())
        for i, name in enumerate(order):
            typed[name] = validate_source(TABLES[name], raw.sources[name])
            _check_refs(typed, name, labels, known, db_keys)
            tbl = getattr(schema, name)
            if stager is not None and name != "regions" and stager.wants(len(typed[name].frame)) \
                    and _is_empty(conn, tbl):
                stager.submit(conn, tbl, typed[name].frame)
            say("validating", (i + 1) / (len(names) + 1))
    if stager is not None:
        stager.help_out()       # the worker is busy with the biggest table: write the others here
    say("validating", 1.0)
    return typed


def _load(conn, raw: RawPackage, typed: dict, names: list[str], results: dict, fresh: dict,
          stager: SqliteStager | None, say, imported_by, label, job: str, run_detect: bool,
          secs: dict) -> ImportSummary:
    """Write every table inside the caller's transaction and add the history row."""
    say("loading", 0.0)
    as_of = raw.manifest["as_of_date"]
    synthetic = raw.manifest.get("synthetic", "").strip().lower() in ("1", "true", "是", "yes")
    # tables still being staged come last: the others are copied in meanwhile (no table's load depends
    # on another's; the summary keeps LOAD_ORDER)
    order = stager.ready_first(names) if stager is not None else names
    weights = np.array([max(len(typed[n].frame), 1) for n in order], dtype=float)
    done = np.cumsum(weights) / max(weights.sum(), 1.0)
    ensure_transaction(conn)
    _import_pragmas(conn, True)
    ensure_reference_regions(conn)
    for i, name in enumerate(order):
        tt = typed[name]
        tbl = getattr(schema, name)
        empty = name != "regions" and _is_empty(conn, tbl)
        if empty:
            fresh[name] = tt.frame
        staged = stager.take(conn, tbl) if stager is not None and empty else None
        if staged is not None:
            c = {"inserted": staged}
        elif TABLES[name].key:
            c = upsert_frame(conn, tbl, tt.frame, TABLES[name].key)
        else:
            c = replace_register(conn, tbl, tt.frame)
        results[name] = TableResult(True, tt.rows_read, len(tt.frame), len(tt.rejects), c.get("inserted", 0),
                                    c.get("updated", 0), c.get("unchanged", 0), c.get("removed", 0),
                                    tt.ignored_columns, raw.encodings.get(name), tt.bad_id_rows)
        say("loading", float(done[i]))
    rejects = [r for n in names for r in typed[n].rejects]
    summary = ImportSummary(None, as_of, synthetic, results, rejects, raw.ignored_files, secs, file=label,
                            detection="pending" if run_detect else "not_run", job=job)
    res = conn.execute(insert(schema.packages).values(
        as_of_date=dt.date.fromisoformat(as_of), source=raw.manifest.get("source"),
        description=raw.manifest.get("description"), synthetic=synthetic,
        imported_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), imported_by=imported_by or _cli_user(),
        summary_json=json.dumps(summary.to_json(), ensure_ascii=False)))
    summary.package_id = res.inserted_primary_key[0]
    return summary


def _cli_user() -> str:
    import getpass
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # pragma: no cover
        return "cli"


def format_summary(s: ImportSummary, lang: str = "en") -> str:
    from core.i18n import t
    lines = [f"package {s.package_id} ({s.file}): as of {s.as_of_date}{' (synthetic)' if s.synthetic else ''}",
             f"{'table':<18}{'read':>10}{'loaded':>10}{'new':>10}{'updated':>10}{'rejected':>10}  ignored columns"]
    for name, r in s.tables.items():
        if r.present:
            lines.append(f"{name:<18}{r.read:>10}{r.loaded:>10}{r.inserted:>10}{r.updated:>10}{r.rejected:>10}  "
                         f"{', '.join(r.ignored_columns)}")
    for f in s.ignored_files:
        lines.append(f"{t('import.ignored_file', lang)}: {f}")
    lines.append("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in s.seconds.items()))
    return "\n".join(lines)


REJECT_COLUMNS = ("file", "row", "column", "value", "reason")


def rejects_frame(rejects: list[Reject], lang: str = "zh", mask: Callable[[Reject], str] | None = None) -> pd.DataFrame:
    """The rejects report: file, row, column, value, reason (in ``lang``)."""
    from core.i18n import t
    reasons = {k: t(k, lang) for k in {r.reason for r in rejects}}
    return pd.DataFrame([{"file": r.file, "row": r.row, "column": r.column,
                          "value": mask(r) if mask else r.value, "reason": reasons[r.reason]} for r in rejects],
                        columns=list(REJECT_COLUMNS))


def write_rejects(rejects: list[Reject], path: str | Path, lang: str = "zh") -> None:
    df = rejects_frame(rejects, lang)
    if str(path).endswith(".xlsx"):
        df.to_excel(path, index=False)
    else:
        df.to_csv(path, index=False, encoding="utf-8-sig")


def refusal_message(exc: PackageError, lang: str = "zh") -> str:
    """The refusal in the user's language, naming file and column."""
    from core.i18n import t
    where = ", ".join(x for x in (exc.file, exc.column) if x)
    return t(exc.key, lang) + (f" ({where}{': ' + exc.detail if exc.detail else ''})" if where or exc.detail else "")


def refusal_json(exc: PackageError, lang: str = "zh") -> dict:
    return {"refused": True, "reason": exc.key, "message": refusal_message(exc, lang), "file": exc.file,
            "column": exc.column, "detail": exc.detail}


def _cli(args) -> int:
    engine = get_engine(args.database_url) if args.database_url else get_engine()
    try:
        s = import_package(args.path, engine, run_detect=not args.no_detect,
                           progress=None if args.json else _CliProgress())
    except PackageError as exc:
        if args.json:
            print(json.dumps(refusal_json(exc, args.lang), ensure_ascii=False))
        else:
            print(refusal_message(exc, args.lang), file=sys.stderr)
        return 2
    if args.rejects:
        write_rejects(s.rejects, args.rejects, args.lang)
    if args.json:
        print(json.dumps(s.to_json(), ensure_ascii=False))
    else:
        print("\n" + format_summary(s, args.lang))
    return 0


class _CliProgress:
    """One bar per stage on stderr (the same STAGES the upload page shows)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.stage = None

    def __call__(self, stage: str, frac: float) -> None:
        if stage != self.stage and self.stage is not None:
            print(file=self.stream)
        self.stage = stage
        bar = "#" * int(frac * 30)
        print(f"\r{stage:<11}[{bar:<30}] {frac * 100:5.1f}%", end="", file=self.stream, flush=True)
        if stage == STAGES[-1] and frac >= 1:
            print(file=self.stream)


def add_cli(sub) -> None:
    p = sub.add_parser("import", help="import a data package (folder, .zip or .xlsx)")
    p.add_argument("path")
    p.add_argument("--database-url", default=None)
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--rejects", default=None, help="write the rejects report to this .csv or .xlsx")
    p.add_argument("--no-detect", action="store_true", help="skip the clue rules")
    p.add_argument("--lang", default="zh", choices=("zh", "en"))
    p.set_defaults(func=_cli)
