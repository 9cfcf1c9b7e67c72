"""Shared machinery of the clue rules: the result type, the rule registry, the run context (typed
frames plus integer codes computed once and shared by every rule), and the evidence helpers.

Everything is vectorised: records are matched through integer codes (pandas.factorize) and numpy
look-up arrays, joins are made only on the small subsets that can possibly fire, and Python loops
run over clues (to build their evidence), never over the records examined.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import pandas as pd

from core.settings import RuleSettings

try:  # orjson is a runtime dependency; json is the fallback
    import orjson

    def dumps(obj) -> str:
        return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY).decode()
except ImportError:  # pragma: no cover
    def dumps(obj) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)

# Money is compared to a millionth of a yuan: package amounts have at most two decimals, so this only
# absorbs binary floating-point noise (0.01 * 350 = 3.5000000000000004) and never moves a decision.
EPS = 1e-6
# Evidence lists are cut at this many rows (the count of the rest is given as "<table>_more").
EVIDENCE_ROWS = 50

CLUE_COLUMNS = ("rule", "table_name", "record_id", "region_code", "fund_code", "id_number", "project_code",
                "amount_at_risk", "evidence_json")
RUN_COLUMNS = ("rule", "ran", "reason", "examined", "clues", "seconds", "flood")


@dataclass
class RuleResult:
    clues: pd.DataFrame     # CLUE_COLUMNS (detect adds clue_id, status, detected_at)
    runs: pd.DataFrame      # RUN_COLUMNS, one row per rule asked for
    load_seconds: float = 0.0       # detect: reading the tables
    write_seconds: float = 0.0      # detect: replacing clues and rule_runs


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    table: str                      # the table of the records it fires on (truth.csv "table")
    needs: tuple                    # tables that must be in the package for the rule to run
    func: Callable                  # func(ctx) -> (clues DataFrame, examined)


RULES: dict[str, Rule] = {}


def rule(id: str, name: str, table: str, needs: tuple):
    def deco(f):
        RULES[id] = Rule(id, name, table, needs, f)
        return f
    return deco


def skip_key(rule_id: str, table: str) -> str:
    """The i18n key that says why a rule did not run (core/locales/rules.py)."""
    return f"rule.{rule_id}.skip.{table}"


def empty_clues() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c == "amount_at_risk" else object) for c in CLUE_COLUMNS})


# --- evidence --------------------------------------------------------------------------------------
def _iso(values) -> np.ndarray:
    s = pd.Series(values)
    out = s.dt.strftime("%Y-%m-%d").astype(object)
    out[s.isna().to_numpy()] = None
    return out.to_numpy()


def plain(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with JSON-ready cells: dates as ISO text, amounts to the fen, every missing as None."""
    out = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[c] = _iso(s)
        elif pd.api.types.is_bool_dtype(s) and not isinstance(s.dtype, pd.BooleanDtype):
            out[c] = s.to_numpy(dtype=object)
        elif pd.api.types.is_float_dtype(s):
            v = s.to_numpy(dtype=float).round(2).astype(object)
            v[np.isnan(s.to_numpy(dtype=float))] = None
            out[c] = v
        else:
            v = s.astype(object).to_numpy(copy=True)
            miss = pd.isna(s).to_numpy()
            v[miss] = None
            if pd.api.types.is_integer_dtype(s.dtype) or isinstance(s.dtype, pd.BooleanDtype):
                v[~miss] = [x.item() if hasattr(x, "item") else x for x in v[~miss]]
            out[c] = v
    return pd.DataFrame(out, index=df.index)


def records(df: pd.DataFrame) -> list[dict]:
    return plain(df).to_dict("records")


def grouped_records(keys, df: pd.DataFrame, limit: int = EVIDENCE_ROWS) -> tuple[np.ndarray, list[list[dict]], np.ndarray]:
    """Group the rows of ``df`` by ``keys`` (aligned): unique keys (sorted), the rows of each as dicts
    (at most ``limit``), and how many rows each group has in all."""
    keys = np.asarray(keys)
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    recs = records(df.iloc[order])
    if len(k) == 0:
        return k, [], np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    ends = np.r_[starts[1:], len(k)]
    lists = [recs[a:min(b, a + limit)] for a, b in zip(starts.tolist(), ends.tolist())]
    return k[starts], lists, ends - starts


def evidence_json(*columns: tuple[str, list]) -> list[str]:
    """One JSON object per clue from (key, per-clue values) pairs; a None value leaves the key out."""
    n = len(columns[0][1]) if columns else 0
    out = []
    for i in range(n):
        obj = {}
        for key, vals in columns:
            v = vals[i]
            if v is not None:
                obj[key] = v
        out.append(dumps(obj))
    return out


