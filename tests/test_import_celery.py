"""Background imports on Celery/Redis: with REDIS_URL the app's background manager is a CeleryManager on
that Redis, and a real worker (a subprocess) runs the upload page's import job and returns its summary.
Skipped with a reason when Redis is unreachable, except in CI."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.viewer import Viewer

ROOT = Path(__file__).resolve().parent.parent
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def _zip(folder) -> str:
    import base64
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return "data:application/zip;base64," + base64.b64encode(buf.getvalue()).decode()


def _redis_up() -> bool:
    try:
        import redis
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture
def redis_url():
    if not _redis_up():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS} (CI must test the Celery manager)")
        pytest.skip(f"Redis is not reachable at {REDIS}")
    return REDIS


def test_redis_url_selects_the_celery_manager(redis_url, monkeypatch):
    import dash

    import app as appmod
    monkeypatch.setenv("REDIS_URL", redis_url)
    m = appmod._background_manager()
    assert isinstance(m, dash.CeleryManager)
    assert m.handle.conf.broker_url == redis_url
    monkeypatch.delenv("REDIS_URL")
    assert isinstance(appmod._background_manager(), dash.DiskcacheManager)


def test_a_celery_worker_runs_the_upload_job(redis_url, tmp_path, pkg_dir, dash_app):
    from celery import Celery

    from core.db import get_engine
    from data_access.imports import save_upload
    from pipeline.importer import import_package
    db = f"sqlite:///{tmp_path / 'celery.sqlite'}"
    import_package(pkg_dir, get_engine(db), run_detect=False)
    job = save_upload(Viewer(user_id=1, username="root", role="admin"), "county.zip", _zip(pkg_dir))
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": db, "DASH_APP_NO_AUTOCREATE": "1"}
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "tests.import_celery_app", "worker", "--pool", "solo",
                               "--loglevel", "WARNING", "-n", f"import-test-{os.getpid()}@%h"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    client = Celery("import-test", broker=redis_url, backend=redis_url)
    try:
        res = client.send_task("import_upload_job", args=[job["token"]])
        out = res.get(timeout=120)
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert out["refused"] is False and out["file"] == "county.zip"
    assert out["tables"]["payments"]["loaded"] == 40 and out["tables"]["payments"]["unchanged"] == 40
    assert out["detection"] == "done"


def test_cancel_terminates_a_celery_import_and_the_database_is_unchanged(redis_url, tmp_path, pkg_dir, dash_app,
                                                                         monkeypatch):
    """Cancel with the CeleryManager: Dash revokes the task with terminate (SIGTERM to the pool process
    running it), then the page's cancel callback settles the job. A real prefork worker holds the import
    inside its transaction (every row written, nothing committed) until it is terminated."""
    import time

    from celery import Celery

    import app as appmod
    from core.db import get_engine
    from data_access.imports import cancel_job, import_history, job_result, save_upload
    from pipeline.importer import import_package
    from tests.conftest import using_database
    from tests.malformed_factory import replicate
    from tests.test_import_corpus import fingerprint
    db = f"sqlite:///{tmp_path / 'celery-cancel.sqlite'}"
    import_package(pkg_dir, get_engine(db), run_detect=False)
    replicate(pkg_dir, tmp_path / "big", 25)         # more rows: a commit would change every count
    admin = Viewer(user_id=1, username="root", role="admin")
    before = fingerprint(db)
    hold = tmp_path / "hold"
    hold.write_text("loading:1")
    held = Path(f"{hold}.held")
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": db, "DASH_APP_NO_AUTOCREATE": "1",
           "APP_ENV": "test", "IMPORT_TEST_HOLD": str(hold)}
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "tests.import_celery_app", "worker",
                               "--pool", "prefork", "--concurrency", "1", "--loglevel", "WARNING",
                               "-n", f"import-cancel-{os.getpid()}@%h"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with using_database(db):
            job = save_upload(admin, "celery-cancel.zip", _zip(tmp_path / "big"))
            client = Celery("import-test", broker=redis_url, backend=redis_url)
            res = client.send_task("import_upload_job", args=[job["token"]])
            deadline = time.monotonic() + 120
            while not held.exists():
                assert worker.poll() is None, worker.stdout.read().decode(errors="replace")[-2000:]
                assert time.monotonic() < deadline, "the Celery job never reached its hold inside the transaction"
                time.sleep(0.1)
            pid = int(held.read_text())
            assert pid != worker.pid                     # the pool's child process, not the worker itself
            # what Dash does when Cancel is pressed under the CeleryManager ...
            monkeypatch.setenv("REDIS_URL", redis_url)
            manager = appmod._background_manager()
            manager.terminate_job(res.id)
            # ... then the page's cancel callback: it waits until that process is gone and settles the job
            assert cancel_job(admin, job["token"], wait=30) == "cancelled"
            assert fingerprint(db) == before             # the rows written inside the transaction are gone
            rows = [(r["status"], r["who"]) for r in import_history(admin) if r["file"] == "celery-cancel.zip"]
            assert rows == [("cancelled", "root")]
            assert job_result(admin, job["token"])["cancelled"] is True
            assert worker.poll() is None                 # the worker itself lives on for the next job
    finally:
        hold.unlink(missing_ok=True)
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
