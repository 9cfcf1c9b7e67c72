"""Complaint statistics (投诉举报). One function, ``complaint_funnel``, gives the four numbers
(received, accepted, closed, substantiated) to both the overview KPIs and the complaints page.

Counts and breakdowns read the roll-up ``agg_complaints``. Timeliness at the package's as-of date,
the overdue lists (R22/R23), repeat complaints, corroboration with clues and the complaint list
read complaint rows through the index (region_code, received_date), always inside the viewer's
scope, and judge deadlines with ``pipeline.rollups.complaint_timeliness`` (the one implementation
of the service rule).

Confidential fields: ``summary``, ``complainant_name`` and ``complainant_contact`` are selected
only when ``scope.complaints`` is true; otherwise they never leave the database.

Decisions where the issue is silent:
- a period is a range of months of *receipt* (``YYYY-MM``), both ends included;
- rates: accepted / received, closed / accepted, substantiated / closed; "accepted within 7 days"
  is a share of the accepted complaints, "closed within the limit" of the closed ones; what is still
  open and late shows in the overdue counts and lists (judged at the as-of date);
- a *matter* is the complaint's region together with its project when it names one, else its fund;
  a complaint without either cannot be a repeat. A complaint is a repeat when the previous complaint
  on the same matter was received at most ``REPEAT_DAYS`` days before it; a longer gap starts over;
- complaints per 10,000 residents use the region's population from agg_region_year (as the overview).
"""
from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from sqlalchemy import bindparam, delete, exists, false, func, insert, or_, select, true

from core import schema
from core.scope import Scope, level_of
from data_access.base import (
    bounds, child_level, in_scope, in_scope_param, is_missing, memoize_in_region, read_df, read_records, read_rows,
    person_params, region_names, resolve_region, scope_bounds, statement, under_param,
)
from data_access.cache import memoize
from pipeline.rollups import LEVEL_LEN, LEVELS, complaint_timeliness

C = schema.agg_complaints
K = schema.complaints
S = schema.complaint_subjects
CHANNELS = ("online", "letter", "visit", "phone", "wechat")
CATEGORIES = ("livelihood_funds", "poverty_alleviation", "village_finance", "work_style", "other")
COUNTS = ("received", "accepted", "closed", "substantiated", "accepted_in_time", "closed_in_time", "extensions")
SUMS = COUNTS + ("amount_involved",)
PUBLIC = ("complaint_id", "region_code", "channel", "category", "received_date", "accepted_date", "closed_date",
          "extension_approved", "substantiated", "amount_involved", "fund_code", "project_code")
CONFIDENTIAL = ("summary", "complainant_name", "complainant_contact")
REPEAT_DAYS = 90
LIST_LIMIT = 2000


# --- helpers -------------------------------------------------------------------------------------
def rates(d: dict) -> dict:
    """Adds the funnel's rates to a dict (or row) of counts; None where the denominator is 0."""
    def ratio(a, b):
        return (float(d[a]) / float(d[b])) if d.get(b) else None
    d["accept_rate"] = ratio("accepted", "received")
    d["close_rate"] = ratio("closed", "accepted")
    d["substantiation_rate"] = ratio("substantiated", "closed")
    d["accepted_in_time_rate"] = ratio("accepted_in_time", "accepted")
    d["closed_in_time_rate"] = ratio("closed_in_time", "closed")
    d["extension_rate"] = ratio("extensions", "accepted")
    return d


def _month(p: str | None) -> str | None:
    """A valid ``YYYY-MM`` or None."""
    try:
        return dt.date.fromisoformat(f"{p}-01").strftime("%Y-%m") if p else None
    except (TypeError, ValueError):
        return None


def period_bounds(period_from: str | None, period_to: str | None) -> tuple[dt.date | None, dt.date | None]:
    """Months of receipt -> [first day of period_from, first day after period_to)."""
    a, b = _month(period_from), _month(period_to)
    start = dt.date.fromisoformat(f"{a}-01") if a else None
    end = None
    if b:
        y, m = int(b[:4]), int(b[5:])
        end = dt.date(y + (m == 12), m % 12 + 1, 1)
    return start, end


def not_about_viewer(scope: Scope):
    """"A complaint about an official is never shown to that official": for a viewer linked to an ID
    number (``scope.person_id``, from users.person_id), no complaint whose recorded subject
    (complaint_subjects, 被反映人) is that ID number. Every row-level query of complaints uses it.
    Statistics (the roll-up counts) still count such a complaint: taking it out would make the
    viewer's totals differ from everyone else's and so reveal it (docs/complaints.md)."""
    if scope is None or not scope.person_id:
        return true()
    return ~exists().where(S.c.complaint_id == K.c.complaint_id, S.c.id_number == scope.person_id)


def not_about_viewer_param():
    """``not_about_viewer`` for a statement built once (data_access.base.statement), for a viewer linked to an ID
    number: the number is the parameter ``person_id`` (the statement's key says whether it has the condition)."""
    return ~exists().where(S.c.complaint_id == K.c.complaint_id, S.c.id_number == bindparam("person_id"))


def _as_of(scope: Scope) -> pd.Timestamp | None:
    from data_access.meta import package_info
    info = package_info(scope)
    return pd.Timestamp(info["as_of_date"]) if info else None


