"""Read a data package (folder, .zip of one, or one .xlsx) into raw string frames, and type them.

Reading never guesses silently: a file that is not UTF-8 is tried as GB18030 (what Chinese Excel
writes) and the summary says which encoding was used. Every row problem becomes a reject with
file, row number (1 = the first data row, as a spreadsheet shows it, plus the header: row 2),
column, value and reason key; rows with problems are not loaded.
"""
from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.idnumber import birth_date, valid_mask  # noqa: F401
from core.scope import normalize_code
from pipeline.spec import MANIFEST_KEYS, TABLES, TableSpec

KNOWN_FILES = {"manifest", "truth", *TABLES}


def _env_int(name: str, default: int) -> int:
    import os
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """What a package may weigh. Checked before a byte of a table is parsed; for a zip, on the sizes
    its directory declares before anything is unpacked (and zipfile stops at the declared size and
    checks the CRC while reading, so a lying directory cannot unpack more)."""
    max_file_bytes: int = 4 << 30           # one table file (unpacked)
    max_total_bytes: int = 16 << 30         # the whole package (unpacked)
    max_files: int = 64                     # entries in the folder or zip
    max_ratio: int = 200                    # unpacked / packed size of one zip entry (CSV compresses ~5-20x)
    max_xlsx_bytes: int = 256 << 20         # a workbook is read whole into memory: keep it modest

    @classmethod
    def from_env(cls) -> "Limits":
        d = cls()
        return cls(_env_int("IMPORT_MAX_FILE_BYTES", d.max_file_bytes), _env_int("IMPORT_MAX_TOTAL_BYTES", d.max_total_bytes),
                   _env_int("IMPORT_MAX_FILES", d.max_files), _env_int("IMPORT_MAX_RATIO", d.max_ratio),
                   _env_int("IMPORT_MAX_XLSX_BYTES", d.max_xlsx_bytes))


class Misshapen(Exception):
    """Internal: a CSV has rows with the wrong number of fields; read it again the slow, exact way."""


class PackageError(Exception):
    """The package as a whole is refused (structural problem). ``key`` is an i18n key."""

    def __init__(self, key: str, file: str = "", column: str = "", detail: str = ""):
        self.key, self.file, self.column, self.detail = key, file, column, detail
        super().__init__(f"{key}: file={file} column={column} {detail}".strip())


@dataclass
class Reject:
    file: str
    row: int | None      # the file's line number as a spreadsheet shows it (header = 1); None if unknown
    column: str
    value: str
    reason: str          # i18n key, e.g. "reject.bad_date"


CHUNK_ROWS = 500_000
VALIDATE_THREADS = 2
STRING = pd.ArrowDtype(pa.string())


