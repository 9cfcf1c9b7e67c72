"""The administrators' audit page (审计日志): a filterable table of the audit trail."""
from __future__ import annotations

from enum import Enum

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.audit import action_label, options, result_label
from components.dropdown import labels as dropdown_labels
from components.grid import locale_text
from core.i18n import t
from core.viewer import current_lang, current_viewer

dash.register_page(__name__, path="/audit", title_key="nav.audit", order=90, roles=("admin",), name="audit")

COLUMNS = ("at", "username", "remote_addr", "action", "target", "result", "detail")
RESULTS = ("ok", "denied", "error", "cancelled", "interrupted")


class Ids(str, Enum):
    ACTION = "audit-action"
    USER = "audit-user"
    RESULT = "audit-result"
    DATES = "audit-dates"
    GRID = "audit-grid"
    COUNT = "audit-count"


def column_defs(lang: str) -> list[dict]:
    widths = {"at": 170, "username": 130, "remote_addr": 130, "action": 150, "target": 200, "result": 90}
    return [{"field": c, "headerName": t(f"audit.col.{c}", lang), **({"width": widths[c]} if c in widths else {"flex": 1})}
            for c in COLUMNS]


def layout(**_query):
    lang = current_lang()
    viewer = current_viewer()
    if not viewer.is_admin:
        if viewer.is_authenticated:
            from core.audit import log_event
            log_event("refused", "/audit", "denied", {"reason": "not an administrator"})
        return dbc.Alert(t("audit.forbidden", lang), color="warning")
    from data_access.audit import audit_actions
    all_ = t("audit.filter.all", lang)
    return html.Div([
        html.H3(t("audit.title", lang), className="page-title"),
        dbc.Row([
            dbc.Col([dbc.Label(t("audit.filter.action", lang)),
                     dcc.Dropdown(labels=dropdown_labels(lang),
                                  id=Ids.ACTION, options=options(audit_actions(viewer), action_label, lang),
                                  placeholder=all_, clearable=True)], md=3),
            dbc.Col([dbc.Label(t("audit.filter.username", lang)),
                     dcc.Input(id=Ids.USER, type="text", debounce=True, maxLength=64, className="form-control")], md=2),
            dbc.Col([dbc.Label(t("audit.filter.result", lang)),
                     dcc.Dropdown(labels=dropdown_labels(lang),
                                  id=Ids.RESULT, options=options(RESULTS, result_label, lang), placeholder=all_,
                                  clearable=True)], md=2),
            dbc.Col([dbc.Label(f"{t('audit.filter.from', lang)} – {t('audit.filter.to', lang)}"),
                     dcc.DatePickerRange(id=Ids.DATES, display_format="YYYY-MM-DD", clearable=True,
                                         start_date_placeholder_text=t("audit.dates_start", lang),
                                         end_date_placeholder_text=t("audit.dates_end", lang))], md=5),
        ], className="g-2 mb-2"),
        html.Div(id=Ids.COUNT, className="text-muted small mb-1"),
        dag.AgGrid(id=Ids.GRID, columnDefs=column_defs(lang), rowData=[],
                   defaultColDef={"sortable": True, "resizable": True, "filter": True},
                   dashGridOptions={"pagination": True, "paginationPageSize": 50, "localeText": locale_text(lang)},
                   style={"height": "70vh"}),
    ])