def _typed(df: pd.DataFrame, as_of) -> pd.DataFrame:
    """Dates as datetimes, flags as bools, and the service rule applied (at ``as_of``)."""
    for c in ("received_date", "accepted_date", "closed_date"):
        df[c] = pd.to_datetime(df[c], errors="coerce")
    df["substantiated"] = df["substantiated"].map(lambda v: bool(v) if pd.notna(v) else False).astype(bool)
    df["amount_involved"] = pd.to_numeric(df["amount_involved"], errors="coerce")
    return complaint_timeliness(df, as_of)


def _row_conds(person: bool, start: bool, end: bool) -> list:
    """The complaint rows' conditions, their values as parameters (``_row_params``): inside the region and the
    scope (deny by default), not about the viewer (``not_about_viewer``), received in [start, end). Every
    row-level read of a region's complaints uses them (built once per shape where it can: base.statement)."""
    conds = [in_scope_param(K.c.region_code), under_param(K.c.region_code)]
    if person:
        conds.append(not_about_viewer_param())
    if start:
        conds.append(K.c.received_date >= bindparam("start"))
    if end:
        conds.append(K.c.received_date < bindparam("end"))
    return conds


def _row_params(scope: Scope, code: str, start=None, end=None) -> dict:
    params = {**scope_bounds(scope), **bounds(code), **person_params(scope)}
    params.update({k: v for k, v in (("start", start), ("end", end)) if v is not None})
    return params


def _rows_stmt(person: bool, start: bool, end: bool):
    return select(*[K.c[c] for c in PUBLIC]).where(*_row_conds(person, start, end))


@memoize
def _rows(scope: Scope, code: str, start=None, end=None) -> pd.DataFrame:
    """Complaint rows (public columns only) inside ``code`` and the scope, received in [start, end), not about
    the viewer (``_row_conds``)."""
    person = bool(scope is not None and scope.person_id)
    stmt = statement(("complaints._rows", person, start is not None, end is not None),
                     lambda: _rows_stmt(person, start is not None, end is not None))
    return _typed(read_df(stmt, params=_row_params(scope, code, start, end)), _as_of(scope))


def _population(codes) -> dict[str, float]:
    """Residents per region: agg_region_year (as the overview), else the region's own population in
    ``regions``, else the sum of its villages' (a region without payments has no agg_region_year row)."""
    codes = sorted(set(codes))
    if not codes:
        return {}
    T = schema.agg_region_year
    R = schema.regions
    out = {}
    # (built once, the codes an expanding parameter: data_access.base.statement)
    by_year = statement(("complaints._population", "agg"), lambda: select(
        T.c.region_code, func.max(T.c.population).label("pop"))
        .where(T.c.region_code.in_(bindparam("codes", expanding=True))).group_by(T.c.region_code))
    for i in range(0, len(codes), 900):
        got = read_rows(by_year, params={"codes": codes[i:i + 900]})
        out.update({r: float(p) for r, p in got if p is not None and p > 0})
    missing = [c for c in codes if c not in out]
    own = statement(("complaints._population", "regions"), lambda: select(R.c.code, R.c.population)
                    .where(R.c.code.in_(bindparam("codes", expanding=True))))
    for i in range(0, len(missing), 900):
        got = read_rows(own, params={"codes": missing[i:i + 900]})
        out.update({r: float(p) for r, p in got if p is not None and pd.notna(p) and p > 0})
    villages = statement(("complaints._population", "villages"), lambda: select(
        func.sum(R.c.population).label("pop")).where(under_param(R.c.code), R.c.level == "village"))
    for c in [c for c in missing if c not in out and level_of(c) != "village"]:
        p = read_rows(villages, params=bounds(c))[0][0]
        if p is not None and pd.notna(p) and p > 0:
            out[c] = float(p)
    return out


# --- the four numbers ----------------------------------------------------------------------------
@memoize
def _agg(scope: Scope, period_from: str | None, period_to: str | None) -> list[tuple]:
    """The roll-up rows of the scope's own region (``scope.narrowed(code)``) in the months:
    (period, channel, category, *SUMS), ordered. The funnel, the months and the breakdowns are counted
    from them in Python: one read instead of five (a county has ~50 rows, the province ~300)."""
    if scope is None or scope.is_empty:
        return []
    a, b = _month(period_from), _month(period_to)

    def build():
        stmt = select(C.c.period, C.c.channel, C.c.category, *[C.c[c] for c in SUMS]).where(
            C.c.region_code == bindparam("code"))
        stmt = stmt.where(C.c.period >= bindparam("month_from")) if a else stmt
        stmt = stmt.where(C.c.period <= bindparam("month_to")) if b else stmt
        return stmt.order_by(C.c.period, C.c.channel, C.c.category)
    params = {"code": scope.region_code, **({"month_from": a} if a else {}), **({"month_to": b} if b else {})}
    return read_rows(statement(("complaints._agg", bool(a), bool(b)), build), params=params)


def _sums(rows) -> list:
    """Column sums of SUMS over roll-up rows: counts as int, the amount as float (0 when there are none)."""
    n = len(SUMS)
    out = [0] * (n - 1) + [0.0]
    for r in rows:
        for i in range(n):
            v = r[3 + i]
            if v is not None:
                out[i] += v
    return [int(v) for v in out[:-1]] + [float(out[-1])]


