"""Pure builders for the complaints page (no queries): KPI cards, figures, grid columns and rows.

Every table is described once by ``columns(kind, lang, ...)`` (AG Grid columnDefs) and filled by
``rows(kind, df, lang)`` (display values: enum codes translated, dates as text, rates in percent);
the export (``export_frame``) is built from the same two, so what is downloaded is what is shown.
"""
from __future__ import annotations

import math

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.figures import empty_figure, figure
from components.format import count, money, pct
from components.kpi import kpi_card
from core.i18n import t
from data_access.base import plain_records

CHANNELS = ("online", "letter", "visit", "phone", "wechat")
CATEGORIES = ("livelihood_funds", "poverty_alleviation", "village_finance", "work_style", "other")
STATUSES = ("not_accepted", "open", "closed")
FUNNEL = ("received", "accepted", "closed", "substantiated")
COLORS = {"received": "#2e6da4", "accepted": "#16a085", "closed": "#e67e22", "substantiated": "#c0392b"}
LATE = "#c0392b"
IN_TIME = "#27ae60"


# --- labels --------------------------------------------------------------------------------------
def channel_label(code, lang: str) -> str:
    return t(f"complaints.channel.{code}", lang) if code in CHANNELS else str(code or "—")


def category_label(code, lang: str) -> str:
    return t(f"complaints.category.{code}", lang) if code in CATEGORIES else str(code or "—")


def status_label(code, lang: str) -> str:
    return t(f"complaints.status.{code}", lang) if code in (*STATUSES, "done") else str(code or "—")


def yes_no(v, lang: str):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    return t("complaints.yes" if bool(v) else "complaints.no", lang)


def _num(v, digits: int | None = None):
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return round(float(v), digits) if digits is not None else int(v)


def _pct(v):
    n = _num(v, 6)
    return None if n is None else round(n * 100, 1)


def _text(v):
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return str(v)


# --- KPI cards -----------------------------------------------------------------------------------
def funnel_cards(f: dict | None, lang: str) -> list:
    if not f:
        return [dbc.Col(html.Div(t("complaints.no_data", lang), className="text-muted"))]
    pop = f.get("population")
    cards = [
        kpi_card(t("complaints.kpi.received", lang), count(f["received"]), card_id="complaints-kpi-received"),
        kpi_card(t("complaints.kpi.accepted", lang), count(f["accepted"]),
                 t("complaints.kpi.rate_of_received", lang, rate=pct(f.get("accept_rate"))), card_id="complaints-kpi-accepted"),
        kpi_card(t("complaints.kpi.closed", lang), count(f["closed"]),
                 t("complaints.kpi.rate_of_accepted", lang, rate=pct(f.get("close_rate"))), card_id="complaints-kpi-closed"),
        kpi_card(t("complaints.kpi.substantiated", lang), count(f["substantiated"]),
                 t("complaints.kpi.rate_of_closed", lang, rate=pct(f.get("substantiation_rate"))),
                 card_id="complaints-kpi-substantiated"),
        kpi_card(t("complaints.kpi.amount", lang), money(f.get("amount_involved"), lang), card_id="complaints-kpi-amount"),
        kpi_card(t("complaints.kpi.per_10k", lang), "—" if f.get("per_10k") is None else f"{f['per_10k']:.2f}",
                 t("complaints.kpi.population", lang, n=count(pop)) if pop else t("complaints.kpi.no_population", lang),
                 card_id="complaints-kpi-per10k"),
    ]
    return [dbc.Col(c, xs=12, sm=6, lg=2) for c in cards]


