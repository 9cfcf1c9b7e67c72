"""The zh/en catalogues. All user-facing text goes through ``t(key, lang)``.

Catalogues are the modules of core/locales/: each defines ``MESSAGES = {key: (zh, en)}``, one
module per area so that work on different pages does not collide. A key defined twice is an error.
``t`` formats with ``str.format(**kwargs)``. An unknown key raises in tests (I18N_STRICT=1) and
shows the key otherwise, so a missing translation is visible, never silent.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
from functools import lru_cache

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, tuple[str, str]]:
    import core.locales as pkg
    merged: dict[str, tuple[str, str]] = {}
    for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        messages = importlib.import_module(f"core.locales.{mod.name}").MESSAGES
        for key, pair in messages.items():
            if key in merged:
                raise ValueError(f"i18n key {key!r} defined twice (core/locales/{mod.name}.py)")
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(s, str) and s for s in pair)):
                raise ValueError(f"i18n key {key!r} needs a (zh, en) pair of non-empty strings")
            merged[key] = pair
    return merged


def norm_lang(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None = DEFAULT_LANG, **kwargs) -> str:
    pair = catalogue().get(key)
    if pair is None:
        if os.environ.get("I18N_STRICT") == "1":
            raise KeyError(f"untranslated key: {key}")
        return key
    text = pair[LANGS.index(norm_lang(lang))]
    return text.format(**kwargs) if kwargs else text


def has(key: str) -> bool:
    return key in catalogue()