@memoize_in_region
def complaint_funnel(scope: Scope, region: str | None = None, period_from: str | None = None,
                     period_to: str | None = None) -> dict | None:
    """received -> accepted -> closed -> substantiated for a region and months of receipt, with the
    timeliness counts, extensions, amount involved, rates and complaints per 10,000 residents."""
    code = resolve_region(scope, region)
    if code is None:
        return None
    out = dict(zip(SUMS, _sums(_agg(scope.narrowed(code), period_from, period_to))))
    out["region"] = code
    pop = _population([code]).get(code)
    out["population"] = pop
    out["per_10k"] = out["received"] / pop * 10000 if pop else None
    return rates(out)


@memoize_in_region
def periods(scope: Scope, region: str | None = None) -> list[str]:
    """The months (YYYY-MM) in which the region received complaints."""
    code = resolve_region(scope, region)
    if code is None:
        return []
    return sorted({r[0] for r in _agg(scope.narrowed(code), None, None)})


@memoize_in_region
def breakdown(scope: Scope, region: str | None, period_from: str | None, period_to: str | None,
              by: str) -> pd.DataFrame:
    """The funnel by ``channel``, ``category`` (every value, zeros included) or ``period`` (month)."""
    if by not in ("channel", "category", "period"):
        raise ValueError(by)
    code = resolve_region(scope, region)
    cols = [by, *SUMS]
    if code is None:
        return pd.DataFrame(columns=cols)
    # grouped and filled in plain Python (a handful of rows: pandas' merge and conversions cost ~2 ms)
    pos = ("period", "channel", "category").index(by)
    groups: dict[str, list] = {}
    for r in _agg(scope.narrowed(code), period_from, period_to):
        groups.setdefault(r[pos], []).append(r)
    keys = sorted(groups)
    if by != "period":
        every = CHANNELS if by == "channel" else CATEGORIES
        keys = [*every, *sorted(set(groups) - set(every))]
    rows = [(k, *_sums(groups.get(k, ()))) for k in keys]
    return pd.DataFrame(rows, columns=cols)


@memoize_in_region
def subregions(scope: Scope, region: str | None, period_from: str | None, period_to: str | None,
               level: str | None = None) -> pd.DataFrame:
    """One row per sub-region (children by default, or every region of ``level`` under the region):
    the funnel, rates, complaints per 10,000 residents and what is overdue at the as-of date."""
    code = resolve_region(scope, region)
    cols = ["region_code", "name", *SUMS, "population", "per_10k", "accept_overdue", "close_overdue",
            "accept_rate", "close_rate", "substantiation_rate", "accepted_in_time_rate", "closed_in_time_rate",
            "extension_rate"]
    level = level or (child_level(code) if code else None)
    if code is None or level is None or LEVELS.index(level) <= LEVELS.index(level_of(code)):
        return pd.DataFrame(columns=cols)
    a, b = _month(period_from), _month(period_to)

    def build():
        stmt = (select(C.c.region_code, *[func.sum(C.c[c]).label(c) for c in SUMS])
                .where(under_param(C.c.region_code), in_scope_param(C.c.region_code), C.c.level == bindparam("level"))
                .group_by(C.c.region_code))
        stmt = stmt.where(C.c.period >= bindparam("month_from")) if a else stmt
        return stmt.where(C.c.period <= bindparam("month_to")) if b else stmt
    params = {**bounds(code), **scope_bounds(scope), "level": level, **({"month_from": a} if a else {}),
              **({"month_to": b} if b else {})}
    recs = read_records(statement(("complaints.subregions", bool(a), bool(b)), build), params=params)
    if not recs:
        return pd.DataFrame(columns=cols)
    # plain Python over the sub-regions (a few dozen): pandas' per-step overhead was most of the call
    for r in recs:
        for c in COUNTS:
            r[c] = int(r[c] or 0)
        r["amount_involved"] = float(r["amount_involved"]) if r["amount_involved"] is not None else float("nan")
        r["accept_overdue"] = r["close_overdue"] = 0
    rows = _rows(scope, code, *period_bounds(period_from, period_to))
    if not rows.empty and "accept_overdue" in rows:
        # what is overdue at as-of, counted under each sub-region (its complaints at its level and below)
        by_code = {r["region_code"]: r for r in recs}
        n, seg = LEVEL_LEN[level], LEVEL_LEN[LEVELS[LEVELS.index(level) - 1]]
        for reg, a_od, c_od in zip(rows["region_code"].tolist(), rows["accept_overdue"].tolist(),
                                   rows["close_overdue"].tolist()):
            if not isinstance(reg, str) or reg[seg:n].strip("0") == "":
                continue                                 # a complaint above the sub-regions' level
            r = by_code.get(reg[:n] + "0" * (12 - n))
            if r is not None:
                r["accept_overdue"] += int(a_od)
                r["close_overdue"] += int(c_od)
    pop = _population([r["region_code"] for r in recs])
    names = region_names([r["region_code"] for r in recs])
    for r in recs:
        p = pop.get(r["region_code"])
        r["population"] = p if p is not None else float("nan")
        r["per_10k"] = r["received"] / p * 10000 if p else float("nan")
        rates(r)
        r["name"] = names.get(r["region_code"], r["region_code"])
    recs.sort(key=lambda r: (-r["received"], r["region_code"]))       # ties by code, on every database
    return pd.DataFrame(recs, columns=cols)