def timeliness_cards(f: dict | None, tl: dict | None, lang: str) -> list:
    if not f or not tl:
        return []
    cards = [
        kpi_card(t("complaints.kpi.accepted_in_time", lang), pct(f.get("accepted_in_time_rate")),
                 t("complaints.kpi.share_of", lang, n=count(f["accepted_in_time"]), d=count(f["accepted"])),
                 card_id="complaints-kpi-accept-in-time"),
        kpi_card(t("complaints.kpi.closed_in_time", lang), pct(f.get("closed_in_time_rate")),
                 t("complaints.kpi.share_of", lang, n=count(f["closed_in_time"]), d=count(f["closed"])),
                 card_id="complaints-kpi-close-in-time"),
        kpi_card(t("complaints.kpi.accept_overdue", lang), count(tl["accept_overdue"]),
                 t("complaints.kpi.still_waiting", lang, n=count(tl.get("accept_overdue_open", 0))),
                 card_id="complaints-kpi-r22"),
        kpi_card(t("complaints.kpi.close_overdue", lang), count(tl["close_overdue"]),
                 t("complaints.kpi.still_open", lang, n=count(tl.get("close_overdue_open", 0))),
                 card_id="complaints-kpi-r23"),
        kpi_card(t("complaints.kpi.extensions", lang), count(f["extensions"]),
                 t("complaints.kpi.rate_of_accepted", lang, rate=pct(f.get("extension_rate"))),
                 card_id="complaints-kpi-extensions"),
    ]
    return [dbc.Col(c, xs=12, sm=6, lg=True) for c in cards]


def repeat_cards(r: dict | None, lang: str) -> list:
    if not r:
        return []
    return [dbc.Col(kpi_card(t("complaints.kpi.second", lang), count(r["second"]), card_id="complaints-kpi-second"),
                    xs=6, lg=2),
            dbc.Col(kpi_card(t("complaints.kpi.third_plus", lang), count(r["third_plus"]),
                             card_id="complaints-kpi-third"), xs=6, lg=2)]


# --- figures -------------------------------------------------------------------------------------
def funnel_figure(f: dict | None, lang: str) -> dict:
    if not f or not f.get("received"):
        return empty_figure(t("complaints.no_data", lang))
    labels = [t(f"complaints.kpi.{k}", lang) for k in FUNNEL]
    return figure([{
        "type": "funnel", "y": labels, "x": [int(f[k]) for k in FUNNEL],
        "textinfo": "value+percent previous", "marker": {"color": [COLORS[k] for k in FUNNEL]},
        "hovertemplate": "%{y}: %{x}<extra></extra>",
    }], t("complaints.funnel", lang), margin={"l": 80, "r": 16, "t": 40, "b": 20})


def breakdown_figure(df: pd.DataFrame, by: str, lang: str) -> dict:
    title = t(f"complaints.by_{'month' if by == 'period' else by}", lang)
    if df is None or df.empty or not df["received"].sum():
        return empty_figure(t("complaints.no_data", lang))
    if by == "channel":
        x = [channel_label(c, lang) for c in df["channel"]]
    elif by == "category":
        # two-word English labels on two lines, so that five fit side by side
        x = [category_label(c, lang).replace(" ", "<br>") for c in df["category"]]
    else:
        x = df["period"].tolist()
    data = []
    for k in FUNNEL:
        data.append({"type": "bar", "name": t(f"complaints.kpi.{k}", lang), "x": x, "y": df[k].astype(int).tolist(),
                     "marker": {"color": COLORS[k]},
                     "hovertemplate": "%{x}<br>%{fullData.name}: %{y}<extra></extra>"})
    axis = {"title": {"text": t("complaints.axis.month", lang)}, "type": "category"} if by == "period" else {"type": "category"}
    return figure(data, title, barmode="group", xaxis={**axis, "automargin": True, "tickangle": 0},
                  yaxis={"title": {"text": t("complaints.axis.count", lang)}, "rangemode": "tozero"},
                  legend={"orientation": "h", "y": -0.3 if by == "category" else -0.2})


def compare_figure(df: pd.DataFrame, level_name: str, lang: str, n: int = 15) -> dict:
    """Sub-regions by complaints per 10,000 residents (received where the population is unknown);
    customdata carries the region code for the drill-down."""
    if df is None or df.empty:
        return empty_figure(t("complaints.no_data", lang))
    d = df.copy()
    d["v"] = pd.to_numeric(d["per_10k"], errors="coerce")
    d = d.sort_values(["v", "received"], ascending=False, na_position="last").head(n).iloc[::-1]
    vals = d["v"].fillna(0.0).round(2)
    text = ["—" if pd.isna(v) else f"{v:.2f}" for v in d["v"]]
    hover = [f"{t('complaints.kpi.received', lang)} {int(r)} · {t('complaints.kpi.substantiated', lang)} {int(s)}"
             for r, s in zip(d["received"], d["substantiated"])]
    return figure([{
        "type": "bar", "orientation": "h", "x": vals.tolist(), "y": d["name"].tolist(),
        "customdata": d["region_code"].tolist(), "text": text, "textposition": "auto", "hovertext": hover,
        "hovertemplate": "%{y}: %{text}<br>%{hovertext}<extra></extra>", "marker": {"color": "#2e6da4"},
    }], t("complaints.compare", lang, level=level_name), margin={"l": 140, "r": 16, "t": 40, "b": 30},
        yaxis={"automargin": True, "type": "category"}, height=max(300, 60 + 26 * len(d)))


