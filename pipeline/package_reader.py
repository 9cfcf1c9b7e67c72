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
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from core.idnumber import birth_date, valid_mask  # noqa: F401
from core.scope import normalize_code
from pipeline.spec import MANIFEST_KEYS, TABLES, TableSpec

KNOWN_FILES = {"manifest", "truth", *TABLES}


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

    def chunks(self, chunk_rows: int = CHUNK_ROWS, bad_rows: list | None = None) -> Iterator[tuple[int, pd.DataFrame]]:
        """(offset, frame of strings) pairs; ``offset`` = index of the chunk's first data row."""
        if self.frame is not None:
            df = self.frame
            for start in range(0, max(len(df), 1), chunk_rows):
                yield start, df.iloc[start:start + chunk_rows].reset_index(drop=True)
            return
        invalid: list = []

        def on_invalid(row):
            invalid.append(row.text)
            return "skip"
        with self.opener() as fh:
            try:
                reader = pacsv.open_csv(
                    fh, read_options=pacsv.ReadOptions(block_size=32 << 20, encoding=self.encoding),
                    parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
                    convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in self._raw_columns},
                                                         strings_can_be_null=False))
                offset = 0
                buf: list[pd.DataFrame] = []
                size = 0
                for batch in reader:
                    df = batch.to_pandas(types_mapper=pd.ArrowDtype)
                    df.columns = [str(c).strip().lower() for c in df.columns]
                    buf.append(df)
                    size += len(df)
                    if size >= chunk_rows:
                        out = pd.concat(buf, ignore_index=True)
                        yield offset, out
                        offset += len(out)
                        buf, size = [], 0
                if buf or offset == 0:
                    out = pd.concat(buf, ignore_index=True) if buf else pd.DataFrame(
                        {c: pd.Series([], dtype=STRING) for c in self.columns})
                    yield offset, out
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                raise PackageError("package.unreadable_csv", self.label, detail=str(exc).splitlines()[0][:200])
        if invalid and bad_rows is not None:
            bad_rows.extend(self._locate_invalid_rows())

    @property
    def _raw_columns(self) -> list[str]:
        return getattr(self, "_raw_cols", self.columns)

    def _locate_invalid_rows(self) -> list[Reject]:
        """Rows with the wrong number of fields: found again with the csv module for their line numbers."""
        import csv
        out = []
        with self.opener() as fh:
            text = io.TextIOWrapper(fh, encoding=self.encoding, newline="")
            rd = csv.reader(text)
            header = next(rd, [])
            for rec in rd:
                if len(rec) != len(header):
                    out.append(Reject(self.label, rd.line_num, "", ",".join(rec)[:200], "reject.wrong_field_count"))
        return out