# --- timeliness at the as-of date ----------------------------------------------------------------
@memoize_in_region
def timeliness(scope: Scope, region: str | None, period_from: str | None, period_to: str | None) -> dict | None:
    """Distributions of days to accept and days to close (counts per day, split in time / late), the
    number overdue at the as-of date (R22, R23; ``*_open``: of which still waiting at as-of), and the
    as-of date itself."""
    code = resolve_region(scope, region)
    if code is None:
        return None
    df = _rows(scope, code, *period_bounds(period_from, period_to))
    as_of = _as_of(scope)
    # counted in plain Python over the region's complaints (pandas' groupby on a few dozen rows cost more)
    accepted = df["accepted_date"].notna().tolist()
    closed = df["closed_date"].notna().tolist()
    acc_n: dict = {}
    for ok, d, in_time in zip(accepted, df["days_to_accept"].tolist(), df["accepted_in_time"].tolist()):
        if ok:
            k = (int(d), bool(in_time))
            acc_n[k] = acc_n.get(k, 0) + 1
    clo_n: dict = {}
    for ok_a, ok_c, d, in_time, ext in zip(accepted, closed, df["days_to_close"].tolist(), df["closed_in_time"].tolist(),
                                           df["extension_approved"].tolist()):
        if ok_a and ok_c:
            k = (int(d), bool(in_time), False if is_missing(ext) else bool(ext))
            clo_n[k] = clo_n.get(k, 0) + 1
    accept = pd.DataFrame([(*k, n) for k, n in sorted(acc_n.items())], columns=["days", "in_time", "n"])
    close = pd.DataFrame([(*k, n) for k, n in sorted(clo_n.items())], columns=["days", "in_time", "extension", "n"])
    has = "accept_overdue" in df
    a_od = df["accept_overdue"].tolist() if has else []
    c_od = df["close_overdue"].tolist() if has else []
    return {
        "as_of": as_of.strftime("%Y-%m-%d") if as_of is not None else None,
        "accept": accept, "close": close,
        "accept_overdue": sum(map(bool, a_od)),
        "close_overdue": sum(map(bool, c_od)),
        "accept_overdue_open": sum(1 for o, ok in zip(a_od, accepted) if o and not ok),
        "close_overdue_open": sum(1 for o, ok in zip(c_od, closed) if o and not ok),
        "not_accepted": accepted.count(False),
        "open": sum(1 for ok_a, ok_c in zip(accepted, closed) if ok_a and not ok_c),
    }


@memoize_in_region
def overdue(scope: Scope, region: str | None, period_from: str | None, period_to: str | None,
            rule: str) -> pd.DataFrame:
    """R22 (late acceptance) or R23 (late closing) at the package's as-of date, most overdue first.
    ``status`` says whether the complaint is still waiting (open) or was handled late (done)."""
    if rule not in ("R22", "R23"):
        raise ValueError(rule)
    cols = ["complaint_id", "region_code", "name", "channel", "category", "received_date", "accepted_date",
            "due_date", "closed_date", "extension_approved", "days_overdue", "status"]
    code = resolve_region(scope, region)
    if code is None:
        return pd.DataFrame(columns=cols)
    df = _rows(scope, code, *period_bounds(period_from, period_to))
    flag, days = ("accept_overdue", "accept_days_overdue") if rule == "R22" else ("close_overdue", "close_days_overdue")
    if df.empty or flag not in df:
        return pd.DataFrame(columns=cols)
    d = df[df[flag]]
    if d.empty:
        return pd.DataFrame(columns=cols)
    # the few overdue complaints formatted in plain Python (pandas' per-column strftime and maps cost more)
    from core.settings import get_settings
    grace = dt.timedelta(days=get_settings().rules.accept_days)

    def day(v):
        return None if is_missing(v) else v.strftime("%Y-%m-%d")

    names = region_names(d["region_code"])
    out = []
    # (the columns as lists zipped: itertuples over a frame of datetimes cost ~1 ms a call in pandas' iloc)
    for r in zip(*(d[c].tolist() for c in ("complaint_id", "region_code", "channel", "category", "received_date",
                                          "accepted_date", "closed_date", "close_limit", "extension_approved", days))):
        cid, reg, channel, category, received, accepted, closed_d, limit, ext, n_days = r
        due = received + grace if rule == "R22" else limit
        waiting = (accepted if rule == "R22" else closed_d)
        out.append({"complaint_id": cid, "region_code": reg, "name": names.get(reg, reg), "channel": channel,
                    "category": category, "received_date": day(received), "accepted_date": day(accepted),
                    "due_date": day(due), "closed_date": day(closed_d),
                    "extension_approved": False if is_missing(ext) else bool(ext), "days_overdue": int(n_days),
                    "status": "open" if is_missing(waiting) else "done"})
    out.sort(key=lambda r: (-r["days_overdue"], r["complaint_id"]))
    return pd.DataFrame(out, columns=cols)


# --- repeat complaints ---------------------------------------------------------------------------
def _matter(region, fund, project) -> str | None:
    """A complaint's matter: ``region|P:project`` when it names a project, else ``region|F:fund``; None
    without either."""
    if not is_missing(project) and str(project) != "":
        return f"{region}|P:{project}"
    if not is_missing(fund) and str(fund) != "":
        return f"{region}|F:{fund}"
    return None


