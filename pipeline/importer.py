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
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from core import schema
from core.db import create_schema, get_engine
from pipeline.bulk import delete_all, insert_frame
from pipeline.geo.reference import load_divisions
from pipeline.package_reader import PackageError, RawPackage, Reject, TypedTable, read_package, type_table
from pipeline.spec import LOAD_ORDER, REGISTERS, TABLES

STAGES = ("reading", "validating", "loading", "rollups", "detection")


@dataclass
class TableResult:
    present: bool
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    ignored_columns: list = field(default_factory=list)
    encoding: str | None = None


@dataclass
class ImportSummary:
    package_id: int | None
    as_of_date: str
    synthetic: bool
    tables: dict[str, TableResult]
    rejects: list[Reject]
    ignored_files: list[str]
    seconds: dict[str, float]

    def to_json(self) -> dict:
        return {
            "package_id": self.package_id, "as_of_date": self.as_of_date, "synthetic": self.synthetic,
            "tables": {k: {"present": v.present, "read": v.read, "loaded": v.loaded, "rejected": v.rejected,
                           "ignored_columns": v.ignored_columns, "encoding": v.encoding}
                       for k, v in self.tables.items()},
            "ignored_files": self.ignored_files, "seconds": self.seconds,
        }


def ensure_reference_regions(conn) -> int:
    """Fill `regions` from the shipped Hunan divisions where it is empty."""
    if conn.execute(select(func.count()).select_from(schema.regions)).scalar():
        return 0
    div = load_divisions()
    div["parent_code"] = div["parent_code"].replace("", None)
    return insert_frame(conn, schema.regions, div, replace=False)


def _check_refs(typed: dict[str, TypedTable], known_regions: set[str], db_keys: Callable[[str, str], set]) -> None:
    """Reference checks across tables: unknown region, fund, ledger entry. Offending rows become rejects."""
    region_cols = {"funds": ["issuing_region_code"], "allocations": ["from_region_code", "to_region_code"],
                   "projects": ["region_code"], "people": ["village_code"], "payments": ["village_code"],
                   "ledger": ["village_code"], "complaints": ["region_code"], "officials": ["region_code"],
                   "village_cadres": ["village_code"], "real_estate": ["region_code"], "regions": ["parent_code"]}
    if "regions" in typed:
        known_regions = known_regions | set(typed["regions"].frame["code"].dropna())
    known = np.array(sorted(known_regions))
    funds = set(typed["funds"].frame["fund_code"]) if "funds" in typed else set()
    funds |= db_keys("funds", "fund_code")
    entries = set(typed["ledger"].frame["entry_id"]) if "ledger" in typed else set()
    if "invoices" in typed:
        entries |= db_keys("ledger", "entry_id")
    for name, tt in typed.items():
        df = tt.frame
        bad = np.zeros(len(df), dtype=bool)
        reasons = []
        for col in region_cols.get(name, []):
            v = df[col]
            m = v.notna().to_numpy() & ~np.isin(v.fillna("").to_numpy(), known) & ~bad
            reasons += [(i, col, "reject.unknown_region") for i in np.flatnonzero(m)]
            bad |= m
        if name == "allocations":
            f, t = df["from_region_code"].fillna(""), df["to_region_code"].fillna("")
            from core.scope import prefix_of
            ok = np.array([a != "" and b != "" and a != b and b.startswith(prefix_of(a)) for a, b in zip(f, t)], dtype=bool)
            m = ~ok & ~bad
            reasons += [(i, "to_region_code", "reject.not_a_child_region") for i in np.flatnonzero(m)]
            bad |= m
        for col, tbl, _ in TABLES[name].refs:
            pool = funds if tbl == "funds" else entries
            m = ~df[col].isin(pool).to_numpy() & ~bad
            reasons += [(i, col, f"reject.unknown_{tbl}") for i in np.flatnonzero(m)]
            bad |= m
        if bad.any():
            # row numbers refer to the file: recover them from the typed frame's original positions
            orig = tt.frame.attrs.get("orig_rows")
            for i, col, key in reasons:
                row = int(orig[i]) if orig is not None else i + 2
                tt.rejects.append(Reject(f"{name}.csv", row, col, str(df[col].iat[i]), key))
            tt.frame = df.loc[~bad].reset_index(drop=True)


