"""Village finance (村级财务), for analysts: /village?village=CODE[&entry=ENTRY_ID].

The ledger (infinite row model, sorted and filtered in SQL), the invoices behind the chosen entry,
income and expense by category, a monthly timeline, the top payees, the village's projects, its
households and their payments (entitled roles, masked unless pii), Benford (I02) and round amounts (I03).
Without a village, a searchable list of the villages in the viewer's scope.
"""
from __future__ import annotations

import json

from enum import Enum

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.drill_export import export_buttons, grid, table_header
from components.dropdown import labels as dropdown_labels
from components.village import (HOUSEHOLD_COLUMNS, INVOICE_COLUMNS, PROJECT_COLUMNS, ledger_column_defs)
from components.grid import locale_text
from core.i18n import t
from core.viewer import current_lang

dash.register_page(__name__, path="/village", title_key="nav.village", order=30, name="village")

PAGE = "village"


class Ids(str, Enum):
    STATE = "village-state"
    PICK = "village-pick"
    CRUMB = "village-breadcrumb"
    MESSAGE = "village-message"
    CONTENT = "village-content"
    KPIS = "village-kpis"
    CATEGORIES = "village-categories"
    TIMELINE = "village-timeline"
    PAYEES = "village-payees"
    BENFORD = "village-benford"
    ROUND = "village-round"
    LEDGER = "village-ledger"
    INVOICE_TITLE = "village-invoice-title"
    INVOICE_SUMMARY = "village-invoice-summary"
    INVOICES = "village-invoices"
    PROJECTS = "village-projects"
    HOUSEHOLDS = "village-households"
    HOUSEHOLDS_NOTE = "village-households-note"
    DOWNLOAD = "village-download"
    URL = "village-url"


def _graph(id_: str, height: int = 340):
    return dcc.Loading(dcc.Graph(id=id_, config={"displaylogo": False, "responsive": True},
                                 style={"height": f"{height}px"}), type="dot")


def grid_state(raw: str | None, filters: dict) -> dict:
    """The ledger's sort and filter from the URL's ``grid`` parameter, kept only for whitelisted columns."""
    try:
        g = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        g = {}
    g = g if isinstance(g, dict) else {}
    sort = [s for s in (g.get("sortModel") or []) if isinstance(s, dict) and s.get("colId") in filters
            and s.get("sort") in ("asc", "desc")][:1]
    fm = g.get("filterModel") if isinstance(g.get("filterModel"), dict) else {}
    return {"sortModel": sort, "filterModel": {k: v for k, v in fm.items() if k in filters and isinstance(v, dict)}}


def layout(village: str | None = None, entry: str | None = None, **query):
    from data_access.village import LEDGER_COLUMNS as FILTERS
    lang = current_lang()
    gs = grid_state(query.get("grid"), FILTERS)      # ?grid=: the ledger's sort and filter
    col_defs = ledger_column_defs(lang, FILTERS)
    for d in col_defs:      # the sort from the URL (a reload or a shared link restores it)
        if gs["sortModel"] and d.get("field") == gs["sortModel"][0]["colId"]:
            d["sort"] = gs["sortModel"][0]["sort"]
    return html.Div([
        dcc.Store(id=Ids.STATE, data={"village": village, "entry": entry}),
        dcc.Location(id=Ids.URL, refresh=False),
        dcc.Download(id=Ids.DOWNLOAD),
        dbc.Row([
            dbc.Col(html.H3(t("village.heading", lang), className="page-title"), md=6),
            dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                                 id=Ids.PICK, placeholder=t("village.pick_hint", lang), value=village,
                                 searchable=True, clearable=False, options=[]), md=5, className="ms-auto"),
        ], className="align-items-center mb-2"),
        html.Div(id=Ids.CRUMB),
        html.Div(id=Ids.MESSAGE, className="text-muted mb-2"),
        html.Div(id=Ids.CONTENT, style={"display": "none"}, children=[
            dbc.Row(id=Ids.KPIS, className="g-3 mb-3"),
            dbc.Row([dbc.Col(_graph(Ids.TIMELINE), lg=12)], className="mb-3"),
            dbc.Row([dbc.Col(_graph(Ids.CATEGORIES), lg=6), dbc.Col(_graph(Ids.PAYEES), lg=6)], className="mb-3"),
            dbc.Row([dbc.Col(_graph(Ids.BENFORD), lg=8), dbc.Col(html.Div(id=Ids.ROUND), lg=4)], className="mb-3"),
            table_header(t("village.ledger", lang), PAGE, "ledger", lang, t("village.ledger_hint", lang)),
            dag.AgGrid(
                id=Ids.LEDGER, rowModelType="infinite", columnDefs=col_defs, filterModel=gs["filterModel"],
                defaultColDef={"resizable": True, "minWidth": 100, "flex": 1},
                getRowId="params.data.entry_id",
                dashGridOptions={"cacheBlockSize": 100, "maxBlocksInCache": 20, "infiniteInitialRowCount": 1,
                                 "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
                                 "suppressCellFocus": True, "localeText": locale_text(lang)},
                style={"height": "460px", "width": "100%"}, className="ag-theme-alpine"),
            html.Div([html.H5(id=Ids.INVOICE_TITLE, className="mb-0 me-3"),
                      html.Span(id=Ids.INVOICE_SUMMARY, className="text-muted small"),
                      export_buttons(PAGE, "invoices", lang)],
                     className="d-flex align-items-center mt-3 mb-2"),
            grid(Ids.INVOICES, INVOICE_COLUMNS, [], lang, height=200),
            table_header(t("village.projects", lang), PAGE, "projects", lang),
            grid(Ids.PROJECTS, PROJECT_COLUMNS, [], lang, height=200),
            table_header(t("village.households", lang), PAGE, "households", lang),
            html.Div(id=Ids.HOUSEHOLDS_NOTE, className="text-muted small mb-1"),
            grid(Ids.HOUSEHOLDS, HOUSEHOLD_COLUMNS, [], lang, height=420),
        ]),
    ])
