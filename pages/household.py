"""Household file (一户一档): /household?person=KEY, for the entitled roles (data_access.household).

``person`` is an opaque key (data_access.household.person_key), never an ID number: the server
resolves it and checks the person is inside the viewer's scope. The search text (an ID number or a
name) is not put in the URL; the chosen person is.
"""
from __future__ import annotations

from enum import Enum

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.drill_export import grid, table_header
from components.household import MEMBER_COLUMNS, PAYMENT_COLUMNS, RESULT_COLUMNS
from core.i18n import t
from core.viewer import current_lang, current_viewer
from data_access.household import ENTITLED_ROLES, entitled

dash.register_page(__name__, path="/household", title_key="nav.household", order=34, name="household",
                   roles=ENTITLED_ROLES)

PAGE = "household"


class Ids(str, Enum):
    STATE = "household-state"
    SEARCH = "household-search"
    GO = "household-go"
    CRUMB = "household-breadcrumb"
    MESSAGE = "household-message"
    RESULTS_BOX = "household-results-box"
    RESULTS = "household-results"
    CONTENT = "household-content"
    TITLE = "household-title"
    NOTE = "household-note"
    KPIS = "household-kpis"
    MEMBERS = "household-members"
    PAYMENTS = "household-payments"
    DOWNLOAD = "household-download"


def layout(person: str | None = None, **_query):
    lang = current_lang()
    viewer = current_viewer()
    if not entitled(viewer.role):
        return dbc.Alert(t("household.denied", lang), color="warning")
    return html.Div([
        dcc.Store(id=Ids.STATE, data={"person": person}),
        dcc.Download(id=Ids.DOWNLOAD),
        dbc.Row([
            dbc.Col(html.H3(t("household.heading", lang), className="page-title"), md=5),
            dbc.Col(dbc.InputGroup([
                dbc.Input(id=Ids.SEARCH, type="search", maxLength=40, autocomplete="off",
                          placeholder=t("household.search_hint", lang), debounce=True),
                dbc.Button(t("household.search_button", lang), id=Ids.GO, color="primary", n_clicks=0),
            ]), md=6, className="ms-auto"),
        ], className="align-items-center mb-2"),
        html.Div(id=Ids.CRUMB),
        html.Div(id=Ids.MESSAGE, className="text-muted mb-2"),
        html.Div(id=Ids.RESULTS_BOX, style={"display": "none"}, children=[
            html.H5(t("household.results", lang)),
            grid(Ids.RESULTS, RESULT_COLUMNS, [], lang, height=260),
        ]),
        html.Div(id=Ids.CONTENT, style={"display": "none"}, children=[
            html.H4(id=Ids.TITLE, className="mb-1"),
            html.Div(id=Ids.NOTE, className="text-muted small mb-2"),
            dbc.Row(id=Ids.KPIS, className="g-3 mb-3"),
            table_header(t("household.members", lang), PAGE, "members", lang),
            grid(Ids.MEMBERS, MEMBER_COLUMNS, [], lang, height=200),
            table_header(t("household.payments", lang), PAGE, "payments", lang),
            grid(Ids.PAYMENTS, PAYMENT_COLUMNS, [], lang, height=420),
        ]),
    ])