@dataclass
class RawPackage:
    manifest: dict
    sources: dict[str, Source]
    encodings: dict[str, str] = field(default_factory=dict)
    ignored_files: list[str] = field(default_factory=list)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Whole tables in memory (small packages and tests only)."""
        return {n: pd.concat([c for _, c in s.chunks()], ignore_index=True) for n, s in self.sources.items()}


def _sniff_encoding(head: bytes, label: str) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
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
    with opener() as fh:
        first = fh.readline(1 << 20)
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    line = first.decode(encoding, errors="replace").strip("\r\n")
    if not line.strip():
        raise PackageError("package.empty_file", label)
    import csv
    return list(next(csv.reader([line])))


def read_package(path: str | Path) -> RawPackage:
    """Open a package: read the manifest and every table's header (structural checks), not the rows."""
    path = Path(path)
    openers: dict[str, tuple[str, Callable[[], BinaryIO]]] = {}
    if path.is_dir():
        for f in sorted(path.iterdir()):
            if f.suffix.lower() == ".csv" and f.is_file():
                openers[f.stem.lower()] = (f.name, (lambda f=f: open(f, "rb")))
    elif path.suffix.lower() == ".zip" and path.is_file():
        zf = zipfile.ZipFile(path)
        for info in zf.infolist():
            name = Path(info.filename).name
            if name.lower().endswith(".csv") and not info.is_dir():
                openers[Path(name).stem.lower()] = (name, (lambda info=info: zf.open(info)))
    elif path.suffix.lower() == ".xlsx" and path.is_file():
        return _read_xlsx(path)
    else:
        raise PackageError("package.not_found", str(path))
    if "manifest" not in openers:
        raise PackageError("package.missing_manifest", "manifest.csv")
    raw = RawPackage(manifest={}, sources={})
    for stem, (label, opener) in openers.items():
        if stem not in KNOWN_FILES:
            raw.ignored_files.append(label)
            continue
        if stem == "truth":
            continue  # written by generators only; never read by the importer
        with opener() as fh:
            head = fh.read(1 << 20)
        enc = _sniff_encoding(head, label)
        raw.encodings[stem] = enc
        if stem == "manifest":
            with opener() as fh:
                text = fh.read().decode("utf-8-sig" if enc == "utf-8" else enc)
            raw.manifest = _manifest(_csv_frame(text, label), label)
            continue
        src = Source(stem, label, opener=opener, encoding=enc)
        src._raw_cols = _header(opener, enc, label)
        src.columns = [c.strip().lower() for c in src._raw_cols]
        raw.sources[stem] = src
    return raw


