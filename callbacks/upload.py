"""Upload page callbacks. Every one checks the session's viewer (an administrator) on the server; the
background import, which runs in another process without the session, takes only the job token that
the administrator's upload created (see data_access.imports)."""
from __future__ import annotations

import time

import dash
from dash import Input, Output, State, callback, dcc, no_update
from dash.exceptions import PreventUpdate

from components.upload import (STAGES, bar_id, history_rows, progress_values, reject_rows, summary_view)
from core.i18n import t
from core.viewer import current_lang, current_viewer
from data_access import imports
from pages.upload import Ids

_BARS_VALUE = [Output(bar_id(s), "value") for s in STAGES]
_BARS_LABEL = [Output(bar_id(s), "label") for s in STAGES]


@callback(
    Output(Ids.JOB, "data"), Output(Ids.MESSAGE, "children"),
    Input(Ids.UPLOAD, "contents"), State(Ids.UPLOAD, "filename"),
    prevent_initial_call=True,
)
def accept_upload(contents, filename):
    """Store the uploaded file as a job (administrators only); the background import picks it up."""
    lang = current_lang()
    if not contents:
        raise PreventUpdate
    try:
        job = imports.save_upload(current_viewer(), filename, contents, lang)
    except imports.UploadRefused as exc:
        from dash_bootstrap_components import Alert
        return None, Alert(t(exc.key, lang, mb=imports.UPLOAD_MAX_BYTES >> 20), color="danger", className="upload-error")
    return job, t("upload.received", lang, file=job["file"])


@callback(
    Output(Ids.UPLOAD, "contents", allow_duplicate=True),
    Input(Ids.JOB, "data"),
    prevent_initial_call=True,
)
def forget_contents(job):
    """Once stored as a job, the upload's contents are emptied (the browser need not keep them): choosing
    the same file again, after a cancel, is then a change, hence a new upload."""
    if not job or not current_viewer().is_admin:
        raise PreventUpdate
    return None


@callback(
    Output(Ids.RESULT_STORE, "data"),
    Input(Ids.JOB, "data"),
    background=True,
    progress=_BARS_VALUE + _BARS_LABEL,
    progress_default=progress_values({}),
    # plain string ids: Dash keys `running` by str(Output), which for an Enum id is "Ids.UPLOAD.disabled"
    running=[(Output(Ids.UPLOAD.value, "disabled"), True, False), (Output(Ids.CANCEL.value, "disabled"), False, True)],
    cancel=[Input(Ids.CANCEL, "n_clicks")],
    prevent_initial_call=True,
)
def run_import(set_progress, job):
    """The import itself, in the background: one bar per stage of pipeline.importer.STAGES."""
    if not job or not job.get("token"):
        raise PreventUpdate
    state = {s: 0.0 for s in STAGES}
    last = [0.0]

    def progress(stage: str, frac: float) -> None:
        if stage in state:
            for s in STAGES[:STAGES.index(stage)]:
                state[s] = 1.0
            state[stage] = frac
        now = time.monotonic()
        if now - last[0] > 0.2 or frac >= 1.0:
            last[0] = now
            set_progress(progress_values(state))

    result = imports.run_job(job["token"], progress)
    if not result.get("refused"):
        set_progress(progress_values({s: 1.0 for s in STAGES}))
    return {"token": job["token"]}


@callback(
    Output(Ids.MESSAGE, "children", allow_duplicate=True), Output(Ids.RESULT_STORE, "data", allow_duplicate=True),
    Input(Ids.CANCEL, "n_clicks"), State(Ids.JOB, "data"),
    prevent_initial_call=True,
)
def cancel_import(n_clicks, job):
    """Cancel: Dash terminates the background job's process in a callback of its own (the uncommitted
    transaction is lost, as with kill -9); this one waits until that process is gone, records the
    attempt as cancelled in the history and shows the outcome (administrators only)."""
    if not n_clicks or not job or not job.get("token"):
        raise PreventUpdate
    lang = current_lang()
    state = imports.cancel_job(current_viewer(), job["token"])
    if state == "unknown":
        raise PreventUpdate
    from dash_bootstrap_components import Alert
    if state == "running":
        return Alert(t("upload.cancel_pending", lang), color="warning", className="upload-cancel-pending"), no_update
    if state == "finished":
        return (Alert(t("upload.cancel_too_late", lang), color="info", className="upload-cancel-too-late"),
                {"token": job["token"]})
    return None, {"token": job["token"]}           # cancelled: the result area says so


@callback(
    Output(Ids.RESULT, "children"), Output(Ids.REJECTS_BOX, "style"), Output(Ids.REJECTS_GRID, "rowData"),
    Output(Ids.HISTORY, "rowData"),
    Input(Ids.RESULT_STORE, "data"),
)
def render_result(stored):
    """The finished import's summary, its first rejects, and the history (also on the page's first load)."""
    viewer, lang = current_viewer(), current_lang()
    history = history_rows(imports.import_history(viewer), lang)
    token = (stored or {}).get("token")
    result = imports.job_result(viewer, token) if token else None
    if not result:
        return None, {"display": "none"}, [], history
    rejects = reject_rows(imports.rejects_preview(viewer, token), lang)
    box = {"display": "block"} if rejects else {"display": "none"}
    return summary_view(result, lang), box, rejects, history


@callback(
    Output(Ids.DOWNLOAD, "data"),
    Input(Ids.DL_CSV, "n_clicks"), Input(Ids.DL_XLSX, "n_clicks"), State(Ids.RESULT_STORE, "data"),
    prevent_initial_call=True,
)
def download_rejects(_csv, _xlsx, stored):
    fmt = "xlsx" if dash.ctx.triggered_id == Ids.DL_XLSX else "csv"
    token = (stored or {}).get("token")
    report = imports.rejects_report(current_viewer(), token, current_lang(), fmt) if token else None
    if report is None:
        return no_update
    name, data = report
    return dcc.send_bytes(data, name)


@callback(
    [Output(bar_id(s), "value", allow_duplicate=True) for s in STAGES] +
    [Output(bar_id(s), "label", allow_duplicate=True) for s in STAGES],
    Input(Ids.RESULT_STORE, "data"),
    prevent_initial_call=True,
)
def finish_bars(stored):
    """The last progress report can arrive after the result: a finished import shows every bar full."""
    token = (stored or {}).get("token")
    result = imports.job_result(current_viewer(), token) if token else None
    if not result or result.get("refused") or result.get("cancelled") or result.get("interrupted"):
        raise PreventUpdate
    pending = result.get("detection") == "pending"      # committed, then stopped during detection
    return progress_values({s: 1.0 for s in STAGES if not (pending and s == "detection")})