@dataclass
class Source:
    """One table of the package: a CSV file (streamed in chunks) or a sheet already in memory."""
    name: str
    label: str                                   # file name for messages
    opener: Callable[[], BinaryIO] | None = None
    frame: pd.DataFrame | None = None
    encoding: str = "utf-8"
    columns: list[str] = field(default_factory=list)

    def chunks(self, chunk_rows: int = CHUNK_ROWS, bad_rows: list | None = None,
               exact: bool = False, arrow: bool = False) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
        """(row numbers, frame of strings) pairs. Row numbers are as a spreadsheet shows them: the
        header is row 1, so the first data record is row 2 (a quoted value spanning lines is still one
        row). Raises ``Misshapen`` when a record has the wrong number of fields: read again with
        ``exact=True``, which puts such records into ``bad_rows`` as rejects and numbers the rest."""
        if self.frame is not None:
            df = self.frame
            for start in range(0, max(len(df), 1), chunk_rows):
                part = df.iloc[start:start + chunk_rows]
                yield np.asarray(part.index, dtype=np.int64) + 2, part.reset_index(drop=True)
            return
        if exact:
            yield from self._exact_chunks(chunk_rows, bad_rows if bad_rows is not None else [])
            return
        invalid: list = []

        def on_invalid(row):
            invalid.append(row.text)
            return "error"
        with self.opener() as fh:
            try:
                reader = pacsv.open_csv(
                    fh, read_options=pacsv.ReadOptions(block_size=32 << 20, encoding=self.encoding),
                    parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
                    convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in self._raw_columns},
                                                         strings_can_be_null=False))
                offset = 0
                buf: list = []
                size = 0
                names = [str(c).strip().lower() for c in reader.schema.names]

                def frame(batches):
                    if arrow:      # a pyarrow Table of strings (the importer's fast path)
                        return pa.Table.from_batches(batches, schema=reader.schema).rename_columns(names)
                    out = pd.concat([b.to_pandas(types_mapper=pd.ArrowDtype) for b in batches], ignore_index=True)
                    out.columns = names
                    return out
                for batch in reader:
                    buf.append(batch)
                    size += len(batch)
                    if size >= chunk_rows:
                        out = frame(buf)
                        yield np.arange(offset, offset + len(out)) + 2, out
                        offset += len(out)
                        buf, size = [], 0
                if buf or offset == 0:
                    out = frame(buf) if buf else pd.DataFrame(
                        {c: pd.Series([], dtype=STRING) for c in self.columns})
                    yield np.arange(offset, offset + len(out)) + 2, out
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                if invalid:
                    raise Misshapen(self.label) from None
                raise PackageError("package.unreadable_csv", self.label, detail=str(exc).splitlines()[0][:200])
            except zipfile.BadZipFile as exc:
                raise PackageError("package.unreadable_zip", self.label, detail=str(exc)[:200])

    @property
    def _raw_columns(self) -> list[str]:
        return getattr(self, "_raw_cols", self.columns)

    def _exact_chunks(self, chunk_rows: int, bad_rows: list) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
        """The slow, exact reader (Python's csv module), used only for a file with misshapen records."""
        import csv
        csv.field_size_limit(1 << 24)
        enc = "utf-8-sig" if self.encoding == "utf-8" else self.encoding
        try:
            with self.opener() as fh:
                text = io.TextIOWrapper(fh, encoding=enc, newline="")
                rd = csv.reader(text)
                header = next(rd, [])
                width = len(header)
                recs: list[list[str]] = []
                nums: list[int] = []
                recno = 1
                for rec in rd:
                    recno += 1
                    if len(rec) != width:
                        if not any(v.strip() for v in rec):
                            continue                          # a blank line is no record
                        bad_rows.append(Reject(self.label, recno, "", ",".join(rec)[:200], "reject.wrong_field_count"))
                        continue
                    recs.append(rec)
                    nums.append(recno)
                    if len(recs) >= chunk_rows:
                        yield np.asarray(nums), self._frame(recs)
                        recs, nums = [], []
                yield np.asarray(nums, dtype=np.int64), self._frame(recs)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise PackageError("package.unreadable_csv", self.label, detail=str(exc).splitlines()[0][:200])

    def _frame(self, recs: list[list[str]]) -> pd.DataFrame:
        cols = list(zip(*recs)) if recs else [()] * len(self.columns)
        return pd.DataFrame({c: pd.Series(list(v), dtype=STRING) for c, v in zip(self.columns, cols)})


