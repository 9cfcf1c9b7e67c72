"""Dash dropdowns' own texts (search box, "no options", multi-select counts) in the page's language."""
from __future__ import annotations

from core.i18n import t

KEYS = ("search", "clear_search", "clear_selection", "no_options_found", "select_all", "deselect_all", "selected_count")


def labels(lang: str) -> dict[str, str]:
    """dcc.Dropdown's ``labels`` for ``lang`` (its default texts are English only)."""
    return {k: t(f"dropdown.{k}", lang) for k in KEYS}
