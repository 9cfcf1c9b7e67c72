"""Payment rules: R01-R10 and R24 (one clue per payment; amount at risk = the payment's amount,
except R10: the difference from the standard)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.idnumber import CHECK, WEIGHTS
from pipeline.rules.base import (EPS, Context, _obj, day_str, dates, empty_clues, evidence_json, floats,
                                 grouped_records, limited, on_or_before, records, rounded, rule, serving)

# R02: a birth year before this is "impossible" for a living recipient (older than any person on record).
EARLIEST_BIRTH_YEAR = 1900
_CHUNK = 1_000_000


def register_pairs(ctx: Context, reg: pd.DataFrame, id_col: str, mask: np.ndarray | None = None) -> pd.DataFrame:
    """(prow, rrow): every payment (row number, restricted to ``mask``) whose recipient has a row of the
    register ``reg`` (row number), matched on the ID number."""
    reg_codes = ctx.id_codes(reg[id_col])
    has = np.zeros(len(ctx.id_index) + 1, dtype=bool)
    has[reg_codes[reg_codes >= 0]] = True
    ok = has[ctx.pay_idc]
    if mask is not None:
        ok &= mask
    prows = np.flatnonzero(ok)
    left = pd.DataFrame({"prow": prows, "code": ctx.pay_idc[prows]})
    keep = np.flatnonzero(reg_codes >= 0)
    right = pd.DataFrame({"code": reg_codes[keep], "rrow": keep})
    return left.merge(right, on="code")[["prow", "rrow"]]


def _fire_on_pairs(ctx: Context, rule_id: str, pairs: pd.DataFrame, ok: np.ndarray, reg: pd.DataFrame,
                   table: str, cols: list, extra: list | None = None) -> pd.DataFrame:
    """Clues for the payments of the pairs that satisfy ``ok``; evidence = those register rows."""
    fired = pairs[ok]
    if fired.empty:
        return empty_clues()
    rows, lists, counts = grouped_records(fired["prow"].to_numpy(), reg.iloc[fired["rrow"].to_numpy()][cols])
    ev = limited(lists, counts, table)
    if extra:
        ev += [(k, f(rows)) for k, f in extra]
    return ctx.payment_clues(rule_id, rows, ctx.pay_amount[rows], evidence_json(*ev))


def _cols(df: pd.DataFrame, wanted) -> list:
    return [c for c in wanted if c in df.columns]


@rule("R01", "deceased_recipient", "payments", ("payments", "deaths"))
def r01(ctx: Context):
    deaths = ctx.t("deaths").reset_index(drop=True)
    pairs = register_pairs(ctx, deaths, "id_number")
    start = ctx.pay_period_start[pairs["prow"].to_numpy()]
    died = dates(deaths["date_of_death"])[pairs["rrow"].to_numpy()]
    ok = ~np.isnat(died) & ~np.isnat(start) & (died < start)
    clues = _fire_on_pairs(ctx, "R01", pairs, ok, deaths, "deaths", ["id_number", "date_of_death"],
                           [("period_start", lambda rows: day_str(ctx.pay_period_start[rows]))])
    return clues, len(ctx.pay)


def id_problems(ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per ID number: problem code (0 none, 1 missing or malformed, 2 wrong check digit, 3 impossible
    birth date, 4 both 2 and 3), the birth date (NaT where impossible) and the expected check digit."""
    ids = _obj(ids)
    n = len(ids)
    problem = np.zeros(n, dtype=np.int8)
    birth = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    expected = np.full(n, None, dtype=object)
    check = np.array(list(CHECK))
    weights = np.array(WEIGHTS, dtype=np.int64)
    for a in range(0, n, _CHUNK):
        chunk = ids[a:a + _CHUNK]
        lens = pd.Series(chunk, dtype=object).str.len().fillna(0).to_numpy()
        good = np.flatnonzero(lens == 18)
        prob = np.ones(len(chunk), dtype=np.int8)
        if len(good):
            cp = np.asarray(chunk[good].astype(str), dtype="U18").view(np.uint32).reshape(-1, 18).astype(np.int64)
            d = cp - 48
            dig = (d >= 0) & (d <= 9)
            last_x = (cp[:, 17] == ord("X")) | (cp[:, 17] == ord("x"))
            fmt = dig[:, :17].all(axis=1) & (dig[:, 17] | last_x)
            dd = np.where(dig, d, 0)
            exp = check[(dd[:, :17] * weights).sum(axis=1) % 11]
            last = np.where(last_x, "X", np.where(dig[:, 17], dd[:, 17].astype(str), "?"))
            bad_check = fmt & (last != exp)
            y = dd[:, 6] * 1000 + dd[:, 7] * 100 + dd[:, 8] * 10 + dd[:, 9]
            m = dd[:, 10] * 10 + dd[:, 11]
            day = dd[:, 12] * 10 + dd[:, 13]
            leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
            dim = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m - 1, 0, 11)] + (leap & (m == 2))
            real = fmt & (y >= EARLIEST_BIRTH_YEAR) & (m >= 1) & (m <= 12) & (day >= 1) & (day <= dim)
            b = np.full(len(good), np.datetime64("NaT"), dtype="datetime64[ns]")
            ri = np.flatnonzero(real)
            b[ri] = ((y[ri] - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (m[ri] - 1)).astype(
                "datetime64[D]") + (day[ri] - 1)
            p = np.zeros(len(good), dtype=np.int8)
            p[~fmt] = 1
            p[fmt & bad_check & real] = 2
            p[fmt & ~bad_check & ~real] = 3
            p[fmt & bad_check & ~real] = 4
            prob[good] = p
            birth[a + good] = b
            ex = exp.astype(object)
            ex[~fmt] = None
            expected[a + good] = ex
        problem[a:a + len(chunk)] = prob
    return problem, birth, expected


_PROBLEMS = {1: ["malformed"], 2: ["check_digit"], 3: ["birth_date_impossible"],
             4: ["check_digit", "birth_date_impossible"]}


@rule("R02", "invalid_id_number", "payments", ("payments",))
def r02(ctx: Context):
    codes, index = ctx.pay_idc, ctx.id_index
    problem_u, birth_u, expected_u = id_problems(index.to_numpy())
    problem = np.r_[problem_u, np.int8(1)][codes]          # code -1: no ID number at all
    birth = np.r_[birth_u, np.datetime64("NaT", "ns")][codes]
    after = ~np.isnat(birth) & ~np.isnat(ctx.pay_paid) & (birth > ctx.pay_paid)
    rows = np.flatnonzero((problem > 0) | after)
    if not len(rows):
        return empty_clues(), len(ctx.pay)
    probs = [list(_PROBLEMS.get(int(p), [])) + (["born_after_payment"] if a else [])
             for p, a in zip(problem[rows].tolist(), after[rows].tolist())]
    c = codes[rows]
    exp = np.r_[expected_u, np.array([None], dtype=object)][c]
    exp = [e if "check_digit" in pr else None for e, pr in zip(exp.tolist(), probs)]
    ev = evidence_json(("id_number", _obj(ctx.pay["id_number"].iloc[rows]).tolist()), ("problems", probs),
                       ("expected_check_digit", exp), ("birth_date", day_str(birth[rows])),
                       ("paid_date", day_str(ctx.pay_paid[rows])))
    return ctx.payment_clues("R02", rows, ctx.pay_amount[rows], ev), len(ctx.pay)


@rule("R03", "official_recipient", "payments", ("payments", "funds", "officials"))
def r03(ctx: Context):
    off = ctx.t("officials").reset_index(drop=True)
    pairs = register_pairs(ctx, off, "id_number", ctx.means_tested)
    r = pairs["rrow"].to_numpy()
    ok = serving(dates(off["start_date"])[r], dates(off["end_date"])[r], ctx.pay_paid[pairs["prow"].to_numpy()])
    cols = _cols(off, ["id_number", "employer", "position", "region_code", "start_date", "end_date"])
    return _fire_on_pairs(ctx, "R03", pairs, ok, off, "officials", cols), int(ctx.means_tested.sum())


def _owned_rule(ctx: Context, rule_id: str, table: str, type_col: str, types, cols) -> tuple:
    reg = ctx.t(table).reset_index(drop=True)
    reg = reg[reg[type_col].isin(list(types))].reset_index(drop=True)
    pairs = register_pairs(ctx, reg, "owner_id" if "owner_id" in reg else "legal_person_id", ctx.means_tested)
    ok = on_or_before(dates(reg["registered_date"])[pairs["rrow"].to_numpy()], ctx.pay_paid[pairs["prow"].to_numpy()])
    return _fire_on_pairs(ctx, rule_id, pairs, ok, reg, table, _cols(reg, cols)), int(ctx.means_tested.sum())


@rule("R04", "vehicle_owner_recipient", "payments", ("payments", "funds", "vehicles"))
def r04(ctx: Context):
    return _owned_rule(ctx, "R04", "vehicles", "vehicle_type", ("car", "truck"),
                       ["owner_id", "plate", "vehicle_type", "registered_date"])


@rule("R05", "property_owner_recipient", "payments", ("payments", "funds", "real_estate"))
def r05(ctx: Context):
    return _owned_rule(ctx, "R05", "real_estate", "property_type", ("commercial_housing", "shop", "office"),
                       ["owner_id", "property_type", "area_m2", "region_code", "registered_date"])


@rule("R06", "enterprise_owner_recipient", "payments", ("payments", "funds", "enterprises"))
def r06(ctx: Context):
    return _owned_rule(ctx, "R06", "enterprises", "status", ("active",),
                       ["credit_code", "name", "industry", "legal_person_id", "registered_date", "status"])


@rule("R07", "cadre_household_recipient", "payments", ("payments", "funds", "village_cadres", "people"))
def r07(ctx: Context):
    links = ctx.cadre_links
    pairs = register_pairs(ctx, links, "member_id", ctx.means_tested)
    prow, lrow = pairs["prow"].to_numpy(), pairs["rrow"].to_numpy()
    cad = ctx.t("village_cadres").reset_index(drop=True)
    crow = links["cadre_row"].to_numpy()[lrow]
    same_village = (_obj(cad["village_code"])[crow] == _obj(ctx.pay["village_code"].iloc[prow])) if len(prow) else \
        np.zeros(0, dtype=bool)
    ok = same_village & serving(dates(cad["start_date"])[crow], dates(cad["end_date"])[crow], ctx.pay_paid[prow])
    if not ok.any():
        return empty_clues(), int(ctx.means_tested.sum())
    ev_rows = ctx.cadre_records(crow[ok])
    ev_rows["relation"] = links["relation"].to_numpy()[lrow[ok]]
    ev_rows["household_no"] = links["household_no"].to_numpy()[lrow[ok]]
    rows, lists, counts = grouped_records(prow[ok], ev_rows)
    clues = ctx.payment_clues("R07", rows, ctx.pay_amount[rows], evidence_json(*limited(lists, counts, "village_cadres")))
    return clues, int(ctx.means_tested.sum())


@rule("R08", "duplicate_payment", "payments", ("payments",))
def r08(ctx: Context):
    idc = ctx.pay_idc
    fc, funds = ctx.pay_funds
    pc, periods = ctx.pay_periods
    nf, npd = max(len(funds), 1), max(len(periods), 1)
    key = (idc * nf + fc) * npd + pc
    valid = (idc >= 0) & (fc >= 0) & (pc >= 0)
    key = np.where(valid, key, -1 - np.arange(len(key)))      # a missing part never matches
    dup = np.flatnonzero(pd.Series(key).duplicated(keep=False).to_numpy())
    if not len(dup):
        return empty_clues(), len(ctx.pay)
    pid = _obj(ctx.pay["payment_id"].iloc[dup])
    paid = ctx.pay_paid[dup]
    order = np.lexsort((pid.astype(str), paid.astype(np.int64), key[dup]))   # NaT sorts first as min int
    d = dup[order]
    k = key[d]
    first = np.r_[True, k[1:] != k[:-1]]
    other = pd.DataFrame({"payment_id": pid[order], "village_code": _obj(ctx.pay["village_code"].iloc[d]),
                          "amount": ctx.pay_amount[d], "paid_date": ctx.pay_paid[d]})
    recs = records(other)
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(d)]
    group = np.repeat(np.arange(len(starts)), ends - starts)
    fired = np.flatnonzero(~first)
    lists = []
    for i in fired.tolist():
        a, b = starts[group[i]], ends[group[i]]
        lists.append([recs[j] for j in range(a, b) if j != i])
    counts = np.array([len(x) for x in lists])
    lists = [x[:50] for x in lists]
    ev = evidence_json(*limited(lists, counts, "payments"))
    return ctx.payment_clues("R08", d[fired], ctx.pay_amount[d[fired]], ev), len(ctx.pay)


