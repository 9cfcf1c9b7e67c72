"""AG Grid texts in the viewer's language: every grid's ``dashGridOptions`` takes ``localeText`` from here,
so that pagination ("Page 1 of 7"), filter menus and loading messages follow the page's language."""
from __future__ import annotations

from core.i18n import t
from core.locales.grid import MESSAGES

KEYS = tuple(k.split(".", 1)[1] for k in MESSAGES)


def locale_text(lang: str, **overrides: str) -> dict[str, str]:
    """AG Grid's localeText for ``lang``; ``overrides`` replace single texts (e.g. noRowsToShow)."""
    out = {k: t(f"grid.{k}", lang) for k in KEYS}
    out.update(overrides)
    return out