@memoize_in_region
def repeats(scope: Scope, region: str | None, period_from: str | None, period_to: str | None) -> dict | None:
    """Second and third (or later) complaints on the same matter within REPEAT_DAYS, among the
    complaints received in the period, and the runs that had them (one row per run: its complaints,
    the first of which may precede the period). Runs are followed over the whole history, so a run
    of complaints every 60 days started long before the period still counts.

    A run is a series of complaints on the same matter, each received at most REPEAT_DAYS days after the
    previous one; a complaint's ordinal is its place in its run (1 = first). Computed in plain Python over
    the region's complaints (a county's few hundred: pandas' string ops, grouped diffs and per-group
    lambdas cost ~12 ms a call)."""
    code = resolve_region(scope, region)
    if code is None:
        return None
    start, end = period_bounds(period_from, period_to)
    df = _rows(scope, code, None, end)
    cols = ["region_code", "name", "fund_code", "project_code", "complaints", "repeats", "first_received",
            "last_received", "complaint_ids"]
    if df.empty:
        return {"second": 0, "third_plus": 0, "matters": pd.DataFrame(columns=cols)}
    recs = list(zip(df["complaint_id"].tolist(), df["region_code"].tolist(), df["fund_code"].tolist(),
                    df["project_code"].tolist(), df["received_date"].tolist()))
    keyed = [(k, r) for r in recs if (k := _matter(r[1], r[2], r[3])) is not None]
    # by matter, date (missing dates last) and id; a run starts at a matter's first complaint, after a
    # gap of more than REPEAT_DAYS days, or next to a missing date (pandas' diff is NaN there)
    keyed.sort(key=lambda kr: (kr[0], is_missing(kr[1][4]), kr[1][4] if not is_missing(kr[1][4]) else 0, kr[1][0]))
    run_of: dict[str, int] = {}
    ordinal: dict[str, int] = {}
    run, prev_key, prev_day, n = 0, None, None, 0
    for k, r in keyed:
        received = None if is_missing(r[4]) else r[4]
        new = (k != prev_key or received is None or prev_day is None or (received - prev_day).days > REPEAT_DAYS)
        if new:
            run, n = run + 1, 0
        n += 1
        run_of[r[0]], ordinal[r[0]] = run, n
        prev_key, prev_day = k, received
    ts = pd.Timestamp(start) if start else None
    cur = [r for r in recs if ts is None or (not is_missing(r[4]) and r[4] >= ts)]
    second = sum(ordinal.get(r[0], 0) == 2 for r in cur)
    third_plus = sum(ordinal.get(r[0], 0) >= 3 for r in cur)
    hit = {run_of[r[0]] for r in cur if ordinal.get(r[0], 0) >= 2}
    if not hit:
        return {"second": second, "third_plus": third_plus, "matters": pd.DataFrame(columns=cols)}
    members: dict[int, list] = {}
    # each run's complaints by date and id (missing dates last), as the frame's sort gave them
    for r in sorted((r for r in recs if run_of.get(r[0]) in hit),
                    key=lambda r: (is_missing(r[4]), r[4] if not is_missing(r[4]) else 0, r[0])):
        members.setdefault(run_of[r[0]], []).append(r)

    def first(rows, i):                 # pandas' first(): the first value that is not missing
        return next((r[i] for r in rows if not is_missing(r[i])), None)

    def day(v):
        return v.strftime("%Y-%m-%d")
    out = []
    for rid in sorted(members):
        rows = members[rid]
        days = [r[4] for r in rows if not is_missing(r[4])]
        out.append([first(rows, 1), None, first(rows, 2), first(rows, 3), len(rows),
                    sum(ordinal[r[0]] >= 2 for r in rows), day(min(days)) if days else None,
                    day(max(days)) if days else None, ", ".join(r[0] for r in rows)])
    names = region_names([o[0] for o in out])
    for o in out:
        o[1] = names.get(o[0], o[0])
    # largest first by repeats, complaints, last received (a stable sort: ties keep the runs' order)
    out.sort(key=lambda o: (o[5], o[4], o[7] or ""), reverse=True)
    return {"second": second, "third_plus": third_plus, "matters": pd.DataFrame(out, columns=cols)}


