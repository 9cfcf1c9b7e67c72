"""The upload page in chromium: an administrator uploads a small package, the background import (the
app's DiskcacheManager) fills the stage bars, the counts and the rejects appear; a refused package
says why; a running import is cancelled and leaves the database as it was. The imports go to a database
of their own (the live server reads DATABASE_URL at call time, the background process inherits it).

Cancelling needs an import that is still running when Cancel is clicked: the test-only hold of
data_access.imports (IMPORT_TEST_HOLD, read from the environment of this test process, which serves the
app, and only with APP_ENV=test) stops the import inside its transaction, every row written and nothing
committed, until the test removes the hold file. Below the browser, the same guarantee with the job's
process killed by hand: what a later look at the history records."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from tests.conftest import using_database
from tests.malformed_factory import CASES, build_case, replicate
from tests.test_import_corpus import fingerprint, kill_when

ROOT = Path(__file__).resolve().parent.parent


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
    """Choose a file as through the dialog (the dropzone empties its input before opening the dialog, so
    that choosing the same file again is a change; selenium cannot drive the dialog itself)."""
    el = page.driver.find_element("css selector", "#upload-file input[type=file]")
    page.driver.execute_script("arguments[0].value = null;", el)
    el.send_keys(str(path))


def _bar(page, stage) -> int:
    return int(page.driver.find_element("css selector", f"#upload-bar-{stage} .progress-bar")
               .get_attribute("aria-valuenow") or 0)


def _enabled(page, css) -> bool:
    return page.driver.find_element("css selector", css).is_enabled()


@pytest.mark.browser
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


@pytest.mark.browser
def test_admin_cancels_a_running_import_and_the_database_is_as_before(live_server, browser, pkg_dir, tmp_path,
                                                                       monkeypatch):
    from core.db import get_engine
    from pipeline.importer import import_package
    url = f"sqlite:///{tmp_path / 'cancel.sqlite'}"
    import_package(pkg_dir, get_engine(url), run_detect=False)
    replicate(pkg_dir, tmp_path / "big", 25)              # 1,000 payments, people and ledger under new keys
    big = _zip(tmp_path / "big", tmp_path / "全省补录.zip")
    hold = tmp_path / "hold"
    hold.write_text("loading:1")                          # every row written, nothing committed
    monkeypatch.setenv("IMPORT_TEST_HOLD", str(hold))
    before = fingerprint(url)
    user = live_server.user("admin", None)
    with using_database(url):
        page = browser.login(live_server, user, lang="zh")
        page.open("/upload")
        assert not _enabled(page, "#upload-cancel")
        _upload(page, big)
        try:
            page.wait_until(lambda d: _bar(page, "loading") == 100 and Path(f"{hold}.held").exists(), 60,
                            "the import did not reach the end of its loading stage")
        except Exception:       # say where it stood (bars, the hold marker, the page's message)
            bars = {s: _bar(page, s) for s in ("reading", "validating", "loading", "rollups", "detection")}
            raise AssertionError(f"not held at the end of loading: bars {bars}, held marker "
                                 f"{Path(f'{hold}.held').exists()}, hold file {hold.exists()}, "
                                 f"page: {page.text()[:600]!r}")
        assert _bar(page, "rollups") < 100 and not _found(page, ".upload-done")
        assert _enabled(page, "#upload-cancel")                            # while it runs: Cancel, and
        assert not _enabled(page, "#upload-file input[type=file]")       # no second upload meanwhile
        page.click("#upload-cancel")
        page.wait_until(lambda d: _found(page, ".upload-cancelled"), 30, "no cancelled message")
        assert "导入已取消，数据库未作任何改动。" in page.text()
        assert fingerprint(url) == before                                 # the rows written were rolled back
        page.wait_until(lambda d: _history(page, "全省补录.zip") == [["已取消", user[0]]], 20,
                        "the history did not record the cancelled import")
        page.wait_until(lambda d: _enabled(page, "#upload-file input[type=file]") and not _enabled(page, "#upload-cancel"),
                        20, "the upload control was not given back")
        assert [_bar(page, s) for s in ("reading", "validating", "loading", "rollups", "detection")] == [0] * 5
        page.screenshot("upload-cancelled-zh")

        hold.unlink()                                     # the same file again, to the end this time
        _upload(page, big)
        try:
            page.wait_until(lambda d: _found(page, ".upload-done"), 90, "the second import did not finish")
        except Exception:           # say where it stood (bars, the page's message, the jobs' state files)
            bars = {s: _bar(page, s) for s in ("reading", "validating", "loading", "rollups", "detection")}
            from core.settings import get_settings
            jobs = sorted(str(f.relative_to(get_settings().cache_dir)) for f in get_settings().cache_dir.rglob("*")
                          if f.is_file() and f.suffix in ("", ".json"))[-20:]
            raise AssertionError(f"the second import did not finish: bars {bars}, page: {page.text()[:600]!r}, "
                                 f"files: {jobs}")
        row = page.driver.find_element("css selector", "tr[data-table=payments]").text.split()
        assert row[:5] == ["payments", "1,000", "1,000", "0", "0"]       # loaded, all new: nothing was left behind
        assert not _found(page, ".upload-cancelled")
        page.wait_until(lambda d: _history(page, "全省补录.zip") == [["已导入", user[0]], ["已取消", user[0]]], 20,
                        "the history did not show both attempts")
        after = fingerprint(url)

        page = browser.login(live_server, user, lang="en")            # the history as read later, in English
        page.open("/upload")
        page.wait_until(lambda d: _history(page, "全省补录.zip") == [["Imported", user[0]], ["Cancelled", user[0]]], 20,
                        "the English history did not show both attempts")
    assert after["payments"] == before["payments"] + 1000 and after["packages"] == before["packages"] + 1


def _found(page, css):
    return page.driver.find_elements("css selector", css)


def _history(page, file) -> list[list[str]]:
    """[outcome, who] of the history rows of ``file``, newest first (the grid is sorted by time)."""
    return page.driver.execute_script("""
        const rows = Array.from(document.querySelectorAll('#upload-history .ag-center-cols-container .ag-row'));
        rows.sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')));
        return rows.filter(r => (r.querySelector('[col-id=file]') || {}).textContent === arguments[0])
                   .map(r => ['status', 'who'].map(c => r.querySelector(`[col-id=${c}]`).textContent));""", file)


RUN_JOB = "import sys; sys.path.insert(0, {root!r}); from data_access.imports import run_job; run_job({token!r})"


def _kill_job_at(hold_at: str, token: str, url: str, tmp_path: Path) -> None:
    """Run an upload job in a process of its own, as the background callback does, hold it at
    ``hold_at`` and kill -9 it there."""
    hold = tmp_path / f"hold-{token[:8]}"
    hold.write_text(hold_at)
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "test", "IMPORT_TEST_HOLD": str(hold)}
    kill_when(RUN_JOB.format(root=str(ROOT), token=token), env, Path(f"{hold}.held"))


def test_a_killed_upload_job_leaves_the_database_as_it_was_and_the_history_says_so(dash_app, pkg_dir, tmp_path):
    """Below the page: the job's process killed inside its transaction (what Cancel makes Dash do), with
    and without Cancel pressed, before it started, and after its commit."""
    from components.upload import summary_view
    from core.db import get_engine
    from core.viewer import Viewer
    from data_access.imports import cancel_job, import_history, job_result, run_job, save_upload
    from pipeline.importer import import_package
    from tests.test_import_upload import _zip as data_url
    url = f"sqlite:///{tmp_path / 'killed.sqlite'}"
    import_package(pkg_dir, get_engine(url), run_detect=False)
    replicate(pkg_dir, tmp_path / "big", 25)
    contents = data_url(tmp_path / "big")
    admin = Viewer(user_id=1, username="root", role="admin")
    before = fingerprint(url)

    def history(file):
        return [(r["status"], r["who"], r["detection"]) for r in import_history(admin) if r["file"] == file]

    with using_database(url):
        # killed without Cancel (a crash, a restart): the next look at the history settles it as interrupted
        job = save_upload(admin, "crashed.zip", contents)
        _kill_job_at("loading:1", job["token"], url, tmp_path)
        assert fingerprint(url) == before
        assert history("crashed.zip") == [("interrupted", "root", "")]
        assert "The import stopped before it finished" in str(summary_view(job_result(admin, job["token"]), "en"))

        # killed, Cancel pressed: cancelled, recorded once however often it is asked
        job = save_upload(admin, "cancelled.zip", contents)
        _kill_job_at("loading:1", job["token"], url, tmp_path)
        assert cancel_job(admin, job["token"], wait=5) == "cancelled"
        assert cancel_job(admin, job["token"], wait=5) == "cancelled"
        assert fingerprint(url) == before
        assert history("cancelled.zip") == [("cancelled", "root", "")]
        assert "The import was cancelled; the database is unchanged." in str(
            summary_view(job_result(admin, job["token"]), "en"))
        assert cancel_job(Viewer(user_id=2, username="x", role="analyst"), job["token"]) == "unknown"

        # cancelled before its process took it: it never runs
        job = save_upload(admin, "never.zip", contents)
        assert cancel_job(admin, job["token"], wait=5) == "cancelled"
        assert run_job(job["token"])["reason"] == "upload.no_job"
        assert fingerprint(url) == before and history("never.zip") == [("cancelled", "root", "")]

        # killed after its commit, during detection: too late, the data stand and the history says so
        job = save_upload(admin, "late.zip", contents)
        _kill_job_at("detection:0", job["token"], url, tmp_path)
        assert cancel_job(admin, job["token"], wait=5) == "finished"
        assert history("late.zip") == [("loaded", "root", "pending")]
        assert job_result(admin, job["token"])["tables"]["payments"]["inserted"] == 1000
        after = fingerprint(url)
    assert after["payments"] == before["payments"] + 1000 and after["packages"] == before["packages"] + 1
