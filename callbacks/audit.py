"""Audit page callback: the filters -> the grid. The viewer comes from the session, never from inputs."""
from __future__ import annotations

from dash import Input, Output, callback

from components.audit import display_rows
from core.i18n import t
from core.viewer import current_lang, current_viewer
from data_access.audit import LIMIT, audit_rows
from pages.audit import Ids


@callback(
    Output(Ids.GRID, "rowData"), Output(Ids.COUNT, "children"),
    Input(Ids.ACTION, "value"), Input(Ids.USER, "value"), Input(Ids.RESULT, "value"),
    Input(Ids.DATES, "start_date"), Input(Ids.DATES, "end_date"),
)
def render(action, username, result, date_from, date_to):
    lang = current_lang()
    rows = audit_rows(current_viewer(), action, username, result, date_from, date_to)
    return display_rows(rows, lang), t("audit.count", lang, n=len(rows), limit=LIMIT)
