"""Pure builders of the upload page (数据导入): stage bars, the import summary, the history grid."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from components.format import count
from core.i18n import t

STAGES = ("reading", "validating", "loading", "rollups", "detection")   # = pipeline.importer.STAGES
SUMMARY_COLUMNS = ("loaded", "inserted", "updated", "unchanged", "rejected", "ignored")
HISTORY_COLUMNS = ("at", "who", "file", "status", "as_of_date", "loaded", "inserted", "updated", "rejected", "detection")
REJECT_COLUMNS = ("file", "row", "column", "value", "reason")


def bar_id(stage: str) -> str:
    return f"upload-bar-{stage}"


def stage_bars(lang: str) -> html.Div:
    rows = []
    for s in STAGES:
        rows.append(dbc.Row([
            dbc.Col(html.Span(t(f"upload.stage.{s}", lang)), width=3, md=2, className="small"),
            dbc.Col(dbc.Progress(id=bar_id(s), value=0, label="", striped=True, style={"height": "1.2rem"},
                                 className="upload-bar"), width=9, md=10),
        ], className="mb-1 align-items-center"))
    return html.Div(rows, className="upload-stages")


def progress_values(progress: dict[str, float]) -> list:
    """[value per stage..., label per stage...] for the bars (0-100)."""
    vals = [round(100 * float(progress.get(s, 0.0))) for s in STAGES]
    return vals + [f"{v}%" if v else "" for v in vals]


def summary_view(result: dict | None, lang: str):
    """The outcome of one import: cancelled or interrupted, refused (why, where), or the per-table counts."""
    if not result:
        return None
    for state in ("cancelled", "interrupted"):          # the process was stopped before it committed anything
        if result.get(state):
            return dbc.Alert(t(f"upload.{state}", lang), color="secondary", className=f"upload-{state}")
    if result.get("refused"):
        reason = result.get("reason", "")
        where = ", ".join(x for x in (result.get("file"), result.get("column")) if x)
        msg = t(reason, lang) if reason else ""
        return dbc.Alert([html.Strong(t("upload.refused", lang)), html.Br(), msg,
                          html.Span(f" ({where})" if where else "", className="refused-where")],
                         color="danger", className="upload-refused")
    tables = result.get("tables", {})
    head = html.Thead(html.Tr([html.Th(t("upload.col.table", lang))] +
                              [html.Th(t(f"upload.col.{c}", lang), className="text-end") for c in SUMMARY_COLUMNS]))
    body = []
    for name, r in tables.items():
        cells = [html.Td(name)]
        for c in SUMMARY_COLUMNS:
            v = r.get(c)
            if c == "ignored":
                cells.append(html.Td(", ".join(v or []) or "—", className="text-end"))
            else:
                cells.append(html.Td(count(v or 0), className="text-end", **{"data-col": c}))
        body.append(html.Tr(cells, **{"data-table": name}))
    total_rej = int(result.get("rejected_total", 0))
    status = t("upload.done", lang, n=count(sum(r.get("loaded", 0) for r in tables.values())),
               rejected=count(total_rej))
    parts = [dbc.Alert(status, color="warning" if total_rej else "success", className="upload-done"),
             dbc.Table([head, html.Tbody(body)], bordered=False, striped=True, size="sm", className="upload-summary")]
    if result.get("ignored_files"):
        parts.append(html.Div(f"{t('import.ignored_file', lang)}: {', '.join(result['ignored_files'])}",
                              className="text-muted small"))
    if result.get("detection") not in ("done", "not_run"):
        parts.append(html.Div(t("upload.detection_pending", lang), className="text-warning small"))
    return html.Div(parts)


def reject_column_defs(lang: str) -> list[dict]:
    return [{"field": c, "headerName": t(f"upload.col.{c}", lang), **({"flex": 1} if c in ("value", "reason") else {"width": 140})}
            for c in REJECT_COLUMNS]


def reject_rows(rows: list[dict], lang: str) -> list[dict]:
    return [{**r, "reason": t(r["reason"], lang)} for r in rows]


def history_column_defs(lang: str) -> list[dict]:
    num = {"type": "rightAligned", "width": 120,
           "valueFormatter": {"function": "params.value == null ? '' : d3.format(',')(params.value)"}}
    return [{"field": c, "headerName": t(f"upload.col.{c}", lang),
             **(num if c in ("loaded", "inserted", "updated", "rejected") else {"flex": 1} if c == "file"
                else {"width": 175} if c == "at" else {"width": 150})}          # "2026-11-23 20:31:05" in full
            for c in HISTORY_COLUMNS]


def history_rows(rows: list[dict], lang: str) -> list[dict]:
    out = []
    for r in rows:
        status = t(f"upload.status.{r['status']}", lang)
        if r["status"] == "refused" and r.get("reason"):
            from core.i18n import has
            status += f": {t(r['reason'], lang) if has(r['reason']) else r['reason']}"
        det = r.get("detection") or ""
        out.append({**r, "status": status, "detection": t(f"upload.detection.{det}", lang) if det else ""})
    return out
