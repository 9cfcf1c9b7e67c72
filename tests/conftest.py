"""Shared fixtures. The environment is set before anything imports the app (one Dash app per process)."""
from __future__ import annotations

import contextlib
import os
import secrets
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_TMP = Path(tempfile.mkdtemp(prefix="dash-tests-"))
os.environ.setdefault("DATA_DIR", str(_TMP / "data"))
os.environ["DATABASE_URL"] = f"sqlite:///{_TMP / 'app.sqlite'}"
os.environ["CACHE_DIR"] = str(_TMP / "cache")
os.environ["APP_ENV"] = "test"
os.environ["I18N_STRICT"] = "1"
os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
os.environ.pop("REDIS_URL", None)

PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pkg_dir() -> Path:
    """The hand-made package of tests/package_factory.py."""
    from tests.package_factory import build
    d = _TMP / "pkg"
    if not d.exists():
        build(d)
    return d


@pytest.fixture(scope="session")
def app_db(pkg_dir) -> str:
    """The app's SQLite database with the hand-made package imported (rules included when present)."""
    from pipeline.importer import import_package
    from core.db import get_engine
    url = os.environ["DATABASE_URL"]
    import_package(pkg_dir, get_engine(url))
    return url


@pytest.fixture(scope="session")
def dash_app(app_db):
    import app as appmod
    return appmod.app


def _pg_available() -> bool:
    try:
        import psycopg
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture
def pg_url():
    """A throwaway PostgreSQL database (dropped afterwards). In CI PostgreSQL must be there."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} (CI must test it)")
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    import psycopg
    name = f"t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    yield url
    from core.db import _engine_for
    try:
        _engine_for(url).dispose()
    except Exception:
        pass
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def login(client, role: str, region: str | None, pii: bool = False, person_id: str | None = None):
    """Log ``client`` in as a fresh user of ``role`` scoped to ``region`` (real login when core.auth exists)."""
    try:
        from core.auth import create_user
    except ImportError:
        create_user = None
    if create_user is None:
        raise RuntimeError("core.auth is required for logged-in tests")
    from core.db import get_engine
    username = f"{role}_{uuid.uuid4().hex[:6]}"
    # users live in the app's own database (bound at start-up), even while the read side is switched
    engine = client.application.extensions.get("auth_engine") or get_engine()
    password = create_user(engine, username, role, region_code=region, pii=pii, person_id=person_id)
    r = client.post("/login", data={"username": username, "password": password},
                    headers={"Origin": "http://localhost", "Referer": "http://localhost/login"})
    assert r.status_code in (200, 302, 303), r.status_code
    return username


def dash_post(client, output: str, inputs: list[dict], state: list[dict] | None = None, changed: list[str] | None = None,
              outputs: list[dict] | None = None):
    """POST one callback the way the browser does; returns the Flask response."""
    body = {"output": output, "outputs": outputs or [], "inputs": inputs, "state": state or [],
            "changedPropIds": changed or [f"{i['id']}.{i['property']}" for i in inputs]}
    return client.post("/_dash-update-component", json=body,
                       headers={"Origin": "http://localhost", "Referer": "http://localhost/"})


# Browser fixtures (headless chromium on a live loopback server): see tests/browser.py.
from tests.browser import _session_driver, browser, live_server  # noqa: E402,F401


@contextlib.contextmanager
def using_database(url: str):
    """Point the read side (data_access: get_engine() follows DATABASE_URL at call time) at another
    database for a while. Users and sessions stay in the app's own database (bound at start-up)."""
    old = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = url
    try:
        yield url
    finally:
        os.environ["DATABASE_URL"] = old


def imported_database(name: str, build) -> str:
    """A SQLite database under the session's tmp dir holding the package that ``build(folder)`` writes
    (imported once per session, rules included). Returns its URL."""
    from core.db import get_engine
    from pipeline.importer import import_package
    url = f"sqlite:///{_TMP / (name + '.sqlite')}"
    if name not in _IMPORTED:
        folder = _TMP / f"pkg-{name}"
        build(folder)
        import_package(folder, get_engine(url))
        _IMPORTED.add(name)
    return url


_IMPORTED: set[str] = set()


@pytest.fixture(scope="module")
def drill_db(dash_app):
    """For a test module: the read side on the drill-down package of tests/drilldown_factory.py
    (衡阳县's five townships; figures known by construction in ``drilldown_factory.EXPECTED``)."""
    from tests import drilldown_factory
    with using_database(imported_database("drill", drilldown_factory.build)) as url:
        yield url