@rule("R09", "non_resident_recipient", "payments", ("payments", "people"))
def r09(ctx: Context):
    ppl = ctx.t("people").reset_index(drop=True)
    pairs = register_pairs(ctx, ppl, "id_number")
    prow, rrow = pairs["prow"].to_numpy(), pairs["rrow"].to_numpy()
    ok = _obj(ppl["village_code"])[rrow] != _obj(ctx.pay["village_code"].iloc[prow]) if len(prow) else \
        np.zeros(0, dtype=bool)
    cols = _cols(ppl, ["id_number", "village_code", "household_no", "relation_to_head"])
    return _fire_on_pairs(ctx, "R09", pairs, ok, ppl, "people", cols), int(pairs["prow"].nunique())


@rule("R10", "off_standard_payment", "payments", ("payments", "funds"))
def r10(ctx: Context):
    std = floats(ctx.fund_attr("standard_amount"))
    unit = ctx.fund_attr("payment_unit")
    scope = ~np.isnan(std) & np.isin(unit, ["person", "household"])
    diff = ctx.pay_amount - std
    fire = scope & (np.abs(diff) - ctx.settings.off_standard_tolerance * np.abs(std) > EPS)
    rows = np.flatnonzero(fire)
    ev = evidence_json(("funds", [[{"fund_code": f, "standard_amount": s, "payment_unit": u}] for f, s, u in zip(
        _obj(ctx.pay["fund_code"].iloc[rows]).tolist(), rounded(std[rows]), unit[rows].tolist())]),
        ("difference", rounded(diff[rows])))
    return ctx.payment_clues("R10", rows, np.abs(diff[rows]), ev), int(scope.sum())


