"""The Dash app: pages, shell, language switch, security. ``server = app.server`` for gunicorn."""
from __future__ import annotations

import os
from urllib.parse import unquote

import dash
import dash_bootstrap_components as dbc
from dash import Dash, dcc, html
from flask import make_response, redirect, request

from core.i18n import norm_lang
from core.settings import get_settings
from core.viewer import current_lang, current_viewer

ROOT = os.path.dirname(os.path.abspath(__file__))


def _background_manager():
    settings = get_settings()
    if settings.redis_url:
        from celery import Celery
        celery_app = Celery(__name__, broker=settings.redis_url, backend=settings.redis_url)
        return dash.CeleryManager(celery_app)
    import diskcache
    os.makedirs(settings.cache_dir / "background", exist_ok=True)
    return dash.DiskcacheManager(diskcache.Cache(str(settings.cache_dir / "background")))


def serve_layout():
    from components.shell import navbar
    from data_access.meta import package_info
    viewer = current_viewer()
    lang = current_lang()
    info = package_info(viewer.scope) if viewer.is_authenticated else None
    path = request.full_path.rstrip("?") if request else "/"
    return html.Div([
        dcc.Location(id="state-url", refresh="callback-nav"),
        navbar(lang, viewer.role, viewer.username, info, path),
        dbc.Container(dash.page_container, fluid=True, className="pb-5"),
    ], lang=lang)


def create_app(database_url: str | None = None) -> Dash:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    settings = get_settings()
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=os.path.join(ROOT, "pages"),
        assets_folder=os.path.join(ROOT, "assets"),
        suppress_callback_exceptions=True,
        title="互联网+监督 数据分析平台",
        background_callback_manager=_background_manager(),
        update_title=None,
    )
    # a request's reads share one database connection, closed when the request ends (core/db.py); installed
    # first, so that the session check of the access-control gate shares it too
    from core.db import close_request_connections, share_reads_in_request
    app.server.before_request(share_reads_in_request)
    app.server.teardown_appcontext(close_request_connections)
    try:
        from core.auth import init_security
    except ImportError:
        init_security = None
    if init_security is not None:
        init_security(app)
    elif not settings.is_development:
        raise RuntimeError("access control (core.auth) is missing: refusing to serve data without it")

    import callbacks  # noqa: F401  (registers every page's callbacks)
    from core.fastjson import install as fast_json
    fast_json()

    app.layout = serve_layout
    # the static geography (public, the same for every viewer and every import) is read with the app,
    # not by the first map each worker draws: ~0.2 s for the divisions' index of the township cells
    from data_access.map import preload_shapes
    preload_shapes()
    # what exists now lives as long as the process: moved out of the collector's generations, so that a
    # full collection during a request scans only what requests made (at province scale a full collection
    # took 125-165 ms of some request, three times in the benchmark's cold pass)
    import gc
    gc.collect()
    gc.freeze()

    @app.server.route("/lang/<code>")
    def set_lang(code: str):
        nxt = unquote(request.args.get("next", "/"))
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/"
        resp = make_response(redirect(nxt))
        resp.set_cookie("lang", norm_lang(code), max_age=3600 * 24 * 365, samesite="Lax", httponly=True,
                        secure=request.is_secure)
        return resp

    return app


app = create_app() if os.environ.get("DASH_APP_NO_AUTOCREATE") != "1" else None
server = app.server if app is not None else None
