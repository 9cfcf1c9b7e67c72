"""Fast bulk writes for SQLite (executemany on the DB-API connection) and PostgreSQL (COPY)."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
from sqlalchemy import Table, text
from sqlalchemy.engine import Connection

CHUNK = 200_000


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


def insert_frame(conn: Connection, table: Table, df: pd.DataFrame, replace: bool = True) -> int:
    """Insert the rows of ``df`` (columns named as the table's); rows with an existing key replace it."""
    if df.empty:
        return 0
    names = [c.name for c in table.columns if c.name in df.columns]
    dialect = conn.dialect.name
    if dialect == "sqlite":
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        sql = f'{verb} INTO {table.name} ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
        raw = conn.connection.driver_connection
        cur = raw.cursor()
        for start in range(0, len(df), CHUNK):
            part = df.iloc[start:start + CHUNK]
            cur.executemany(sql, zip(*_sqlite_values(part, table)))
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
            for start in range(0, len(df), CHUNK):
                data = _pg_csv(df.iloc[start:start + CHUNK], names)
                with cur.copy(f"COPY {target} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as cp:
                    cp.write(data)
            if target != table.name:
                upd = ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n not in pk)
                cur.execute(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(names)} FROM {target} "
                            f"ON CONFLICT ({', '.join(pk)}) DO " + (f"UPDATE SET {upd}" if upd else "NOTHING"))
        return len(df)
    # any other dialect: plain Core executemany
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
            for start in range(0, len(df), CHUNK):
                data = _pg_csv(df.iloc[start:start + CHUNK], names)
                with cur.copy(f"COPY {stage} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as cp:
                    cp.write(data)
    else:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{stage}")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {stage} ({cols})")
        cur = conn.connection.driver_connection.cursor()
        sql = f'INSERT INTO {stage} ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
        for start in range(0, len(df), CHUNK):
            part = df.iloc[start:start + CHUNK]
            cur.executemany(sql, zip(*_sqlite_values(part, table)))
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
        insert_frame(conn, table, df, replace=False)
        return {"inserted": n, "updated": 0, "unchanged": 0}
    names = [c.name for c in table.columns if c.name in df.columns]
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
    names = [c.name for c in table.columns if c.name in df.columns]
    old_n = _count(conn, f"SELECT COUNT(*) FROM {table.name}")
    if old_n == 0:
        insert_frame(conn, table, df, replace=False)
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
