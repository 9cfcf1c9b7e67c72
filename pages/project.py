"""Projects (项目): /project?project=CODE, or /project?q=TEXT to search the projects of the scope.

Fund, contractor, contract amount, planned vs completed quantity, payments over time against the
acceptance date, beneficiaries, and the linked clues and complaints (complaint summaries only for
the complaint officer). Reachable from the village page, the fund flow and the search here.
"""
from __future__ import annotations

from enum import Enum

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.drill_export import grid, table_header
from components.project import (BENEFICIARY_COLUMNS, CLUE_COLUMNS, PAYMENT_COLUMNS, SEARCH_COLUMNS, complaint_columns)
from core.i18n import t
from core.viewer import current_lang, current_scope

dash.register_page(__name__, path="/project", title_key="nav.project", order=32, name="project")

PAGE = "project"


class Ids(str, Enum):
    STATE = "project-state"
    SEARCH = "project-search"
    CRUMB = "project-breadcrumb"
    MESSAGE = "project-message"
    RESULTS_BOX = "project-results-box"
    RESULTS = "project-results"
    CONTENT = "project-content"
    TITLE = "project-title"
    KPIS = "project-kpis"
    TIMELINE = "project-timeline"
    PAYMENTS = "project-payments"
    BENEFICIARIES = "project-beneficiaries"
    CLUES = "project-clues"
    COMPLAINTS = "project-complaints"
    COMPLAINTS_NOTE = "project-complaints-note"
    DOWNLOAD = "project-download"


def layout(project: str | None = None, q: str | None = None, **_query):
    lang = current_lang()
    show_summary = current_scope().complaints
    return html.Div([
        dcc.Store(id=Ids.STATE, data={"project": project, "q": q}),
        dcc.Download(id=Ids.DOWNLOAD),
        dbc.Row([
            dbc.Col(html.H3(t("project.heading", lang), className="page-title"), md=5),
            dbc.Col(dcc.Input(id=Ids.SEARCH, type="search", value=q or "", debounce=True, maxLength=60,
                              placeholder=t("project.search_hint", lang), className="form-control"),
                    md=5, className="ms-auto"),
        ], className="align-items-center mb-2"),
        html.Div(id=Ids.CRUMB),
        html.Div(id=Ids.MESSAGE, className="text-muted mb-2"),
        html.Div(id=Ids.RESULTS_BOX, style={"display": "none"}, children=[
            table_header(t("project.search", lang), PAGE, "results", lang),
            grid(Ids.RESULTS, SEARCH_COLUMNS, [], lang, height=300),
        ]),
        html.Div(id=Ids.CONTENT, style={"display": "none"}, children=[
            html.H4(id=Ids.TITLE, className="mb-3"),
            dbc.Row(id=Ids.KPIS, className="g-3 mb-3"),
            dcc.Loading(dcc.Graph(id=Ids.TIMELINE, config={"displaylogo": False, "responsive": True},
                                  style={"height": "360px"}), type="dot"),
            table_header(t("project.payments", lang), PAGE, "payments", lang),
            grid(Ids.PAYMENTS, PAYMENT_COLUMNS, [], lang, height=240),
            table_header(t("project.beneficiaries", lang), PAGE, "beneficiaries", lang),
            grid(Ids.BENEFICIARIES, BENEFICIARY_COLUMNS, [], lang, height=240),
            dbc.Row([
                dbc.Col([table_header(t("project.clues", lang), PAGE, "clues", lang),
                         grid(Ids.CLUES, CLUE_COLUMNS, [], lang, height=220)], lg=6),
                dbc.Col([table_header(t("project.complaints", lang), PAGE, "complaints", lang),
                         html.Div(id=Ids.COMPLAINTS_NOTE, className="text-muted small mb-1"),
                         grid(Ids.COMPLAINTS, complaint_columns(show_summary), [], lang, height=220)], lg=6),
            ]),
        ]),
    ])
