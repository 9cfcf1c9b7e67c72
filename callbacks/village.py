"""Village page callbacks: render from the URL state, the ledger's rows (infinite model), the
village picker, navigation (village, chosen entry -> URL) and the exports."""
from __future__ import annotations

from urllib.parse import urlencode

from dash import ALL, Input, Output, State, callback, ctx, no_update

from components.drill_export import crumbs, export_choice, export_frame
from components.export import download
from components.figures import empty_figure
from components.village import (HOUSEHOLD_COLUMNS, INVOICE_COLUMNS, LEDGER_COLUMNS, PROJECT_COLUMNS,
                                benford_figure, category_figure, direction_labels, household_rows, invoices_summary,
                                invoices_title, kpis, payees_figure, project_rows, round_card, timeline_figure,
                                village_options)
from core.i18n import t
from core.viewer import current_lang, current_scope, current_viewer
from data_access import meta
from data_access.base import plain_records
from data_access import village as dv
from data_access.household import entitled
from pages.village import PAGE, Ids

HIDDEN, SHOWN = {"display": "none"}, {"display": "block"}


@callback(
    Output(Ids.CRUMB, "children"), Output(Ids.MESSAGE, "children"), Output(Ids.CONTENT, "style"),
    Output(Ids.KPIS, "children"), Output(Ids.TIMELINE, "figure"), Output(Ids.CATEGORIES, "figure"),
    Output(Ids.PAYEES, "figure"), Output(Ids.BENFORD, "figure"), Output(Ids.ROUND, "children"),
    Output(Ids.INVOICE_TITLE, "children"), Output(Ids.INVOICE_SUMMARY, "children"), Output(Ids.INVOICES, "rowData"),
    Output(Ids.PROJECTS, "rowData"), Output(Ids.HOUSEHOLDS, "rowData"), Output(Ids.HOUSEHOLDS_NOTE, "children"),
    Input(Ids.STATE, "data"),
)
def render(state):
    scope, lang, viewer = current_scope(), current_lang(), current_viewer()
    state = state or {}
    code = dv.village_code(scope, state.get("village"))
    summary = dv.summary(scope, code) if code else None
    if summary is None:
        if scope.is_empty:
            msg = t("scope.none", lang)
        elif state.get("village"):
            msg = t("drill.not_found", lang)
        else:
            msg = t("village.pick_hint", lang)
        e = empty_figure(t("drill.no_data", lang))
        return (crumbs(meta.breadcrumb(scope, None), lang) if not scope.is_empty else None, msg, HIDDEN, [],
                e, e, e, e, None, "", "", [], [], [], "")
    inv = dv.entry_invoices(scope, state.get("entry")) if state.get("entry") else None
    if inv is not None and inv["entry"].get("village_code") != code:
        inv = None                                  # an entry of another village is not this page's
    b = dv.benford(scope, code)
    if entitled(viewer.role):
        hh_rows = household_rows(dv.households(scope, code))
        hh_note = "" if scope.pii else t("drill.masked_note", lang)
    else:
        hh_rows, hh_note = [], t("village.households_denied", lang)
    return (
        crumbs(meta.breadcrumb(scope, code), lang), "", SHOWN, kpis(summary, lang),
        timeline_figure(dv.monthly(scope, code), lang),
        category_figure(dv.by_category(scope, code), lang),
        payees_figure(dv.top_payees(scope, code), lang),
        benford_figure(b, lang), round_card(b, lang),
        invoices_title(inv["entry"] if inv else None, lang), invoices_summary(inv, lang),
        plain_records(inv["invoices"]) if inv else [],
        project_rows(dv.projects(scope, code)), hh_rows, hh_note,
    )


@callback(Output(Ids.LEDGER, "getRowsResponse"), Input(Ids.LEDGER, "getRowsRequest"), State(Ids.STATE, "data"),
          prevent_initial_call=True)
def ledger_rows(request, state):
    """One block of 100 rows, sorted and filtered in SQL over whitelisted columns."""
    if not request:
        return no_update
    scope = current_scope()
    code = dv.village_code(scope, (state or {}).get("village"))
    start = int(request.get("startRow") or 0)
    end = int(request.get("endRow") or start + dv.BLOCK)
    return dv.ledger_block(scope, code, dv.canonical_request(request), start, end)


