"""Every key used in the code exists in both languages; catalogues are well-formed."""
import re
from pathlib import Path

from core.i18n import LANGS, catalogue, t

ROOT = Path(__file__).resolve().parent.parent
KEY_CALL = re.compile(r"""\bt\(\s*(?:f?)["']([a-z0-9_]+(?:\.[A-Za-z0-9_]+)+)["']""")


def test_catalogue_pairs_are_complete():
    cat = catalogue()
    assert len(cat) > 50
    for key, (zh, en) in cat.items():
        assert zh.strip() and en.strip(), key
        # placeholders must match between languages
        assert sorted(re.findall(r"{(\w+)}", zh)) == sorted(re.findall(r"{(\w+)}", en)), key


def test_every_literal_key_used_in_code_exists():
    cat = catalogue()
    missing = []
    for folder in ("app.py", "pages", "callbacks", "components", "data_access", "core", "pipeline"):
        for path in ([ROOT / folder] if folder.endswith(".py") else (ROOT / folder).rglob("*.py")):
            for m in KEY_CALL.finditer(path.read_text(encoding="utf-8")):
                if m.group(0).startswith("t(f"):
                    continue
                if m.group(1) not in cat:
                    missing.append(f"{path.relative_to(ROOT)}: {m.group(1)}")
    assert not missing, missing


def test_t_switches_language_and_formats():
    assert t("app.as_of", "zh", date="2024-06-30") == "数据截至 2024-06-30"
    assert t("app.as_of", "en", date="2024-06-30") == "Data as of 2024-06-30"
    assert t("app.title", "xx") == t("app.title", "zh")        # unknown language falls back to Chinese
    assert set(LANGS) == {"zh", "en"}


def test_money_never_shows_minus_zero():
    """A sum of amounts to the fen can leave a float residue such as -1e-9: shown as 0, not "-0.00"."""
    from components.format import money
    assert money(-1e-9, "en") == "¥0.00" and money(-0.004, "zh") == "0.00 元"
    assert money(-0.01, "en") == "¥-0.01" and money(-2.5e6, "en") == "¥-2.50 M"


def test_small_percentages_keep_two_significant_digits():
    """A province's anomaly rate (~0.01%) must not read "0.0%" on every bar."""
    from components.format import pct, pct_digits
    assert [pct_digits(v) for v in (0.5, 0.012, 0.0099, 0.0012, 0.00012, 0.0000012, 0, None)] == [1, 1, 2, 2, 3, 4, 1, 1]
    assert pct(0.000123, pct_digits(0.000123)) == "0.012%"


def _components(dash_app, lang: str):
    """(path, component) for every component of every page's layout in ``lang``, as an administrator sees
    it (the admin pages included)."""
    import dash
    from flask import g

    from core.viewer import Viewer
    admin = Viewer(user_id=1, username="root", role="admin")
    for page in dash.page_registry.values():
        with dash_app.server.test_request_context(page["path"], headers={"Cookie": f"lang={lang}"}):
            g.viewer = admin
            lay = page["layout"]() if callable(page["layout"]) else page["layout"]
        for comp in [lay, *lay._traverse()]:
            yield page["path"], comp


def test_every_grid_speaks_the_page_language(dash_app):
    """AG Grid's own texts (pagination "Page 1 of 7", filter menus, loading) follow the page's language:
    a zh page must not show English in a grid."""
    import dash_ag_grid as dag

    from core.i18n import t
    for lang, word in (("zh", "页"), ("en", "Page")):
        seen = []
        for path, comp in _components(dash_app, lang):
            if isinstance(comp, dag.AgGrid):
                seen.append((path, comp.id))
                texts = (getattr(comp, "dashGridOptions", None) or {}).get("localeText") or {}
                assert texts.get("page") == word, (path, comp.id)
                assert texts.get("filterOoo") == t("grid.filterOoo", lang) and texts.get("noRowsToShow"), comp.id
        # complaints 6, village 4, upload 2, audit, flows, townships, clues, project ...
        assert {"/audit", "/upload", "/complaints", "/flows", "/clues"} <= {p for p, _ in seen}, seen


def test_every_dropdown_speaks_the_page_language(dash_app):
    """Dash's dropdowns have texts of their own (the search box's "Search", "No options found", "3 selected"),
    English unless told: every dropdown of every page gets them from the catalogue, in the page's language."""
    from dash import dcc
    for lang, search, none in (("zh", "搜索", "没有匹配的选项"), ("en", "Search", "No options found")):
        seen = []
        for path, comp in _components(dash_app, lang):
            if isinstance(comp, dcc.Dropdown):
                seen.append((path, comp.id))
                labels = getattr(comp, "labels", None) or {}
                assert labels.get("search") == search and labels.get("no_options_found") == none, comp.id
                assert "{num_selected}" in labels.get("selected_count", ""), comp.id
        assert {"/", "/clues", "/complaints", "/flows", "/map", "/townships", "/village", "/audit"} <= {
            p for p, _ in seen}, seen
