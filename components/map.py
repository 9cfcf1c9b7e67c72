"""Pure builders of the anomaly map (异常地图): classed choropleths of counties and township cells,
the recolouring patch, the grade breakdown and the township panel.

Every metric is drawn in the same seven classes: 0 = not enough data (grey), 1-6 = the bands of the
grade thresholds (A ... F, green to red), so that a rate, a complaint density and a grade read alike.
"""
from __future__ import annotations

import functools
import math

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.figures import empty_figure, figure
from components.format import count, pct
from core.i18n import t
from data_access.base import plain_records
from data_access.grades import COMPONENTS, LETTERS, GradeRules

COLORS = ["#d9d9d9", "#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027"]
N = len(COLORS)
METRIC_OPTIONS = ("anomaly_count", "anomaly_amount", "grade", "complaints_10k")


def colorscale() -> list:
    out = []
    for i, c in enumerate(COLORS):
        out += [[i / N, c], [(i + 1) / N, c]]
    return out


def fmt_value(metric: str, v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if metric == "grade" or metric.endswith("_grade"):
        return str(v)
    if metric in ("anomaly_count", "anomaly_amount", "round_share", "substantiation"):
        return pct(v, 2)
    if metric == "benford":
        return f"{float(v):.4f}"
    if metric == "disclosure_lag":
        return f"{float(v):.1f}"
    return f"{float(v):.1f}"


@functools.lru_cache(maxsize=None)
def _bounds(metric: str) -> tuple:
    """A metric's class bounds (GradeRules' thresholds are constants): looked up once, not per region."""
    return GradeRules().threshold(metric)


def value_class(metric: str, v, enough: bool) -> int:
    if not enough or v is None or (isinstance(v, float) and math.isnan(v)):
        return 0
    if metric == "grade":
        return LETTERS.index(v) + 1 if v in LETTERS else 0
    bounds = _bounds(metric)
    for i, b in enumerate(bounds):
        if float(v) <= b + 1e-12:
            return i + 1
    return len(bounds) + 1


def class_labels(metric: str, lang: str) -> list[str]:
    first = t("map.not_enough", lang)
    if metric == "grade":
        return [first] + list(LETTERS)
    b = _bounds(metric)
    f = (lambda x: pct(x, 1)) if metric != "complaints_10k" else (lambda x: f"{x:g}")
    labels = [f"≤ {f(b[0])}"] + [f"{f(b[i - 1])} – {f(b[i])}" for i in range(1, len(b))] + [f"> {f(b[-1])}"]
    return [first] + labels


def sample_text(metric: str, n, lang: str) -> str:
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "—"
    unit = t("map.unit_residents", lang) if metric == "complaints_10k" else t("map.unit_payments", lang)
    return f"{count(n)} {unit}"


def colour_data(codes: list[str], names: dict, df: pd.DataFrame, metric: str, lang: str) -> dict:
    """z (class), customdata [code, name, value, sample] for ``codes`` in that order; codes without a
    row (outside the scope, or no data) are class 0."""
    rows = {r["region_code"]: r for r in plain_records(df)} if not df.empty else {}
    z, custom = [], []
    for c in codes:
        r = rows.get(c)
        if r is None:
            z.append(0)
            custom.append([c, names.get(c, c), t("map.no_data", lang), "—"])
            continue
        enough = bool(r.get("enough"))
        z.append(value_class(metric, r.get("value"), enough))
        val = fmt_value(metric, r.get("value")) if enough else t("map.not_enough", lang)
        custom.append([c, r.get("name") or names.get(c, c), val, sample_text(metric, r.get("sample"), lang)])
    return {"z": z, "customdata": custom}


def hovertemplate(metric: str, lang: str) -> str:
    return ("<b>%{customdata[1]}</b><br>" + t(f"map.metric.{metric}", lang) + ": %{customdata[2]}<br>"
            + t("map.sample", lang) + ": %{customdata[3]}<extra></extra>")


def colorbar(metric: str, lang: str) -> dict:
    return {"title": {"text": t(f"map.metric.{metric}", lang), "side": "right"}, "tickvals": list(range(N)),
            "ticktext": class_labels(metric, lang), "len": 0.8, "thickness": 14}


def choropleth(shapes: dict, df: pd.DataFrame, metric: str, lang: str, title: str, height: int = 560) -> dict:
    codes = [f["id"] for f in shapes["features"]]
    names = {f["id"]: (f.get("properties") or {}).get("name") for f in shapes["features"]}
    data = colour_data(codes, names, df, metric, lang)
    trace = {"type": "choropleth", "geojson": shapes, "locations": codes, "featureidkey": "id",
             "z": data["z"], "customdata": data["customdata"], "zmin": -0.5, "zmax": N - 0.5,
             "colorscale": colorscale(), "colorbar": colorbar(metric, lang), "hovertemplate": hovertemplate(metric, lang),
             "marker": {"line": {"color": "#ffffff", "width": 0.6}}}
    return figure([trace], title, height=height, margin={"l": 0, "r": 0, "t": 40, "b": 0}, dragmode=False,
                  geo={"fitbounds": "locations", "visible": False, "projection": {"type": "mercator"},
                       "bgcolor": "rgba(0,0,0,0)"})


def county_title(metric: str, lang: str, year) -> str:
    y = str(year) if year else t("map.all_years", lang)
    return t("map.county_title", lang, metric=t(f"map.metric.{metric}", lang), year=y)


def recolour(shapes_codes: list[str], names: dict, df: pd.DataFrame, metric: str, lang: str, year) -> dict:
    """What changes when the metric or the period changes: the values patched into the drawn map."""
    data = colour_data(shapes_codes, names, df, metric, lang)
    return {"z": data["z"], "customdata": data["customdata"], "hovertemplate": hovertemplate(metric, lang),
            "colorbar": colorbar(metric, lang), "title": county_title(metric, lang, year)}


def township_figure(shapes: dict | None, df: pd.DataFrame, metric: str, lang: str, county_name: str | None) -> dict:
    if not shapes or not shapes.get("features"):
        return empty_figure(t("map.pick_county", lang))
    title = t("map.township_title", lang, county=county_name or "")
    return choropleth(shapes, df, metric, lang, title, height=460)


def grade_badge(letter: str | None, lang: str):
    if not letter:
        return dbc.Badge(t("map.not_enough", lang), color="secondary", className="grade-badge")
    return html.Span(letter, className="grade-badge", style={
        "background": COLORS[LETTERS.index(letter) + 1], "padding": "0.1rem 0.5rem", "borderRadius": "4px",
        "fontWeight": 700, "color": "#222"})


def grade_breakdown(g: dict | None, lang: str, links) -> html.Div:
    """The composite grade of one region and each component: value, sample, letter, link to the records."""
    if not g:
        return html.Div()
    rows = []
    for comp in COMPONENTS:
        c = (g.get("components") or {}).get(comp)
        if c is None:
            continue
        href = links(comp, g["region_code"])
        name = t(f"map.metric.{comp}", lang)
        rows.append(html.Tr([
            html.Td(html.A(name, href=href) if href else name),
            html.Td(fmt_value(comp, c["value"]) if c["value"] is not None else "—"),
            html.Td(f"{count(c['sample'])} / ≥ {count(c['minimum'])}"),
            html.Td(grade_badge(c["letter"], lang)),
        ]))
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in ("map.component", "map.value", "map.sample_min", "map.grade")]))
    return html.Div([
        html.H6([t("map.grade_of", lang, region=g["name"]), " ", grade_badge(g.get("grade"), lang)]),
        dbc.Table([head, html.Tbody(rows)], size="sm", className="grade-table bg-white"),
        html.Div(t("map.grade_note", lang), className="text-muted small"),
    ], className="mb-3")


