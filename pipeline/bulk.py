"""Fast bulk writes for SQLite (executemany on the DB-API connection) and PostgreSQL (COPY).

Frames are pandas DataFrames (the roll-ups) or pyarrow Tables (the importer's typed tables: dates as ISO
text, see pipeline.package_reader.ARROW_TYPES). Loading a big table into an empty one drops the table's
secondary indexes first and builds them again after the rows are in, inside the caller's transaction
(SQLite and PostgreSQL DDL is transactional: a failed or killed import leaves them as they were).
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Table, text
from sqlalchemy.engine import Connection

CHUNK = 200_000
# an empty table receiving at least this many rows gets its secondary indexes built after the rows
INDEX_AFTER_ROWS = 50_000


def _columns(df) -> list[str]:
    return list(df.column_names) if isinstance(df, pa.Table) else list(df.columns)


def _slice(df, start: int, stop: int):
    return df.slice(start, stop - start) if isinstance(df, pa.Table) else df.iloc[start:stop]


# rows per INSERT statement for SQLite (one statement binding many rows costs less per row than one per row)
ROWS_PER_STATEMENT = 100
SQLITE_MAX_PARAMS = 32766


def _multi_row_insert(cur, sql: str, cols: list[list]) -> None:
    """executemany ``sql`` (``INSERT ... VALUES (?, ...)``) over the rows of the column lists ``cols``,
    ROWS_PER_STATEMENT rows per statement (the rest one by one)."""
    n, w = len(cols[0]), len(cols)
    k = max(1, min(ROWS_PER_STATEMENT, SQLITE_MAX_PARAMS // max(w, 1)))
    full = n - n % k
    if k > 1 and full:
        head, values = sql.split(" VALUES ", 1)
        flat: list = [None] * (full * w)
        for i, c in enumerate(cols):
            flat[i::w] = c[:full] if full != n else c
        it = iter(flat)
        cur.executemany(f"{head} VALUES " + ", ".join([values] * k), zip(*[it] * (w * k)))
        del flat
    if full < n:
        cur.executemany(sql, zip(*[c[full:] for c in cols]))


def _executemany(cur, sql: str, df, table: Table, names: list[str]) -> None:
    for start in range(0, len(df), CHUNK):
        part = _slice(df, start, start + CHUNK)
        if isinstance(part, pa.Table):
            _multi_row_insert(cur, sql, [part.column(n).to_pylist() for n in names])
            continue
        cols = _pandas_via_arrow(part[names]) if len(part) >= 10_000 else None
        if cols is not None:
            _multi_row_insert(cur, sql, cols)
        else:
            cur.executemany(sql, zip(*_sqlite_values(part[names], table)))


def _pandas_via_arrow(df: pd.DataFrame) -> list[list] | None:
    """The columns of a big DataFrame as lists of Python values through pyarrow (missing/NaN = None), or
    None when a column is a date/time (those keep _sqlite_values' ISO text) or not plainly typed."""
    if any(pd.api.types.is_datetime64_any_dtype(df[c]) for c in df.columns):
        return None
    try:
        tbl = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if any(not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)
                or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_null(t)) for t in tbl.schema.types):
        return None
    return [tbl.column(i).to_pylist() for i in range(tbl.num_columns)]


