"""Resident ID numbers (GB 11643-1999): check digit, birth date, masking."""
from __future__ import annotations

import datetime as dt

import numpy as np

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    return CHECK[sum(int(a) * w for a, w in zip(first17, WEIGHTS)) % 11]


def is_valid(idn: str) -> bool:
    """Format and check digit only (ASCII digits: "١" is a digit to Python, not in an ID number)."""
    if not isinstance(idn, str) or len(idn) != 18 or not (idn[:17].isascii() and idn[:17].isdigit()):
        return False
    return idn[17].upper() == check_digit(idn[:17])


def birth_date(idn: str) -> dt.date | None:
    try:
        return dt.date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14]))
    except (ValueError, TypeError):
        return None


_W = np.array(WEIGHTS, dtype=np.float32)       # float: numpy's matrix product is BLAS's; exact below 2**24
_CHECK_BYTES = np.frombuffer(CHECK.encode(), dtype=np.uint8)
_BLOCK = 1 << 20


def valid_mask(ids) -> np.ndarray:
    """Vectorised check-digit test over strings (True = 18 characters, 17 ASCII digits and the right
    check digit, an ``x`` read as ``X``). Works on the Arrow buffers a million values at a time."""
    import pyarrow as pa
    import pyarrow.compute as pc
    arr = pa.array(ids, type=pa.string()) if not isinstance(ids, (pa.Array, pa.ChunkedArray)) else ids
    if hasattr(ids, "array") and hasattr(ids.array, "_pa_array"):
        arr = ids.array._pa_array
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.string())
    n = len(arr)
    ok = np.zeros(n, dtype=bool)
    if n == 0:
        return ok
    arr = pc.fill_null(arr.cast(pa.string()), "")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + n + 1]
    data = arr.buffers()[2]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    cols = np.arange(18)
    for start in range(0, n, _BLOCK):
        o = offsets[start:start + _BLOCK + 1]
        sel = np.flatnonzero(np.diff(o) == 18)          # 18 bytes (so 18 ASCII characters if all digits)
        if not len(sel):
            continue
        if len(sel) == len(o) - 1:                       # all of them: the bytes are an (m, 18) matrix
            b = data[o[0]:o[-1]].reshape(-1, 18)
        else:
            b = data[o[:-1][sel][:, None] + cols]
        d = b[:, :17].astype(np.float32) - 48
        digits = ((d >= 0) & (d <= 9)).all(axis=1)
        last = b[:, 17]
        last = np.where(last == ord("x"), ord("X"), last)
        ok[start + sel] = digits & (last == _CHECK_BYTES[(d @ _W).astype(np.int64) % 11])
    return ok


def make_id(region6: str, birth: dt.date, seq3: int) -> str:
    first17 = f"{region6}{birth:%Y%m%d}{seq3:03d}"
    return first17 + check_digit(first17)


def mask_id(idn: str | None) -> str | None:
    """`430***********1234`: 18 characters, the first 3 and last 4 kept."""
    if idn is None or idn == "":
        return idn
    s = str(idn)
    if len(s) <= 7:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 7) + s[-4:]


def mask_name(name: str | None) -> str | None:
    """`张*`, `欧阳**`-style: the first character kept, the rest starred."""
    if name is None or name == "":
        return name
    s = str(name)
    return s[0] + "*" * max(1, len(s) - 1)
