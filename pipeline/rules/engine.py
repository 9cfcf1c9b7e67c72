"""The clue engine: ``run_rules`` (pure, in memory) and ``detect`` (database in, clues out).

    result = run_rules(tables, as_of)          # tables: typed frames named as the package tables
    result = detect(engine)                    # loads, runs, replaces `clues` and `rule_runs`

A table missing from ``tables`` (or None) is not in the package: every rule that needs it does not
run, and its row in ``runs`` says why (an i18n key naming the table, core/locales/rules.py).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from core import schema
from core.settings import RuleSettings
from pipeline.rules import complaints, flows, ledger, payments, projects  # noqa: F401  (register the rules)
from pipeline.rules.base import CLUE_COLUMNS, RULES, RUN_COLUMNS, Context, RuleResult, empty_clues, skip_key
from pipeline.spec import REGISTERS, TABLES

RULE_ORDER = ("R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08", "R09", "R10", "R11", "R12", "R13", "R14",
              "R15", "R16", "R17", "R18", "R19", "R20", "R22", "R23", "R24")
# Tables a rule uses when the package has them, without needing them to run (see docs/rules.md).
OPTIONAL = ("ledger", "projects", "funds")

# Columns the rules read, per table (detect loads nothing else: no names, no confidential text).
COLUMNS = {
    "payments": ("payment_id", "fund_code", "project_code", "id_number", "village_code", "amount", "paid_date", "period"),
    "funds": ("fund_code", "category", "year", "standard_amount", "payment_unit"),
    "allocations": ("allocation_id", "fund_code", "from_region_code", "to_region_code", "amount", "allocated_date"),
    "projects": ("project_code", "fund_code", "region_code", "contractor_credit_code", "contract_amount",
                 "planned_quantity", "completed_quantity", "unit", "start_date", "acceptance_date"),
    "people": ("id_number", "village_code", "household_no", "relation_to_head"),
    "ledger": ("entry_id", "village_code", "entry_date", "booked_date", "direction", "category", "amount",
               "counterparty_name", "counterparty_id", "voucher_no", "collective_approval", "project_code"),
    "invoices": ("invoice_id", "entry_id", "invoice_code", "invoice_no", "issuer_name", "amount", "issue_date"),
    "complaints": ("complaint_id", "region_code", "received_date", "accepted_date", "closed_date", "extension_approved",
                   "amount_involved", "fund_code", "project_code"),
    "officials": ("id_number", "employer", "position", "region_code", "start_date", "end_date"),
    "village_cadres": ("id_number", "village_code", "role", "start_date", "end_date"),
    "enterprises": ("credit_code", "name", "industry", "legal_person_id", "registered_date", "status"),
    "real_estate": ("owner_id", "property_type", "area_m2", "region_code", "registered_date"),
    "vehicles": ("owner_id", "plate", "vehicle_type", "registered_date"),
    "deaths": ("id_number", "date_of_death"),
    "disabled_persons": ("id_number", "disability_level", "certified_date"),
}
FETCH_ROWS = 500_000


def run_rules(tables: dict, as_of: dt.date, settings: RuleSettings | None = None,
              rules: list[str] | None = None) -> RuleResult:
    """Run the clue rules over typed frames (pipeline/spec.py conventions; text may also be pyarrow
    strings). Returns every clue and one run row per rule."""
    settings = settings or RuleSettings()
    ids = list(rules) if rules is not None else list(RULE_ORDER)
    unknown = [r for r in ids if r not in RULES]
    if unknown:
        raise ValueError(f"unknown rule(s): {', '.join(unknown)}")
    ctx = Context(tables, as_of, settings)
    found, runs = [], []
    for rid in ids:
        r = RULES[rid]
        missing = [t for t in r.needs if not ctx.has(t)]
        if missing:
            runs.append((rid, False, skip_key(rid, missing[0]), 0, 0, 0.0, False))
            continue
        t0 = time.perf_counter()
        clues, examined = r.func(ctx)
        secs = time.perf_counter() - t0
        clues = clues.reindex(columns=list(CLUE_COLUMNS))
        found.append(clues)
        n = len(clues)
        runs.append((rid, True, None, int(examined), n, round(secs, 3),
                     bool(examined and n / examined > settings.flood_share)))
    out = pd.concat([c for c in found if len(c)], ignore_index=True) if any(len(c) for c in found) else empty_clues()
    out["amount_at_risk"] = out["amount_at_risk"].astype(float).round(2)
    out = out.drop_duplicates(["rule", "record_id"]).reset_index(drop=True)
    return RuleResult(clues=out, runs=pd.DataFrame(runs, columns=list(RUN_COLUMNS)))


# --- the database ---------------------------------------------------------------------------------------
def _latest_package(conn):
    p = schema.packages
    return conn.execute(select(p.c.as_of_date, p.c.summary_json).order_by(p.c.id.desc()).limit(1)).first()


def tables_present(engine: Engine) -> set[str]:
    """Package tables the latest import carried. With an import summary (packages.summary_json, key
    "tables": name -> {"present": bool}), a table is present when it says so; a register the summary
    does not mention is missing; another table it does not mention, and every table when there is no
    summary, is present when it has rows."""
    with engine.connect() as conn:
        row = _latest_package(conn)
        summary = None
        if row is not None and row.summary_json:
            try:
                summary = json.loads(row.summary_json).get("tables")
            except (ValueError, AttributeError):
                summary = None
        out = set()
        for name in TABLES:
            if isinstance(summary, dict) and name in summary:
                if bool((summary[name] or {}).get("present", True)):   # listed = present (the importer may omit the key)
                    out.add(name)
            elif isinstance(summary, dict) and name in REGISTERS:
                continue
            elif conn.execute(select(schema.metadata.tables[name]).limit(1)).first() is not None:
                out.add(name)
    return out


def registers_present(engine: Engine) -> set[str]:
    """The comparison registers (比对库) the latest package carried (see ``tables_present``)."""
    return tables_present(engine) & set(REGISTERS)


def _arrow_column(values: list, kind: str, dialect: str) -> pa.Array:
    if kind == "date":
        if dialect == "sqlite":
            arr = pa.array(values, type=pa.string())
            return pc.cast(pc.utf8_slice_codeunits(arr, 0, 10), pa.date32())
        return pa.array(values, type=pa.date32())
    if kind in ("amount", "number"):
        return pa.array(values, type=pa.float64(), from_pandas=True)
    if kind == "int":
        return pa.array(values, type=pa.int64())
    if kind == "bool":
        return pa.array([None if v is None else bool(v) for v in values], type=pa.bool_())
    return pa.array([None if v is None or v == "" else str(v) for v in values], type=pa.string())


def _to_pandas(chunks: list, kind: str) -> pd.Series:
    arr = pa.chunked_array(chunks, type=chunks[0].type if chunks else None) if chunks else None
    if kind == "date":
        if arr is None:
            return pd.Series([], dtype="datetime64[ns]")
        return pd.Series(pc.cast(arr, pa.timestamp("ns")).to_numpy(zero_copy_only=False), dtype="datetime64[ns]")
    if kind in ("amount", "number"):
        return pd.Series(arr.to_numpy(zero_copy_only=False) if arr is not None else [], dtype="float64")
    if kind == "int":
        return pd.Series(pd.array(arr.to_pylist() if arr is not None else [], dtype="Int64"))
    if kind == "bool":
        return pd.Series(pd.array(arr.to_pylist() if arr is not None else [], dtype="boolean"))
    if arr is None:
        return pd.Series([], dtype=pd.StringDtype("pyarrow"))
    return pd.Series(pd.arrays.ArrowStringArray(arr.combine_chunks() if arr.num_chunks > 1 else arr.chunk(0)))


def read_table(engine: Engine, name: str, columns=None) -> pd.DataFrame:
    """A package table as a typed frame (text as pyarrow strings), read in chunks of FETCH_ROWS."""
    tbl = schema.metadata.tables[name]
    spec = TABLES[name]
    cols = [c for c in (columns or spec.column_names) if c in tbl.c]
    kinds = [spec.col(c).type for c in cols]
    chunks: list[list] = [[] for _ in cols]
    with engine.connect() as conn:
        dialect = conn.dialect.name
        res = conn.execution_options(stream_results=True).exec_driver_sql(
            f"SELECT {', '.join(cols)} FROM {name}")
        for part in res.partitions(FETCH_ROWS):
            if not part:
                continue
            for i, values in enumerate(zip(*part)):
                chunks[i].append(_arrow_column(list(values), kinds[i], dialect))
    return pd.DataFrame({c: _to_pandas(chunks[i], kinds[i]) for i, c in enumerate(cols)})


def latest_as_of(engine: Engine) -> dt.date | None:
    with engine.connect() as conn:
        row = _latest_package(conn)
    if row is None:
        return None
    v = row.as_of_date
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])


def frame_from_arrow(tbl: pa.Table, name: str, columns=None) -> pd.DataFrame:
    """The frame ``read_table`` would return, from the importer's typed pyarrow table of ``name``
    (pipeline.package_reader.ARROW_TYPES: dates as ISO text) instead of the database."""
    spec = TABLES[name]
    cols = [c for c in (columns or spec.column_names) if c in tbl.column_names]
    out = {}
    for c in cols:
        kind = spec.col(c).type
        arr = tbl.column(c)
        if kind == "date":
            arr = pc.cast(pc.utf8_slice_codeunits(arr, 0, 10), pa.date32())
        elif kind not in ("amount", "number", "int", "bool"):       # text: shared with the importer's table
            out[c] = pd.Series(pd.arrays.ArrowStringArray(arr.cast(pa.string())))
            continue
        out[c] = _to_pandas(arr.chunks if arr.num_chunks else [arr.combine_chunks()], kind)
    return pd.DataFrame(out)


def load_tables(engine: Engine, names=None, fresh: dict | None = None) -> dict[str, pd.DataFrame]:
    """Typed frames of the tables the rules need and the package carried (only the columns they read).
    ``fresh``: pyarrow tables the importer has just loaded into empty tables (exactly what the database
    holds): taken from memory instead of read back."""
    present = tables_present(engine)
    wanted = set(names) if names is not None else {t for r in RULES.values() for t in r.needs} | set(OPTIONAL)
    fresh = fresh or {}
    return {n: (frame_from_arrow(fresh[n], n, COLUMNS.get(n)) if isinstance(fresh.get(n), pa.Table)
                else read_table(engine, n, COLUMNS.get(n))) for n in sorted(wanted & present)}


def detect(engine: Engine, as_of: dt.date | None = None, settings: RuleSettings | None = None,
           rules: list[str] | None = None, fresh: dict | None = None) -> RuleResult:
    """Load the package from the database, run the rules, and replace `clues` and `rule_runs` in one
    transaction. A clue found again (same rule and record_id) keeps its clue_id, status and
    detected_at, so an analyst's work survives re-detection. ``result.clues`` gets those columns too."""
    as_of = as_of or latest_as_of(engine)
    if as_of is None:
        raise ValueError("no package has been imported (the packages table is empty) and no as_of was given")
    t0 = time.perf_counter()
    tables = load_tables(engine, fresh=fresh)
    load_secs = time.perf_counter() - t0
    result = run_rules(tables, as_of, settings, rules)
    del tables
    result.load_seconds = load_secs
    t1 = time.perf_counter()
    result.clues = write_results(engine, result)
    result.write_seconds = time.perf_counter() - t1
    return result


