"""Roll-up tables, rebuilt after every import: the dashboard reads these, never the raw payments.

The heavy part (one GROUP BY over payments, one over payments x people, one over the ledger) runs
in SQL; the expansion from village to township, county, city and province runs in pandas on those
small aggregates (region codes are hierarchical: an ancestor is a prefix padded with zeros).
Decisions: payments are counted in the year and month of their `period` (the entitlement month);
funds, allocations and projects in the fund's budget `year`; ledger entries by `entry_date`.
"households reached" = distinct households (people.household_no; a recipient missing from people
counts as their own household) among the recipients paid in a village, summed over villages.
"""
from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import text
from sqlalchemy.engine import Connection

from core import schema
from core.settings import get_settings
from pipeline.bulk import delete_all, insert_frame

LEVEL_LEN = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
LEVELS = tuple(LEVEL_LEN)


def _ym(conn, col):
    return f"substr({col},1,7)" if conn.dialect.name == "sqlite" else f"to_char({col},'YYYY-MM')"


def _read(conn: Connection, sql: str) -> pd.DataFrame:
    res = conn.execute(text(sql))
    return pd.DataFrame(res.fetchall(), columns=list(res.keys()))


def _arrow_str(codes: pd.Series) -> pa.Array:
    arr = getattr(codes.array, "_pa_array", None)
    if arr is None:
        try:
            arr = pa.array(codes.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            arr = pa.array(codes.astype(str).to_numpy(dtype=object), type=pa.string())
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def anc(codes: pd.Series, level: str) -> pd.Series:
    n = LEVEL_LEN[level]
    out = pc.binary_join_element_wise(pc.utf8_slice_codeunits(_arrow_str(codes), 0, n), "0" * (12 - n), "")
    return pd.Series(out.to_numpy(zero_copy_only=False), index=codes.index, dtype=object)


def code_level(codes: pd.Series) -> pd.Series:
    c = _arrow_str(codes)

    def zeros(start):
        tail = pc.utf8_slice_codeunits(c, start, 12)
        return np.asarray(pc.fill_null(pc.equal(tail, "0" * (12 - start)), False).to_numpy(zero_copy_only=False), dtype=bool)
    lvl = np.select([zeros(2), zeros(4), zeros(6), zeros(9)], ["province", "city", "county", "township"], "village")
    return pd.Series(lvl, index=codes.index)


def expand_levels(df: pd.DataFrame, code_col: str, keys: list[str], sums: dict[str, str],
                  levels=LEVELS) -> pd.DataFrame:
    """Sum ``df`` (rows at the deepest level) up to every level. Rows whose own level is above a
    target level (e.g. a county-level complaint) count only for that level and above."""
    own = LEVELS.index  # noqa: E731
    lv = code_level(df[code_col]).map(own)
    out = []
    for level in levels:
        part = df[lv >= own(level)]
        if part.empty:
            continue
        part = part.assign(region_code=anc(part[code_col], level))
        g = part.groupby(["region_code", *keys], as_index=False, sort=False).agg(**{k: (v, "sum") for k, v in sums.items()})
        g["level"] = level
        out.append(g)
    if not out:
        return pd.DataFrame(columns=["region_code", *keys, *sums, "level"])
    return pd.concat(out, ignore_index=True)


def _village_payments(conn) -> pd.DataFrame:
    return _read(conn, "SELECT village_code, period, fund_code, COUNT(*) AS n, SUM(amount) AS amount "
                       "FROM payments GROUP BY village_code, period, fund_code")


# --- what the roll-ups need from payments (and people): from SQL, or from the typed frames ----------------
# ``fresh``: pyarrow Tables (pipeline.package_reader.ARROW_TYPES) whose rows are exactly what the table holds,
# i.e. tables that the import has just loaded into empty tables. Their sums are computed in whole fen
# (amounts have at most two decimals), so they are exact; the SQL path sums doubles.
FRESH_COLUMNS = {"payments": ("village_code", "period", "fund_code", "id_number", "amount", "paid_date"),
                 "people": ("id_number", "household_no")}


def _fen(amount) -> pa.Array:
    a = np.asarray(pc.fill_null(amount, 0.0).to_numpy(zero_copy_only=False), dtype=float)
    return pa.array(np.round(a * 100.0).astype(np.int64))


def _to_pandas(tbl: pa.Table, fen_cols=()) -> pd.DataFrame:
    df = tbl.to_pandas()
    for c in df.columns:
        if c in fen_cols:
            df[c] = df[c].astype(np.int64) / 100.0
    return df


def _group(tbl: pa.Table, keys: list[str], aggs: list[tuple], names: list[str]) -> pa.Table:
    g = tbl.group_by(keys, use_threads=False).aggregate(aggs)
    g = g.select([*(f"{c}_{f}" for c, f in aggs), *keys]).rename_columns([*names, *keys])
    return g.sort_by([(k, "ascending") for k in keys])


def fresh_payment_inputs(pay: pa.Table, people: pa.Table | None, funds: pd.DataFrame, as_of: str | None) -> dict:
    """The payment aggregates of the roll-ups (see ``_sql_payment_inputs``) from the typed payments."""
    cat = dict(zip(funds["fund_code"], funds["category"]))
    fcodes = pc.unique(pay.column("fund_code")).to_pylist()
    fcat = pa.array([cat.get(f) or "other" for f in fcodes], type=pa.string())
    t = pa.table({"village_code": pay.column("village_code"), "period": pay.column("period"),
                  "fund_code": pay.column("fund_code"), "id_number": pay.column("id_number"),
                  "fen": _fen(pay.column("amount")),
                  "category": pc.take(fcat, pc.index_in(pay.column("fund_code"), value_set=pa.array(fcodes, pa.string()))),
                  "yr": pc.utf8_slice_codeunits(pay.column("period"), 0, 4)})
    out = {}
    out["month"] = _to_pandas(_group(t, ["village_code", "period", "category"], [("fen", "count"), ("fen", "sum")],
                                     ["n", "amount"]), ["amount"])
    out["fund"] = _to_pandas(_group(t, ["village_code", "fund_code"], [("fen", "count"), ("fen", "sum")],
                                    ["n", "amount"]), ["amount"])
    yr = _to_pandas(_group(t, ["village_code", "yr"], [("fen", "count"), ("fen", "sum")], ["n", "amount"]), ["amount"])
    out["ind"] = yr.rename(columns={"n": "n_payments", "amount": "paid_amount"})[["village_code", "yr", "n_payments",
                                                                                   "paid_amount"]]
    out["year"] = yr.assign(year=yr["yr"].astype(int))[["village_code", "year", "n", "amount"]]
    out["rec"] = _to_pandas(_group(t, ["fund_code", "village_code"], [("id_number", "count_distinct")],
                                   ["n_recipients"]))[["fund_code", "village_code", "n_recipients"]]
    # persons and households reached: distinct (village, year, person) first, then the household numbers
    vyp = t.group_by(["village_code", "yr", "id_number"], use_threads=False).aggregate([])
    if people is not None and len(people):
        ppl = people.select(["id_number", "household_no"])
        pos = pc.index_in(vyp.column("id_number"), value_set=ppl.column("id_number"))
        hh_no = pc.take(ppl.column("household_no"), pos)
    else:
        hh_no = pa.nulls(len(vyp), pa.string())
    vyp = vyp.append_column("hh", pc.coalesce(hh_no, vyp.column("id_number")))
    hh = _group(vyp, ["village_code", "yr"], [("id_number", "count_distinct"), ("hh", "count_distinct")],
                ["persons", "households"])
    out["hh"] = _to_pandas(hh)[["village_code", "yr", "persons", "households"]]
    if as_of is not None:
        early = t.filter(pc.less_equal(pay.column("paid_date"), as_of))
        out["asof"] = _to_pandas(_group(early, ["village_code", "fund_code"], [("fen", "sum")], ["amount"]),
                                 ["amount"])[["village_code", "fund_code", "amount"]]
    return out


def _sql_payment_inputs(conn, funds: pd.DataFrame) -> dict:
    """month: (village, period, category) n/amount; fund: (village, fund) n/amount; year: (village, year)
    n/amount; rec: (fund, village) distinct recipients; hh: (village, yr) persons/households reached."""
    pv = _village_payments(conn)
    pv["n"] = pv["n"].astype("int64")
    pv["amount"] = pv["amount"].astype(float)
    pv = pv.merge(funds[["fund_code", "category"]], on="fund_code", how="left")
    pv["category"] = pv["category"].fillna("other")
    out = {"month": pv.groupby(["village_code", "period", "category"], as_index=False, sort=False)[["n", "amount"]].sum(),
           "fund": pv.groupby(["village_code", "fund_code"], as_index=False, sort=False)[["n", "amount"]].sum()}
    pv["year"] = pv["period"].str.slice(0, 4).astype(int)
    out["year"] = pv.groupby(["village_code", "year"], as_index=False, sort=False)[["n", "amount"]].sum()
    rec = _read(conn, "SELECT fund_code, village_code, COUNT(DISTINCT id_number) AS n_recipients "
                      "FROM payments GROUP BY fund_code, village_code")
    rec["n_recipients"] = rec["n_recipients"].astype("int64")
    out["rec"] = rec
    out["hh"] = _read(conn, "SELECT p.village_code, substr(p.period,1,4) AS yr, COUNT(DISTINCT p.id_number) AS persons, "
                            "COUNT(DISTINCT COALESCE(pe.household_no, p.id_number)) AS households "
                            "FROM payments p LEFT JOIN people pe ON pe.id_number = p.id_number "
                            "GROUP BY p.village_code, substr(p.period,1,4)")
    return out


def _latest_as_of(conn) -> str | None:
    row = conn.execute(text("SELECT as_of_date FROM packages ORDER BY id DESC LIMIT 1")).first()
    return None if row is None else str(row[0])[:10]


def build_rollups(conn: Connection, fresh: dict | None = None) -> None:
    """Rebuild the roll-ups. ``fresh`` (optional): typed pyarrow tables equal to what the database holds
    (the importer passes the tables it has just loaded into empty ones): payments (with people, when
    people is fresh or empty) are then aggregated in memory instead of sorted by SQL."""
    for name in schema.ROLLUP_TABLES:
        delete_all(conn, getattr(schema, name))
    funds = _read(conn, "SELECT fund_code, category, year, issuing_region_code, total_amount FROM funds")
    fresh = fresh or {}
    pay_in = None
    if "payments" in fresh and ("people" in fresh or _is_empty_table(conn, "people")):
        pay_in = fresh_payment_inputs(fresh["payments"], fresh.get("people"), funds, _latest_as_of(conn))
        fresh["_payment_inputs"] = pay_in          # for build_clue_rollups / build_indicator_rollups
    else:
        pay_in = _sql_payment_inputs(conn, funds)

    # agg_pay_month
    m = expand_levels(pay_in["month"], "village_code", ["period", "category"], {"n_payments": "n", "amount": "amount"})
    insert_frame(conn, schema.agg_pay_month, m, replace=False)

    # agg_fund_region: per fund and region, allocated in / passed on / paid inside
    allocs = _read(conn, "SELECT fund_code, from_region_code, to_region_code, amount FROM allocations")
    allocs["amount"] = allocs["amount"].astype(float)
    paid = expand_levels(pay_in["fund"], "village_code", ["fund_code"], {"paid_inside": "amount", "n_payments": "n"})
    recs = expand_levels(pay_in["rec"], "village_code", ["fund_code"], {"n_recipients": "n_recipients"})
    ain = allocs.groupby(["fund_code", "to_region_code"], as_index=False)["amount"].sum().rename(
        columns={"to_region_code": "region_code", "amount": "allocated_in"})
    pon = allocs.groupby(["fund_code", "from_region_code"], as_index=False)["amount"].sum().rename(
        columns={"from_region_code": "region_code", "amount": "passed_on"})
    fr = paid.drop(columns="level").merge(recs.drop(columns="level"), on=["region_code", "fund_code"], how="outer")
    fr = fr.merge(ain, on=["fund_code", "region_code"], how="outer").merge(pon, on=["fund_code", "region_code"], how="outer")
    for c in ("paid_inside", "allocated_in", "passed_on"):
        fr[c] = fr[c].fillna(0.0)
    for c in ("n_payments", "n_recipients"):
        fr[c] = fr[c].fillna(0).astype("int64")
    fr["level"] = code_level(fr["region_code"])
    parent = {"province": None, "city": 2, "county": 4, "township": 6, "village": 9}
    fr["parent_code"] = [None if parent[lv] is None else rc[: parent[lv]] + "0" * (12 - parent[lv])
                         for rc, lv in zip(fr["region_code"], fr["level"])]
    insert_frame(conn, schema.agg_fund_region, fr, replace=False)
    insert_frame(conn, schema.agg_fund_reach, fund_reach(fr, allocs, funds), replace=False)

    # agg_region_year
    pay_y = expand_levels(pay_in["year"], "village_code", ["year"], {"paid_amount": "amount", "n_payments": "n"})
    hh = pay_in["hh"]
    hh["year"] = hh["yr"].astype(int)
    for c in ("persons", "households"):
        hh[c] = hh[c].astype("int64")
    hh_y = expand_levels(hh, "village_code", ["year"], {"persons_reached": "persons", "households_reached": "households"})
    f = funds.assign(total_amount=funds["total_amount"].astype(float), one=1)
    fd = expand_levels(f, "issuing_region_code", ["year"], {"funds_disclosed": "total_amount", "n_funds": "one"})
    # allocations into a region's subtree from outside it (for the province: what it sent down)
    a = allocs.merge(funds[["fund_code", "year"]], on="fund_code", how="left")
    a_parts = []
    for level in LEVELS:
        n = LEVEL_LEN[level]
        if level == "province":
            part = a[a["from_region_code"].str.slice(2).eq("0" * 10)]
            part = part.assign(region_code="43" + "0" * 10)
        else:
            to_l = a["to_region_code"].str.slice(0, n)
            inside = a["from_region_code"].str.slice(0, n).eq(to_l)
            deep_enough = code_level(a["to_region_code"]).map(LEVELS.index) >= LEVELS.index(level)
            part = a[~inside & deep_enough].assign(region_code=to_l[~inside & deep_enough] + "0" * (12 - n))
        g = part.groupby(["region_code", "year"], as_index=False)["amount"].sum().rename(columns={"amount": "allocated_in"})
        a_parts.append(g)
    al_y = pd.concat(a_parts, ignore_index=True) if a_parts else pd.DataFrame(columns=["region_code", "year", "allocated_in"])
    led = _read(conn, f"SELECT village_code, {_ym(conn, 'entry_date')} AS ym, direction, COUNT(*) AS n, SUM(amount) AS amount "
                      "FROM ledger GROUP BY village_code, 2, direction")
    led["year"] = led["ym"].str.slice(0, 4).astype(int)
    led["amount"] = led["amount"].astype(float)
    led["income"] = np.where(led["direction"].eq("income"), led["amount"], 0.0)
    led["expense"] = np.where(led["direction"].eq("expense"), led["amount"], 0.0)
    led["n"] = led["n"].astype("int64")
    led_y = expand_levels(led, "village_code", ["year"], {"ledger_income": "income", "ledger_expense": "expense", "n_ledger": "n"})
    pr = _read(conn, "SELECT p.region_code, f.year, p.contract_amount FROM projects p JOIN funds f ON f.fund_code = p.fund_code")
    pr = pr.assign(contract_amount=pr["contract_amount"].astype(float), one=1)
    pr_y = expand_levels(pr, "region_code", ["year"], {"project_amount": "contract_amount", "n_projects": "one"})
    key = ["region_code", "year"]
    ry = None
    for part in (pay_y, hh_y, fd, al_y, led_y, pr_y):
        part = part.drop(columns=[c for c in ("level",) if c in part.columns])
        ry = part if ry is None else ry.merge(part, on=key, how="outer")
    regs = _read(conn, "SELECT code AS region_code, households, population FROM regions")
    ry = ry.merge(regs, on="region_code", how="left")
    ry["level"] = code_level(ry["region_code"])
    for c in ("funds_disclosed", "allocated_in", "paid_amount", "ledger_income", "ledger_expense", "project_amount"):
        ry[c] = ry[c].fillna(0.0).astype(float)
    for c in ("n_funds", "n_payments", "households_reached", "persons_reached", "n_ledger", "n_projects"):
        ry[c] = ry[c].fillna(0).astype("int64")
    _fill_region_population(regs, ry)
    insert_frame(conn, schema.agg_region_year, ry, replace=False)

    build_complaint_rollups(conn)
    build_flow_rollups(conn, pay_in.get("asof"))


REACH_LEVELS = schema.FUND_REACH_LEVELS


def fund_reach(fr: pd.DataFrame, allocs: pd.DataFrame, funds: pd.DataFrame) -> pd.DataFrame:
    """agg_fund_reach: (region_code, fund_code) for the regions of REACH_LEVELS. A fund reaches a region
    when agg_fund_region has a row for it at the region, or when it is allocated to, or issued by, the
    region or a region inside it (a code is inside a region when it starts with the region's prefix: its
    ancestors are its truncations to each level's length). A village's funds are read directly."""
    own = fr.loc[fr["level"].isin(REACH_LEVELS), ["region_code", "fund_code"]]
    inside = pd.concat([allocs[["fund_code", "to_region_code"]].set_axis(["fund_code", "code"], axis=1),
                        funds[["fund_code", "issuing_region_code"]].set_axis(["fund_code", "code"], axis=1)],
                       ignore_index=True).dropna().drop_duplicates()
    parts = [own] + [pd.DataFrame({"region_code": anc(inside["code"], level), "fund_code": inside["fund_code"]})
                     for level in REACH_LEVELS]
    out = pd.concat(parts, ignore_index=True).drop_duplicates()
    return out[code_level(out["region_code"]).isin(REACH_LEVELS)].reset_index(drop=True)


def _is_empty_table(conn, name: str) -> bool:
    return conn.execute(text(f"SELECT 1 FROM {name} LIMIT 1")).first() is None


def _fill_region_population(regs: pd.DataFrame, ry: pd.DataFrame) -> None:
    """Where a region has no households/population of its own, use the sum of its villages'."""
    v = regs[code_level(regs["region_code"]).eq("village")].dropna(subset=["households"])
    if v.empty:
        return
    v = v.assign(households=v["households"].astype(float), population=v["population"].astype(float))
    tot = expand_levels(v, "region_code", [], {"hh": "households", "pop": "population"})
    hh = dict(zip(tot["region_code"], tot["hh"]))
    pop = dict(zip(tot["region_code"], tot["pop"]))
    miss = ry["households"].isna()
    ry.loc[miss, "households"] = ry.loc[miss, "region_code"].map(hh)
    miss = ry["population"].isna()
    ry.loc[miss, "population"] = ry.loc[miss, "region_code"].map(pop)
    ry["households"] = ry["households"].astype("Int64")
    ry["population"] = ry["population"].astype("Int64")


def complaint_frame(conn: Connection) -> pd.DataFrame:
    df = _read(conn, "SELECT complaint_id, region_code, channel, category, received_date, accepted_date, closed_date, "
                     "extension_approved, substantiated, amount_involved FROM complaints")
    for c in ("received_date", "accepted_date", "closed_date"):
        df[c] = pd.to_datetime(df[c], errors="coerce")
    return df


def complaint_timeliness(df: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """The platform's service rule, the one implementation that the roll-ups, the complaints page and
    R22/R23 share (thresholds from settings): accept within ``accept_days`` of receipt; close within
    ``close_months`` calendar months of acceptance, ``close_months_extended`` with an approved extension.

    "Day N" is received_date + N days: accepted on day 7 is in time, on day 8 late. The last allowed
    closing day is accepted_date plus the months (pd.DateOffset: the same day of the month, or that
    month's last day when it has no such day, e.g. 30 Nov + 3 months = 28/29 Feb); closed on it is in
    time, the day after is late.

    Adds days_to_accept, days_to_close (from acceptance), accepted_in_time, close_limit, closed_in_time.
    With ``as_of`` (the package's date) also the overdue flags of R22/R23 and by how many days:
    accept_overdue / accept_days_overdue (accepted late, or not accepted and older than the limit at
    as-of) and close_overdue / close_days_overdue (closed after the limit, or accepted, still open and
    past it at as-of).
    """
    rs = get_settings().rules
    # numpy over the columns, added to the frame in one step: a county's page asks this of a few dozen
    # complaints, where pandas' ~25 Series operations cost ~4 ms and numpy's a few hundred microseconds
    received, accepted, closed = (df[c].to_numpy(dtype="datetime64[ns]") for c in
                                  ("received_date", "accepted_date", "closed_date"))
    has_acc, has_closed = ~np.isnat(accepted), ~np.isnat(closed)

    def days(later, earlier) -> np.ndarray:
        """Whole days from ``earlier`` to ``later`` (floored, as .dt.days): whole numbers, or floats with
        NaN where either is missing."""
        ok = ~(np.isnat(later) | np.isnat(earlier))
        with np.errstate(invalid="ignore"):               # NaT // 1 day: masked out below
            whole = (later - earlier) // np.timedelta64(1, "D")
        if ok.all():
            return whole.astype("int64")
        return np.where(ok, whole, np.nan)
    acc_days = days(accepted, received)
    ext = np.fromiter((bool(v) if pd.notna(v) else False for v in df["extension_approved"].tolist()), bool, len(df))
    acc = df["accepted_date"]
    limit = (acc + pd.DateOffset(months=rs.close_months)).to_numpy(dtype="datetime64[ns]")
    limit_ext = (acc + pd.DateOffset(months=rs.close_months_extended)).to_numpy(dtype="datetime64[ns]")
    close_limit = np.where(ext, limit_ext, limit)
    with np.errstate(invalid="ignore"):
        cols = {"days_to_accept": acc_days, "accepted_in_time": has_acc & (acc_days <= rs.accept_days),
                "close_limit": close_limit, "days_to_close": days(closed, accepted),
                "closed_in_time": has_closed & (closed <= close_limit) & ~np.isnat(close_limit)}
        if as_of is not None:
            as_of = pd.Timestamp(as_of)
            at = np.full(len(df), as_of.to_datetime64(), dtype="datetime64[ns]")
            open_age = days(at, received)
            late_acc = has_acc & (acc_days > rs.accept_days)
            late_open = ~has_acc & (open_age > rs.accept_days)
            has_limit = ~np.isnat(close_limit)
            late_closed = has_closed & has_limit & (closed > close_limit)
            still_open = ~has_closed & has_limit & (at > close_limit)
            cols["accept_overdue"] = late_acc | late_open
            cols["accept_days_overdue"] = np.where(late_acc, acc_days - rs.accept_days,
                                                   np.where(late_open, open_age - rs.accept_days, 0)).astype("int64")
            cols["close_overdue"] = late_closed | still_open
            cols["close_days_overdue"] = np.where(late_closed, days(closed, close_limit),
                                                  np.where(still_open, days(at, close_limit), 0)).astype("int64")
    out = df.drop(columns=[c for c in cols if c in df.columns])
    return pd.concat([out, pd.DataFrame(cols, index=df.index)], axis=1)


def _flag(s: pd.Series) -> pd.Series:
    """A yes/no column as bool, missing = no (through the nullable boolean: fillna on an object column of
    True/False/None makes pandas warn about downcasting)."""
    return s.astype("boolean").fillna(False).astype(bool)


def build_complaint_rollups(conn: Connection) -> None:
    delete_all(conn, schema.agg_complaints)
    df = complaint_frame(conn)
    if df.empty:
        return
    df = complaint_timeliness(df)
    df["period"] = df["received_date"].dt.strftime("%Y-%m")
    df["received"] = 1
    df["accepted"] = df["accepted_date"].notna().astype(int)
    df["closed"] = df["closed_date"].notna().astype(int)
    df["substantiated_n"] = (df["closed_date"].notna() & _flag(df["substantiated"])).astype(int)
    df["accepted_in_time"] = df["accepted_in_time"].astype(int)
    df["closed_in_time"] = df["closed_in_time"].astype(int)
    df["extensions"] = _flag(df["extension_approved"]).astype(int)
    df["amount_involved"] = df["amount_involved"].astype(float).fillna(0.0)
    out = expand_levels(df, "region_code", ["period", "channel", "category"], {
        "received": "received", "accepted": "accepted", "closed": "closed", "substantiated": "substantiated_n",
        "accepted_in_time": "accepted_in_time", "closed_in_time": "closed_in_time", "extensions": "extensions",
        "amount_involved": "amount_involved"})
    insert_frame(conn, schema.agg_complaints, out, replace=False)


def build_clue_rollups(conn: Connection, fresh: dict | None = None) -> None:
    """agg_clues (per region and rule) and agg_anomaly (I01 per region), after detection. ``fresh``:
    as for build_rollups (the same dict: it carries the payment aggregates build_rollups made)."""
    build_indicator_rollups(conn, ((fresh or {}).get("_payment_inputs") or {}).get("ind"))
    for name in schema.CLUE_ROLLUP_TABLES:
        delete_all(conn, getattr(schema, name))
    c = _read(conn, "SELECT region_code, rule, COUNT(*) AS n, SUM(amount_at_risk) AS risk FROM clues GROUP BY region_code, rule")
    if not c.empty:
        c["n"] = c["n"].astype("int64")
        c["risk"] = c["risk"].astype(float)
        ac = expand_levels(c, "region_code", ["rule"], {"n_clues": "n", "amount_at_risk": "risk"})
        insert_frame(conn, schema.agg_clues, ac, replace=False)
    flagged = _read(conn, "SELECT p.village_code, COUNT(*) AS n, SUM(p.amount) AS amount FROM payments p "
                          "WHERE p.payment_id IN (SELECT record_id FROM clues WHERE table_name = 'payments') "
                          "GROUP BY p.village_code")
    base = _read(conn, "SELECT region_code AS village_code, n_payments AS n, paid_inside AS amount FROM agg_fund_region "
                       "WHERE level = 'village'")
    base = base.groupby("village_code", as_index=False)[["n", "amount"]].sum()
    df = base.merge(flagged.rename(columns={"n": "fn", "amount": "famount"}), on="village_code", how="outer")
    if df.empty:
        return
    df = df.merge(c.groupby("region_code", as_index=False)[["n", "risk"]].sum().rename(
        columns={"region_code": "village_code", "n": "cn", "risk": "crisk"}) if not c.empty else
        pd.DataFrame(columns=["village_code", "cn", "crisk"]), on="village_code", how="outer")
    for col in ("n", "fn", "cn"):
        df[col] = pd.to_numeric(df[col]).fillna(0).astype("int64")
    for col in ("amount", "famount", "crisk"):
        df[col] = df[col].astype(float).fillna(0.0)
    out = expand_levels(df, "village_code", [], {"n_payments": "n", "paid_amount": "amount", "flagged_payments": "fn",
                                                  "flagged_amount": "famount", "n_clues": "cn", "amount_at_risk": "crisk"})
    insert_frame(conn, schema.agg_anomaly, out, replace=False)


def build_flow_rollups(conn: Connection, paid_by_village_fund: pd.DataFrame | None = None) -> None:
    """agg_fund_flow: inflow, passed on, paid, ledger and "what left" per (fund, region), computed by the
    same code as R11/R12 (pipeline.rules.flows.Flows) so the fund-flow page and the clues agree. Payments
    and project expenses up to the package's as-of are summed in SQL per (village, fund) first; Flows
    only ever sees those sums (dated as-of) and the allocations."""
    import datetime as _dt

    from pipeline.rules.base import Context
    from pipeline.rules.flows import Flows
    delete_all(conn, schema.agg_fund_flow)
    row = conn.execute(text("SELECT as_of_date FROM packages ORDER BY id DESC LIMIT 1")).first()
    if row is None:
        delete_all(conn, schema.agg_fund_flow_group)
        delete_all(conn, schema.agg_flow_edge_group)
        return
    as_of = row[0] if isinstance(row[0], _dt.date) else _dt.date.fromisoformat(str(row[0])[:10])
    P, A, L, J = schema.payments, schema.allocations, schema.ledger, schema.projects
    from sqlalchemy import func as _f, select as _s

    def frame(stmt):
        res = conn.execute(stmt)
        return pd.DataFrame(res.fetchall(), columns=list(res.keys()))

    stamp = pd.Timestamp(as_of)
    if paid_by_village_fund is not None:      # the same sums, from the importer's typed payments
        pay = paid_by_village_fund
    else:
        pay = frame(_s(P.c.village_code, P.c.fund_code, _f.sum(P.c.amount).label("amount"))
                    .where(P.c.paid_date <= as_of).group_by(P.c.village_code, P.c.fund_code))
    pay = pd.DataFrame({"payment_id": [f"s{i}" for i in range(len(pay))], "fund_code": pay["fund_code"].astype(object),
                        "village_code": pay["village_code"].astype(object), "amount": pay["amount"].astype(float),
                        "paid_date": pd.Series([stamp] * len(pay), dtype="datetime64[ns]")})
    al = frame(_s(A.c.allocation_id, A.c.fund_code, A.c.from_region_code, A.c.to_region_code, A.c.amount,
                  A.c.allocated_date))
    al["amount"] = al["amount"].astype(float)
    al["allocated_date"] = pd.to_datetime(al["allocated_date"].astype(str).str.slice(0, 10), errors="coerce")
    tables = {"payments": pay, "allocations": al}
    led = frame(_s(L.c.village_code, L.c.project_code, _f.sum(L.c.amount).label("amount"))
                .where(L.c.direction == "expense", L.c.project_code.isnot(None), L.c.entry_date <= as_of)
                .group_by(L.c.village_code, L.c.project_code))
    prj = frame(_s(J.c.project_code, J.c.fund_code))
    if len(led) and len(prj):
        tables["ledger"] = pd.DataFrame({
            "village_code": led["village_code"].astype(object), "project_code": led["project_code"].astype(object),
            "amount": led["amount"].astype(float), "direction": "expense",
            "entry_date": pd.Series([stamp] * len(led), dtype="datetime64[ns]")})
        tables["projects"] = prj
    fl = Flows(Context(tables, as_of, get_settings().rules))
    tab = fl.table.reset_index()
    if tab.empty:
        build_flow_group_rollups(conn, tab, as_of)
        return
    tab = tab[tab["region_code"].notna()].rename(columns={"left": "left_region"})
    tab["level"] = code_level(tab["region_code"])
    insert_frame(conn, schema.agg_fund_flow, tab[["fund_code", "region_code", "level", "inflow", "passed_on", "paid",
                                                  "ledger", "left_region"]], replace=False)
    build_flow_group_rollups(conn, tab, as_of)


FLOW_EPS = schema.HALF_FEN


def flow_node_rows(rows: pd.DataFrame, meta: pd.DataFrame, day, rs) -> pd.DataFrame:
    """Per (fund, region) rows of agg_fund_flow -> the rows that are nodes of the fund-flow view, with
    the derived amounts (docs/fund-flows.md): a region *holds* a fund when it received an allocation of
    it or issued it; ``budget`` is the fund's total for its issuer; in = inflow + budget; left = in -
    what left; retained once the budget year is over at ``day`` (as-of), pending before; ``r12`` where
    R12 fires (``rs``: the rules' settings). ``meta``: fund_code, year, issuing_region_code, total_amount."""
    if rows.empty:
        return rows.assign(issuer=False, budget=0.0, in_amount=0.0, left=0.0, retained=0.0, pending=0.0, r12=False)
    rows = rows.copy()
    m = meta.set_index("fund_code")
    for c in ("inflow", "passed_on", "paid", "ledger", "left_region"):
        rows[c] = rows[c].astype(float)
    rows["issuer"] = rows["fund_code"].map(m["issuing_region_code"]).eq(rows["region_code"])
    rows = rows[(rows["inflow"] > FLOW_EPS) | rows["issuer"]].copy()
    rows["budget"] = np.where(rows["issuer"], rows["fund_code"].map(m["total_amount"]).astype(float), 0.0)
    rows["in_amount"] = rows["inflow"] + rows["budget"]
    rows["left"] = rows["in_amount"] - rows["left_region"]
    year = rows["fund_code"].map(m["year"]).astype(int).to_numpy()
    years = {int(y) for y in year}
    over_y = {y: day is not None and day >= _dt.date(y + 1, 1, 1) for y in years}
    due_y = {y: day is not None and day >= _dt.date(y + 1, 1, 1) + _dt.timedelta(days=rs.retained_days_after_year)
             for y in years}
    over = np.array([over_y[int(y)] for y in year], dtype=bool)
    due = np.array([due_y[int(y)] for y in year], dtype=bool)
    rows["retained"] = np.where(over, rows["left"], 0.0)
    rows["pending"] = np.where(over, 0.0, rows["left"])
    gap = rows["inflow"] - rows["left_region"]
    rows["r12"] = (rows["level"].isin(["city", "county", "township"]) & (rows["inflow"] > 0) & due
                   & (gap - rs.retained_share * rows["inflow"] > 1e-6))
    return rows


GROUP_SUMS = ("in_amount", "budget", "passed_on", "paid", "ledger", "left", "retained", "pending")


def build_flow_group_rollups(conn: Connection, tab: pd.DataFrame, as_of) -> None:
    """agg_fund_flow_group and agg_flow_edge_group from the per-fund flow rows ``tab`` (as just written
    to agg_fund_flow): every fund's node rows summed per (category, year, region), and once more over all
    categories ("*"); the allocations up to ``as_of`` likewise per (category, year, from, to)."""
    delete_all(conn, schema.agg_fund_flow_group)
    delete_all(conn, schema.agg_flow_edge_group)
    funds = _read(conn, "SELECT fund_code, category, year, issuing_region_code, total_amount FROM funds")
    if tab.empty or funds.empty:
        return
    funds["year"] = funds["year"].astype(int)
    funds["total_amount"] = funds["total_amount"].astype(float)
    nodes = flow_node_rows(tab[["fund_code", "region_code", "level", "inflow", "passed_on", "paid", "ledger",
                                "left_region"]], funds, as_of, get_settings().rules)
    nodes = nodes.merge(funds[["fund_code", "category", "year"]], on="fund_code", how="left")
    aggs = {c: (c, "sum") for c in GROUP_SUMS}
    parts = []
    for cat_key in ("category", None):
        keys = ["year", "region_code", "level"] + ([cat_key] if cat_key else [])
        g = nodes.groupby(keys, as_index=False).agg(**aggs, r12=("r12", "any"))
        parts.append(g if cat_key else g.assign(category="*"))
    out = pd.concat(parts, ignore_index=True)
    out["r12"] = out["r12"].astype(bool)
    out = out.rename(columns={"left": "left_amount"})
    insert_frame(conn, schema.agg_fund_flow_group,
                 out[["category", "region_code", "year", "level", *[c if c != "left" else "left_amount" for c in GROUP_SUMS],
                      "r12"]], replace=False)
    al = _read(conn, "SELECT fund_code, from_region_code AS from_code, to_region_code AS to_code, amount, "
                     "allocated_date FROM allocations")
    if al.empty:
        return
    al = al[pd.to_datetime(al["allocated_date"].astype(str).str.slice(0, 10), errors="coerce")
            <= pd.Timestamp(as_of)] if as_of is not None else al
    al = al.merge(funds[["fund_code", "category", "year"]], on="fund_code", how="inner")
    al["amount"] = al["amount"].astype(float)
    al["from_code"] = al["from_code"].fillna("")
    e1 = al.groupby(["category", "year", "from_code", "to_code"], as_index=False)["amount"].sum()
    e2 = al.groupby(["year", "from_code", "to_code"], as_index=False)["amount"].sum().assign(category="*")
    edges = pd.concat([e1, e2], ignore_index=True)
    insert_frame(conn, schema.agg_flow_edge_group, edges[["category", "to_code", "year", "from_code", "amount"]],
                 replace=False)


# --- I01-I05 per region and year (the map's metrics and the risk grades; docs/clues.md) -------------------
def first_digits(amounts) -> np.ndarray:
    """The first significant digit (1-9) of each positive amount; 0 for zero, negative or missing."""
    a = np.asarray(amounts, dtype=float)
    out = np.zeros(len(a), dtype=np.int64)
    ok = np.isfinite(a) & (a > 0)
    x = a[ok]
    # round to the fen first, so 0.1 * 3 (= 0.30000000000000004) is a 3 and 999.999999 a 9
    mant = np.round(x, 2) / 10.0 ** np.floor(np.log10(np.round(x, 2)))
    d = np.floor(mant + 1e-9).astype(np.int64)
    out[ok] = np.clip(d, 1, 9)
    return out


def build_indicator_rollups(conn: Connection, pay_by_village_year: pd.DataFrame | None = None) -> None:
    """agg_indicators: per region (every level) and year, the additive parts of I01-I05.
    I01 payments (by their period's year) and those flagged by any payment clue; I02/I03 the ledger
    expenses (by entry_date's year) with their first-digit counts and how many are multiples of
    ``round_amount_unit``; I04 complaints received (by received_date's year), closed and substantiated,
    and the region's population; I05 stays empty: the data package carries no disclosure date."""
    delete_all(conn, schema.agg_indicators)
    rs = get_settings().rules
    parts = []
    if pay_by_village_year is not None:
        pay = pay_by_village_year.copy()
    else:
        pay = _read(conn, "SELECT village_code, substr(period,1,4) AS yr, COUNT(*) AS n_payments, "
                          "SUM(amount) AS paid_amount FROM payments GROUP BY village_code, substr(period,1,4)")
    flag = _read(conn, "SELECT village_code, substr(period,1,4) AS yr, COUNT(*) AS flagged_payments, "
                       "SUM(amount) AS flagged_amount FROM payments WHERE payment_id IN "
                       "(SELECT record_id FROM clues WHERE table_name = 'payments') "
                       "GROUP BY village_code, substr(period,1,4)")
    for df in (pay, flag):
        if not df.empty:
            parts.append(df.rename(columns={"village_code": "code"}))
    led = _read(conn, f"SELECT village_code AS code, {_ym(conn, 'entry_date')} AS ym, amount, COUNT(*) AS n "
                      "FROM ledger WHERE direction = 'expense' AND amount > 0 GROUP BY village_code, 2, amount")
    if not led.empty:
        led["yr"] = led["ym"].str.slice(0, 4)
        amt = led["amount"].astype(float).to_numpy()
        n = led["n"].astype("int64").to_numpy()
        unit = float(rs.round_amount_unit)
        led["n_expenses"] = n
        led["n_round"] = np.where(np.isclose(np.mod(np.round(amt, 2), unit), 0.0) |
                                  np.isclose(np.mod(np.round(amt, 2), unit), unit), n, 0)
        fd = first_digits(amt)
        for i in range(1, 10):
            led[f"d{i}"] = np.where(fd == i, n, 0)
        parts.append(led.drop(columns=["ym", "amount", "n"]))
    comp = complaint_frame(conn)
    if not comp.empty:
        comp = comp.dropna(subset=["received_date"])
        comp = pd.DataFrame({"code": comp["region_code"], "yr": comp["received_date"].dt.strftime("%Y"),
                             "complaints": 1, "closed": comp["closed_date"].notna().astype(int),
                             "substantiated": (comp["closed_date"].notna() &
                                               _flag(comp["substantiated"])).astype(int)})
        parts.append(comp)
    if not parts:
        return
    df = pd.concat(parts, ignore_index=True)
    sums = ["n_payments", "paid_amount", "flagged_payments", "flagged_amount", "n_expenses", "n_round",
            *[f"d{i}" for i in range(1, 10)], "complaints", "closed", "substantiated"]
    for c in sums:
        if c not in df:
            df[c] = 0
        df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0)
    df = df.dropna(subset=["yr"])
    df["year"] = df["yr"].astype(int)
    out = expand_levels(df, "code", ["year"], {c: c for c in sums})
    pop = _read(conn, "SELECT region_code, MAX(population) AS population FROM agg_region_year GROUP BY region_code")
    out = out.merge(pop, on="region_code", how="left")
    out["population"] = pd.to_numeric(out["population"], errors="coerce").astype("Int64")
    for c in sums:
        out[c] = out[c].astype(float) if c in ("paid_amount", "flagged_amount") else out[c].astype("int64")
    out["lag_n"] = 0
    out["lag_days"] = 0
    insert_frame(conn, schema.agg_indicators, out, replace=False)


def analyze_rollups(engine) -> None:
    """SQLite: planner statistics (sqlite_stat1) for the roll-up tables, sampled (analysis_limit): ~20 ms
    at province scale. Without them SQLite reads "level = 'village' AND region_code in a township's
    range" through the level index, i.e. every village of the province, instead of the code range
    (5.4 -> 0.15 ms for a township's villages). The raw tables are left as they are: their queries are
    lookups by key (tests/test_no_raw_scans.py).
    PostgreSQL: VACUUM (ANALYZE) of the roll-ups and of what detection wrote (an import vacuums every
    table after loading, see pipeline.importer._analyze; the clues come after it)."""
    if engine.dialect.name == "postgresql":
        names = [t.name for t in schema.metadata.sorted_tables
                 if t.name.startswith("agg_") or t.name in ("clues", "rule_runs")]
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) " + ", ".join(f'"{n}"' for n in names))
        return
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        for table in schema.metadata.sorted_tables:
            if table.name.startswith("agg_"):
                conn.exec_driver_sql(f'ANALYZE "{table.name}"')


# --- `python manage.py rollups`: rebuild every roll-up from the database ---------------------------------
def rebuild_all(engine) -> dict:
    """Every roll-up rebuilt from what the database holds (one transaction), then the dashboard's cache
    dropped. For a database imported by an older version (a roll-up table added since is empty there)
    or after a change of the rules' settings; an import does this itself."""
    import time as _time

    from core.db import create_schema
    from data_access.cache import invalidate
    create_schema(engine)
    t0 = _time.perf_counter()
    with engine.begin() as conn:
        build_rollups(conn)
        build_clue_rollups(conn)
    analyze_rollups(engine)
    invalidate()
    return {"seconds": round(_time.perf_counter() - t0, 2)}


def add_cli(sub) -> None:
    p = sub.add_parser("rollups", help="rebuild every roll-up from the database (after an upgrade)")
    p.add_argument("--database-url", default=None)

    def run(args) -> int:
        from core.db import get_engine
        res = rebuild_all(get_engine(args.database_url))
        print(f"roll-ups rebuilt in {res['seconds']} s")
        return 0
    p.set_defaults(func=run)