def import_package(path: str | Path, engine: Engine | None = None, run_detect: bool = True,
                   progress: Callable[[str, float], None] | None = None,
                   imported_by: str | None = None) -> ImportSummary:
    engine = engine or get_engine()
    create_schema(engine)
    say = progress or (lambda stage, frac: None)
    secs: dict[str, float] = {}
    t0 = time.perf_counter()
    say("reading", 0.0)
    raw: RawPackage = read_package(path)
    secs["reading"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    say("validating", 0.0)
    typed: dict[str, TypedTable] = {}
    names = [n for n in LOAD_ORDER if n in raw.tables]
    for i, name in enumerate(names):
        tt = type_table(TABLES[name], raw.tables[name])
        # remember the file row of every kept row for later reference rejects
        keep_rows = np.setdiff1d(np.arange(len(raw.tables[name])), [r.row - 2 for r in tt.rejects]) + 2
        tt.frame.attrs["orig_rows"] = keep_rows
        typed[name] = tt
        say("validating", (i + 1) / max(1, len(names)))
    with engine.connect() as conn:
        known = set(load_divisions()["code"]) | set(conn.execute(select(schema.regions.c.code)).scalars())

        def db_keys(table: str, col: str) -> set:
            return set(conn.execute(select(getattr(schema, table).c[col])).scalars())
        _check_refs(typed, known, db_keys)
    secs["validating"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    as_of = raw.manifest["as_of_date"]
    synthetic = raw.manifest.get("synthetic", "").strip().lower() in ("1", "true", "是", "yes")
    results = {n: TableResult(present=n in typed) for n in TABLES}
    with engine.begin() as conn:
        ensure_reference_regions(conn)
        for i, name in enumerate(names):
            tt = typed[name]
            tbl = getattr(schema, name)
            if name in REGISTERS and not TABLES[name].key:
                delete_all(conn, tbl)
            df = tt.frame
            if name == "regions":
                df = df.copy()
            loaded = insert_frame(conn, tbl, df, replace=True)
            results[name] = TableResult(True, tt.rows_read, loaded, len(tt.rejects), tt.ignored_columns,
                                        raw.encodings.get(name))
            say("loading", (i + 1) / max(1, len(names)))
        rejects = [r for n in names for r in typed[n].rejects]
        summary = ImportSummary(None, as_of, synthetic, results, rejects, raw.ignored_files, secs)
        res = conn.execute(insert(schema.packages).values(
            as_of_date=dt.date.fromisoformat(as_of), source=raw.manifest.get("source"),
            description=raw.manifest.get("description"), synthetic=synthetic,
            imported_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), imported_by=imported_by,
            summary_json=json.dumps(summary.to_json(), ensure_ascii=False)))
        summary.package_id = res.inserted_primary_key[0]
        secs["loading"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        say("rollups", 0.0)
        from pipeline.rollups import build_rollups
        build_rollups(conn)
        secs["rollups"] = time.perf_counter() - t0
        say("rollups", 1.0)

    if run_detect:
        t0 = time.perf_counter()
        say("detection", 0.0)
        try:
            from pipeline.rules.engine import detect
        except ImportError:
            detect = None
        if detect is not None:
            detect(engine)
            from pipeline.rollups import build_clue_rollups
            with engine.begin() as conn:
                build_clue_rollups(conn)
        secs["detection"] = time.perf_counter() - t0
        say("detection", 1.0)
    from data_access.cache import invalidate
    invalidate()
    return summary


def format_summary(s: ImportSummary) -> str:
    lines = [f"package {s.package_id}: as of {s.as_of_date}{' (synthetic)' if s.synthetic else ''}",
             f"{'table':<18}{'read':>10}{'loaded':>10}{'rejected':>10}  ignored columns"]
    for name, r in s.tables.items():
        if r.present:
            lines.append(f"{name:<18}{r.read:>10}{r.loaded:>10}{r.rejected:>10}  {', '.join(r.ignored_columns)}")
    for f in s.ignored_files:
        lines.append(f"ignored file: {f}")
    lines.append("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in s.seconds.items()))
    return "\n".join(lines)


def write_rejects(rejects: list[Reject], path: str | Path, lang: str = "zh") -> None:
    from core.i18n import t
    df = pd.DataFrame([{"file": r.file, "row": r.row, "column": r.column, "value": r.value,
                        "reason": t(r.reason, lang)} for r in rejects],
                      columns=["file", "row", "column", "value", "reason"])
    if str(path).endswith(".xlsx"):
        df.to_excel(path, index=False)
    else:
        df.to_csv(path, index=False, encoding="utf-8-sig")


def _cli(args) -> int:
    from core.i18n import t
    engine = get_engine(args.database_url) if args.database_url else get_engine()
    try:
        s = import_package(args.path, engine, run_detect=not args.no_detect,
                           progress=None if args.json else _cli_progress)
    except PackageError as exc:
        msg = t(exc.key, args.lang) + (f" ({exc.file}{', ' + exc.column if exc.column else ''}{': ' + exc.detail if exc.detail else ''})")
        if args.json:
            print(json.dumps({"refused": True, "reason": exc.key, "message": msg, "file": exc.file,
                              "column": exc.column}, ensure_ascii=False))
        else:
            print(msg, file=sys.stderr)
        return 2
    if args.rejects:
        write_rejects(s.rejects, args.rejects, args.lang)
    if args.json:
        print(json.dumps(s.to_json(), ensure_ascii=False))
    else:
        print("\n" + format_summary(s))
    return 0


def _cli_progress(stage: str, frac: float) -> None:
    bar = "#" * int(frac * 20)
    print(f"\r{stage:<12}[{bar:<20}] {frac * 100:5.1f}%", end="" if frac < 1 else "\n", file=sys.stderr, flush=True)


def add_cli(sub) -> None:
    p = sub.add_parser("import", help="import a data package (folder, .zip or .xlsx)")
    p.add_argument("path")
    p.add_argument("--database-url", default=None)
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--rejects", default=None, help="write the rejects report to this .csv or .xlsx")
    p.add_argument("--no-detect", action="store_true", help="skip the clue rules")
    p.add_argument("--lang", default="zh", choices=("zh", "en"))
    p.set_defaults(func=_cli)