# --- corroboration with clues --------------------------------------------------------------------
@memoize_in_region
def corroboration(scope: Scope, region: str | None, period_from: str | None, period_to: str | None) -> pd.DataFrame:
    """Complaints and clues that point at the same project, the same fund in the same place, or the
    same place (region code), side by side; only where both exist. Strongest match first.
    Clues drawn from the complaints themselves (R22/R23, late handling) are not "the data saying the
    same thing" and are left out."""
    cols = ["match", "region_code", "name", "fund_code", "project_code", "complaints", "substantiated",
            "complaint_ids", "clues", "rules", "amount_at_risk"]
    code = resolve_region(scope, region)
    if code is None:
        return pd.DataFrame(columns=cols)
    start, end = period_bounds(period_from, period_to)
    df = _rows(scope, code, start, end)
    if df.empty:
        return pd.DataFrame(columns=cols)
    places = sorted(set(df["region_code"]))
    # the clue groups in the places of these complaints or on their projects: the complaints' places and
    # projects as subqueries of the same conditions as _rows (an IN list of a city's ~400 places cost ~4 ms
    # to bind and plan on PostgreSQL)
    person = bool(scope.person_id)
    stmt = statement(("complaints.corroboration", person, start is not None, end is not None),
                     lambda: _clue_groups_stmt(person, start is not None, end is not None))
    cl = read_df(stmt, params=_row_params(scope, code, start, end))
    if cl.empty:
        return pd.DataFrame(columns=cols)
    # plain Python over the few groups (pandas' groupby/merge/concat cost 13-27 ms a call for 50-700
    # complaints): complaints and clues grouped by the match's keys, joined on them, in key order
    comp = list(zip(df["complaint_id"].tolist(), df["region_code"].tolist(), df["fund_code"].tolist(),
                    df["project_code"].tolist(), df["substantiated"].tolist()))
    clue = list(zip(cl["region_code"].tolist(), cl["fund_code"].tolist(), cl["project_code"].tolist(),
                    cl["rule"].tolist(), cl["n"].astype(int).tolist(), cl["risk"].astype(float).fillna(0.0).tolist()))
    places_set = set(places)

    def side(match: str, comp_key, clue_key) -> list[dict]:
        a: dict = {}
        for cid, reg, fund, proj, sub in comp:
            k = comp_key(reg, fund, proj)
            if k is not None:
                e = a.setdefault(k, [0, 0, set()])
                e[0] += 1
                e[1] += bool(sub)
                e[2].add(cid)
        b: dict = {}
        for reg, fund, proj, rule, n, risk in clue:
            k = clue_key(reg, fund, proj)
            if k is not None:
                e = b.setdefault(k, [0, [], set()])
                e[0] += n
                e[1].append(risk)
                e[2].add(rule)
        out = []
        for k in sorted(k for k in a if k in b):        # keys are (region, fund, project), None where unused
            (n_c, n_sub, ids), (n_cl, risks, rules) = a[k], b[k]
            reg, fund, proj = k
            out.append({"match": match, "region_code": reg, "name": None, "fund_code": fund, "project_code": proj,
                        "complaints": n_c, "substantiated": n_sub, "complaint_ids": ", ".join(sorted(map(str, ids))),
                        "clues": n_cl, "rules": ", ".join(sorted(map(str, rules))), "amount_at_risk": math.fsum(risks)})
        return out

    matches = (side("project", lambda r, f, p: None if _blank(p) else (None, None, p),
                    lambda r, f, p: None if is_missing(p) else (None, None, p))
               + side("fund", lambda r, f, p: None if is_missing(r) or _blank(f) else (r, f, None),
                      lambda r, f, p: None if is_missing(f) or r not in places_set else (r, f, None))
               + side("region", lambda r, f, p: None if is_missing(r) else (r, None, None),
                      lambda r, f, p: (r, None, None) if r in places_set else None))
    if not matches:
        return pd.DataFrame(columns=cols)
    # a project match is placed where its complaints are (the first of them that has a place)
    first_place: dict = {}
    for _cid, reg, _fund, proj, _sub in comp:
        if not _blank(proj) and not is_missing(reg):
            first_place.setdefault(proj, reg)
    for m in matches:
        if m["region_code"] is None:
            m["region_code"] = first_place.get(m["project_code"])
    names = region_names([m["region_code"] for m in matches if m["region_code"]])
    for m in matches:
        m["name"] = names.get(m["region_code"], m["region_code"])
    order = {"project": 0, "fund": 1, "region": 2}
    matches.sort(key=lambda m: (order[m["match"]], -m["clues"], -m["complaints"]))     # stable
    return pd.DataFrame(matches, columns=cols)


def _clue_groups_stmt(person: bool, start: bool, end: bool):
    Q = schema.clues
    conds = _row_conds(person, start, end)
    places = select(K.c.region_code).where(*conds)
    projects = select(K.c.project_code).where(*conds, K.c.project_code.isnot(None), K.c.project_code != "")
    return (select(Q.c.region_code, Q.c.fund_code, Q.c.project_code, Q.c.rule,
                   func.count().label("n"), func.sum(Q.c.amount_at_risk).label("risk"))
            .where(in_scope_param(Q.c.region_code), under_param(Q.c.region_code), Q.c.table_name != "complaints",
                   or_(Q.c.region_code.in_(places), Q.c.project_code.in_(projects)))
            .group_by(Q.c.region_code, Q.c.fund_code, Q.c.project_code, Q.c.rule))


def _blank(v) -> bool:
    return is_missing(v) or v == ""


# --- the list ------------------------------------------------------------------------------------
SORTABLE = ("complaint_id", "region_code", "channel", "category", "received_date", "accepted_date", "closed_date",
            "extension_approved", "substantiated", "amount_involved", "fund_code", "project_code")
STATUSES = ("not_accepted", "open", "closed")
LIST_COLUMNS = ["complaint_id", "region_code", "name", "channel", "category", "received_date", "accepted_date",
                "closed_date", "close_limit", "status", "days_to_accept", "days_to_close", "extension_approved",
                "substantiated", "amount_involved", "fund_code", "project_code", "accept_days_overdue",
                "close_days_overdue"]


def _text_cond(col, op: str, value: str):
    v = str(value)[:40]
    esc = v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if op == "equals":
        return col == v
    if op == "notEqual":
        return col != v
    if op == "startsWith":
        return col.like(esc + "%", escape="\\")
    if op == "endsWith":
        return col.like("%" + esc, escape="\\")
    if op == "notContains":
        return ~col.like("%" + esc + "%", escape="\\")
    return col.like("%" + esc + "%", escape="\\")