def _copy_csv(cur, target: str, df, names: list[str]) -> None:
    """COPY rows into ``target`` (PostgreSQL), a chunk at a time."""
    for start in range(0, len(df), CHUNK):
        part = _slice(df, start, start + CHUNK)
        if isinstance(part, pa.Table):
            buf = io.BytesIO()
            pacsv.write_csv(part.select(names), buf, pacsv.WriteOptions(include_header=False))
            with cur.copy(f"COPY {target} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)") as cp:
                cp.write(buf.getvalue())
        else:
            data = _pg_csv(part, names)
            with cur.copy(f"COPY {target} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as cp:
                cp.write(data)


def ensure_transaction(conn: Connection) -> None:
    """SQLite through the stdlib driver opens its transaction at the first INSERT only: make sure DDL
    (dropping indexes) never runs outside the caller's transaction."""
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        if not raw.in_transaction:
            raw.execute("BEGIN")


def _secondary_indexes(table: Table) -> list:
    return sorted((ix for ix in table.indexes if not ix.unique), key=lambda ix: ix.name)


def load_empty(conn: Connection, table: Table, df) -> int:
    """Insert every row of ``df`` into ``table``, which is empty: a big load drops the secondary
    indexes and builds them again afterwards (one sort each instead of a B-tree insert per row)."""
    n = len(df)
    if n < INDEX_AFTER_ROWS or conn.dialect.name not in ("sqlite", "postgresql"):
        return insert_frame(conn, table, df, replace=False)
    ensure_transaction(conn)
    idx = _secondary_indexes(table)
    for ix in idx:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {ix.name}")
    insert_frame(conn, table, df, replace=False)
    for ix in idx:
        ix.create(conn)
    return n


def _sqlite_values(df: pd.DataFrame, table: Table) -> list[list]:
    cols = []
    for c in table.columns:
        if c.name not in df.columns:
            continue
        s = df[c.name]
        if pd.api.types.is_datetime64_any_dtype(s):
            v = s.dt.strftime("%Y-%m-%d").astype(object)
            v[s.isna().to_numpy()] = None
            cols.append(v.tolist())
        elif isinstance(s.dtype, pd.BooleanDtype):
            cols.append([None if x is pd.NA else int(x) for x in s.tolist()])
        elif isinstance(s.dtype, pd.Int64Dtype):
            cols.append([None if x is pd.NA else int(x) for x in s.tolist()])
        elif pd.api.types.is_float_dtype(s):
            arr = s.to_numpy(dtype=float)
            cols.append([None if np.isnan(x) else x for x in arr.tolist()])
        else:
            cols.append([None if (x is None or (isinstance(x, float) and np.isnan(x))) else x for x in s.tolist()])
    return cols


def _pg_csv(df: pd.DataFrame, names: list[str]) -> str:
    out = {}
    for n in names:
        s = df[n]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[n] = s.dt.strftime("%Y-%m-%d")
        elif isinstance(s.dtype, pd.BooleanDtype):
            out[n] = s.map({True: "t", False: "f"})
        else:
            out[n] = s
    buf = io.StringIO()
    pd.DataFrame(out).to_csv(buf, index=False, header=False, na_rep="\\N")
    return buf.getvalue()


def insert_frame(conn: Connection, table: Table, df, replace: bool = True) -> int:
    """Insert the rows of ``df`` (a DataFrame or a pyarrow Table, columns named as the table's); rows
    with an existing key replace it."""
    if len(df) == 0:
        return 0
    have = set(_columns(df))
    names = [c.name for c in table.columns if c.name in have]
    dialect = conn.dialect.name
    if dialect == "sqlite":
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        sql = f'{verb} INTO {table.name} ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
        raw = conn.connection.driver_connection
        cur = raw.cursor()
        _executemany(cur, sql, df, table, names)
        cur.close()
        return len(df)
    if dialect == "postgresql":
        pk = [c.name for c in table.primary_key.columns if c.name in names]
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            target = table.name
            if replace and pk:
                cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS _stage_{table.name} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP")
                cur.execute(f"TRUNCATE _stage_{table.name}")
                target = f"_stage_{table.name}"
            _copy_csv(cur, target, df, names)
            if target != table.name:
                upd = ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n not in pk)
                cur.execute(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(names)} FROM {target} "
                            f"ON CONFLICT ({', '.join(pk)}) DO " + (f"UPDATE SET {upd}" if upd else "NOTHING"))
        return len(df)
    # any other dialect: plain Core executemany
    if isinstance(df, pa.Table):
        df = df.to_pandas()
    conn.execute(table.insert(), df[names].astype(object).where(df[names].notna(), None).to_dict("records"))
    return len(df)


def delete_all(conn: Connection, table: Table) -> None:
    conn.execute(text(f"DELETE FROM {table.name}"))


# --- staged upserts: what changed, by key ------------------------------------------------------------
def _ddl_type(col, dialect) -> str:
    return col.type.compile(dialect=dialect)


def _stage(conn: Connection, table: Table, df: pd.DataFrame, names: list[str]) -> str:
    """A temporary staging table holding ``df`` (dropped at commit on PostgreSQL, by us on SQLite)."""
    stage = f"_stage_{table.name}"
    cols = ", ".join(f"{n} {_ddl_type(table.c[n], conn.dialect)}" for n in names)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {stage} ({cols}) ON COMMIT DROP")
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            _copy_csv(cur, stage, df, names)
    else:
        ensure_transaction(conn)
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{stage}")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {stage} ({cols})")
        cur = conn.connection.driver_connection.cursor()
        sql = f'INSERT INTO {stage} ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
        _executemany(cur, sql, df, table, names)
        cur.close()
    return stage


