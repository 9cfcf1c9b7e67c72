"""A Celery app for the worker of tests/test_import_celery.py: built by the app's own
``_background_manager`` (REDIS_URL set -> dash.CeleryManager), with the upload page's job as a task.

    celery -A tests.import_celery_app worker --pool solo
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DASH_APP_NO_AUTOCREATE", "1")

import app as appmod  # noqa: E402

manager = appmod._background_manager()
celery_app = manager.handle


@celery_app.task(name="import_upload_job")
def import_upload_job(token: str) -> dict:
    """What the upload page's background callback runs (data_access.imports.run_job)."""
    from data_access.imports import run_job
    return run_job(token)
