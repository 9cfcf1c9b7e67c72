"""The upload page (数据导入) through the Flask test client: administrators only, the job token, the
import summary, the rejects report (translated, masked) and the history."""
from __future__ import annotations

import base64
import csv
import io
import zipfile

import pytest

from core.viewer import Viewer
from tests.conftest import dash_post, login, using_database
from tests.malformed_factory import CASES, build_case


def _zip(folder) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return "data:application/zip;base64," + base64.b64encode(buf.getvalue()).decode()


def _case(name, pkg_dir, tmp_path):
    return build_case(next(c for c in CASES if c.name == name), pkg_dir, tmp_path / name)


def _post(client, key, inputs, state=None, changed=None):
    """dash_post with the outputs list that a (multi-)output callback needs."""
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    outs = [{"id": p.rpartition(".")[0], "property": p.rpartition(".")[2]} for p in parts]
    return dash_post(client, key, inputs, state, changed, outputs=outs if key.startswith("..") else outs[0])


def _upload(client, contents, filename="county.zip"):
    r = _post(client, "..upload-job.data...upload-message.children..",
                  [{"id": "upload-file", "property": "contents", "value": contents}],
                  [{"id": "upload-file", "property": "filename", "value": filename}])
    assert r.status_code == 200, r.data
    return r.get_json()["response"]


def _render(client, token):
    r = _post(client, "..upload-result.children...upload-rejects-box.style...upload-rejects-grid.rowData..."
                          "upload-history.rowData..",
                  [{"id": "upload-result-store", "property": "data", "value": {"token": token}}])
    assert r.status_code == 200, r.data
    return r.get_json()["response"]


def _download(client, token, which="upload-dl-csv"):
    return _post(client, "upload-download.data",
                     [{"id": "upload-dl-csv", "property": "n_clicks", "value": 1 if which == "upload-dl-csv" else None},
                      {"id": "upload-dl-xlsx", "property": "n_clicks", "value": 1 if which == "upload-dl-xlsx" else None}],
                     [{"id": "upload-result-store", "property": "data", "value": {"token": token}}],
                     changed=[f"{which}.n_clicks"])


@pytest.fixture
def work_db(tmp_path, app_db):
    """The imports of these tests go to a database of their own: after logging in (users live in the
    app's database), a test switches the data side to it with ``using_database``."""
    from core.db import get_engine
    from pipeline.importer import import_package
    from tests.package_factory import build
    base = tmp_path / "base"
    build(base)
    url = f"sqlite:///{tmp_path / 'work.sqlite'}"
    import_package(base, get_engine(url), run_detect=False)
    return url


def test_admin_uploads_a_package_sees_the_counts_the_rejects_and_the_history(dash_app, pkg_dir, tmp_path, work_db):
    client = dash_app.server.test_client()
    client.set_cookie("lang", "en")
    admin = login(client, "admin", None)
    with using_database(work_db):
        _admin_flow(client, admin, pkg_dir, tmp_path)


def _admin_flow(client, admin, pkg_dir, tmp_path):
    from data_access.imports import run_job
    job = _upload(client, _zip(_case("thousands_separator", pkg_dir, tmp_path)))["upload-job"]["data"]
    assert job["file"] == "county.zip" and len(job["token"]) == 64
    stages = []
    result = run_job(job["token"], lambda s, f: stages.append(s))       # what the background callback runs
    assert list(dict.fromkeys(stages)) == ["reading", "validating", "loading", "rollups", "detection"]
    assert result["tables"]["payments"]["loaded"] == 39 and result["tables"]["payments"]["rejected"] == 1
    assert run_job(job["token"])["reason"] == "upload.no_job"            # a job runs once
    out = _render(client, job["token"])
    text = str(out["upload-result"]["children"])
    assert "Import finished: 78 rows loaded, 1 rejected." in text
    (rej,) = out["upload-rejects-grid"]["rowData"]
    assert (rej["file"], rej["row"], rej["column"], rej["value"]) == ("payments.csv", "5", "amount", "1,000.00")
    assert rej["reason"].startswith("Bad amount")
    hist = out["upload-history"]["rowData"]
    assert hist[0]["who"] == admin and hist[0]["file"] == "county.zip" and hist[0]["status"] == "Imported"
    assert (hist[0]["loaded"], hist[0]["rejected"]) == (78, 1)   # 4+2+5+1+20+39+3+2+2 rows of the package
    r = _download(client, job["token"])
    assert r.status_code == 200
    dl = r.get_json()["response"]["upload-download"]["data"]
    assert dl["filename"] == "rejects.csv"
    rows = list(csv.reader(io.StringIO(base64.b64decode(dl["content"]).decode("utf-8-sig"))))
    assert rows[0] == ["File", "Row", "Column", "Value", "Reason"]
    assert rows[1][:4] == ["payments.csv", "5", "amount", "1,000.00"]
    r = _download(client, job["token"], "upload-dl-xlsx")
    assert r.get_json()["response"]["upload-download"]["data"]["filename"] == "rejects.xlsx"