def days_figure(df: pd.DataFrame, which: str, lang: str) -> dict:
    """Counts per number of days, split in time / late (and, for closing, with or without extension)."""
    title = t(f"complaints.days_to_{which}", lang)
    if df is None or df.empty:
        return empty_figure(t("complaints.no_data", lang))
    groups = [("in_time", True, False, IN_TIME), ("late", False, False, LATE)]
    if which == "close":
        groups += [("in_time_ext", True, True, "#8fd19e"), ("late_ext", False, True, "#f1948a")]
    # counted in plain Python (a few dozen rows: pandas' masks and groupby per series cost ~2 ms a figure)
    days, in_times, counts = df["days"].tolist(), df["in_time"].tolist(), df["n"].tolist()
    exts = df["extension"].tolist() if which == "close" else [False] * len(days)
    data = []
    for key, in_time, ext, color in groups:
        per_day: dict[int, int] = {}
        for d, it, e, n in zip(days, in_times, exts, counts):
            if bool(it) == in_time and (which != "close" or bool(e) == ext):
                per_day[int(d)] = per_day.get(int(d), 0) + int(n)
        if not per_day:
            continue
        xs = sorted(per_day)
        data.append({"type": "bar", "name": t(f"complaints.{key}", lang), "x": xs,
                     "y": [per_day[x] for x in xs], "marker": {"color": color},
                     "hovertemplate": "%{x}: %{y}<extra>%{fullData.name}</extra>"})
    # counts: whole-number ticks (a region with one complaint a day got ticks at 0.2, 0.4, ...)
    stacked: dict[int, int] = {}
    for trace in data:
        for x, y in zip(trace["x"], trace["y"]):
            stacked[x] = stacked.get(x, 0) + y
    whole = {"dtick": 1} if max(stacked.values(), default=0) <= 8 else {}
    return figure(data, title, barmode="stack", bargap=0.05, legend={"orientation": "h", "y": -0.35},
                  margin={"l": 56, "r": 16, "t": 40, "b": 70},
                  xaxis={"title": {"text": t("complaints.axis.days", lang)}, "rangemode": "tozero"},
                  yaxis={"title": {"text": t("complaints.axis.count", lang)}, "rangemode": "tozero", **whole})


# --- tables --------------------------------------------------------------------------------------
NUM = {"type": "numericColumn", "filter": "agNumberColumnFilter"}


def _fixed(digits: int) -> dict:
    """A number column shown with fixed decimals (10.00 under 10.34, not 10); the export keeps the numbers."""
    return {**NUM, "valueFormatter": {"function": f"params.value == null ? '' : d3.format(',.{digits}f')(params.value)"}}