@dataclass
class RawPackage:
    manifest: dict
    sources: dict[str, Source]
    encodings: dict[str, str] = field(default_factory=dict)
    ignored_files: list[str] = field(default_factory=list)

    label: str = ""

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Whole tables in memory (small packages and tests only)."""
        return {n: pd.concat([c for _, c in s.chunks(exact=True)], ignore_index=True) for n, s in self.sources.items()}


def _sniff_encoding(head: bytes, label: str) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PackageError("package.unreadable_encoding", label, detail="UTF-16")
    cut = head
    for _ in range(4):      # a multi-byte character may be cut at the end of the sample
        try:
            cut.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError as exc:
            if exc.start >= len(cut) - 3:
                cut = cut[:exc.start]
                continue
            break
    try:   # final=False: a character cut at the end of the sample is not an error
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise PackageError("package.unreadable_encoding", label)


def _header(opener, encoding: str, label: str) -> list[str]:
    import csv
    with opener() as fh:
        first = fh.readline(1 << 20)
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    line = first.decode(encoding, errors="replace").strip("\r\n")
    if not line.strip():
        raise PackageError("package.empty_file", label)
    cols = list(next(csv.reader([line])))
    norm = [c.strip().lower() for c in cols]
    dup = sorted({c for c in norm if norm.count(c) > 1})
    if dup:
        raise PackageError("package.duplicate_column", label, dup[0])
    if any(not c for c in norm):
        raise PackageError("package.empty_column_name", label, detail=str(norm.index("") + 1))
    return cols


def _is_junk(name: str) -> bool:
    """Files that archivers and desktops add: never part of a package, never read."""
    parts = Path(name).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts) or Path(name).name in ("Thumbs.db", "desktop.ini")


def _check_zip(zf: zipfile.ZipFile, label: str, limits: Limits, max_total: int) -> list[zipfile.ZipInfo]:
    """The zip directory against the limits, before anything is unpacked (a zip bomb stops here)."""
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > limits.max_files:
        raise PackageError("package.too_many_files", label, detail=f"{len(infos)} > {limits.max_files}")
    total = 0
    for i in infos:
        if i.flag_bits & 0x1:
            raise PackageError("package.encrypted_zip", label, Path(i.filename).name)
        total += i.file_size
        if i.file_size > limits.max_file_bytes:
            raise PackageError("package.file_too_large", f"{label}:{i.filename}", detail=f"{i.file_size} bytes")
        if i.file_size > (1 << 20) and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise PackageError("package.zip_bomb", f"{label}:{i.filename}",
                               detail=f"{i.file_size} bytes from {i.compress_size}")
    if total > max_total:
        raise PackageError("package.too_large", label, detail=f"{total} bytes unpacked > {max_total}")
    return infos


def read_package(path: str | Path, limits: Limits | None = None) -> RawPackage:
    """Open a package: check its size and shape, read the manifest and every table's header
    (structural checks), not the rows. Only the files of the contract are read: a CSV (or sheet) whose
    name is not a table of the contract refuses the package (a misnamed table must not be lost
    silently); other files are listed as ignored and never opened."""
    limits = limits or Limits.from_env()
    path = Path(path)
    openers: dict[str, tuple[str, Callable[[], BinaryIO]]] = {}
    ignored: list[str] = []

    def add(stem: str, label: str, opener) -> None:
        if stem in openers:
            raise PackageError("package.duplicate_file", label, detail=openers[stem][0])
        openers[stem] = (label, opener)

    if path.is_dir():
        files = [f for f in sorted(path.rglob("*")) if f.is_file()]
        if len(files) > limits.max_files:
            raise PackageError("package.too_many_files", path.name, detail=f"{len(files)} > {limits.max_files}")
        total = 0
        for f in files:
            rel = f.relative_to(path).as_posix()
            if _is_junk(rel):
                continue
            if f.suffix.lower() != ".csv":
                ignored.append(rel)
                continue
            size = f.stat().st_size
            total += size
            if size > limits.max_file_bytes:
                raise PackageError("package.file_too_large", f.name, detail=f"{size} bytes")
            add(f.stem.strip().lower(), f.name, (lambda f=f: open(f, "rb")))
        if total > limits.max_total_bytes:
            raise PackageError("package.too_large", path.name, detail=f"{total} bytes > {limits.max_total_bytes}")
    elif path.suffix.lower() == ".zip" and path.is_file():
        if path.stat().st_size > limits.max_total_bytes:
            raise PackageError("package.too_large", path.name)
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise PackageError("package.unreadable_zip", path.name, detail=str(exc)[:200])
        for info in _check_zip(zf, path.name, limits, limits.max_total_bytes):
            if _is_junk(info.filename):
                continue
            name = Path(info.filename).name
            if not name.lower().endswith(".csv"):
                ignored.append(info.filename)
                continue
            add(Path(name).stem.strip().lower(), name, (lambda info=info: zf.open(info)))
    elif path.suffix.lower() == ".xlsx" and path.is_file():
        return _read_xlsx(path, limits)
    elif path.is_file():
        raise PackageError("package.unsupported_file", path.name)
    else:
        raise PackageError("package.not_found", path.name)
    unknown = sorted(label for stem, (label, _) in openers.items() if stem not in KNOWN_FILES)
    if unknown:
        raise PackageError("package.unknown_table", unknown[0], detail=", ".join(unknown))
    if "manifest" not in openers:
        raise PackageError("package.missing_manifest", "manifest.csv")
    raw = RawPackage(manifest={}, sources={}, ignored_files=ignored, label=path.name)
    for stem, (label, opener) in openers.items():
        if stem == "truth":
            raw.ignored_files.append(label)
            continue  # written by generators only; never read by the importer
        try:
            with opener() as fh:
                head = fh.read(1 << 20)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise PackageError("package.unreadable_zip", label, detail=str(exc)[:200])
        if not head.strip():
            raise PackageError("package.empty_file", label)
        enc = _sniff_encoding(head, label)
        raw.encodings[stem] = enc
        if stem == "manifest":
            with opener() as fh:
                text = fh.read(1 << 20).decode("utf-8-sig" if enc == "utf-8" else enc, errors="replace")
            raw.manifest = _manifest(_csv_frame(text, label), label)
            continue
        src = Source(stem, label, opener=opener, encoding=enc)
        src._raw_cols = _header(opener, enc, label)
        src.columns = [c.strip().lower() for c in src._raw_cols]
        check_columns(TABLES[stem], src.columns, label)
        raw.sources[stem] = src
    return raw


def _csv_frame(text: str, fname: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise PackageError("package.unreadable_csv", fname, detail=str(exc).splitlines()[0])
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df


def _read_xlsx(path: Path, limits: Limits) -> RawPackage:
    try:
        with zipfile.ZipFile(path) as zf:       # an .xlsx is a zip: the same bomb check first
            _check_zip(zf, path.name, Limits(limits.max_xlsx_bytes, limits.max_xlsx_bytes, 10_000, limits.max_ratio),
                       limits.max_xlsx_bytes)
    except zipfile.BadZipFile as exc:
        raise PackageError("package.unreadable_xlsx", path.name, detail=str(exc)[:200])
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, na_filter=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise PackageError("package.unreadable_xlsx", path.name, detail=type(exc).__name__)
    raw = RawPackage(manifest={}, sources={}, label=path.name)
    unknown = [str(n) for n in sheets if str(n).strip().lower() not in KNOWN_FILES]
    if unknown:
        raise PackageError("package.unknown_table", f"{path.name}:{unknown[0]}", detail=", ".join(unknown))
    for name, df in sheets.items():
        stem = str(name).strip().lower()
        label = f"{path.name}:{name}"
        df.columns = [str(c).strip().lower() for c in df.columns]
        if stem == "manifest":
            raw.manifest = _manifest(df, label)
        elif stem in TABLES:
            cols = list(df.columns)
            dup = sorted({c for c in cols if cols.count(c) > 1})
            if dup:
                raise PackageError("package.duplicate_column", label, dup[0])
            check_columns(TABLES[stem], cols, label)
            frame = df.astype(str).astype(STRING)
            # a sheet's trailing empty rows are not records
            frame = frame.loc[~(frame.apply(lambda c: c.str.strip()).eq("")).all(axis=1)] if len(frame) else frame
            raw.sources[stem] = Source(stem, label, frame=frame, columns=cols)
        else:
            raw.ignored_files.append(label)
    if not raw.manifest:
        raise PackageError("package.missing_manifest", f"{path.name}:manifest")
    return raw


def _manifest(df: pd.DataFrame, fname: str) -> dict:
    for col in ("key", "value"):
        if col not in df.columns:
            raise PackageError("package.missing_column", fname, col)
    m = {str(k).strip(): str(v).strip() for k, v in zip(df["key"], df["value"])}
    if not m.get("as_of_date"):
        raise PackageError("package.missing_as_of", fname, "as_of_date")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", m["as_of_date"]) or pd.isna(pd.to_datetime(m["as_of_date"], errors="coerce")):
        raise PackageError("package.bad_as_of", fname, "as_of_date", m["as_of_date"])
    return m


# ---------------------------------------------------------------------------------------------
# Typing and row validation (vectorised)
# ---------------------------------------------------------------------------------------------
_AMOUNT_RE = r"\d+(\.\d{1,2})?"
_NUMBER_RE = r"\d+(\.\d+)?"
_INT_RE = r"\d+"
_DATE_RE = r"\d{4}-\d{2}-\d{2}"
_PERIOD_RE = r"\d{4}-(0[1-9]|1[0-2])"
_CODE_RE = r"\d{2}|\d{4}|\d{6}|\d{9}|\d{12}"
_BOOL = {"1": True, "0": False, "true": True, "false": False, "是": True, "否": False}


@dataclass
class TypedTable:
    name: str
    frame: pa.Table                         # typed (ARROW_TYPES), only the valid rows, spec columns only
    rejects: list[Reject]
    ignored_columns: list[str]
    rows_read: int
    bad_id_rows: int = 0                    # payments kept with an invalid ID number (R02)
    file_rows: np.ndarray | None = None     # the file line number of every kept row


def _np(mask) -> np.ndarray:
    """A boolean mask (numpy, pandas or pyarrow; missing = False) as a numpy bool array."""
    if isinstance(mask, (pa.Array, pa.ChunkedArray)):
        return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(pd.array(mask).fillna(False) if hasattr(mask, "fillna") else mask, dtype=bool)


def _arrow_strings(s) -> pa.Array:
    """One raw column as a pyarrow string array (no copy for the ArrowDtype columns the reader makes)."""
    arr = s if isinstance(s, (pa.Array, pa.ChunkedArray)) else getattr(getattr(s, "array", None), "_pa_array", None)
    if arr is None or not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pa.array(pd.Series(s).astype(str).tolist(), type=pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return pc.fill_null(arr.cast(pa.string()), "")


def _rx(arr: pa.Array, pattern: str) -> np.ndarray:
    """Full match of a RE2 pattern (ASCII digits, as the pandas/pyarrow string methods used before)."""
    return _np(pc.match_substring_regex(arr, f"^(?:{pattern})$"))


_NULL = {"string": pa.scalar(None, pa.string())}


def _keep(arr: pa.Array, keep: np.ndarray) -> pa.Array:
    """``arr`` where ``keep``, missing elsewhere."""
    if keep.all():
        return arr
    return pc.if_else(pa.array(keep), arr, pa.scalar(None, arr.type))


# the proleptic calendar: days in each month, leap years
_MDAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
# datetime64[ns] (what the typed frames used to hold) spans 1677-09-21 .. 2262-04-11: dates outside are bad
_DATE_MIN, _DATE_MAX = 16770922, 22620411


def _real_dates(arr: pa.Array, fmt: np.ndarray) -> np.ndarray:
    """Of the values shaped YYYY-MM-DD (``fmt``), those that are real calendar dates in range."""
    ok = np.zeros(len(arr), dtype=bool)
    idx = np.flatnonzero(fmt)
    if not len(idx):
        return ok
    sub = arr.take(pa.array(idx)) if len(idx) != len(arr) else arr
    if not isinstance(sub, pa.Array):
        sub = sub.combine_chunks()
    offsets = np.frombuffer(sub.buffers()[1], dtype=np.int32)[sub.offset:sub.offset + len(sub) + 1]
    data = np.frombuffer(sub.buffers()[2], dtype=np.uint8)
    b = data[offsets[0]:offsets[-1]].reshape(-1, 10)            # every value: 10 ASCII bytes
    dig = [b[:, i].astype(np.int32) - 48 for i in (0, 1, 2, 3, 5, 6, 8, 9)]
    y = dig[0] * 1000 + dig[1] * 100 + dig[2] * 10 + dig[3]
    m = dig[4] * 10 + dig[5]
    d = dig[6] * 10 + dig[7]
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    mdays = _MDAYS[np.clip(m, 0, 12)] + ((m == 2) & leap)
    ymd = y * 10000 + m * 100 + d
    ok[idx] = (m >= 1) & (m <= 12) & (d >= 1) & (d <= mdays) & (ymd >= _DATE_MIN) & (ymd <= _DATE_MAX)
    return ok


# The typed column of each spec type (pyarrow): what the database stores. Dates stay ISO text
# (exactly what SQLite stores; PostgreSQL reads them as DATE).
ARROW_TYPES = {"text": pa.string(), "code": pa.string(), "enum": pa.string(), "id": pa.string(), "date": pa.string(),
               "amount": pa.float64(), "number": pa.float64(), "int": pa.int64(), "bool": pa.bool_(),
               "period": pa.string()}
_BOOL_TRUE = [k for k, v in _BOOL.items() if v]


def _type_column(s, col, bad: np.ndarray, reason: np.ndarray, table: str) -> pa.Array:
    """Convert one string column (vectorised, pyarrow); mark bad rows (the first reason of a row wins)."""
    v = pc.utf8_trim_whitespace(_arrow_strings(s))
    empty = _np(pc.equal(v, ""))
    filled = ~empty

    def flag(mask, key):
        mask = np.asarray(mask, dtype=bool) & ~bad
        reason[mask] = key
        bad[mask] = True

    if not col.nullable:
        flag(empty, "reject.required")
    t = col.type
    if t == "text":
        return _keep(v, filled)
    if t == "code":
        ok = _rx(v, _CODE_RE)
        flag(~ok & filled, "reject.bad_region_code")
        return _keep(pc.utf8_rpad(v, 12, "0"), ok & filled)
    if t == "enum":
        ok = _np(pc.is_in(v, value_set=pa.array(list(col.choices), pa.string())))
        flag(~ok & filled, "reject.bad_choice")
        return _keep(v, filled)
    if t == "id":
        u = pc.utf8_upper(v)
        if table == "payments" and col.name == "id_number":
            # kept: the bad number itself becomes a clue (R02); only the shape must be an ID's
            flag(~_rx(u, r"\d{17}[\dX]") & filled, "reject.bad_id_format")
        else:
            flag(~valid_mask(u) & filled, "reject.bad_id_checksum")
        return _keep(u, filled)
    if t == "date":
        fmt = _rx(v, _DATE_RE)
        flag(~(fmt & _real_dates(v, fmt)) & filled, "reject.bad_date")
        return _keep(v, filled & ~bad)
    if t in ("amount", "number", "int"):
        rx = {"amount": _AMOUNT_RE, "number": _NUMBER_RE, "int": _INT_RE}[t]
        ok = _rx(v, rx)
        if t == "int":
            ok &= _np(pc.less_equal(pc.utf8_length(pc.utf8_ltrim(v, "0")), 18))   # fits in 64 bits
        flag(_np(pc.starts_with(v, "-")) & filled, "reject.negative")
        flag(~ok & filled, {"amount": "reject.bad_amount", "number": "reject.bad_number", "int": "reject.bad_int"}[t])
        good = ok & filled
        src = _keep(v, good)
        return pc.cast(src, pa.int64() if t == "int" else pa.float64())
    if t == "bool":
        low = pc.utf8_lower(v)
        ok = _np(pc.is_in(low, value_set=pa.array(list(_BOOL), pa.string())))
        flag(~ok & filled, "reject.bad_bool")
        return _keep(pc.is_in(low, value_set=pa.array(_BOOL_TRUE, pa.string())), ok & filled)
    if t == "period":
        ok = _rx(v, _PERIOD_RE)
        flag(~ok & filled, "reject.bad_period")
        return _keep(v, filled)
    raise ValueError(f"unknown column type {t}")


def check_columns(spec: TableSpec, columns: list[str], label: str) -> list[str]:
    """Raise for a missing required column; return the extra (ignored) columns."""
    for c in spec.columns:
        if c.required and c.name not in columns:
            raise PackageError("package.missing_column", label, c.name)
    return [c for c in columns if c not in spec.column_names]


def _duplicated(frame: pa.Table, key) -> np.ndarray:
    """Rows whose key appeared on an earlier row (the first occurrence wins)."""
    if len(key) == 1:
        col = frame.column(key[0])
        if _strictly_increasing(col):         # the usual export, sorted by its key: no repeats (one pass)
            return np.zeros(len(col), dtype=bool)
        s = pd.Series(pd.arrays.ArrowExtensionArray(col))
        return s.duplicated(keep="first").to_numpy()
    return pd.DataFrame({k: pd.arrays.ArrowExtensionArray(frame.column(k)) for k in key}).duplicated(keep="first").to_numpy()


def _strictly_increasing(col) -> bool:
    """Every value greater than the one before (none missing)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    n = len(col)
    if n < 2 or col.null_count:
        return n < 2 and not col.null_count
    return bool(pc.all(pc.greater(col.slice(1), col.slice(0, n - 1))).as_py())