def township_panel(county: str | None, county_name: str | None, township: str | None, township_name: str | None,
                   villages: pd.DataFrame, metric: str, lang: str):
    """Links onwards: the township comparison of the county and the village pages of the township."""
    if not county:
        return html.Div(t("map.click_county", lang), className="text-muted small")
    parts = [html.Div([
        html.A(t("map.open_townships", lang, county=county_name or county), href=f"/townships?county={county}",
               id="map-townships-link", className="btn btn-sm btn-outline-primary me-2 mb-2"),
        html.Span(t("map.click_township", lang), className="text-muted small"),
    ])]
    if township:
        if villages.empty:
            parts.append(html.Div(t("map.no_villages", lang), className="text-muted small"))
        else:
            head = html.Thead(html.Tr([html.Th(t("map.village", lang)), html.Th(t(f"map.metric.{metric}", lang)),
                                       html.Th(t("map.sample", lang))]))
            body = [html.Tr([html.Td(html.A(r.name, href=f"/village?village={r.region_code}")),
                             html.Td(fmt_value(metric, r.value) if r.enough else t("map.not_enough", lang)),
                             html.Td(sample_text(metric, r.sample, lang))]) for r in villages.itertuples()]
            parts.append(html.H6(t("map.villages_of", lang, township=township_name or township), className="mt-2"))
            parts.append(dbc.Table([head, html.Tbody(body)], size="sm", className="bg-white village-table"))
    return html.Div(parts)