NUM1, NUM2 = _fixed(1), _fixed(2)
TABLES = {
    "compare": [("region_code", "region", {"hide": True}), ("name", "region", {"pinned": "left", "minWidth": 140}),
                ("received", "received", NUM), ("accepted", "accepted", NUM), ("closed", "closed", NUM),
                ("substantiated", "substantiated_n", NUM), ("per_10k", "per_10k", NUM2),
                ("accepted_in_time_rate", "accepted_in_time_rate", NUM1),
                ("closed_in_time_rate", "closed_in_time_rate", NUM1), ("accept_overdue", "accept_overdue", NUM),
                ("close_overdue", "close_overdue", NUM), ("amount_involved", "amount_involved", NUM2)],
    "overdue": [("complaint_id", "complaint_id", {"pinned": "left", "width": 110}), ("name", "region", {}),
                ("channel", "channel", {"width": 90}), ("category", "category", {}),
                ("received_date", "received_date", {}), ("accepted_date", "accepted_date", {}),
                ("due_date", "due_date", {}), ("closed_date", "closed_date", {}),
                ("extension", "extension", {"width": 90}), ("days_overdue", "days_overdue", NUM),
                ("status", "status", {"width": 100})],
    "repeats": [("name", "region", {}), ("fund_code", "fund_code", {}), ("project_code", "project_code", {}),
                ("complaints", "complaints", NUM), ("repeats", "repeats", NUM), ("first_received", "first_received", {}),
                ("last_received", "last_received", {}), ("complaint_ids", "complaint_ids", {"minWidth": 160})],
    "corroboration": [("match", "match", {"width": 110}), ("name", "region", {}), ("fund_code", "fund_code", {}),
                      ("project_code", "project_code", {}), ("complaints", "complaints", NUM),
                      ("substantiated", "substantiated_n", NUM), ("complaint_ids", "complaint_ids", {"minWidth": 160}),
                      ("clues", "clues", NUM), ("rules", "rules", {}), ("amount_at_risk", "amount_at_risk", NUM2)],
    "list": [("complaint_id", "complaint_id", {"pinned": "left", "width": 110, "filter": "agTextColumnFilter"}),
             ("name", "region", {"sortable": False, "filter": False}),
             ("channel", "channel", {"width": 100, "filter": "agTextColumnFilter"}),
             ("category", "category", {"filter": "agTextColumnFilter"}),
             ("received_date", "received_date", {"filter": "agDateColumnFilter"}),
             ("accepted_date", "accepted_date", {"filter": "agDateColumnFilter"}),
             ("closed_date", "closed_date", {"filter": "agDateColumnFilter"}),
             ("close_limit", "close_limit", {"sortable": False, "filter": False}),
             ("status", "status", {"width": 100, "sortable": False, "filter": "agTextColumnFilter"}),
             ("days_to_accept", "days_to_accept", {"type": "numericColumn", "sortable": False, "filter": False}),
             ("days_to_close", "days_to_close", {"type": "numericColumn", "sortable": False, "filter": False}),
             ("extension", "extension", {"width": 90, "filter": False}),
             ("substantiated", "substantiated", {"width": 90, "filter": False}),
             ("amount", "amount", NUM2),
             ("fund_code", "fund_code", {"filter": "agTextColumnFilter"}),
             ("project_code", "project_code", {"filter": "agTextColumnFilter"})],
}
CONFIDENTIAL_COLUMNS = [("summary", "summary", {"minWidth": 220, "sortable": False, "filter": False}),
                        ("complainant_name", "complainant_name", {"sortable": False, "filter": False}),
                        ("complainant_contact", "complainant_contact", {"sortable": False, "filter": False})]
# the list grid's columns that sort in SQL by another column
LIST_SORT_COLUMN = {"amount": "amount_involved", "extension": "extension_approved"}
RATE_HEADERS = ("accepted_in_time_rate", "closed_in_time_rate")


def columns(kind: str, lang: str, confidential: bool = False) -> list[dict]:
    """AG Grid columnDefs of a table; the confidential columns only when asked (complaint officers)."""
    spec = TABLES["overdue" if kind in ("r22", "r23") else kind]
    if kind == "list" and confidential:
        spec = spec + CONFIDENTIAL_COLUMNS
    out = []
    for field, label, extra in spec:
        name = t(f"complaints.col.{label}", lang)
        if label in RATE_HEADERS:
            name += " (%)"
        d = {"field": field, "headerName": name, **extra}
        if "filterParams" not in d and d.get("filter") not in (None, False):
            d["filterParams"] = {"maxNumConditions": 1, "buttons": ["reset"]}
        d["width"] = max(int(d.get("width") or 0), column_width(field, name, lang))
        out.append(d)
    return out


# widths of the data, by field; the header's own width wins when it is wider (no measuring in the browser:
# AG Grid's autoSize measured every cell of six grids and cost seconds at province scale)
DATA_WIDTH = {"complaint_id": 155, "region_code": 130, "name": 170, "channel": 90, "category": 110, "status": 90,
              "match": 100, "fund_code": 140, "project_code": 140, "complaint_ids": 220, "rules": 120,
              "summary": 280, "complainant_name": 110, "complainant_contact": 130, "amount_involved": 130,
              "amount_at_risk": 130}


