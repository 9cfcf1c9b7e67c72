"""The administrators' upload page (数据导入): upload a package, watch the import stage by stage, download
the rejects, see the history of imports."""
from __future__ import annotations

from enum import Enum

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.upload import history_column_defs, reject_column_defs, stage_bars
from components.grid import locale_text
from core.i18n import t
from core.viewer import current_lang, current_viewer

dash.register_page(__name__, path="/upload", title_key="nav.upload", order=85, roles=("admin",), name="upload")


class Ids(str, Enum):
    UPLOAD = "upload-file"
    MESSAGE = "upload-message"
    JOB = "upload-job"
    RESULT_STORE = "upload-result-store"
    RESULT = "upload-result"
    CANCEL = "upload-cancel"
    REJECTS_BOX = "upload-rejects-box"
    REJECTS_GRID = "upload-rejects-grid"
    DL_CSV = "upload-dl-csv"
    DL_XLSX = "upload-dl-xlsx"
    DOWNLOAD = "upload-download"
    HISTORY = "upload-history"


def layout(**_query):
    lang = current_lang()
    viewer = current_viewer()
    if not viewer.is_admin:
        if viewer.is_authenticated:
            from core.audit import log_event
            log_event("refused", "/upload", "denied", {"reason": "not an administrator"})
        return dbc.Alert(t("upload.forbidden", lang), color="warning")
    from data_access.imports import UPLOAD_MAX_BYTES
    return html.Div([
        dcc.Store(id=Ids.JOB),
        dcc.Store(id=Ids.RESULT_STORE),
        html.H3(t("upload.title", lang), className="page-title"),
        html.P(t("upload.help", lang, mb=UPLOAD_MAX_BYTES >> 20), className="text-muted small"),
        dcc.Upload(id=Ids.UPLOAD, accept=".zip,.xlsx", max_size=UPLOAD_MAX_BYTES, multiple=False,
                   children=html.Div([t("upload.drop", lang), " ", html.A(t("upload.choose", lang))]),
                   className="upload-drop border rounded p-4 mb-2 text-center",
                   style={"borderStyle": "dashed", "cursor": "pointer"}),
        html.Div(id=Ids.MESSAGE, className="mb-2"),
        stage_bars(lang),
        dbc.Button(t("upload.cancel", lang), id=Ids.CANCEL, color="secondary", outline=True, size="sm",
                   disabled=True, className="mt-2 mb-3"),
        html.Div(id=Ids.RESULT, className="mb-3"),
        html.Div(id=Ids.REJECTS_BOX, style={"display": "none"}, children=[
            html.H5(t("upload.rejects", lang)),
            dbc.ButtonGroup([dbc.Button(t("upload.download_csv", lang), id=Ids.DL_CSV, size="sm", color="primary"),
                             dbc.Button(t("upload.download_xlsx", lang), id=Ids.DL_XLSX, size="sm", color="primary",
                                        outline=True)], className="mb-2"),
            dag.AgGrid(id=Ids.REJECTS_GRID, columnDefs=reject_column_defs(lang), rowData=[],
                       defaultColDef={"sortable": True, "resizable": True},
                       dashGridOptions={"pagination": True, "paginationPageSize": 20, "localeText": locale_text(lang)},
                       style={"height": "360px"}),
        ]),
        dcc.Download(id=Ids.DOWNLOAD),
        html.H5(t("upload.history", lang), className="mt-3"),
        dag.AgGrid(id=Ids.HISTORY, columnDefs=history_column_defs(lang), rowData=[],
                   defaultColDef={"sortable": True, "resizable": True},
                   dashGridOptions={"pagination": True, "paginationPageSize": 20, "localeText": locale_text(lang)},
                   style={"height": "420px"}),
    ])
