"""Clues (问题线索): the list (paged, sorted and filtered in SQL over whitelisted columns), the detail
(flagged record and evidence), which rules ran, groups per person and per project, the workflow
(status changes recorded with who and when), the funnel and each rule's measured precision.

Every function takes the viewer's Scope first; a clue is in scope when its region_code is.
ID numbers and names are masked unless ``scope.pii``; complaint summaries and complainants are
never read here. Workflow changes (``apply_action``) check role, scope and status on the server,
write clues.status + clue_workflow + clue_events in one transaction, audit the change (and every
refusal), and invalidate the read cache. Decisions: docs/clues.md.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid

import numpy as np
import pandas as pd
from sqlalchemy import (
    and_,
    bindparam,
    case,
    distinct,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    update,
)

from core import schema
from core.idnumber import mask_id, mask_name
from core.scope import Scope, level_of, normalize_code
from core.settings import get_settings
from core.db import reading
from data_access.base import (
    as_float, bounds, in_scope, in_scope_param, is_missing, memoize_in_region, read_df, read_rows, region_names,
    person_params, resolve_region, scope_bounds, statement, under, under_param,
)
from data_access.cache import memoize

C = schema.clues
W = schema.clue_workflow
E = schema.clue_events
R = schema.regions

STATUSES = ("new", "handed_over", "verifying", "confirmed", "dismissed", "concluded")
OUTCOMES = ("corrected", "case_opened", "disciplined")          # each later one implies the earlier
DISMISS_REASONS = ("data_error", "entitled", "duplicate_clue", "already_handled", "other")
TABLES = ("payments", "allocations", "funds", "projects", "ledger", "invoices", "complaints")
# action -> (statuses it may start from, status it leads to)
ACTIONS = {
    "hand_over": (("new",), "handed_over"),
    "verify": (("handed_over",), "verifying"),
    "confirm": (("new", "handed_over", "verifying"), "confirmed"),
    "dismiss": (("new", "handed_over", "verifying"), "dismissed"),
    "outcome": (("confirmed", "concluded"), "concluded"),
    "reopen": (("dismissed",), "new"),
}
# who may change a clue's status (always only inside their own scope); everyone else reads only
WORKFLOW_ROLES = ("analyst", "city_official", "county_official")
PRIORITY_STEP = 0.5      # priority = amount at risk x (1 + 0.5 x (rules hitting the person - 1))
MAX_EXPORT = 100_000
MAX_BATCH = 500

# columns the grid may sort and filter on (anything else is ignored)
SORTABLE = ("clue_id", "rule", "region_name", "region_code", "fund_code", "table_name", "record_id",
            "amount_at_risk", "priority", "n_rules", "status", "detected_at")
TEXT_FILTER = ("rule", "region_name", "fund_code", "table_name", "record_id", "status", "region_code")
NUMBER_FILTER = ("amount_at_risk", "priority", "clue_id", "n_rules")
ID_KEYS = re.compile(r"(id_number|owner_id|legal_person_id|counterparty_id|member_id|person_id)$")
NAME_KEYS = re.compile(r"(^name$|_name$)")
SAFE_NAME_KEYS = ("fund_name", "region_name", "issuer_name", "contractor_name", "project_name", "village_name")
ID_RE = re.compile(r"(?<![0-9A-Za-z])[1-8][0-9]{5}(?:19|20)[0-9]{2}[0-9]{7}[0-9Xx](?![0-9A-Za-z])")


# --- masking ---------------------------------------------------------------------------------------------
def mask_value(key: str, value, pii: bool):
    """Mask an ID number or a person's name (by key, and any ID-number-shaped text) unless ``pii``."""
    if pii or value is None:
        return value
    if isinstance(value, dict):
        return {k: mask_value(k, v, pii) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(key, v, pii) for v in value]
    if not isinstance(value, str):
        return value
    k = str(key).lower()
    if ID_KEYS.search(k):
        return mask_id(value)
    if NAME_KEYS.search(k) and k not in SAFE_NAME_KEYS:
        return mask_name(value)
    return ID_RE.sub(lambda m: mask_id(m.group(0)), value)


def mask_record(rec: dict | None, pii: bool) -> dict | None:
    return None if rec is None else {k: mask_value(k, v, pii) for k, v in rec.items()}


# --- the list --------------------------------------------------------------------------------------------
def _person_rules(scope: Scope):
    return (select(C.c.id_number.label("pid"), func.count(distinct(C.c.rule)).label("n_rules"))
            .where(in_scope(C.c.region_code, scope), C.c.id_number.isnot(None)).group_by(C.c.id_number)
            .subquery("pr"))


