"""Pure builders for the audit page: the action and result codes of the log in the viewer's language
(an action no catalogue knows yet is shown as it is written)."""
from __future__ import annotations

from core.i18n import has, t


def _label(kind: str, code, lang: str) -> str:
    key = f"audit.{kind}.{code}"
    return t(key, lang) if code and has(key) else str(code or "")


def action_label(code, lang: str) -> str:
    return _label("action", code, lang)


def result_label(code, lang: str) -> str:
    return _label("result", code, lang)


def options(codes, label, lang: str) -> list[dict]:
    """Dropdown options: the code is the value, its label is shown."""
    return [{"label": label(c, lang), "value": c} for c in codes]


def display_rows(rows: list[dict], lang: str) -> list[dict]:
    """The grid's rows with the action and the result as words."""
    return [{**r, "action": action_label(r.get("action"), lang), "result": result_label(r.get("result"), lang)}
            for r in rows]