@callback(Output(Ids.PICK, "options"), Input(Ids.PICK, "search_value"), State(Ids.PICK, "value"))
def pick_options(search, value):
    """Villages of the scope matching what is typed (the current one always listed)."""
    scope = current_scope()
    rows = dv.villages(scope, search or None)
    code = dv.village_code(scope, value)
    if code and all(r["code"] != code for r in rows):
        rows = dv.villages(scope, code) + rows
    return village_options(rows)


@callback(
    Output("state-url", "search", allow_duplicate=True),
    Input(Ids.PICK, "value"), Input(Ids.LEDGER, "cellClicked"),
    State(Ids.STATE, "data"), State(Ids.LEDGER, "getRowsRequest"),
    prevent_initial_call=True,
)
def navigate(value, clicked, state, ledger_request):
    """The chosen village and ledger entry live in the URL (a reload or a shared link restores them)."""
    state = dict(state or {})
    scope = current_scope()
    if ctx.triggered_id == Ids.PICK:
        code = dv.village_code(scope, value)
        if not code or code == state.get("village"):
            return no_update
        state = {"village": code}
    else:
        entry = (clicked or {}).get("rowId")
        if not entry or entry == state.get("entry") or not dv.village_code(scope, state.get("village")):
            return no_update
        state["entry"] = str(entry)[:40]
        state["grid"] = _grid_param(ledger_request)     # keep the ledger's sort and filter
    q = {k: v for k, v in state.items() if v not in (None, "")}
    return "?" + urlencode(q) if q else ""


def _grid_param(request: dict | None) -> str | None:
    key = dv.canonical_request(request)
    return None if key == dv.canonical_request(None) else key


@callback(Output(Ids.URL, "search"), Input(Ids.LEDGER, "getRowsRequest"), State(Ids.STATE, "data"),
          prevent_initial_call=True)
def mirror_grid(request, state):
    """The ledger's sort and filter mirrored into the address bar without reloading the page."""
    state = state or {}
    q = {"village": state.get("village"), "entry": state.get("entry"), "grid": _grid_param(request)}
    q = {k: v for k, v in q.items() if v not in (None, "")}
    return "?" + urlencode(q) if q else no_update


def export_table(table: str, state: dict, ledger_request: dict | None, lang: str):
    """The table as the screen shows it (same data_access call, same scope and masking), as a DataFrame."""
    import pandas as pd
    scope, viewer = current_scope(), current_viewer()
    code = dv.village_code(scope, (state or {}).get("village"))
    if code is None:
        return None
    if table == "ledger":
        df = dv.ledger_table(scope, code, dv.canonical_request(ledger_request))
        return export_frame(df, LEDGER_COLUMNS, lang, {"direction": direction_labels(lang)})
    if table == "invoices":
        inv = dv.entry_invoices(scope, state.get("entry")) if state.get("entry") else None
        if inv is None or inv["entry"].get("village_code") != code:
            return export_frame(pd.DataFrame(columns=[c[0] for c in INVOICE_COLUMNS]), INVOICE_COLUMNS, lang)
        return export_frame(inv["invoices"], INVOICE_COLUMNS, lang)
    if table == "projects":
        return export_frame(pd.DataFrame(project_rows(dv.projects(scope, code))), PROJECT_COLUMNS, lang)
    if table == "households":
        if not entitled(viewer.role):
            return None
        return export_frame(pd.DataFrame(household_rows(dv.households(scope, code))), HOUSEHOLD_COLUMNS, lang)
    return None


@callback(
    Output(Ids.DOWNLOAD, "data"),
    Input({"type": f"{PAGE}-export", "table": ALL, "fmt": ALL}, "n_clicks"),
    State(Ids.STATE, "data"), State(Ids.LEDGER, "getRowsRequest"),
    prevent_initial_call=True,
)
def export(clicks, state, ledger_request):
    choice = export_choice(ctx.triggered_id, clicks)
    df = export_table(choice[0], state or {}, ledger_request, current_lang()) if choice else None
    if df is None:
        return no_update
    code = (state or {}).get("village") or ""
    return download(df, choice[1], f"village_{code}_{choice[0]}")
