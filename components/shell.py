"""The app shell: navbar from the page registry, language switch, as-of date, synthetic badge, breadcrumb."""
from __future__ import annotations

from urllib.parse import quote, urlencode

import dash
import dash_bootstrap_components as dbc
from dash import html

from core.i18n import t


def page_visible(page: dict, role: str | None) -> bool:
    if not page.get("nav", True):
        return False
    roles = page.get("roles")
    if roles is None:
        return role is not None and role != "admin"
    return role in roles


def navbar(lang: str, role: str | None, username: str | None, info: dict | None, current_path: str = "/") -> dbc.Navbar:
    pages = sorted((p for p in dash.page_registry.values() if page_visible(p, role)), key=lambda p: p.get("order", 99))
    links = [dbc.NavItem(dbc.NavLink(t(p["title_key"], lang), href=p["relative_path"], active="exact"))
             for p in pages if p.get("title_key")]
    right = []
    if info:
        right.append(html.Span(t("app.as_of", lang, date=info["as_of_date"]), className="navbar-text me-3 asof"))
        if info.get("synthetic"):
            right.append(dbc.Badge(t("app.synthetic", lang), color="warning", text_color="dark", className="me-3 synthetic-badge"))
    other = "en" if lang == "zh" else "zh"
    right.append(html.A(t("app.lang_switch", lang), href=f"/lang/{other}?next={quote(current_path, safe='')}",
                        id="lang-switch", className="btn btn-sm btn-outline-light me-2"))
    if username:
        right.append(html.Span(username, className="navbar-text me-2 small"))
        right.append(html.Form([html.Button(t("shell.logout", lang), type="submit", className="btn btn-sm btn-light")],
                               method="POST", action="/logout", className="d-inline"))
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand(t("app.title", lang), href="/"),
        dbc.Nav(links, navbar=True, className="me-auto"),
        html.Div(right, className="d-flex align-items-center"),
    ], fluid=True), color="dark", dark=True, className="mb-3")


def breadcrumb(items: list[dict], path: str, lang: str, extra: dict | None = None):
    """items: [{code, name, level}]; each links to ``path?region=code`` (plus ``extra`` params)."""
    crumbs = []
    for i, it in enumerate(items):
        label = f"{it['name']}"
        if i == len(items) - 1:
            crumbs.append(html.Li(label, className="breadcrumb-item active"))
        else:
            q = urlencode({**(extra or {}), "region": it["code"]})
            crumbs.append(html.Li(html.A(label, href=f"{path}?{q}"), className="breadcrumb-item"))
    return html.Nav(html.Ol(crumbs, className="breadcrumb"), **{"aria-label": "breadcrumb"})