@rule("R24", "uncertified_disability_recipient", "payments", ("payments", "funds", "disabled_persons"))
def r24(ctx: Context):
    reg = ctx.t("disabled_persons").reset_index(drop=True)
    scope = ctx.pay_category == "disability_subsidy"
    pairs = register_pairs(ctx, reg, "id_number", scope)
    prow, rrow = pairs["prow"].to_numpy(), pairs["rrow"].to_numpy()
    ok = on_or_before(dates(reg["certified_date"])[rrow], ctx.pay_paid[prow])
    certified = np.zeros(len(ctx.pay), dtype=bool)
    certified[prow[ok]] = True
    rows = np.flatnonzero(scope & ~certified)
    held = pairs[np.isin(prow, rows)]     # certificates the recipient holds, all dated after paid_date
    keys, lists, counts = grouped_records(held["prow"].to_numpy(),
                                          reg.iloc[held["rrow"].to_numpy()][_cols(reg, ["id_number", "disability_level",
                                                                                       "certified_date"])])
    pos = dict(zip(keys.tolist(), range(len(keys))))
    ev = evidence_json(("disabled_persons", [lists[pos[r]] if r in pos else [] for r in rows.tolist()]),
                       ("paid_date", day_str(ctx.pay_paid[rows])))
    return ctx.payment_clues("R24", rows, ctx.pay_amount[rows], ev), int(scope.sum())
