"""Project page callbacks: render from the URL state (a project, or a search), navigation, exports."""
from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, no_update

from components.drill_export import crumbs, export_choice, export_frame
from components.export import download
from components.figures import empty_figure
from components.project import (BENEFICIARY_COLUMNS, CLUE_COLUMNS, PAYMENT_COLUMNS, SEARCH_COLUMNS, beneficiary_rows,
                                clue_rows, complaint_columns, kpis, payment_rows, search_rows, timeline_figure)
from core.i18n import t
from core.viewer import current_lang, current_scope
from data_access import meta
from data_access.base import plain_records
from data_access import project as dp
from pages.project import PAGE, Ids

HIDDEN, SHOWN = {"display": "none"}, {"display": "block"}


@callback(
    Output(Ids.CRUMB, "children"), Output(Ids.MESSAGE, "children"),
    Output(Ids.RESULTS_BOX, "style"), Output(Ids.RESULTS, "rowData"),
    Output(Ids.CONTENT, "style"), Output(Ids.TITLE, "children"), Output(Ids.KPIS, "children"),
    Output(Ids.TIMELINE, "figure"), Output(Ids.PAYMENTS, "rowData"), Output(Ids.BENEFICIARIES, "rowData"),
    Output(Ids.CLUES, "rowData"), Output(Ids.COMPLAINTS, "rowData"), Output(Ids.COMPLAINTS_NOTE, "children"),
    Input(Ids.STATE, "data"),
)
def render(state):
    scope, lang = current_scope(), current_lang()
    state = state or {}
    code = state.get("project")
    p = dp.project(scope, code) if code else None
    e = empty_figure(t("drill.no_data", lang))
    if p is None:
        if scope.is_empty:
            return None, t("scope.none", lang), HIDDEN, [], HIDDEN, "", [], e, [], [], [], [], ""
        rows = search_rows(dp.search(scope, state.get("q")))
        msg = t("drill.not_found", lang) if code else ("" if rows else t("drill.no_data", lang))
        return (crumbs(meta.breadcrumb(scope, None), lang), msg, SHOWN, rows, HIDDEN, "", [], e, [], [], [], [], "")
    pays = dp.payments(scope, p["project_code"])
    note = "" if scope.complaints else t("project.complaints_note", lang)
    return (
        crumbs(meta.breadcrumb(scope, p["region_code"]), lang, tail=p["name"]), "", HIDDEN, [], SHOWN,
        f"{p['name']}（{p['project_code']}）" if lang == "zh" else f"{p['name']} ({p['project_code']})",
        kpis(p, lang), timeline_figure(p, pays, lang), payment_rows(pays, lang),
        beneficiary_rows(dp.beneficiaries(scope, p["project_code"])),
        clue_rows(dp.clues(scope, p["project_code"]), lang),
        plain_records(dp.complaints(scope, p["project_code"])), note,
    )


@callback(Output("state-url", "search", allow_duplicate=True), Input(Ids.SEARCH, "value"), State(Ids.STATE, "data"),
          prevent_initial_call=True)
def navigate(q, state):
    """A search replaces the chosen project (the search lives in the URL as ``q``)."""
    q = (q or "").strip()[:60]
    if q == ((state or {}).get("q") or "").strip()[:60]:
        return no_update                       # unchanged (also when the input reports its first value)
    return "?" + urlencode({"q": q}) if q else ""


def export_table(table: str, state: dict, lang: str):
    scope = current_scope()
    code = (state or {}).get("project")
    if table == "results":
        return export_frame(pd.DataFrame(search_rows(dp.search(scope, (state or {}).get("q")))), SEARCH_COLUMNS, lang)
    p = dp.project(scope, code) if code else None
    if p is None:
        return None
    c = p["project_code"]
    if table == "payments":
        return export_frame(pd.DataFrame(payment_rows(dp.payments(scope, c), lang)), PAYMENT_COLUMNS, lang)
    if table == "beneficiaries":
        return export_frame(pd.DataFrame(beneficiary_rows(dp.beneficiaries(scope, c))), BENEFICIARY_COLUMNS, lang)
    if table == "clues":
        return export_frame(pd.DataFrame(clue_rows(dp.clues(scope, c), lang)), CLUE_COLUMNS, lang)
    if table == "complaints":
        return export_frame(dp.complaints(scope, c), complaint_columns(scope.complaints), lang)
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
    name = (state or {}).get("project") or "search"
    return download(df, choice[1], f"project_{name}_{choice[0]}")