def test_a_refused_package_is_shown_with_file_and_column_and_recorded_in_the_history(dash_app, pkg_dir, tmp_path, work_db):
    from data_access.imports import run_job
    client = dash_app.server.test_client()
    login(client, "admin", None)
    job = _upload(client, _zip(_case("missing_required_column", pkg_dir, tmp_path)), "缺列.zip")["upload-job"]["data"]
    with using_database(work_db):
        result = run_job(job["token"])
        out = _render(client, job["token"])
    assert result["refused"] and result["reason"] == "package.missing_column"
    text = str(out["upload-result"]["children"])
    assert "数据包被拒绝" in text and "payments.csv, amount" in text
    assert out["upload-history"]["rowData"][0]["status"].startswith("被拒绝")


def test_rejects_report_masks_id_numbers_for_the_administrator(dash_app, pkg_dir, tmp_path, work_db):
    from data_access.imports import rejects_report, run_job, save_upload
    admin = Viewer(user_id=1, username="root", role="admin")
    job = save_upload(admin, "p.zip", _zip(_case("bad_check_digit_in_people", pkg_dir, tmp_path)))
    with using_database(work_db):
        run_job(job["token"])
    name, data = rejects_report(admin, job["token"], "en", "csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][2] == "id_number" and "*" in rows[1][3] and len(rows[1][3]) == 18
    assert rejects_report(Viewer(user_id=2, username="x", role="analyst"), job["token"]) is None


def test_non_administrators_can_neither_upload_nor_read_results(dash_app, pkg_dir, tmp_path, work_db):
    from data_access.imports import run_job, save_upload, uploads_dir
    admin = Viewer(user_id=1, username="root", role="admin")
    job = save_upload(admin, "p.zip", _zip(_case("thousands_separator", pkg_dir, tmp_path)))
    with using_database(work_db):
        run_job(job["token"])
    client = dash_app.server.test_client()
    login(client, "province_leader", "430000")
    before = set(uploads_dir().iterdir())
    out = _upload(client, _zip(pkg_dir))
    assert out["upload-job"]["data"] is None and "只有系统管理员" in str(out["upload-message"]["children"])
    assert set(uploads_dir().iterdir()) == before
    out = _render(client, job["token"])                # a forged token from someone else's job
    assert out["upload-result"]["children"] is None and out["upload-rejects-grid"]["rowData"] == []
    assert out["upload-history"]["rowData"] == []
    r = _download(client, job["token"])
    assert r.status_code == 204 or "upload-download" not in (r.get_json() or {}).get("response", {})
    page = client.get("/upload")
    assert page.status_code == 200


def test_upload_refuses_wrong_type_and_garbage(dash_app, work_db):
    client = dash_app.server.test_client()
    client.set_cookie("lang", "en")
    login(client, "admin", None)
    out = _upload(client, "data:text/plain;base64," + base64.b64encode(b"x").decode(), "notes.txt")
    assert out["upload-job"]["data"] is None and "Only .zip or .xlsx" in str(out["upload-message"]["children"])
    out = _upload(client, "data:application/zip;base64,@@@not-base64@@@", "a.zip")
    assert "cannot be read" in str(out["upload-message"]["children"])