# English labels of these fields are longer than the Chinese ones ("Poverty alleviation", "Not accepted")
DATA_WIDTH_EN = {"category": 170, "status": 130, "match": 120, "extension": 90}


def column_width(field: str, header: str, lang: str = "zh") -> int:
    """Pixels for a column: its data (by field and language; dates 115, numbers 100) or its header with
    the sort and filter icons, whichever is wider."""
    data = DATA_WIDTH.get(field, 115 if field.endswith(("_date", "_received", "close_limit")) else 100)
    if lang == "en":
        data = max(data, DATA_WIDTH_EN.get(field, 0))
    head = sum(15 if ord(ch) > 0x2E80 else 8 for ch in header) + 48
    return int(max(data, head))


def rows(kind: str, df: pd.DataFrame, lang: str) -> list[dict]:
    """Display rows for a table (the grid's rowData and, through export_frame, the export)."""
    if df is None or df.empty:
        return []
    out = []
    for r in plain_records(df):
        if kind == "compare":
            out.append({"region_code": r["region_code"], "name": r["name"], "received": _num(r["received"]),
                        "accepted": _num(r["accepted"]), "closed": _num(r["closed"]),
                        "substantiated": _num(r["substantiated"]), "per_10k": _num(r["per_10k"], 2),
                        "accepted_in_time_rate": _pct(r["accepted_in_time_rate"]),
                        "closed_in_time_rate": _pct(r["closed_in_time_rate"]),
                        "accept_overdue": _num(r["accept_overdue"]), "close_overdue": _num(r["close_overdue"]),
                        "amount_involved": _num(r["amount_involved"], 2)})
        elif kind in ("r22", "r23"):
            out.append({"complaint_id": r["complaint_id"], "name": r["name"],
                        "channel": channel_label(r["channel"], lang), "category": category_label(r["category"], lang),
                        "received_date": _text(r["received_date"]), "accepted_date": _text(r["accepted_date"]),
                        "due_date": _text(r["due_date"]), "closed_date": _text(r["closed_date"]),
                        "extension": yes_no(r["extension_approved"], lang), "days_overdue": _num(r["days_overdue"]),
                        "status": t("complaints.status.open" if r["status"] == "open" else "complaints.status.done", lang)})
        elif kind == "repeats":
            out.append({"name": r["name"], "fund_code": _text(r["fund_code"]), "project_code": _text(r["project_code"]),
                        "complaints": _num(r["complaints"]), "repeats": _num(r["repeats"]),
                        "first_received": r["first_received"], "last_received": r["last_received"],
                        "complaint_ids": r["complaint_ids"]})
        elif kind == "corroboration":
            out.append({"match": t(f"complaints.match.{r['match']}", lang), "name": r["name"],
                        "fund_code": _text(r["fund_code"]), "project_code": _text(r["project_code"]),
                        "complaints": _num(r["complaints"]), "substantiated": _num(r["substantiated"]),
                        "complaint_ids": r["complaint_ids"], "clues": _num(r["clues"]), "rules": r["rules"],
                        "amount_at_risk": _num(r["amount_at_risk"], 2)})
        elif kind == "list":
            row = {"complaint_id": r["complaint_id"], "name": r["name"], "channel": channel_label(r["channel"], lang),
                   "category": category_label(r["category"], lang), "received_date": _text(r["received_date"]),
                   "accepted_date": _text(r["accepted_date"]), "closed_date": _text(r["closed_date"]),
                   "close_limit": _text(r["close_limit"]), "status": status_label(r["status"], lang),
                   "days_to_accept": _num(r["days_to_accept"]), "days_to_close": _num(r["days_to_close"]),
                   "extension": yes_no(r["extension_approved"], lang), "substantiated": yes_no(r["substantiated"], lang),
                   "amount": _num(r["amount_involved"], 2), "fund_code": _text(r["fund_code"]),
                   "project_code": _text(r["project_code"])}
            for c, _, _ in CONFIDENTIAL_COLUMNS:
                if c in r:
                    row[c] = _text(r[c])
            out.append(row)
        else:
            raise ValueError(kind)
    return out