def _range_cond(col, op: str, a, b=None):
    if op == "lessThan":
        return col < a
    if op == "lessThanOrEqual":
        return col <= a
    if op == "greaterThan":
        return col > a
    if op == "greaterThanOrEqual":
        return col >= a
    if op == "notEqual":
        return col != a
    if op == "inRange" and b is not None:
        return (col >= a) & (col <= b)
    return col == a


def _list_filters(filters) -> list:
    """``filters``: tuples ``(column, kind, *args)`` whitelisted here, anything else is ignored:
    ("complaint_id"|"fund_code"|"project_code", "text", op, value); ("channel"|"category", "in", codes);
    ("status", "in", statuses); ("received_date"|"accepted_date"|"closed_date", "date", op, d1[, d2]);
    ("amount_involved", "number", op, x[, y])."""
    conds = []
    for f in filters or ():
        try:
            col, kind, *args = f
            if kind == "text" and col in ("complaint_id", "fund_code", "project_code"):
                conds.append(_text_cond(K.c[col], args[0], args[1]))
            elif kind == "in" and col in ("channel", "category"):
                conds.append(K.c[col].in_([str(v) for v in args[0]]))
            elif kind == "in" and col == "status":
                parts = []
                if "not_accepted" in args[0]:
                    parts.append(K.c.accepted_date.is_(None) & K.c.closed_date.is_(None))
                if "open" in args[0]:
                    parts.append(K.c.accepted_date.isnot(None) & K.c.closed_date.is_(None))
                if "closed" in args[0]:
                    parts.append(K.c.closed_date.isnot(None))
                conds.append(or_(*parts) if parts else false())
            elif kind == "date" and col in ("received_date", "accepted_date", "closed_date"):
                ds = [dt.date.fromisoformat(str(x)[:10]) for x in args[1:] if x]
                if ds:
                    conds.append(_range_cond(K.c[col], args[0], *ds))
            elif kind == "number" and col == "amount_involved":
                xs = [float(x) for x in args[1:] if x is not None]
                if xs:
                    conds.append(_range_cond(K.c[col], args[0], *xs))
        except (ValueError, TypeError, IndexError, KeyError):
            continue
    return conds


@memoize
def complaint_list(scope: Scope, region: str | None, period_from: str | None, period_to: str | None,
                   sort: tuple = (), filters: tuple = (), offset: int = 0,
                   limit: int = LIST_LIMIT) -> tuple[pd.DataFrame, int]:
    """One block of the complaint list (rows ``offset`` .. ``offset + limit``) of the region and period,
    sorted and filtered in SQL (``sort``: ((column, "asc"|"desc"), ...) over SORTABLE; ``filters``: see
    _list_filters), newest first by default, with each complaint's status and timeliness at the as-of
    date; and how many rows match in all. The confidential columns are selected only when
    ``scope.complaints``; otherwise they never leave the database."""
    code = resolve_region(scope, region)
    if code is None:
        return pd.DataFrame(columns=LIST_COLUMNS), 0
    start, end = period_bounds(period_from, period_to)
    # (built per call: the user's filters and sort shape it; the region's conditions as everywhere else)
    where = _row_conds(bool(scope.person_id), start is not None, end is not None) + _list_filters(filters)
    params = _row_params(scope, code, start, end)
    total = int(read_df(select(func.count().label("n")).select_from(K).where(*where), params=params).iloc[0]["n"])
    names = PUBLIC + (CONFIDENTIAL if scope.complaints else ())
    order = []
    for col, direction in sort or ():
        if col in SORTABLE:
            order.append(K.c[col].desc() if direction == "desc" else K.c[col].asc())
    order += [K.c.received_date.desc(), K.c.complaint_id]
    stmt = (select(*[K.c[c] for c in names]).where(*where).order_by(*order)
            .offset(max(0, int(offset))).limit(max(0, min(int(limit), LIST_LIMIT * 25))))
    df = _typed(read_df(stmt, params=params), _as_of(scope))
    keep = LIST_COLUMNS + [c for c in CONFIDENTIAL if scope.complaints]
    if df.empty:
        return pd.DataFrame(columns=keep), total
    df["status"] = "open"
    df.loc[df["accepted_date"].isna(), "status"] = "not_accepted"
    df.loc[df["closed_date"].notna(), "status"] = "closed"
    df["name"] = df["region_code"].map(region_names(df["region_code"])).fillna(df["region_code"])
    df["extension_approved"] = df["extension_approved"].map(lambda v: bool(v) if pd.notna(v) else False)
    df["substantiated"] = df["substantiated"].where(df["closed_date"].notna(), None)
    for c in ("received_date", "accepted_date", "closed_date", "close_limit"):
        df[c] = df[c].dt.strftime("%Y-%m-%d").where(df[c].notna(), None)
    for c in ("days_to_accept", "days_to_close"):
        df[c] = df[c].astype("Int64")
    return df[keep].reset_index(drop=True), total