def type_table(spec: TableSpec, raw: pd.DataFrame, file_label: str | None = None, offset: int = 0,
               rows: np.ndarray | None = None, dedupe: bool = True) -> TypedTable:
    """Validate and type one table (or one chunk of it). ``rows``: the file row number of every row of
    ``raw`` (default: ``offset`` + 2 onwards). Raises PackageError when a required column is missing.
    The typed frame is a pyarrow Table (types: ARROW_TYPES) of the valid rows."""
    fname = file_label or f"{spec.name}.csv"
    if isinstance(raw, pa.Table):
        raw_cols = list(raw.column_names)

        def raw_value(col, i):
            return str(raw.column(col)[int(i)].as_py())
    else:
        raw_cols = list(raw.columns)

        def raw_value(col, i):
            return str(raw[col].iat[i])
    ignored = check_columns(spec, raw_cols, fname)
    n = len(raw)
    bad = np.zeros(n, dtype=bool)
    reason = np.empty(n, dtype=object)
    bad_col = np.empty(n, dtype=object)
    out = {}
    for c in spec.columns:
        if c.name not in raw_cols:
            out[c.name] = pa.nulls(n, ARROW_TYPES[c.type])
            continue
        before = bad.copy()
        out[c.name] = _type_column(raw.column(c.name) if isinstance(raw, pa.Table) else raw[c.name], c, bad, reason,
                                   spec.name)
        bad_col[bad & ~before] = c.name
    frame = pa.table(out)
    if spec.key and dedupe and n:
        dup = _duplicated(frame, spec.key) & ~bad
        reason[dup] = "reject.duplicate_key"
        bad_col[dup] = spec.key[0]
        bad |= dup
    rows = np.arange(n) + offset + 2 if rows is None else np.asarray(rows)
    rejects = [Reject(fname, int(rows[i]), bad_col[i], raw_value(bad_col[i], i) if bad_col[i] in raw_cols else "",
                      reason[i]) for i in np.flatnonzero(bad)]
    keep = ~bad
    kept = frame.filter(pa.array(keep)) if bad.any() else frame
    bad_ids = 0
    if spec.name == "payments" and dedupe:      # (a chunk of a file: counted once for the whole file)
        bad_ids = int((~valid_mask(kept.column("id_number"))).sum())
    return TypedTable(spec.name, kept, rejects, ignored, n, bad_ids, rows[keep])