def export_frame(defs: list[dict], data: list[dict]) -> pd.DataFrame:
    """The table as shown: visible columns in order, headed by their names."""
    vis = [d for d in defs if not d.get("hide")]
    return pd.DataFrame([[r.get(d["field"]) for d in vis] for r in data], columns=[d["headerName"] for d in vis])


# --- AG Grid filter model -> data_access filters --------------------------------------------------
def _match(label: str, op: str, text: str) -> bool:
    a, b = label.lower(), text.lower()
    return {"equals": a == b, "notEqual": a != b, "startsWith": a.startswith(b), "endsWith": a.endswith(b),
            "notContains": b not in a}.get(op, b in a)


def list_query(sort_model, filter_model, lang: str) -> tuple[tuple, tuple]:
    """(sort, filters) for data_access.complaints.complaint_list from AG Grid's sortModel/filterModel;
    translated enum columns are matched on their labels (and codes) in the viewer's language."""
    sort = []
    for s in sort_model or []:
        if not isinstance(s, dict):
            continue
        col = LIST_SORT_COLUMN.get(s.get("colId"), s.get("colId"))
        if isinstance(col, str):
            sort.append((col, "desc" if s.get("sort") == "desc" else "asc"))
    filters = []
    labels = {"channel": (CHANNELS, channel_label), "category": (CATEGORIES, category_label),
              "status": (STATUSES, status_label)}
    for col, m in (filter_model or {}).items():
        if not isinstance(m, dict):
            continue
        op = str(m.get("type") or "contains")
        if col in labels:
            codes, lab = labels[col]
            text = str(m.get("filter") or "")
            chosen = tuple(c for c in codes if _match(lab(c, lang), op, text) or _match(c, op, text))
            filters.append((col, "in", chosen))
        elif col in ("complaint_id", "fund_code", "project_code"):
            filters.append((col, "text", op, str(m.get("filter") or "")))
        elif col in ("received_date", "accepted_date", "closed_date"):
            filters.append((col, "date", op, m.get("dateFrom"), m.get("dateTo")))
        elif col == "amount":
            filters.append(("amount_involved", "number", op, m.get("filter"), m.get("filterTo")))
    return tuple(sort), tuple(filters)


# --- one complaint -------------------------------------------------------------------------------
def detail_card(d: dict | None, lang: str):
    if not d:
        return dbc.Alert(t("complaints.detail_none", lang), color="secondary", className="small")
    fields = [("region", d["name"]), ("channel", channel_label(d["channel"], lang)),
              ("category", category_label(d["category"], lang)), ("received_date", d["received_date"]),
              ("accepted_date", d["accepted_date"]), ("closed_date", d["closed_date"]),
              ("close_limit", d["close_limit"]), ("extension", yes_no(d["extension_approved"], lang)),
              ("substantiated", yes_no(d["substantiated"], lang)),
              ("amount", money(d["amount_involved"], lang) if d.get("amount_involved") is not None else None),
              ("fund_code", d.get("fund_code")), ("project_code", d.get("project_code"))]
    for c, _, _ in CONFIDENTIAL_COLUMNS:
        if c in d:
            fields.append((c, d[c]))
    items = []
    for label, value in fields:
        items += [html.Dt(t(f"complaints.col.{label}", lang), className="col-sm-3"),
                  html.Dd(value if value not in (None, "") else "—", className="col-sm-9 mb-1")]
    return dbc.Card(dbc.CardBody([html.H6(t("complaints.detail", lang, id=d["complaint_id"])),
                                  html.Dl(items, className="row small mb-0")]), className="mb-3")


def subject_list(items: list[dict], lang: str, remove_type: str):
    """The recorded subjects of a complaint (ID numbers as data_access returned them: masked unless
    the viewer has pii), each with a remove button keyed by an opaque ref."""
    if not items:
        return html.Div(t("complaints.subject.none", lang), className="text-muted small")
    return html.Ul([
        html.Li([html.Code(s["id_number"], className="me-2 subject-id"),
                 html.Span(t("complaints.subject.recorded", lang, by=s["recorded_by"], at=s["recorded_at"]),
                           className="text-muted small me-2"),
                 dbc.Button(t("complaints.subject.remove", lang), id={"type": remove_type, "ref": s["ref"]},
                            size="sm", color="link", className="p-0 align-baseline")],
                className="mb-1")
        for s in items], className="list-unstyled mb-2 small")