def _csv_frame(text: str, fname: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise PackageError("package.unreadable_csv", fname, detail=str(exc).splitlines()[0])
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df


def _read_xlsx(path: Path) -> RawPackage:
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, na_filter=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise PackageError("package.unreadable_xlsx", path.name, detail=type(exc).__name__)
    raw = RawPackage(manifest={}, sources={})
    for name, df in sheets.items():
        stem = str(name).strip().lower()
        df.columns = [str(c).strip().lower() for c in df.columns]
        if stem == "manifest":
            raw.manifest = _manifest(df, f"{path.name}:manifest")
        elif stem in TABLES:
            frame = df.astype(str).astype(STRING)
            raw.sources[stem] = Source(stem, f"{path.name}:{stem}", frame=frame, columns=list(frame.columns))
        elif stem != "truth":
            raw.ignored_files.append(f"{path.name}:{name}")
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
    frame: pd.DataFrame                     # typed, only the valid rows, spec columns only
    rejects: list[Reject]
    ignored_columns: list[str]
    rows_read: int
    bad_id_rows: int = 0                    # payments kept with an invalid ID number (R02)
    file_rows: np.ndarray | None = None     # the file line number of every kept row


def _np(mask) -> np.ndarray:
    return np.asarray(pd.array(mask).fillna(False) if hasattr(mask, "fillna") else mask, dtype=bool)


def _obj(v: pd.Series, keep: np.ndarray) -> pd.Series:
    """Strings as Python str, missing as None (the typed-frame convention)."""
    out = v.astype(object)
    out[~keep] = None
    return out


def _type_column(s: pd.Series, col, bad: np.ndarray, reason: np.ndarray, table: str) -> pd.Series:
    """Convert one string column; mark bad rows (the first reason of a row wins)."""
    if not isinstance(s.dtype, pd.ArrowDtype):
        s = s.astype(str).astype(STRING)
    v = s.str.strip()
    empty = _np(v.eq(""))
    filled = ~empty

    def flag(mask, key):
        mask = np.asarray(mask, dtype=bool) & ~bad
        reason[mask] = key
        bad[mask] = True

    if not col.nullable:
        flag(empty, "reject.required")
    t = col.type
    if t == "text":
        return _obj(v, filled)
    if t == "code":
        ok = _np(v.str.fullmatch(_CODE_RE))
        flag(~ok & filled, "reject.bad_region_code")
        return _obj(v.str.pad(12, side="right", fillchar="0"), ok & filled)
    if t == "enum":
        ok = _np(v.isin(col.choices))
        flag(~ok & filled, "reject.bad_choice")
        return _obj(v, filled)
    if t == "id":
        u = v.str.upper()
        if table == "payments" and col.name == "id_number":
            # kept: the bad number itself becomes a clue (R02); only the shape must be an ID's
            flag(~_np(u.str.fullmatch(r"\d{17}[\dX]")) & filled, "reject.bad_id_format")
        else:
            flag(~valid_mask(u) & filled, "reject.bad_id_checksum")
        return _obj(u, filled)
    if t == "date":
        fmt = _np(v.str.fullmatch(_DATE_RE))
        d = pd.to_datetime(_obj(v, fmt), format="%Y-%m-%d", errors="coerce")
        flag((~fmt | d.isna().to_numpy()) & filled, "reject.bad_date")
        return d.astype("datetime64[ns]")
    if t in ("amount", "number", "int"):
        rx = {"amount": _AMOUNT_RE, "number": _NUMBER_RE, "int": _INT_RE}[t]
        ok = _np(v.str.fullmatch(rx))
        flag(_np(v.str.startswith("-")) & filled, "reject.negative")
        flag(~ok & filled, {"amount": "reject.bad_amount", "number": "reject.bad_number", "int": "reject.bad_int"}[t])
        num = pd.to_numeric(_obj(v, ok & filled), errors="coerce")
        return num.astype("Int64") if t == "int" else num.astype("float64")
    if t == "bool":
        low = v.str.lower()
        ok = _np(low.isin(list(_BOOL)))
        flag(~ok & filled, "reject.bad_bool")
        return _obj(low, ok & filled).map(_BOOL, na_action="ignore").astype("boolean")
    if t == "period":
        ok = _np(v.str.fullmatch(_PERIOD_RE))
        flag(~ok & filled, "reject.bad_period")
        return _obj(v, filled)
    raise ValueError(f"unknown column type {t}")


def check_columns(spec: TableSpec, columns: list[str], label: str) -> list[str]:
    """Raise for a missing required column; return the extra (ignored) columns."""
    for c in spec.columns:
        if c.required and c.name not in columns:
            raise PackageError("package.missing_column", label, c.name)
    return [c for c in columns if c not in spec.column_names]


def type_table(spec: TableSpec, raw: pd.DataFrame, file_label: str | None = None, offset: int = 0) -> TypedTable:
    """Validate and type one table (or one chunk of it whose first data row is ``offset``).
    Raises PackageError when a required column is missing."""
    fname = file_label or f"{spec.name}.csv"
    ignored = check_columns(spec, list(raw.columns), fname)
    n = len(raw)
    bad = np.zeros(n, dtype=bool)
    reason = np.empty(n, dtype=object)
    bad_col = np.empty(n, dtype=object)
    out = {}
    for c in spec.columns:
        if c.name not in raw.columns:
            out[c.name] = pd.Series([None] * n, dtype=object)
            continue
        before = bad.copy()
        out[c.name] = _type_column(raw[c.name].reset_index(drop=True), c, bad, reason, spec.name)
        bad_col[bad & ~before] = c.name
    frame = pd.DataFrame(out)
    if spec.key:
        dup = frame.duplicated(list(spec.key), keep="first").to_numpy() & ~bad
        reason[dup] = "reject.duplicate_key"
        bad_col[dup] = spec.key[0]
        bad |= dup
    rows = np.arange(n) + offset + 2            # header is line 1
    rejects = [Reject(fname, int(rows[i]), bad_col[i], str(raw[bad_col[i]].iat[i]) if bad_col[i] in raw.columns else "",
                      reason[i]) for i in np.flatnonzero(bad)]
    bad_ids = 0
    if spec.name == "payments":
        bad_ids = int((~valid_mask(frame["id_number"].fillna("")) & ~bad).sum())
    keep = ~bad
    return TypedTable(spec.name, frame.loc[keep].reset_index(drop=True), rejects, ignored, n, bad_ids, rows[keep])
