"""Resident ID numbers (GB 11643-1999): check digit, birth date, masking."""
from __future__ import annotations

import datetime as dt

import numpy as np

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    return CHECK[sum(int(a) * w for a, w in zip(first17, WEIGHTS)) % 11]


def is_valid(idn: str) -> bool:
    """Format and check digit only."""
    if not isinstance(idn, str) or len(idn) != 18 or not idn[:17].isdigit():
        return False
    return idn[17].upper() == check_digit(idn[:17])


def birth_date(idn: str) -> dt.date | None:
    try:
        return dt.date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14]))
    except (ValueError, TypeError):
        return None


def valid_mask(ids) -> np.ndarray:
    """Vectorised check-digit test over strings (True = 18 characters, digits, right check digit)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    arr = pa.array(ids, type=pa.string()) if not isinstance(ids, (pa.Array, pa.ChunkedArray)) else ids
    if hasattr(ids, "array") and hasattr(ids.array, "_pa_array"):
        arr = ids.array._pa_array
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.string())
    arr = arr.cast(pa.string())
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=bool)
    arr = pc.fill_null(arr, "")
    shape = np.asarray(pc.match_substring_regex(arr, r"^\d{17}[\dXx]$").to_numpy(zero_copy_only=False), dtype=bool)
    idx = np.flatnonzero(shape)
    ok = np.zeros(n, dtype=bool)
    if len(idx):
        good = pc.take(arr, pa.array(idx)).cast(pa.binary())
        good = pa.concat_arrays([good]) if not isinstance(good, pa.Array) else good
        offsets = np.frombuffer(good.buffers()[1], dtype=np.int32)[good.offset:good.offset + len(good) + 1]
        data = np.frombuffer(good.buffers()[2], dtype=np.uint8)
        # every kept value is exactly 18 ASCII bytes, so the data buffer is an (n, 18) matrix
        b = data[offsets[0]:offsets[-1]].reshape(-1, 18)
        weighted = (b[:, :17].astype(np.int32) - 48) @ np.array(WEIGHTS, dtype=np.int32)
        expect = np.frombuffer(CHECK.encode(), dtype=np.uint8)[weighted % 11]
        last = b[:, 17]
        last = np.where(last == ord("x"), ord("X"), last)
        ok[idx] = last == expect
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