def limited(lists, counts, key: str) -> list[tuple[str, list]]:
    """Evidence columns for grouped rows: the rows under ``key`` and, where cut, ``key_more``."""
    more = [int(c - len(lst)) if c > len(lst) else None for lst, c in zip(lists, counts)]
    return [(key, lists), (key + "_more", more)]


def day_str(values) -> list:
    return list(_iso(values))


def rounded(values) -> list:
    return [None if np.isnan(x) else round(float(x), 2) for x in np.asarray(values, dtype=float)]


# --- the run context --------------------------------------------------------------------------------
def _obj(values) -> np.ndarray:
    """Object array of str/None from any string-like array (object or pyarrow strings)."""
    s = pd.Series(values)
    v = s.astype(object).to_numpy(copy=True)
    v[pd.isna(s).to_numpy()] = None
    return v


def factorize(values) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 = missing) and the uniques as an object array."""
    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), _obj(uniques)


def lookup(index: pd.Index, values) -> np.ndarray:
    """Positions of ``values`` in ``index`` (-1 where absent or missing)."""
    if len(index) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    vals = _obj(values)
    out = np.full(len(vals), -1, dtype=np.int64)
    ok = pd.notna(vals)
    out[ok] = index.get_indexer(vals[ok])
    return out


def by_code(n: int, codes: np.ndarray, values: np.ndarray, fill) -> np.ndarray:
    """An array of length n+1 (the extra last slot answers code -1) holding values at codes."""
    arr = np.full(n + 1, fill, dtype=np.asarray(values).dtype if not isinstance(fill, str) else object)
    ok = codes >= 0
    arr[codes[ok]] = np.asarray(values)[ok]
    return arr


def dates(s) -> np.ndarray:
    return pd.Series(s).to_numpy(dtype="datetime64[ns]")


def bools(s, missing: bool = False) -> np.ndarray:
    """A plain bool array from a pandas "boolean" (or any) column, missing as ``missing``."""
    ser = pd.Series(s)
    if isinstance(ser.dtype, pd.BooleanDtype):
        return ser.fillna(missing).to_numpy(dtype=bool)
    if ser.dtype == bool:
        return ser.to_numpy()
    return ser.map(lambda x: missing if pd.isna(x) else bool(x)).to_numpy(dtype=bool)


def floats(s) -> np.ndarray:
    return pd.to_numeric(pd.Series(s), errors="coerce").to_numpy(dtype=float)


class Context:
    """The package's typed frames plus codes shared by the rules, each computed on first use."""

    def __init__(self, tables: dict, as_of: dt.date, settings: RuleSettings):
        self.tables = {k: v for k, v in tables.items() if v is not None}
        self.as_of = np.datetime64(pd.Timestamp(as_of).normalize().to_datetime64(), "ns")
        self.settings = settings
        self.memo: dict = {}

    def has(self, name: str) -> bool:
        return name in self.tables

    def t(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    # payments ---------------------------------------------------------------------------------
    @cached_property
    def pay(self) -> pd.DataFrame:
        return self.tables["payments"]

    @cached_property
    def pay_ids(self) -> tuple[np.ndarray, pd.Index]:
        """Recipient codes of the payments and the index of distinct recipients."""
        codes, uniques = factorize(self.pay["id_number"])
        return codes, pd.Index(uniques)

    @property
    def pay_idc(self) -> np.ndarray:
        return self.pay_ids[0]

    @property
    def id_index(self) -> pd.Index:
        return self.pay_ids[1]

    def id_codes(self, values) -> np.ndarray:
        """Codes of other tables' ID numbers in the recipients' code space (-1 = never paid)."""
        return lookup(self.id_index, values)

    @cached_property
    def pay_paid(self) -> np.ndarray:
        return dates(self.pay["paid_date"])

    @cached_property
    def pay_amount(self) -> np.ndarray:
        return floats(self.pay["amount"])

    @cached_property
    def pay_funds(self) -> tuple[np.ndarray, np.ndarray]:
        return factorize(self.pay["fund_code"])

    @cached_property
    def pay_villages(self) -> tuple[np.ndarray, np.ndarray]:
        return factorize(self.pay["village_code"])

    @cached_property
    def pay_periods(self) -> tuple[np.ndarray, np.ndarray]:
        return factorize(self.pay["period"])

    @cached_property
    def pay_period_start(self) -> np.ndarray:
        codes, uniques = self.pay_periods
        starts = pd.to_datetime(pd.Series(uniques, dtype=object) + "-01", format="%Y-%m-%d",
                                errors="coerce").to_numpy(dtype="datetime64[ns]")
        return np.r_[starts, np.datetime64("NaT", "ns")][codes]

    def fund_attr(self, column: str, fill=None) -> np.ndarray:
        """A column of ``funds`` per payment (``fill`` where the fund is unknown)."""
        codes, uniques = self.pay_funds
        funds = self.t("funds").drop_duplicates("fund_code").set_index("fund_code")
        vals = funds[column].reindex(pd.Index(uniques, dtype=object))
        if pd.api.types.is_numeric_dtype(vals.dtype) and not pd.api.types.is_bool_dtype(vals.dtype):
            arr = np.r_[floats(vals), [np.nan if fill is None else fill]]
        else:
            arr = np.r_[_obj(vals), np.array([fill], dtype=object)]
        return arr[codes]

    @cached_property
    def pay_category(self) -> np.ndarray:
        return self.fund_attr("category")

    @cached_property
    def means_tested(self) -> np.ndarray:
        return np.isin(self.pay_category, list(self.settings.means_tested))

    def payment_clues(self, rule_id: str, rows: np.ndarray, amount_at_risk, evidence: list[str]) -> pd.DataFrame:
        p = self.pay.iloc[rows]
        return pd.DataFrame({
            "rule": rule_id, "table_name": "payments", "record_id": _obj(p["payment_id"]),
            "region_code": _obj(p["village_code"]), "fund_code": _obj(p["fund_code"]),
            "id_number": _obj(p["id_number"]),
            "project_code": _obj(p["project_code"]) if "project_code" in p else None,
            "amount_at_risk": np.asarray(amount_at_risk, dtype=float), "evidence_json": evidence})

    # people and village cadres ---------------------------------------------------------------------
    @cached_property
    def cadre_links(self) -> pd.DataFrame:
        """For every row of ``village_cadres``: the cadre and every member of the cadre's household
        (people sharing the cadre's household_no in the village where the cadre is registered).
        Columns member_id, cadre_row, relation ('self' or 'household'), household_no."""
        cad = self.t("village_cadres").reset_index(drop=True)
        ppl = self.t("people")[["id_number", "village_code", "household_no"]]
        ppl = ppl[ppl["id_number"].notna() & ppl["household_no"].notna()].drop_duplicates("id_number")
        own = pd.DataFrame({"cadre_row": np.arange(len(cad)), "id_number": _obj(cad["id_number"])})
        own = own.merge(pd.DataFrame({"id_number": _obj(ppl["id_number"]), "hh_village": _obj(ppl["village_code"]),
                                      "household_no": _obj(ppl["household_no"])}), on="id_number", how="left")
        members = pd.DataFrame({"member_id": _obj(ppl["id_number"]), "hh_village": _obj(ppl["village_code"]),
                                "household_no": _obj(ppl["household_no"])})
        hh = own.dropna(subset=["household_no"]).merge(members, on=["hh_village", "household_no"])
        hh = hh[hh["member_id"] != hh["id_number"]]
        links = pd.concat([
            pd.DataFrame({"member_id": own["id_number"], "cadre_row": own["cadre_row"], "relation": "self",
                          "household_no": own["household_no"]}),
            pd.DataFrame({"member_id": hh["member_id"], "cadre_row": hh["cadre_row"], "relation": "household",
                          "household_no": hh["household_no"]})], ignore_index=True)
        return links[links["member_id"].notna()].reset_index(drop=True)

    def cadre_records(self, rows: np.ndarray) -> pd.DataFrame:
        cad = self.t("village_cadres").reset_index(drop=True)
        cols = [c for c in ("id_number", "village_code", "role", "start_date", "end_date") if c in cad]
        return cad.iloc[rows][cols].reset_index(drop=True)


def serving(start, end, on) -> np.ndarray:
    """start <= on and (end empty or end >= on); an empty start counts as "since always"."""
    start, end, on = dates(start), dates(end), dates(on)
    return (np.isnat(start) | (start <= on)) & (np.isnat(end) | (end >= on)) & ~np.isnat(on)


def on_or_before(registered, on) -> np.ndarray:
    """registered <= on; an empty registration date counts as "since always"."""
    registered, on = dates(registered), dates(on)
    return (np.isnat(registered) | (registered <= on)) & ~np.isnat(on)


def days_between(later, earlier) -> np.ndarray:
    """Whole days from ``earlier`` to ``later`` as float (NaN where either is empty)."""
    a, b = dates(later), dates(earlier)
    d = (a - b).astype("timedelta64[D]").astype(float)
    d[np.isnat(a) | np.isnat(b)] = np.nan
    return d