def validate_source(spec: TableSpec, src: Source, chunk_rows: int = CHUNK_ROWS) -> TypedTable:
    """Read and validate one table chunk by chunk; a key repeated anywhere in the file is a reject
    (the first occurrence wins). A file with misshapen records is read again the exact way."""
    try:
        return _validate_chunks(spec, src, chunk_rows, exact=False)
    except Misshapen:
        return _validate_chunks(spec, src, chunk_rows, exact=True)


def _validate_chunks(spec: TableSpec, src: Source, chunk_rows: int, exact: bool) -> TypedTable:
    bad_rows: list[Reject] = []
    parts: list[TypedTable] = []
    # chunks are typed on VALIDATE_THREADS threads while the next ones are read (Arrow's kernels and
    # numpy release the GIL); at most that many chunks wait, in file order
    with ThreadPoolExecutor(max_workers=VALIDATE_THREADS, thread_name_prefix="validate") as pool:
        pending: deque = deque()
        for rows, chunk in src.chunks(chunk_rows, bad_rows, exact=exact, arrow=True):
            pending.append(pool.submit(type_table, spec, chunk, src.label, rows=rows, dedupe=False))
            del chunk
            while len(pending) > VALIDATE_THREADS:
                parts.append(pending.popleft().result())
        while pending:
            parts.append(pending.popleft().result())
    frame = pa.concat_tables([p.frame for p in parts]) if len(parts) > 1 else parts[0].frame
    file_rows = np.concatenate([p.file_rows for p in parts]) if len(parts) > 1 else parts[0].file_rows
    rejects = bad_rows + [r for p in parts for r in p.rejects]
    if spec.key and len(frame):
        dup = _duplicated(frame, spec.key)
        if dup.any():
            k = spec.key[0]
            col = frame.column(k)
            rejects += [Reject(src.label, int(file_rows[i]), k, str(col[int(i)].as_py()), "reject.duplicate_key")
                        for i in np.flatnonzero(dup)]
            frame = frame.filter(pa.array(~dup))
            file_rows = file_rows[~dup]
    rejects.sort(key=lambda r: (r.row or 0))
    bad_ids = 0
    if spec.name == "payments" and len(frame):
        bad_ids = int((~valid_mask(frame.column("id_number"))).sum())
    return TypedTable(spec.name, frame, rejects, parts[0].ignored_columns, sum(p.rows_read for p in parts) + len(bad_rows),
                      bad_ids, file_rows)