def _columns(scope: Scope):
    pr = _person_rules(scope)
    n_rules = func.coalesce(pr.c.n_rules, 1)
    priority = C.c.amount_at_risk * (1 + PRIORITY_STEP * (n_rules - 1))
    cols = {
        "clue_id": C.c.clue_id, "rule": C.c.rule, "table_name": C.c.table_name, "record_id": C.c.record_id,
        "region_code": C.c.region_code, "region_name": func.coalesce(R.c.name, C.c.region_code),
        "fund_code": C.c.fund_code, "id_number": C.c.id_number, "project_code": C.c.project_code,
        "amount_at_risk": C.c.amount_at_risk, "n_rules": n_rules, "priority": priority,
        "status": C.c.status, "detected_at": C.c.detected_at, "batch_id": W.c.batch_id,
    }
    frm = C.outerjoin(R, R.c.code == C.c.region_code).outerjoin(pr, pr.c.pid == C.c.id_number) \
        .outerjoin(W, W.c.clue_id == C.c.clue_id)
    return cols, frm


def _listify(v) -> list:
    if v in (None, "", []):
        return []
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v if x not in (None, "")]
    return [s for s in str(v).split(",") if s]


def _num(v) -> float | None:
    try:
        return float(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _where(scope: Scope, cols: dict, filters: dict | None, filter_model: dict | None) -> list:
    f = filters or {}
    conds = [in_scope(C.c.region_code, scope), not_about_viewer(scope)]
    region = f.get("region")
    if region:
        code = resolve_region(scope, region)
        if code is not None:
            conds.append(under(C.c.region_code, code))
    rules = [r for r in _listify(f.get("rule")) if re.fullmatch(r"R\d\d", r)]
    if rules:
        conds.append(C.c.rule.in_(rules))
    statuses = [s for s in _listify(f.get("status")) if s in STATUSES]
    if statuses:
        conds.append(C.c.status.in_(statuses))
    tables = [s for s in _listify(f.get("table")) if s in TABLES]
    if tables:
        conds.append(C.c.table_name.in_(tables))
    funds = _listify(f.get("fund"))
    if funds:
        conds.append(C.c.fund_code.in_(funds[:50]))
    lo, hi = _num(f.get("min_amount")), _num(f.get("max_amount"))
    if lo is not None:
        conds.append(C.c.amount_at_risk >= lo)
    if hi is not None:
        conds.append(C.c.amount_at_risk <= hi)
    if f.get("batch"):
        conds.append(W.c.batch_id == str(f["batch"])[:40])
    for col, spec in (filter_model or {}).items():
        if not isinstance(spec, dict):
            continue
        if col in TEXT_FILTER:
            val = str(spec.get("filter") or "")[:80]
            if not val:
                continue
            expr, kind = cols[col], spec.get("type", "contains")
            if kind == "equals":
                conds.append(expr == val)
            elif kind == "notEqual":
                conds.append(expr != val)
            elif kind == "startsWith":
                conds.append(expr.like(val.replace("%", "") + "%"))
            else:
                conds.append(expr.like("%" + val.replace("%", "") + "%"))
        elif col in NUMBER_FILTER:
            expr, kind = cols[col], spec.get("type", "equals")
            a, b = _num(spec.get("filter")), _num(spec.get("filterTo"))
            if a is None:
                continue
            if kind == "greaterThan":
                conds.append(expr > a)
            elif kind == "greaterThanOrEqual":
                conds.append(expr >= a)
            elif kind == "lessThan":
                conds.append(expr < a)
            elif kind == "lessThanOrEqual":
                conds.append(expr <= a)
            elif kind == "inRange" and b is not None:
                conds.append(and_(expr >= a, expr <= b))
            elif kind == "notEqual":
                conds.append(expr != a)
            else:
                conds.append(expr == a)
    return conds


def _order(cols: dict, sort_model) -> list:
    out = []
    for s in (sort_model or [])[:3]:
        col = (s or {}).get("colId")
        if col in SORTABLE:
            out.append(cols[col].desc() if s.get("sort") == "desc" else cols[col].asc())
    if not out:
        out = [cols["priority"].desc()]
    return out + [C.c.clue_id.asc()]


ROW_COLUMNS = ("clue_id", "rule", "table_name", "record_id", "region_code", "region_name", "fund_code",
               "id_number", "project_code", "amount_at_risk", "n_rules", "priority", "status", "detected_at",
               "batch_id")


def _rows(df: pd.DataFrame, pii: bool) -> list[dict]:
    out = []
    for r in df.to_dict("records"):
        r["id_number"] = r["id_number"] if pii else mask_id(r["id_number"])
        r["amount_at_risk"] = round(float(r["amount_at_risk"] or 0), 2)
        r["priority"] = round(float(r["priority"] or 0), 2)
        r["n_rules"] = int(r["n_rules"] or 1)
        r["clue_id"] = int(r["clue_id"])
        r["detected_at"] = None if r["detected_at"] is None or pd.isna(r["detected_at"]) else str(r["detected_at"])[:19]
        out.append({k: (None if (isinstance(v, float) and pd.isna(v)) else v) for k, v in r.items()})
    return out


@memoize
def clue_page(scope: Scope, filters: dict | None = None, start: int = 0, end: int = 100,
              sort_model: list | None = None, filter_model: dict | None = None) -> dict:
    """{"rows": [...], "count": n}: rows start..end of the in-scope clues matching the filters (the URL's
    rule, region, fund, status, table, min/max amount, and the grid's whitelisted column filters), in
    the grid's sort order (default: priority, highest first)."""
    if scope is None or scope.is_empty:
        return {"rows": [], "count": 0}
    start = max(0, int(start or 0))
    end = max(start, min(int(end or start + 100), start + 1000))
    cols, frm = _columns(scope)
    conds = _where(scope, cols, filters, filter_model)
    stmt = (select(*[cols[c].label(c) for c in ROW_COLUMNS]).select_from(frm).where(*conds)
            .order_by(*_order(cols, sort_model)).offset(start).limit(end - start))
    df = read_df(stmt)
    n = read_df(select(func.count()).select_from(frm).where(*conds)).iloc[0, 0]
    return {"rows": _rows(df, scope.pii), "count": int(n or 0)}


@memoize
def clue_export(scope: Scope, filters: dict | None = None, sort_model: list | None = None,
                filter_model: dict | None = None) -> pd.DataFrame:
    """Every row the grid shows for these filters and this sort (same function, same masking)."""
    if scope is None or scope.is_empty:
        return pd.DataFrame(columns=list(ROW_COLUMNS))
    cols, frm = _columns(scope)
    conds = _where(scope, cols, filters, filter_model)
    stmt = (select(*[cols[c].label(c) for c in ROW_COLUMNS]).select_from(frm).where(*conds)
            .order_by(*_order(cols, sort_model)).limit(MAX_EXPORT))
    return pd.DataFrame(_rows(read_df(stmt), scope.pii), columns=list(ROW_COLUMNS))


@memoize
def filter_options(scope: Scope) -> dict:
    """Rules and funds that have clues in scope (for the filter dropdowns)."""
    if scope is None or scope.is_empty:
        return {"rules": [], "funds": []}
    rules_stmt, funds_stmt = statement(("clues.filter_options",), _filter_options_stmts)
    params = scope_bounds(scope)
    rules = read_rows(rules_stmt, params=params)
    funds = read_rows(funds_stmt, params=params)
    return {"rules": [r for (r,) in rules], "funds": [{"code": code, "name": name or code} for code, name in funds]}


def _filter_options_stmts():
    rules = select(C.c.rule).where(in_scope_param(C.c.region_code)).distinct().order_by(C.c.rule)
    funds = (select(C.c.fund_code, schema.funds.c.name)
             .select_from(C.outerjoin(schema.funds, schema.funds.c.fund_code == C.c.fund_code))
             .where(in_scope_param(C.c.region_code), C.c.fund_code.isnot(None)).distinct().order_by(C.c.fund_code))
    return rules, funds


# --- which rules ran -------------------------------------------------------------------------------------
@memoize
def rule_status(scope: Scope) -> pd.DataFrame:
    """One row per rule of the last detection: ran, the i18n key of why it did not, records examined,
    clues in the whole package and in scope, the share it fired on and whether that exceeds
    ``flood_share`` ("check the rule or the data")."""
    cols = ["rule", "ran", "reason", "examined", "clues", "share", "flood", "in_scope"]
    if scope is None or scope.is_empty:
        return pd.DataFrame(columns=cols)
    runs_stmt, in_sc_stmt = statement(("clues.rule_status",), _rule_status_stmts)
    with reading() as conn:
        runs = conn.execute(runs_stmt).all()
        if not runs:
            return pd.DataFrame(columns=cols)
        in_sc = dict(conn.execute(in_sc_stmt, {"region_code": scope.region_code}).all())
    # plain Python over the ~24 rules (pandas' per-column conversions cost ~5 ms a call)
    flood_share = get_settings().rules.flood_share

    def whole(v) -> int:
        n = as_float(v)
        return 0 if math.isnan(n) else int(n)
    rows = []
    for rule, ran, reason, examined, clues in runs:
        ex, cl = whole(examined), whole(clues)
        share = cl / ex if ex > 0 else math.nan
        n = in_sc.get(rule)
        rows.append((rule, bool(ran), reason, ex, cl, share, bool(ran) and ex > 0 and share > flood_share,
                     0 if n is None or is_missing(n) else int(n)))
    return pd.DataFrame(rows, columns=cols)


def _rule_status_stmts():
    T, A = schema.rule_runs, schema.agg_clues
    return (select(T.c.rule, T.c.ran, T.c.reason, T.c.examined, T.c.clues).order_by(T.c.rule),
            select(A.c.rule, A.c.n_clues).where(A.c.region_code == bindparam("region_code")))


# --- detail ----------------------------------------------------------------------------------------------
_RECORD = {
    "payments": (schema.payments, "payment_id", ("payment_id", "fund_code", "project_code", "id_number", "name",
                                                 "village_code", "amount", "paid_date", "period")),
    "ledger": (schema.ledger, "entry_id", ("entry_id", "village_code", "entry_date", "booked_date", "direction",
                                           "category", "amount", "counterparty_name", "counterparty_id",
                                           "voucher_no", "collective_approval", "project_code")),
    "invoices": (schema.invoices, "invoice_id", ("invoice_id", "entry_id", "invoice_code", "invoice_no",
                                                 "issuer_name", "amount", "issue_date")),
    "allocations": (schema.allocations, "allocation_id", ("allocation_id", "fund_code", "from_region_code",
                                                          "to_region_code", "amount", "allocated_date")),
    "projects": (schema.projects, "project_code", ("project_code", "fund_code", "region_code", "name",
                                                   "contractor_name", "contract_amount", "planned_quantity",
                                                   "completed_quantity", "unit", "start_date", "end_date",
                                                   "acceptance_date")),
    # never summary or complainant fields
    "complaints": (schema.complaints, "complaint_id", ("complaint_id", "region_code", "channel", "category",
                                                       "received_date", "accepted_date", "closed_date",
                                                       "extension_approved", "substantiated", "amount_involved",
                                                       "fund_code", "project_code")),
}


def _plain(v):
    if v is None:
        return None
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()[:10] if isinstance(v, dt.date) and not isinstance(v, dt.datetime) else str(v)[:19]
    if isinstance(v, float):
        return round(v, 2)
    return v


def _record(table: str, record_id: str) -> dict | None:
    if table == "funds":     # R12: fund_code|region_code
        fund, _, region = str(record_id).partition("|")
        f_stmt, a_stmt = statement(("clues._record", table), _fund_record_stmts)
        f = read_df(f_stmt, params={"fund_code": fund})
        a = read_df(a_stmt, params={"fund_code": fund, "region_code": region})
        rec = f.iloc[0].to_dict() if len(f) else {"fund_code": fund}
        rec.update(a.iloc[0].to_dict() if len(a) else {"region_code": region})
        return {k: _plain(v) for k, v in rec.items()}
    spec = _RECORD.get(table)
    if spec is None:
        return None
    tbl, key, cols = spec
    stmt = statement(("clues._record", table),
                     lambda: select(*[tbl.c[c] for c in cols]).where(tbl.c[key] == bindparam("record_id")).limit(1))
    df = read_df(stmt, params={"record_id": str(record_id)})
    if df.empty:
        return None
    return {k: _plain(None if (not isinstance(v, str) and pd.isna(v)) else v) for k, v in df.iloc[0].to_dict().items()}


def _fund_record_stmts():
    F, A = schema.funds, schema.agg_fund_region
    return (select(F.c.fund_code, F.c.name.label("fund_name"), F.c.category, F.c.year, F.c.total_amount)
            .where(F.c.fund_code == bindparam("fund_code")),
            select(A.c.region_code, A.c.allocated_in, A.c.passed_on, A.c.paid_inside)
            .where(A.c.fund_code == bindparam("fund_code"), A.c.region_code == bindparam("region_code")))


def not_about_viewer(scope: Scope):
    """Clues on a complaint (R22/R23) follow the complaint: none on a complaint about the viewer
    (see data_access.complaints.not_about_viewer)."""
    if scope is None or not scope.person_id:
        return true()
    S = schema.complaint_subjects
    return or_(C.c.table_name != "complaints",
               ~exists().where(S.c.complaint_id == C.c.record_id, S.c.id_number == scope.person_id))


def _not_about_viewer_param(has_person: bool):
    """``not_about_viewer`` for a statement built once: the viewer's ID number as the parameter ``person_id``
    (``base.person_params``); the statement's key carries ``has_person``."""
    if not has_person:
        return true()
    S = schema.complaint_subjects
    return or_(C.c.table_name != "complaints",
               ~exists().where(S.c.complaint_id == C.c.record_id, S.c.id_number == bindparam("person_id")))


def _in_scope_clues(scope: Scope, clue_ids) -> pd.DataFrame:
    ids = []
    for c in clue_ids or []:
        try:
            ids.append(int(c))
        except (TypeError, ValueError):
            continue
    if not ids or scope is None or scope.is_empty:
        return pd.DataFrame(columns=["clue_id", "rule", "record_id", "region_code", "status"])
    return read_df(select(C.c.clue_id, C.c.rule, C.c.record_id, C.c.region_code, C.c.status)
                   .where(C.c.clue_id.in_(ids[:MAX_BATCH]), in_scope(C.c.region_code, scope),
                          not_about_viewer(scope)))


@memoize
def clue_detail(scope: Scope, clue_id) -> dict | None:
    """The clue, its flagged record and its evidence (masked unless pii), its workflow and history;
    None when the clue does not exist or lies outside the scope."""
    try:
        cid = int(clue_id)
    except (TypeError, ValueError):
        return None
    if scope is None or scope.is_empty:
        return None
    has_person = bool(scope.person_id)
    clue_stmt, events_stmt = statement(("clues.clue_detail", has_person), lambda: _detail_stmts(has_person))
    df = read_df(clue_stmt, params={"clue_id": cid, **scope_bounds(scope), **person_params(scope)})
    if df.empty:
        return None
    row = {k: _plain(None if (not isinstance(v, str) and pd.isna(v)) else v) for k, v in df.iloc[0].to_dict().items()}
    try:
        evidence = json.loads(row.pop("evidence_json") or "{}")
    except ValueError:
        evidence = {}
    row["id_number"] = row["id_number"] if scope.pii else mask_id(row["id_number"])
    names = region_names([row["region_code"], row.get("assigned_region")])
    row["region_name"] = names.get(row["region_code"], row["region_code"])
    row["assigned_region_name"] = names.get(row.get("assigned_region")) if row.get("assigned_region") else None
    ev = read_df(events_stmt, params={"clue_id": cid})
    history = []
    for r in ev.itertuples():
        try:
            detail = json.loads(r.detail_json) if r.detail_json else {}
        except ValueError:
            detail = {}
        history.append({"at": str(r.at)[:19], "username": r.username, "role": r.role, "action": r.action,
                        "from_status": r.from_status, "to_status": r.to_status, "detail": detail})
    return {"clue": row, "record": mask_record(_record(row["table_name"], row["record_id"]), scope.pii),
            "evidence": mask_value("evidence", evidence, scope.pii), "history": history}


def _detail_stmts(has_person: bool):
    clue = (select(C, W.c.batch_id, W.c.assigned_region, W.c.dismiss_reason, W.c.outcome, W.c.recovered,
                   W.c.returned, W.c.note)
            .select_from(C.outerjoin(W, W.c.clue_id == C.c.clue_id))
            .where(C.c.clue_id == bindparam("clue_id"), in_scope_param(C.c.region_code),
                   _not_about_viewer_param(has_person)))
    events = (select(E.c.at, E.c.username, E.c.role, E.c.action, E.c.from_status, E.c.to_status, E.c.detail_json)
              .where(E.c.clue_id == bindparam("clue_id")).order_by(E.c.at, E.c.event_id))
    return clue, events


# --- groups ----------------------------------------------------------------------------------------------
@memoize_in_region
def person_groups(scope: Scope, region: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Clues grouped per person (ID number), highest priority first: clues, distinct rules, distinct
    records, amount at risk (each flagged record counted once, at its largest amount), priority."""
    cols = ["person", "village_code", "village_name", "n_clues", "n_rules", "rules", "amount_at_risk", "priority",
            "top_clue"]
    code = resolve_region(scope, region)
    if code is None:
        return pd.DataFrame(columns=cols)
    stmt = statement(("clues.person_groups",), lambda: select(
        C.c.clue_id, C.c.id_number, C.c.rule, C.c.table_name, C.c.record_id, C.c.region_code, C.c.amount_at_risk)
        .where(in_scope_param(C.c.region_code), under_param(C.c.region_code), C.c.id_number.isnot(None)))
    rows = read_rows(stmt, params=_region_params(scope, code))
    if not rows:
        return pd.DataFrame(columns=cols)
    return _group_frame(_groups(rows, "id_number", scope, limit), cols)


@memoize_in_region
def project_groups(scope: Scope, region: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Clues grouped per project, as ``person_groups``."""
    cols = ["project_code", "project_name", "village_code", "village_name", "n_clues", "n_rules", "rules",
            "amount_at_risk", "priority", "top_clue"]
    code = resolve_region(scope, region)
    if code is None:
        return pd.DataFrame(columns=cols)
    rows_stmt, names_stmt = statement(("clues.project_groups",), _project_groups_stmts)
    rows = read_rows(rows_stmt, params=_region_params(scope, code))
    if not rows:
        return pd.DataFrame(columns=cols)
    groups = _groups(rows, "project_code", scope, limit)
    names = dict(read_rows(names_stmt, params={"codes": [g["project_code"] for g in groups]}))
    for g in groups:
        g["project_name"] = names.get(g["project_code"], math.nan)      # (as Series.map gives a code without a name)
    return _group_frame(groups, cols)


def _region_params(scope: Scope, code: str) -> dict:
    """The values of ``in_scope_param`` and ``under_param`` (the region shown) for the statements below."""
    return {**scope_bounds(scope), **bounds(code)}


def _project_groups_stmts():
    P = schema.projects
    rows = (select(C.c.clue_id, C.c.project_code, C.c.rule, C.c.table_name, C.c.record_id, C.c.region_code,
                   C.c.amount_at_risk)
            .where(in_scope_param(C.c.region_code), under_param(C.c.region_code), C.c.project_code.isnot(None),
                   C.c.project_code != ""))
    names = select(P.c.project_code, P.c.name).where(P.c.project_code.in_(bindparam("codes", expanding=True)))
    return rows, names


def group_priority(amount: float, n_rules: int) -> float:
    return round(float(amount) * (1 + PRIORITY_STEP * (max(1, int(n_rules)) - 1)), 2)


def _groups(rows: list[tuple], key: str, scope: Scope, limit: int) -> list[dict]:
    """The groups over the clue rows (clue_id, key, rule, table_name, record_id, region_code, amount_at_risk),
    highest priority first, as dicts, in plain Python (a few hundred clues; pandas' groupby/agg with a lambda
    cost ~7 ms a call, and a frame's construction and per-column reads ~2 ms at a city's few dozen clues).
    The top clue of a group is its largest amount at risk, the first such clue on a tie."""
    per_record: dict[tuple, float] = {}
    groups: dict = {}
    for cid, k, rule, table, rec, reg, amt in rows:
        amt = as_float(amt)
        if is_missing(k):
            continue
        g = groups.get(k)
        if g is None:
            g = groups[k] = {"n_clues": 0, "rules": set(), "village_code": reg, "top": (amt, cid)}
        g["n_clues"] += cid is not None
        g["rules"].add(rule)
        if g["village_code"] is None:
            g["village_code"] = reg
        if amt > g["top"][0] or (math.isnan(g["top"][0]) and not math.isnan(amt)):
            g["top"] = (amt, cid)
        r = (k, table, rec)
        if r not in per_record or amt > per_record[r] or (math.isnan(per_record[r]) and not math.isnan(amt)):
            per_record[r] = amt                          # each record once, at its largest amount
    amounts: dict = {}
    for (k, _t, _r), amt in per_record.items():
        if not math.isnan(amt):
            amounts.setdefault(k, []).append(amt)
    out = []
    for k, g in groups.items():
        n_rules = len(g["rules"])
        amount = math.fsum(amounts.get(k, ()))
        out.append({key: k, "n_clues": g["n_clues"], "n_rules": n_rules, "rules": ",".join(sorted(g["rules"])),
                    "village_code": g["village_code"], "amount_at_risk": amount,
                    "priority": group_priority(amount, n_rules), "top_clue": int(g["top"][1])})
    out.sort(key=lambda r: (-r["priority"], r[key]))
    out = out[:limit]
    names = region_names([r["village_code"] for r in out if r["village_code"]])
    # amounts to the fen as pandas rounds them (numpy's round-half-even on the scaled value)
    rounded = np.round(np.array([r["amount_at_risk"] for r in out], dtype=float), 2).tolist()
    for r, amount in zip(out, rounded):
        r["village_name"] = names.get(r["village_code"], r["village_code"])
        r["amount_at_risk"] = amount
        if key == "id_number":
            r["person"] = r["id_number"] if scope.pii else mask_id(r["id_number"])
            del r["id_number"]
    return out


def _group_frame(groups: list[dict], cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame(groups, columns=cols) if groups else pd.DataFrame(columns=cols)


# --- funnel and precision ----------------------------------------------------------------------------------
@memoize_in_region
def funnel(scope: Scope, region: str | None = None) -> dict:
    """clues -> confirmed -> corrected -> cases -> disciplined (each later stage implies the earlier),
    and money recovered / returned to residents (yuan)."""
    code = resolve_region(scope, region)
    keys = ("clues", "confirmed", "corrected", "cases", "disciplined", "dismissed", "recovered", "returned")
    if code is None:
        return dict.fromkeys(keys, 0)
    row = dict(zip(keys, read_rows(statement(("clues.funnel",), _funnel_stmt), params=_region_params(scope, code))[0]))
    out = {k: (0 if is_missing(row[k]) else row[k]) for k in keys}
    for k in keys[:6]:
        out[k] = int(out[k])
    out["recovered"] = round(float(out["recovered"]), 2)
    out["returned"] = round(float(out["returned"]), 2)
    return out


def _funnel_stmt():
    confirmed = C.c.status.in_(("confirmed", "concluded"))
    oc = W.c.outcome
    return (select(func.count().label("clues"),
                   func.sum(case((confirmed, 1), else_=0)).label("confirmed"),
                   func.sum(case((and_(confirmed, oc.in_(OUTCOMES)), 1), else_=0)).label("corrected"),
                   func.sum(case((and_(confirmed, oc.in_(OUTCOMES[1:])), 1), else_=0)).label("cases"),
                   func.sum(case((and_(confirmed, oc == "disciplined"), 1), else_=0)).label("disciplined"),
                   func.sum(case((C.c.status == "dismissed", 1), else_=0)).label("dismissed"),
                   func.sum(func.coalesce(W.c.recovered, 0)).label("recovered"),
                   func.sum(func.coalesce(W.c.returned, 0)).label("returned"))
            .select_from(C.outerjoin(W, W.c.clue_id == C.c.clue_id))
            .where(in_scope_param(C.c.region_code), under_param(C.c.region_code)))


RULE_THRESHOLDS = {
    "R10": ("off_standard_tolerance",), "R11": ("stagnant_days", "stagnant_share"),
    "R12": ("retained_days_after_year", "retained_share"), "R13": ("beyond_progress_tolerance",),
    "R14": ("before_acceptance_share",), "R16": ("approval_amount",), "R17": ("late_booking_days",),
    "R18": ("split_min_count", "split_window_days", "approval_amount"),
    "R20": ("invoice_tolerance", "invoice_required_amount"), "R22": ("accept_days",),
    "R23": ("close_months", "close_months_extended"),
}


def thresholds(rule: str) -> dict:
    rs = get_settings().rules
    return {k: getattr(rs, k) for k in RULE_THRESHOLDS.get(rule, ())}


@memoize_in_region
def rule_precision(scope: Scope, region: str | None = None) -> pd.DataFrame:
    """Per rule, from the analysts' decisions in scope: clues, confirmed, dismissed, decided and
    precision = confirmed / decided (None before any decision), with the rule's thresholds."""
    cols = ["rule", "clues", "confirmed", "dismissed", "decided", "precision", "thresholds"]
    code = resolve_region(scope, region)
    if code is None:
        return pd.DataFrame(columns=cols)
    got = read_rows(statement(("clues.rule_precision",), _precision_stmt), params=_region_params(scope, code))
    if not got:
        return pd.DataFrame(columns=cols)
    # plain Python over the ~24 rules (pandas' per-column conversions cost ~4 ms a call)

    def whole(v) -> int:
        return 0 if is_missing(v) else int(v)
    rows = []
    for rule, n, confirmed_n, dismissed_n in got:
        c, d = whole(confirmed_n), whole(dismissed_n)
        rows.append((rule, whole(n), c, d, c + d, c / (c + d) if c + d else None, thresholds(rule)))
    return pd.DataFrame(rows, columns=cols)


def _precision_stmt():
    confirmed = C.c.status.in_(("confirmed", "concluded"))
    return (select(C.c.rule, func.count().label("clues"),
                   func.sum(case((confirmed, 1), else_=0)).label("confirmed"),
                   func.sum(case((C.c.status == "dismissed", 1), else_=0)).label("dismissed"))
            .where(in_scope_param(C.c.region_code), under_param(C.c.region_code))
            .group_by(C.c.rule).order_by(C.c.rule))


# --- the workflow ----------------------------------------------------------------------------------------
def can_change(role: str | None) -> bool:
    return role in WORKFLOW_ROLES


def commission_of(region_code: str) -> str:
    """The commission a clue is handed to: the county of its region (the region itself above county)."""
    code = normalize_code(region_code)
    return code if level_of(code) in ("province", "city", "county") else code[:6] + "0" * 6


def apply_action(scope: Scope, username: str | None, role: str | None, clue_ids, action: str,
                 reason: str | None = None, outcome: str | None = None, recovered=None, returned=None,
                 note: str | None = None) -> dict:
    """Change the workflow of clues. Returns {"ok": [ids], "refused": [ids], "error": i18n key or None,
    "batch": batch id}. Refused (and audited): a role that may not change status, an unknown action,
    clues that do not exist or lie outside the scope, a status the action cannot start from, a dismissal
    without a reason, an outcome without a kind or with negative money."""
    from core.audit import log_event
    wanted = []
    for c in clue_ids or []:
        try:
            wanted.append(int(c))
        except (TypeError, ValueError):
            continue
    wanted = sorted(set(wanted))[:MAX_BATCH]
    res = {"ok": [], "refused": list(wanted), "error": None, "batch": None}

    def refuse(key: str, ids=None, extra=None) -> dict:
        res["error"] = key
        log_event("clue_workflow", f"{action}", "denied",
                  {"reason": key, "clue_ids": (ids if ids is not None else wanted)[:50], **(extra or {})})
        return res

    if not can_change(role) or scope is None or scope.is_empty:
        return refuse("clues.err.role")
    if action not in ACTIONS:
        return refuse("clues.err.action")
    if not wanted:
        return refuse("clues.err.none")
    found = _in_scope_clues(scope, wanted)
    outside = sorted(set(wanted) - set(int(x) for x in found["clue_id"]))
    if outside:
        return refuse("clues.err.scope", outside)
    allowed_from, to_status = ACTIONS[action]
    bad = sorted(int(r.clue_id) for r in found.itertuples() if r.status not in allowed_from)
    if bad:
        return refuse("clues.err.status", bad)
    rec = ret = None
    if action == "dismiss" and reason not in DISMISS_REASONS:
        return refuse("clues.err.reason")
    if action == "outcome":
        if outcome not in OUTCOMES:
            return refuse("clues.err.outcome")
        rec, ret = _num(recovered) or 0.0, _num(returned) or 0.0
        if rec < 0 or ret < 0 or ret > rec + 1e-9:
            return refuse("clues.err.money")
    now = dt.datetime.now().replace(microsecond=0)
    batch = f"JB-{now:%Y%m%d}-{uuid.uuid4().hex[:6]}" if action == "hand_over" else None
    note = (note or "").strip()[:500] or None
    from core.db import get_engine
    with get_engine().begin() as conn:
        for r in found.itertuples():
            cid = int(r.clue_id)
            conn.execute(update(C).where(C.c.clue_id == cid).values(status=to_status))
            values = {"updated_at": now, "updated_by": username}
            if action == "hand_over":
                values.update(batch_id=batch, assigned_region=commission_of(r.region_code))
            if action == "dismiss":
                values.update(dismiss_reason=reason)
            if action == "reopen":
                values.update(dismiss_reason=None)
            if action == "outcome":
                values.update(outcome=outcome, recovered=rec, returned=ret)
            if note:
                values["note"] = note
            exists = conn.execute(select(W.c.clue_id).where(W.c.clue_id == cid)).first()
            if exists:
                conn.execute(update(W).where(W.c.clue_id == cid).values(**values))
            else:
                conn.execute(insert(W).values(clue_id=cid, **values))
            detail = {k: v for k, v in {"batch": batch, "reason": reason if action == "dismiss" else None,
                                        "outcome": outcome if action == "outcome" else None,
                                        "recovered": rec, "returned": ret, "note": note}.items() if v is not None}
            conn.execute(insert(E).values(clue_id=cid, rule=r.rule, record_id=r.record_id, at=now,
                                          username=username or "", role=role, action=action,
                                          from_status=r.status, to_status=to_status,
                                          detail_json=json.dumps(detail, ensure_ascii=False) if detail else None))
    log_event("clue_workflow", action, "ok", {"clue_ids": wanted[:50], "n": len(wanted), "to": to_status,
                                              "batch": batch})
    from data_access.cache import invalidate
    invalidate()
    res.update(ok=wanted, refused=[], batch=batch)
    return res
