"""Pure builders for the household page (no queries)."""
from __future__ import annotations

from urllib.parse import urlencode

import dash_bootstrap_components as dbc
import pandas as pd

from components.drill_export import md_link
from components.format import count, money
from components.kpi import kpi_card
from core.i18n import has, t
from data_access.base import plain_records

RESULT_COLUMNS = [
    ("link", "household.col.name", "link"),
    ("id_number", "household.col.id_number", "text", {"minWidth": 170}),
    ("village", "household.col.village", "text"),
    ("household_no", "village.col.household_no", "text", {"minWidth": 170}),
]
MEMBER_COLUMNS = [
    ("link", "household.col.name", "link"),
    ("id_number", "household.col.id_number", "text", {"minWidth": 170}),
    ("relation_to_head", "household.col.relation", "text"),
    ("village", "household.col.village", "text"),
    ("poverty_registered", "household.col.poverty_registered", "bool"),
    ("n_payments", "village.col.n_payments", "number"),
    ("paid", "village.col.paid", "money"),
]
PAYMENT_COLUMNS = [
    ("paid_date", "household.col.paid_date", "date", {"minWidth": 120}),
    ("period", "household.col.period", "text", {"minWidth": 100}),
    ("name", "household.col.name", "text"),
    ("id_number", "household.col.id_number", "text", {"minWidth": 170}),
    ("fund", "household.col.fund", "text", {"minWidth": 200}),
    ("category", "household.col.category", "text"),
    ("year", "household.col.year", "number"),
    ("amount", "household.col.amount", "money", {"minWidth": 120}),
    ("standard", "household.col.standard", "money", {"minWidth": 120}),
    ("unit", "household.col.unit", "text"),
    ("deviation", "household.col.deviation", "money", {"minWidth": 120}),
    ("off_standard", "household.kpi.off_standard", "bool"),
    ("village", "household.col.paid_in", "text", {"minWidth": 150}),
    ("project_code", "household.col.project", "text"),
    ("payment_id", "household.col.payment_id", "text"),
]


def person_link(name, key) -> str:
    return md_link(name, f"/household?{urlencode({'person': key})}") if key else (name or "")


def result_rows(df: pd.DataFrame) -> list[dict]:
    if df.empty:
        return []
    out = plain_records(df, [c for c in df.columns if c != "key"], missing_as_none=True)
    for r, n, k in zip(out, df["name"].tolist(), df["key"].tolist()):
        r["link"] = person_link(n, k)
    return out


def member_rows(df: pd.DataFrame) -> list[dict]:
    return result_rows(df)


def payment_rows(df: pd.DataFrame, lang: str) -> list[dict]:
    if df.empty:
        return []
    out = plain_records(df, missing_as_none=True)
    for r in out:
        c, u = r["category"], r["unit"]
        r["category"] = t(f"category.{c}", lang) if c and has(f"category.{c}") else c
        r["unit"] = t(f"household.unit.{u}", lang) if u and has(f"household.unit.{u}") else u
    return out


def title(person: dict, lang: str) -> str:
    hh = t("household.household", lang, hh=person["household_no"]) if person.get("household_no") \
        else t("household.own_household", lang)
    return f"{person['name']} · {person['id_number']} · {hh}"


def kpis(totals: dict, lang: str):
    cards = [
        kpi_card(t("household.kpi.total", lang), money(totals["paid"], lang)),
        kpi_card(t("household.kpi.payments", lang), count(totals["n_payments"])),
        kpi_card(t("household.kpi.funds", lang), count(totals["n_funds"])),
        kpi_card(t("household.kpi.off_standard", lang), count(totals["off_standard"])),
    ]
    return [dbc.Col(c, xs=12, sm=6, lg=3) for c in cards]
