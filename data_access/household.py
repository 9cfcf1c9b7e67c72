"""The household page (一户一档): a person and their household, every payment across funds and years.

Who is entitled (``ENTITLED_ROLES``): the analyst (case work on clues), the county official (who
supervises the villages directly) and the complaint officer (who checks what a complaint says about
a household). Province leaders and city officials work on roll-ups and do not get household files.
Entitled roles without the pii grant see ID numbers and names masked (core.idnumber).

Links never carry an ID number: a person is addressed by ``person_key(id_number)``, an opaque,
deterministic token (AES-GCM over the number with a key derived from the app's SECRET_KEY and a
synthetic nonce), resolved on the server by ``resolve_key`` and then checked against the scope: the
person must be registered in a village of the scope, or have been paid inside it. A forged or
foreign key yields nothing.

Indexes: people (PK id_number, household_no, name), payments (id_number, name).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from functools import lru_cache

import pandas as pd
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from core import schema
from core.idnumber import mask_id, mask_name
from core.scope import Scope
from core.settings import get_settings
from data_access.base import in_scope, read_df, region_names
from data_access.cache import memoize

ENTITLED_ROLES = ("analyst", "county_official", "complaint_officer")
Pe, Pa, F = schema.people, schema.payments, schema.funds
SEARCH_LIMIT = 50
_ID_SHAPE = re.compile(r"^\d{17}[\dXx]$")


def entitled(role: str | None) -> bool:
    return role in ENTITLED_ROLES


# --- opaque link keys -----------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _key_material(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"household-link-key-v1", hashlib.sha256).digest()


def _secret() -> bytes:
    from core.auth import resolve_secret_key
    return _key_material(resolve_secret_key(get_settings()))


def person_key(id_number: str | None) -> str | None:
    """An opaque URL-safe token for a person (the same person always gets the same token)."""
    if not id_number:
        return None
    k = _secret()
    raw = str(id_number).encode()
    nonce = hmac.new(k, raw, hashlib.sha256).digest()[:12]
    token = nonce + AESGCM(k).encrypt(nonce, raw, b"person")
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def resolve_key(key: str | None) -> str | None:
    """The ID number behind a token from ``person_key``; None for anything forged or malformed."""
    if not key or not isinstance(key, str) or len(key) > 100:
        return None
    try:
        token = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        if len(token) < 12 + 16 + 1:
            return None
        raw = AESGCM(_secret()).decrypt(token[:12], token[12:], b"person")
        return raw.decode()
    except (InvalidTag, ValueError, UnicodeDecodeError):
        return None


def _mid(v, scope: Scope):
    return v if scope.pii else mask_id(v)


def _mname(v, scope: Scope):
    return v if scope.pii else mask_name(v)


def _date(v):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    return str(v)[:10]


# --- search ---------------------------------------------------------------------------------------
@memoize
def search(scope: Scope, query: str | None, limit: int = SEARCH_LIMIT) -> pd.DataFrame:
    """People and recipients inside the scope matching a full ID number (exact) or a name (prefix):
    key, name, id_number (masked unless pii), village_code, village, household_no."""
    cols = ["key", "name", "id_number", "village_code", "village", "household_no"]
    q = (query or "").strip()[:40]
    if scope is None or scope.is_empty or not q:
        return pd.DataFrame(columns=cols)
    limit = max(1, min(int(limit), 200))
    if _ID_SHAPE.match(q):
        q = q.upper()
        ppl = read_df(select(Pe.c.id_number, Pe.c.name, Pe.c.village_code, Pe.c.household_no)
                      .where(Pe.c.id_number == q, in_scope(Pe.c.village_code, scope)))
        pay = read_df(select(Pa.c.id_number, Pa.c.name, Pa.c.village_code)
                      .where(Pa.c.id_number == q, in_scope(Pa.c.village_code, scope)).limit(1))
    else:
        hi = q + "\U0010ffff"      # prefix as an index range (people.name, payments.name)
        ppl = read_df(select(Pe.c.id_number, Pe.c.name, Pe.c.village_code, Pe.c.household_no)
                      .where(Pe.c.name >= q, Pe.c.name < hi, in_scope(Pe.c.village_code, scope))
                      .order_by(Pe.c.name, Pe.c.village_code, Pe.c.household_no).limit(limit))
        pay = read_df(select(Pa.c.id_number, Pa.c.name, Pa.c.village_code)
                      .where(Pa.c.name >= q, Pa.c.name < hi, in_scope(Pa.c.village_code, scope))
                      .distinct().limit(limit * 4))
    pay = pay[~pay["id_number"].isin(set(ppl["id_number"]))].drop_duplicates("id_number")
    pay = pay.assign(household_no=None)
    if not pay.empty:   # recipients registered elsewhere inside the scope: their registered village
        reg = read_df(select(Pe.c.id_number, Pe.c.village_code.label("reg_village"), Pe.c.household_no.label("reg_hh"))
                      .where(Pe.c.id_number.in_(pay["id_number"].tolist()), in_scope(Pe.c.village_code, scope)))
        pay = pay.merge(reg, on="id_number", how="left")
        pay["village_code"] = pay["reg_village"].fillna(pay["village_code"])
        pay["household_no"] = pay["reg_hh"]
    df = pd.concat([ppl, pay[[c for c in ppl.columns if c in pay.columns]]], ignore_index=True).head(limit)
    if df.empty:
        return pd.DataFrame(columns=cols)
    names = region_names(df["village_code"].dropna())
    df["village"] = df["village_code"].map(names).fillna(df["village_code"])
    df["key"] = df["id_number"].map(person_key)
    df["id_number"] = df["id_number"].map(lambda v: _mid(v, scope))
    df["name"] = df["name"].map(lambda v: _mname(v, scope))
    df = df.astype(object).where(df.notna(), None)
    return df[cols].reset_index(drop=True)


# --- the household file ---------------------------------------------------------------------------
@memoize
def household(scope: Scope, key: str | None) -> dict | None:
    """The person behind ``key`` and their household, when inside the scope; else None.

    {person: {key, name, id_number, village_code, village, household_no, relation_to_head, registered},
     members: DataFrame (key, name, id_number, relation_to_head, village, poverty_registered, n_payments, paid),
     payments: DataFrame (payment_id, name, id_number, fund_code, fund, category, year, period, paid_date,
                          village, amount, standard, unit, deviation, off_standard, project_code),
     totals: {paid, n_payments, n_funds, off_standard}}"""
    if scope is None or scope.is_empty:
        return None
    idn = resolve_key(key)
    if not idn:
        return None
    me = read_df(select(Pe.c.id_number, Pe.c.name, Pe.c.village_code, Pe.c.household_no, Pe.c.relation_to_head,
                        Pe.c.poverty_registered).where(Pe.c.id_number == idn, in_scope(Pe.c.village_code, scope)))
    if not me.empty:
        r = me.iloc[0]
        members = read_df(select(Pe.c.id_number, Pe.c.name, Pe.c.village_code, Pe.c.relation_to_head,
                                 Pe.c.poverty_registered)
                          .where(Pe.c.household_no == r["household_no"], Pe.c.village_code == r["village_code"],
                                 in_scope(Pe.c.village_code, scope)))
    else:
        members = pd.DataFrame(columns=["id_number", "name", "village_code", "relation_to_head", "poverty_registered"])
    ids = sorted(set(members["id_number"]) | {idn})
    pay = read_df(select(Pa.c.payment_id, Pa.c.id_number, Pa.c.name, Pa.c.fund_code, Pa.c.village_code, Pa.c.amount,
                         Pa.c.paid_date, Pa.c.period, Pa.c.project_code, F.c.name.label("fund"), F.c.category, F.c.year,
                         F.c.standard_amount, F.c.payment_unit)
                  .select_from(Pa.outerjoin(F, F.c.fund_code == Pa.c.fund_code))
                  .where(Pa.c.id_number.in_(ids), in_scope(Pa.c.village_code, scope))
                  .order_by(Pa.c.paid_date, Pa.c.payment_id))
    if me.empty and pay[pay["id_number"] == idn].empty:
        return None                      # neither registered nor paid inside the scope
    tol = get_settings().rules.off_standard_tolerance
    names = region_names(set(pay["village_code"]) | set(members["village_code"]) |
                         ({me.iloc[0]["village_code"]} if not me.empty else set()))
    if not pay.empty:
        pay["amount"] = pay["amount"].astype(float).round(2)
        std = pd.to_numeric(pay["standard_amount"], errors="coerce")
        has_std = std.notna() & pay["payment_unit"].isin(["person", "household"])
        pay["standard"] = std.where(has_std)
        pay["deviation"] = (pay["amount"] - pay["standard"]).round(2).where(has_std)
        pay["off_standard"] = ((pay["amount"] - std).abs() > std * tol) & has_std
        pay["village"] = pay["village_code"].map(names).fillna(pay["village_code"])
        pay["paid_date"] = pay["paid_date"].map(_date)
        pay["unit"] = pay["payment_unit"]
    else:
        for c in ("standard", "deviation", "off_standard", "village", "unit"):
            pay[c] = None
    # members with their totals (a payment-only recipient is a household of their own)
    if members.empty:
        members = pd.DataFrame([{"id_number": idn, "name": pay.loc[pay["id_number"] == idn, "name"].iloc[0],
                                 "village_code": None, "relation_to_head": None, "poverty_registered": None}])
    tot = pay.groupby("id_number").agg(n_payments=("payment_id", "size"), paid=("amount", "sum")) if not pay.empty \
        else pd.DataFrame(columns=["n_payments", "paid"])
    members = members.merge(tot, left_on="id_number", right_index=True, how="left")
    members["n_payments"] = pd.to_numeric(members["n_payments"], errors="coerce").fillna(0).astype(int)
    members["paid"] = pd.to_numeric(members["paid"], errors="coerce").fillna(0.0).astype(float).round(2)
    members["village"] = members["village_code"].map(names)
    members["poverty_registered"] = members["poverty_registered"].map(lambda v: None if v is None or pd.isna(v) else bool(v))
    members["is_self"] = members["id_number"] == idn
    members = members.sort_values(["is_self", "relation_to_head"], ascending=[False, True], na_position="last")
    members["key"] = members["id_number"].map(person_key)
    members["id_number"] = members["id_number"].map(lambda v: _mid(v, scope))
    members["name"] = members["name"].map(lambda v: _mname(v, scope))
    pay["id_number"] = pay["id_number"].map(lambda v: _mid(v, scope))
    pay["name"] = pay["name"].map(lambda v: _mname(v, scope))
    pcols = ["payment_id", "name", "id_number", "fund_code", "fund", "category", "year", "period", "paid_date",
             "village", "amount", "standard", "unit", "deviation", "off_standard", "project_code"]
    pay = pay.reindex(columns=pcols)
    pay = pay.astype(object).where(pay.notna(), None)
    mcols = ["key", "name", "id_number", "relation_to_head", "village", "poverty_registered", "n_payments", "paid"]
    mrow = members.iloc[0]
    person = {"key": person_key(idn), "name": mrow["name"], "id_number": mrow["id_number"],
              "registered": not me.empty,
              "village_code": me.iloc[0]["village_code"] if not me.empty else None,
              "village": names.get(me.iloc[0]["village_code"]) if not me.empty else None,
              "household_no": me.iloc[0]["household_no"] if not me.empty else None,
              "relation_to_head": me.iloc[0]["relation_to_head"] if not me.empty else None}
    totals = {"paid": float(sum(a for a in pay["amount"] if a is not None)), "n_payments": int(len(pay)),
              "n_funds": int(pay["fund_code"].nunique()), "off_standard": int(sum(bool(x) for x in pay["off_standard"]))}
    members = members[mcols].astype(object)
    members = members.where(members.notna(), None).reset_index(drop=True)
    return {"person": person, "members": members, "payments": pay.reset_index(drop=True), "totals": totals}


@memoize
def paid_village(scope: Scope, key: str | None) -> str | None:
    """The village (in scope) where a person was last paid: the breadcrumb of someone not in the register."""
    idn = resolve_key(key)
    if scope is None or scope.is_empty or not idn:
        return None
    df = read_df(select(Pa.c.village_code).where(Pa.c.id_number == idn, in_scope(Pa.c.village_code, scope))
                 .order_by(Pa.c.paid_date.desc()).limit(1))
    return None if df.empty else df.iloc[0]["village_code"]
