"""Vectorised column makers and the chunked CSV writer of the generator.

Amounts are kept as integer fen (cents) and dates as int32 days since 1970-01-01 until they are
written, so that sums are exact and every threshold of the rules is met to the fen."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.idnumber import CHECK, WEIGHTS

NULL_DAY = np.iinfo(np.int32).min
EPOCH = np.datetime64("1970-01-01", "D")
CHUNK = 1_000_000


def day(s: str) -> int:
    return int((np.datetime64(s, "D") - EPOCH).astype(np.int64))


def iso(d: int) -> str:
    return str(EPOCH + np.timedelta64(int(d), "D"))


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dt = EPOCH + days.astype("timedelta64[D]")
    y = dt.astype("datetime64[Y]").astype(np.int64) + 1970
    m = dt.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (dt - dt.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, d


def month_start(year: int, month) -> np.ndarray:
    m = np.asarray(month, dtype=np.int64)
    return ((np.datetime64(f"{year}-01", "M") + (m - 1).astype("timedelta64[M]")).astype("datetime64[D]")
            - EPOCH).astype(np.int64)


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """Calendar months later, clipped to the month's last day (as pandas DateOffset does)."""
    days = np.asarray(days, dtype=np.int64)
    dt = EPOCH + days.astype("timedelta64[D]")
    mon = dt.astype("datetime64[M]")
    dom = (dt - mon.astype("datetime64[D]")).astype(np.int64)
    target = mon + np.timedelta64(months, "M")
    length = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return (target.astype("datetime64[D]") - EPOCH).astype(np.int64) + np.minimum(dom, length - 1)


def id_numbers(county6: np.ndarray, birth_days: np.ndarray, seq: np.ndarray) -> pa.Array:
    """18-character resident ID numbers with the GB 11643 check digit."""
    y, m, d = ymd(np.asarray(birth_days))
    first17 = np.asarray(county6, dtype=np.int64) * 10**11 + (y * 10000 + m * 100 + d) * 1000 + np.asarray(seq, np.int64)
    s = np.zeros(len(first17), dtype=np.int64)
    rest = first17.copy()
    for k in range(16, -1, -1):
        s += (rest % 10) * WEIGHTS[k]
        rest //= 10
    check = pa.array(list(CHECK)).take(pa.array(s % 11))
    return pc.binary_join_element_wise(pc.cast(pa.array(first17), pa.string()), check, "")


def money(cents) -> pa.Array:
    c = np.asarray(cents, dtype=np.int64)
    yuan = pc.cast(pa.array(c // 100), pa.string())
    fen = pc.utf8_lpad(pc.cast(pa.array(c % 100), pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(yuan, fen, ".")


def dates(days) -> pa.Array:
    d = np.asarray(days, dtype=np.int32)
    return pa.array(d, mask=d == NULL_DAY).cast(pa.date32())


def ints(values, null=None) -> pa.Array:
    v = np.asarray(values, dtype=np.int64)
    return pa.array(v, mask=None if null is None else np.asarray(null, dtype=bool))


def texts(values) -> pa.Array:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    return pa.array(list(values) if not isinstance(values, np.ndarray) else values, type=pa.string())


def take(pool, idx) -> pa.Array:
    """Strings of ``pool`` at ``idx`` (-1 = empty cell)."""
    idx = np.asarray(idx, dtype=np.int64)
    pool = pool if isinstance(pool, pa.Array) else pa.array(pool, type=pa.string())
    return pool.take(pa.array(idx, mask=idx < 0))


def write_csv(path: Path, columns: list[str], n: int, make) -> int:
    """Write ``n`` rows: ``make(a, b)`` returns the arrow arrays of rows a..b (same order as columns)."""
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=65536)
    with open(path, "wb") as fh:
        fh.write((",".join(columns) + "\n").encode("utf-8"))        # a plain header (arrow would quote it)
        schema = None
        writer = None
        try:
            for a in range(0, n, CHUNK):
                b = min(n, a + CHUNK)
                table = pa.table(dict(zip(columns, make(a, b))))
                if writer is None:
                    schema = table.schema
                    writer = pacsv.CSVWriter(fh, schema, write_options=opts)
                writer.write_table(table.cast(schema))
        finally:
            if writer is not None:
                writer.close()
    return n
