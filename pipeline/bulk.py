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