def write_results(engine: Engine, result: RuleResult) -> pd.DataFrame:
    now = dt.datetime.now().replace(microsecond=0)
    c = result.clues.copy()
    tc, tr = schema.clues, schema.rule_runs
    with engine.begin() as conn:
        old = pd.DataFrame(conn.execute(select(tc.c.rule, tc.c.record_id, tc.c.clue_id, tc.c.status,
                                               tc.c.detected_at)).all(),
                           columns=["rule", "record_id", "clue_id", "status", "detected_at"])
        top = int(old["clue_id"].max()) if len(old) else 0
        c = c.merge(old, on=["rule", "record_id"], how="left")
        new = c["clue_id"].isna().to_numpy()
        c.loc[new, "clue_id"] = top + 1 + np.arange(int(new.sum()))
        c["clue_id"] = c["clue_id"].astype(np.int64)
        c["status"] = c["status"].fillna("new")
        c["detected_at"] = pd.to_datetime(c["detected_at"]).where(~new, pd.Timestamp(now))
        c["region_code"] = c["region_code"].fillna("")
        conn.execute(delete(tc))
        conn.execute(delete(tr))
        _bulk_insert(conn, c)
        runs = result.runs
        if len(runs):
            conn.execute(insert(tr), [{"rule": r.rule, "ran": bool(r.ran), "reason": r.reason, "examined": int(r.examined),
                                       "clues": int(r.clues), "seconds": float(r.seconds), "run_at": now}
                                      for r in runs.itertuples()])
    return c


_WRITE_COLS = ("clue_id",) + CLUE_COLUMNS + ("status", "detected_at")


def _bulk_insert(conn, c: pd.DataFrame) -> None:
    if c.empty:
        return
    cols = list(_WRITE_COLS)
    frame = c[cols].astype(object).where(c[cols].notna(), None)
    frame["detected_at"] = [None if v is None else pd.Timestamp(v).to_pydatetime() for v in frame["detected_at"]]
    frame["clue_id"] = [int(v) for v in frame["clue_id"]]
    frame["amount_at_risk"] = [float(v) for v in c["amount_at_risk"].fillna(0.0)]
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY clues ({', '.join(cols)}) FROM STDIN") as cp:
            for row in frame.itertuples(index=False, name=None):
                cp.write_row(row)
        return
    if conn.dialect.name == "sqlite":
        frame["detected_at"] = [None if v is None else v.isoformat(sep=" ") for v in frame["detected_at"]]
        raw.executemany(f"INSERT INTO clues ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        list(frame.itertuples(index=False, name=None)))
        return
    conn.execute(insert(schema.clues), frame.to_dict("records"))