def _same(a: str, b: str, dialect: str) -> str:
    return f"{a} IS NOT DISTINCT FROM {b}" if dialect == "postgresql" else f"{a} IS {b}"


def _count(conn: Connection, sql: str) -> int:
    return int(conn.exec_driver_sql(sql).scalar() or 0)


def _is_empty(conn: Connection, table: Table) -> bool:
    return conn.exec_driver_sql(f"SELECT 1 FROM {table.name} LIMIT 1").first() is None


def upsert_frame(conn: Connection, table: Table, df: pd.DataFrame, key: tuple) -> dict:
    """Write ``df`` into ``table`` by ``key`` inside the caller's transaction and say what changed:
    {"inserted", "updated", "unchanged"}. Rows go to a staging table first; only new keys are inserted
    and only rows whose values differ are rewritten, so the same package twice changes nothing.
    An empty target takes the rows directly (the first import of a big package)."""
    n = len(df)
    if n == 0:
        return {"inserted": 0, "updated": 0, "unchanged": 0}
    if _is_empty(conn, table):
        load_empty(conn, table, df)
        return {"inserted": n, "updated": 0, "unchanged": 0}
    have = set(_columns(df))
    names = [c.name for c in table.columns if c.name in have]
    d = conn.dialect.name
    stage = _stage(conn, table, df, names)
    on = " AND ".join(f"t.{k} = s.{k}" for k in key)
    rest = [c for c in names if c not in key]
    differs = " OR ".join(f"NOT ({_same(f't.{c}', f's.{c}', d)})" for c in rest) or "0 = 1"
    updated = _count(conn, f"SELECT COUNT(*) FROM {stage} s JOIN {table.name} t ON {on} WHERE {differs}")
    inserted = _count(conn, f"SELECT COUNT(*) FROM {stage} s WHERE NOT EXISTS (SELECT 1 FROM {table.name} t WHERE {on})")
    cols = ", ".join(names)
    if rest:
        sets = ", ".join(f"{c} = excluded.{c}" for c in rest)
        changed = " OR ".join(f"NOT ({_same(f'{table.name}.{c}', f'excluded.{c}', d)})" for c in rest)
        action = f"DO UPDATE SET {sets} WHERE {changed}"
    else:
        action = "DO NOTHING"
    where = " WHERE true" if d == "sqlite" else ""      # SQLite's upsert needs a WHERE after SELECT
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {stage}{where} "
                         f"ON CONFLICT ({', '.join(key)}) {action}")
    if d == "sqlite":
        conn.exec_driver_sql(f"DROP TABLE temp.{stage}")
    return {"inserted": inserted, "updated": updated, "unchanged": n - inserted - updated}


def replace_register(conn: Connection, table: Table, df: pd.DataFrame) -> dict:
    """A keyless register is a snapshot: replaced as a whole when its content differs (as a set of
    rows, with the same count); left alone when it is the same. {"inserted", "removed", "unchanged"}."""
    have = set(_columns(df))
    names = [c.name for c in table.columns if c.name in have]
    old_n = _count(conn, f"SELECT COUNT(*) FROM {table.name}")
    if old_n == 0:
        load_empty(conn, table, df)
        return {"inserted": len(df), "removed": 0, "unchanged": 0}
    stage = _stage(conn, table, df, names)
    cols = ", ".join(names)
    new_rows = _count(conn, f"SELECT COUNT(*) FROM (SELECT {cols} FROM {stage} EXCEPT SELECT {cols} FROM {table.name}) x")
    gone_rows = _count(conn, f"SELECT COUNT(*) FROM (SELECT {cols} FROM {table.name} EXCEPT SELECT {cols} FROM {stage}) x")
    if new_rows == 0 and gone_rows == 0 and old_n == len(df):
        out = {"inserted": 0, "removed": 0, "unchanged": len(df)}
    else:
        delete_all(conn, table)
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {stage}")
        out = {"inserted": new_rows, "removed": gone_rows, "unchanged": len(df) - new_rows}
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"DROP TABLE temp.{stage}")
    return out
