"""Number formatting for people: 亿元 / 万元 in Chinese, M / bn in English."""
from __future__ import annotations

import math

from core.i18n import t
from core.schema import HALF_FEN


def _amount(v) -> float | None:
    """An amount as a float (None when missing); amounts are to the fen, so a sum's float residue below
    half a fen is 0, never "-0.00"."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    v = float(v)
    return 0.0 if abs(v) < HALF_FEN else v


def money(v, lang: str = "zh") -> str:
    v = _amount(v)
    if v is None:
        return "—"
    if lang == "zh":
        if abs(v) >= 1e8:
            return f"{v / 1e8:,.2f} {t('unit.yi_yuan', lang)}"
        if abs(v) >= 1e4:
            return f"{v / 1e4:,.1f} {t('unit.wan_yuan', lang)}"
        return f"{v:,.2f} {t('unit.yuan', lang)}"
    if abs(v) >= 1e9:
        return f"¥{v / 1e9:,.2f} bn"
    if abs(v) >= 1e6:
        return f"¥{v / 1e6:,.2f} M"
    return f"¥{v:,.2f}"


def yuan(v, lang: str = "zh", digits: int = 0) -> str:
    """An amount in yuan without a change of unit: for numbers compared side by side (one chart's bars),
    where "1.3 万元" next to "9,386.42 元" would hide which is larger."""
    v = _amount(v)
    if v is None:
        return "—"
    return f"{v:,.{digits}f} {t('unit.yuan', lang)}" if lang == "zh" else f"¥{v:,.{digits}f}"


def count(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{int(round(float(v))):,}"


def pct_digits(top) -> int:
    """Decimals of a percentage so that ``top`` (a fraction, the largest of a set) shows two significant
    digits: 1 for 1% and more, 2 from 0.1%, 3 from 0.01%, at most 4."""
    try:
        p = abs(float(top)) * 100
    except (TypeError, ValueError):
        return 1
    if not p or math.isnan(p) or p >= 1:
        return 1
    return min(4, 1 + math.ceil(-math.log10(p)))


def pct(v, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{float(v) * 100:.{digits}f}%"