@memoize
def complaint_detail(scope: Scope, complaint_id: str | None) -> dict | None:
    """One complaint by id, or None when it is not in the viewer's scope (or is about the viewer).
    The confidential fields only for ``scope.complaints``."""
    if scope is None or scope.is_empty or not complaint_id:
        return None
    names = PUBLIC + (CONFIDENTIAL if scope.complaints else ())
    df = read_df(select(*[K.c[c] for c in names])
                 .where(K.c.complaint_id == str(complaint_id)[:40], in_scope(K.c.region_code, scope),
                        not_about_viewer(scope)))
    if df.empty:
        return None
    df = _typed(df, _as_of(scope))
    r = df.iloc[0]

    def day(v):
        return None if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d")
    out = {"complaint_id": r["complaint_id"], "region_code": r["region_code"],
           "name": region_names([r["region_code"]]).get(r["region_code"], r["region_code"]),
           "channel": r["channel"], "category": r["category"], "received_date": day(r["received_date"]),
           "accepted_date": day(r["accepted_date"]), "closed_date": day(r["closed_date"]),
           "close_limit": day(r["close_limit"]),
           "extension_approved": bool(r["extension_approved"]) if pd.notna(r["extension_approved"]) else False,
           "substantiated": bool(r["substantiated"]) if pd.notna(r["closed_date"]) else None,
           "amount_involved": None if pd.isna(r["amount_involved"]) else float(r["amount_involved"]),
           "fund_code": r["fund_code"], "project_code": r["project_code"],
           "accept_days_overdue": int(r.get("accept_days_overdue", 0) or 0),
           "close_days_overdue": int(r.get("close_days_overdue", 0) or 0)}
    for c in CONFIDENTIAL if scope.complaints else ():
        out[c] = r[c]
    return out


# --- subjects (被反映人): recorded by the complaint officers ----------------------------------------------
MAX_SUBJECTS = 20


def subjects(scope: Scope, complaint_id: str | None) -> list[dict]:
    """The recorded subjects of one complaint, for the complaint officer who may see it; ID numbers
    masked unless the role has ``pii``. Not memoized: the officer's own edits show at once."""
    from core.idnumber import mask_id
    if scope is None or scope.is_empty or not scope.complaints or not complaint_id:
        return []
    stmt = (select(S.c.id_number, S.c.recorded_at, S.c.recorded_by)
            .join(K, K.c.complaint_id == S.c.complaint_id)
            .where(S.c.complaint_id == str(complaint_id)[:40], in_scope(K.c.region_code, scope),
                   not_about_viewer(scope))
            .order_by(S.c.recorded_at, S.c.id_number))
    df = read_df(stmt)
    return [{"id_number": r.id_number if scope.pii else mask_id(r.id_number),
             "ref": _subject_ref(complaint_id, r.id_number),
             "recorded_at": pd.Timestamp(r.recorded_at).strftime("%Y-%m-%d %H:%M"),
             "recorded_by": r.recorded_by} for r in df.itertuples()]


def _subject_ref(complaint_id: str, id_number: str) -> str:
    """An opaque handle for one recorded subject (the screen holds it, never the ID number); only
    meaningful together with the complaint, and checked against the database on use."""
    import hashlib
    return hashlib.sha256(f"{complaint_id}|{id_number}".encode()).hexdigest()[:16]


def change_subject(scope: Scope, username: str | None, complaint_id, action: str, id_number=None,
                   ref=None, engine=None) -> str | None:
    """Record (``action="add"``, ``id_number``) or remove (``action="remove"``, ``ref`` from
    ``subjects``) a subject of a complaint. Only the complaint officer, only for a complaint in their
    scope (and not about themselves). Returns None on success or an i18n key saying why not; both
    are audited (the ID number masked). Caches of viewers linked to that ID number are forgotten."""
    from core.audit import log_event
    from core.db import get_engine
    from core.idnumber import is_valid, mask_id
    from data_access.cache import invalidate_person
    cid = str(complaint_id or "")[:40]
    idn = str(id_number or "").strip().upper()

    def refuse(key: str) -> str:
        log_event("complaint_subject", cid, "denied", {"action": action, "reason": key})
        return key

    if scope is None or scope.is_empty or not scope.complaints:
        return refuse("complaints.subject.err_role")
    if action not in ("add", "remove") or not cid:
        return refuse("complaints.subject.err_request")
    eng = engine or get_engine()
    with eng.begin() as conn:
        found = conn.execute(select(K.c.complaint_id).where(K.c.complaint_id == cid, in_scope(K.c.region_code, scope),
                                                            not_about_viewer(scope))).first()
        if found is None:
            return refuse("complaints.subject.err_scope")
        have = conn.execute(select(S.c.id_number).where(S.c.complaint_id == cid)).scalars().all()
        if action == "add":
            if not is_valid(idn):
                return refuse("complaints.subject.err_id")
            if idn == (scope.person_id or ""):
                return refuse("complaints.subject.err_self")
            if idn in have:
                return refuse("complaints.subject.err_exists")
            if len(have) >= MAX_SUBJECTS:
                return refuse("complaints.subject.err_many")
            conn.execute(insert(S).values(complaint_id=cid, id_number=idn, recorded_by=(username or "")[:64],
                                          recorded_at=dt.datetime.now().replace(microsecond=0)))
        else:
            match = [i for i in have if _subject_ref(cid, i) == ref]
            if not match:
                return refuse("complaints.subject.err_request")
            idn = match[0]
            conn.execute(delete(S).where(S.c.complaint_id == cid, S.c.id_number == idn))
    log_event("complaint_subject", cid, "ok", {"action": action, "subject": mask_id(idn)})
    invalidate_person(idn)
    return None
