"""The upload page in chromium: an administrator uploads a small package, the background import (the
app's DiskcacheManager) fills the stage bars, the counts and the rejects appear; a refused package
says why. The imports go to a database of their own (the live server reads DATABASE_URL at call time,
the background process inherits it)."""
from __future__ import annotations

import zipfile

import pytest

from tests.conftest import using_database
from tests.malformed_factory import CASES, build_case

pytestmark = pytest.mark.browser


def _zip(folder, out):
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return out


def _bars_done(page) -> bool:
    return page.driver.execute_script(
        "const b = Array.from(document.querySelectorAll('.upload-bar .progress-bar'));"
        "return b.length === 5 && b.every(x => x.getAttribute('aria-valuenow') === '100');")


def _upload(page, path):
    el = page.driver.find_element("css selector", "#upload-file input[type=file]")
    el.send_keys(str(path))


def test_admin_uploads_a_package_and_sees_the_bars_finish_and_the_counts(live_server, browser, pkg_dir, tmp_path):
    from core.db import get_engine
    from pipeline.importer import import_package
    url = f"sqlite:///{tmp_path / 'browser.sqlite'}"
    import_package(pkg_dir, get_engine(url), run_detect=False)
    case = next(c for c in CASES if c.name == "thousands_separator")
    good = _zip(build_case(case, pkg_dir, tmp_path / "good"), tmp_path / "县级导出.zip")
    bad = _zip(build_case(next(c for c in CASES if c.name == "missing_required_column"), pkg_dir, tmp_path / "bad"),
               tmp_path / "missing-column.zip")
    user = live_server.user("admin", None)
    with using_database(url):
        page = browser.login(live_server, user, lang="zh")
        page.open("/upload")
        assert "数据导入" in page.text()
        _upload(page, good)
        page.wait_until(lambda d: d.find_elements("css selector", ".upload-done"), 90, "the import did not finish")
        page.wait_until(lambda d: _bars_done(page), 30, "the stage bars did not reach 100%")
        text = page.text()
        assert "导入完成：载入 78 行，拒绝 1 行。" in text
        row = page.driver.find_element("css selector", "tr[data-table=payments]").text.split()
        assert row[:6] == ["payments", "39", "0", "0", "39", "1"]      # loaded, new, updated, unchanged, rejected
        page.wait_until(lambda d: "1,000.00" in page.text(), 20, "the rejects grid did not show the row")
        assert "金额格式错误" in page.text()
        page.wait_until(lambda d: "县级导出.zip" in page.text(), 20, "the history did not show the import")
        page.screenshot("upload-zh")

        page = browser.login(live_server, user, lang="en")
        page.open("/upload")
        _upload(page, bad)
        page.wait_until(lambda d: d.find_elements("css selector", ".upload-refused"), 90, "no refusal shown")
        text = page.text()
        assert "The package was refused; the database is unchanged." in text and "payments.csv, amount" in text
        page.wait_until(lambda d: "missing-column.zip" in page.text(), 20, "the history did not show the refusal")
        page.screenshot("upload-en")
