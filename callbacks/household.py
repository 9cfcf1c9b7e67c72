"""Household page callbacks: the person from the URL (opaque key), the search, exports.
Only the entitled roles get anything (checked here, from the session, on every call)."""
from __future__ import annotations

import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, no_update

from components.drill_export import crumbs, export_choice, export_frame
from components.export import download
from components.household import (MEMBER_COLUMNS, PAYMENT_COLUMNS, kpis, member_rows, payment_rows, result_rows,
                                  title)
from core.i18n import t
from core.viewer import current_lang, current_scope, current_viewer
from data_access import household as dh
from data_access import meta
from pages.household import PAGE, Ids

HIDDEN, SHOWN = {"display": "none"}, {"display": "block"}


@callback(
    Output(Ids.CRUMB, "children"), Output(Ids.MESSAGE, "children"), Output(Ids.CONTENT, "style"),
    Output(Ids.TITLE, "children"), Output(Ids.NOTE, "children"), Output(Ids.KPIS, "children"),
    Output(Ids.MEMBERS, "rowData"), Output(Ids.PAYMENTS, "rowData"),
    Input(Ids.STATE, "data"),
)
def render(state):
    scope, lang, viewer = current_scope(), current_lang(), current_viewer()
    nothing = (None, "", HIDDEN, "", "", [], [], [])
    if not dh.entitled(viewer.role):
        return (None, t("household.denied", lang)) + nothing[2:]
    if scope.is_empty:
        return (None, t("scope.none", lang)) + nothing[2:]
    key = (state or {}).get("person")
    data = dh.household(scope, key) if key else None
    if data is None:
        msg = t("drill.not_found", lang) if key else t("household.search_hint", lang)
        return (crumbs(meta.breadcrumb(scope, None), lang), msg) + nothing[2:]
    person = data["person"]
    where = person.get("village_code") or dh.paid_village(scope, key)
    return (crumbs(meta.breadcrumb(scope, where), lang, tail=person["name"]), "", SHOWN, title(person, lang),
            "" if scope.pii else t("drill.masked_note", lang), kpis(data["totals"], lang),
            member_rows(data["members"]), payment_rows(data["payments"], lang))


@callback(
    Output(Ids.RESULTS_BOX, "style"), Output(Ids.RESULTS, "rowData"),
    Input(Ids.GO, "n_clicks"), Input(Ids.SEARCH, "n_submit"), State(Ids.SEARCH, "value"),
    prevent_initial_call=True,
)
def search(_clicks, _submit, query):
    """People and recipients within the scope (masked unless pii); each links by its opaque key."""
    viewer = current_viewer()
    if not dh.entitled(viewer.role) or not (query or "").strip():
        return HIDDEN, []
    return SHOWN, result_rows(dh.search(viewer.scope, query))


def export_table(table: str, state: dict, lang: str):
    viewer = current_viewer()
    if not dh.entitled(viewer.role):
        return None
    data = dh.household(viewer.scope, (state or {}).get("person"))
    if data is None:
        return None
    if table == "members":
        return export_frame(pd.DataFrame(member_rows(data["members"])), MEMBER_COLUMNS, lang)
    if table == "payments":
        return export_frame(pd.DataFrame(payment_rows(data["payments"], lang)), PAYMENT_COLUMNS, lang)
    return None


@callback(
    Output(Ids.DOWNLOAD, "data"),
    Input({"type": f"{PAGE}-export", "table": ALL, "fmt": ALL}, "n_clicks"),
    State(Ids.STATE, "data"),
    prevent_initial_call=True,
)
def export(clicks, state):
    choice = export_choice(ctx.triggered_id, clicks)
    df = export_table(choice[0], state or {}, current_lang()) if choice else None
    if df is None:
        return no_update
    return download(df, choice[1], f"household_{choice[0]}")
