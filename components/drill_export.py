"""Pure helpers shared by the drill-down pages (village, project, household): grids, export buttons,
export payloads, a breadcrumb that links villages to the village page.

Exports are built from the very DataFrame the screen shows (the same data_access call), with the
screen's column headers: what is masked on screen is masked in the file.
"""
from __future__ import annotations

import json
import re

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html
from urllib.parse import urlencode

from components.grid import locale_text
from core.i18n import t

MONEY_FMT = {"function": "params.value == null ? '' : Number(params.value).toLocaleString('en-US', "
                         "{minimumFractionDigits: 2, maximumFractionDigits: 2})"}


def bool_fmt(lang: str) -> dict:
    yes, no = t("drill.yes", lang), t("drill.no", lang)
    return {"function": f"params.value == null ? '' : (params.value ? {json.dumps(yes)} : {json.dumps(no)})"}


def map_fmt(mapping: dict) -> dict:
    """A valueFormatter showing ``mapping[value]`` (e.g. translated enum values)."""
    expr = "params.value"
    for k, v in reversed(list(mapping.items())):
        expr = f"(params.value === {json.dumps(k)} ? {json.dumps(v, ensure_ascii=False)} : {expr})"
    return {"function": expr}


def column_defs(columns: list[tuple], lang: str) -> list[dict]:
    """columns: (field, header key, kind[, extra dict]); kind: text, money, number, date, bool, link, map."""
    out = []
    for spec in columns:
        field, key, kind = spec[:3]
        extra = dict(spec[3]) if len(spec) > 3 else {}
        d = {"field": field, "headerName": t(key, lang)}
        if kind == "money":
            d.update(valueFormatter=MONEY_FMT, type="rightAligned", filter="agNumberColumnFilter")
        elif kind == "number":
            d.update(type="rightAligned", filter="agNumberColumnFilter")
        elif kind == "bool":
            d.update(valueFormatter=bool_fmt(lang))
        elif kind == "link":
            d.update(cellRenderer="markdown")
        elif kind == "date":
            d.update(filter="agDateColumnFilter" if extra.pop("date_filter", False) else "agTextColumnFilter")
        d.update(extra)
        out.append(d)
    return out


def grid(id_, columns: list[tuple], rows: list[dict], lang: str, height: int = 320, **kw) -> dag.AgGrid:
    """A small client-side grid (sortable, filterable, resizable)."""
    return dag.AgGrid(id=id_, columnDefs=column_defs(columns, lang), rowData=rows,
                      defaultColDef={"sortable": True, "resizable": True, "filter": True, "minWidth": 90, "flex": 1},
                      dashGridOptions={"animateRows": False, "suppressCellFocus": True,
                                       "localeText": locale_text(lang, noRowsToShow=t("drill.no_data", lang))},
                      style={"height": f"{height}px", "width": "100%"}, className="ag-theme-alpine", **kw)


def export_buttons(page: str, table: str, lang: str):
    """CSV and XLSX buttons; their ids are matched by the page's one export callback."""
    return dbc.ButtonGroup([
        dbc.Button(t("drill.export_csv", lang), id={"type": f"{page}-export", "table": table, "fmt": "csv"},
                   size="sm", color="secondary", outline=True, n_clicks=0),
        dbc.Button(t("drill.export_xlsx", lang), id={"type": f"{page}-export", "table": table, "fmt": "xlsx"},
                   size="sm", color="secondary", outline=True, n_clicks=0),
    ], className="ms-auto")


def export_choice(trig, clicks) -> tuple[str, str] | None:
    """(table, fmt) of the export button of ``export_buttons`` that was clicked, from the callback's
    ``ctx.triggered_id`` and the buttons' n_clicks; None when nothing was really clicked."""
    if not isinstance(trig, dict) or not any(c for c in (clicks or []) if c):
        return None
    return str(trig.get("table")), "xlsx" if trig.get("fmt") == "xlsx" else "csv"


def table_header(title: str, page: str, table: str, lang: str, note: str | None = None):
    return html.Div([html.H5(title, className="mb-0 me-3"),
                     html.Span(note or "", className="text-muted small"),
                     export_buttons(page, table, lang)], className="d-flex align-items-center mb-2 mt-3")


def export_frame(df: pd.DataFrame, columns: list[tuple], lang: str, mappers: dict | None = None) -> pd.DataFrame:
    """The table as shown: the grid's columns (links as their text), translated headers and values."""
    out = pd.DataFrame(index=df.index)
    yes, no = t("drill.yes", lang), t("drill.no", lang)
    for spec in columns:
        field, key, kind = spec[:3]
        if field not in df.columns:
            continue
        col = df[field]
        if kind == "link":
            col = col.map(lambda s: _link_text(s))
        elif kind == "bool":
            col = col.map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else (yes if v else no))
        if mappers and field in mappers:
            col = col.map(lambda v, m=mappers[field]: m.get(v, v))
        out[t(key, lang)] = col
    return out.reset_index(drop=True)


_LINK = re.compile(r"^\[(.*)\]\((.*)\)$", re.S)


def _link_text(s):
    if not isinstance(s, str):
        return s
    m = _LINK.match(s)
    return m.group(1).replace("\\*", "*").replace("\\_", "_") if m else s


def md_escape(s) -> str:
    return re.sub(r"([\\`*_\[\]()#+!|<>])", r"\\\1", "" if s is None else str(s))


def md_link(text, href: str) -> str:
    return f"[{md_escape(text)}]({href})"


def crumbs(items: list[dict], lang: str, tail: str | None = None):
    """Province > city > county > township > village: regions link to the overview, a village to the
    village page; ``tail`` (a project, a person) is the last, active item."""
    out = []
    n = len(items)
    for i, it in enumerate(items):
        last = i == n - 1 and not tail
        label = it["name"]
        if last:
            out.append(html.Li(label, className="breadcrumb-item active"))
            continue
        href = (f"/village?{urlencode({'village': it['code']})}" if it.get("level") == "village"
                else f"/?{urlencode({'region': it['code']})}")
        out.append(html.Li(html.A(label, href=href), className="breadcrumb-item"))
    if tail:
        out.append(html.Li(tail, className="breadcrumb-item active"))
    return html.Nav(html.Ol(out, className="breadcrumb"), **{"aria-label": "breadcrumb"})
