"""KPI cards."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html


def kpi_card(label: str, value: str, sub: str | None = None, href: str | None = None, card_id: str | None = None,
             text: bool = False):
    """A KPI card; ``text`` for a name rather than a number (smaller, and it wraps instead of overflowing)."""
    body = [html.Div(label, className="kpi-label"), html.Div(value, className="kpi-value kpi-text" if text else "kpi-value")]
    if sub:
        body.append(html.Div(sub, className="kpi-sub"))
    card = dbc.Card(dbc.CardBody(body), className="kpi-card h-100", **({"id": card_id} if card_id else {}))
    return html.A(card, href=href, className="kpi-link") if href else card
