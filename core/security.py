"""HTTP hardening: security headers, the same-origin check on POSTs, generic error replies, the
client address, and a log filter that masks ID numbers in every log record.

Used by core/auth.py (``init_security``); nothing here knows about users or sessions.
"""
from __future__ import annotations

import html
import logging
import os
import re
from urllib.parse import urlsplit

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("security")

# Paths served without a session: the login form, its script and stylesheet, favicons.
PUBLIC_PATHS = frozenset({"/login", "/login.js", "/favicon.ico", "/_favicon.ico",
                          "/assets/00-bootstrap.min.css"})
# Static files: cacheable (everything else gets Cache-Control: no-store).
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

ID_RE = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")


# --- the request --------------------------------------------------------------------------------
def trusted_proxies() -> int:
    """How many reverse proxies in front of the app append to X-Forwarded-For (TRUSTED_PROXY_COUNT, default 0)."""
    try:
        return max(0, int(os.environ.get("TRUSTED_PROXY_COUNT", "0")))
    except ValueError:
        return 0


def client_addr() -> str:
    """The client's address: the socket peer, or the entry our own proxies put in X-Forwarded-For."""
    n = trusted_proxies()
    if n:
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        if len(hops) >= n:
            return hops[-n][:64]
    return (request.remote_addr or "")[:64]


def is_https() -> bool:
    """HTTPS directly, or behind a proxy that says so (only ever used to make cookies stricter)."""
    if request.is_secure:
        return True
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https"


def is_api_path(path: str) -> bool:
    """Dash's JSON endpoints (/_dash-update-component, /_dash-layout, /_dash-dependencies,
    /_reload-hash, ...): refused with a 401 JSON body, never a redirect."""
    return path.startswith("/_") and path != "/_favicon.ico"


def _expected_host() -> str:
    if trusted_proxies():
        fwd = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
        if fwd:
            return fwd.lower()
    return (request.host or "").lower()


def same_origin() -> bool:
    """For state-changing methods: Origin (or, without it, Referer) names this host. A request
    carrying neither is refused; so is one a browser marks Sec-Fetch-Site: cross-site."""
    if request.method not in UNSAFE_METHODS:
        return True
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return False
    source = request.headers.get("Origin")
    if not source or source == "null":
        source = request.headers.get("Referer")
    if not source:
        return False
    try:
        parts = urlsplit(source)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc.lower() == _expected_host()


# --- responses ----------------------------------------------------------------------------------
def content_security_policy(dash_app=None) -> str:
    """script-src admits only our own files and the hashes of Dash's inline scripts (the renderer
    bootstrap, clientside callbacks). style-src needs 'unsafe-inline': Dash components and Plotly
    set inline styles. No frames, no plugins, forms post only to us."""
    scripts = ["'self'"]
    if dash_app is not None:
        scripts += list(dash_app.csp_hashes())
    return "; ".join((
        "default-src 'self'",
        "script-src " + " ".join(scripts),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def apply_headers(response, dash_app=None):
    h = response.headers
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "same-origin"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Cross-Origin-Resource-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
    h["Content-Security-Policy"] = content_security_policy(dash_app)
    if not request.path.startswith(STATIC_PREFIXES):
        h["Cache-Control"] = "no-store"
        h["Pragma"] = "no-cache"
    if is_https():
        h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


GENERIC = {
    400: ("请求无效", "Bad request"),
    401: ("请先登录", "Please sign in"),
    403: ("无权访问", "Forbidden"),
    404: ("页面不存在", "Not found"),
    405: ("不允许的请求方法", "Method not allowed"),
    413: ("请求过大", "Request too large"),
    429: ("请求过于频繁，请稍后再试", "Too many requests, try again later"),
    500: ("服务器内部错误", "Internal server error"),
}


def error_response(code: int, lang: str = "zh"):
    """A reply that says only what kind of error it was: no trace, SQL, path or input echoed."""
    zh, en = GENERIC.get(code, GENERIC[500] if code >= 500 else GENERIC[400])
    text = zh if lang == "zh" else en
    if is_api_path(request.path) or request.method in UNSAFE_METHODS or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": text, "status": code}), code
    page = (f"<!doctype html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            f"<title>{code}</title></head><body><h1>{code}</h1><p>{html.escape(text)}</p>"
            f"<p><a href='/'>{'返回首页' if lang == 'zh' else 'Home'}</a></p></body></html>")
    return page, code, {"Content-Type": "text/html; charset=utf-8"}


def register_error_handlers(server) -> None:
    """Generic replies for every HTTP error and every unhandled exception (Dash's own handler for
    PreventUpdate stays: Flask picks the most specific class)."""

    def _lang() -> str:
        return "en" if request.cookies.get("lang") == "en" else "zh"

    @server.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        if err.code is None or err.code < 400:
            return err
        return error_response(err.code, _lang())

    @server.errorhandler(Exception)
    def _unhandled(err: Exception):
        if isinstance(err, HTTPException):  # pragma: no cover - routed above
            return _http_error(err)
        log.error("unhandled %s on %s %s", type(err).__name__, request.method, request.path, exc_info=err)
        return error_response(500, _lang())


# --- callback requests and responses -------------------------------------------------------------
CALLBACK_PATH = "/_dash-update-component"
_REGION_IN_TEXT = re.compile(r"(?<![0-9])([1-8][0-9]{11})(?![0-9])")
_REGION_KEYS = frozenset({"region", "region_code", "code", "county", "city", "township", "village", "village_code"})
_COMPLAINANT_KEY = re.compile(r'"(complainant_name|complainant_contact)"')
_COMPLAINT_ID = re.compile(r'"complaint_id"\s*:\s*"([^"\\]{1,40})"')


def region_wishes(payload) -> set[str]:
    """Region codes a callback request asks for: every 12-digit code anywhere in the values of its
    inputs and state (URL search strings, stores, clickData), and shorter codes (2/4/6/9 digits)
    under a region-like key. Normalised to 12 digits."""
    from core.scope import normalize_code
    found: set[str] = set()

    def add(code) -> None:
        try:
            found.add(normalize_code(code))
        except ValueError:
            pass

    def walk(v, key=None, depth=0):
        if depth > 12:
            return
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, str(k).lower(), depth + 1)
        elif isinstance(v, (list, tuple)):
            for x in v[:500]:
                walk(x, key, depth + 1)
        elif isinstance(v, (str, int)) and not isinstance(v, bool):
            s = str(v)[:2000]
            found.update(_REGION_IN_TEXT.findall(s))
            if key in _REGION_KEYS and s.strip().isdigit() and s.strip()[0] != "0":
                add(s)

    if isinstance(payload, dict):
        for part in ("inputs", "state"):
            for item in payload.get(part) or []:
                for one in (item if isinstance(item, list) else [item]):
                    if isinstance(one, dict):
                        walk(one.get("value"))
    return found


# every byte to "0" if it is an ASCII digit, else to a space: an ID number holds 17 ASCII digits in a row
_ID_BYTES = bytes(48 if 48 <= i <= 57 else 88 if i in (88, 120) else 32 for i in range(256))
_RUN18, _RUN17X = b"0" * 18, b"0" * 17 + b"X"


def may_hold_id_numbers(text: str) -> bool:
    """False when ``text`` has neither 18 ASCII digits in a row nor 17 followed by an X, so no ID number
    (the pattern wants exactly that). A byte table and two substring searches run in C: ~0.9 ms for a
    340 kB map figure, where the pattern itself took ~10 ms over it. A JSON float never passes: its
    digits after the point are at most 17 (repr), so the colour scale's sevenths (0.14285714285714285)
    and the coordinates do not send every map through the pattern."""
    t = (text or "").encode("utf-8", "surrogatepass").translate(_ID_BYTES)
    return _RUN18 in t or _RUN17X in t


def full_id_numbers(text: str) -> list[str]:
    """Checksum-valid 18-character ID numbers in ``text`` (in order, repeats kept)."""
    from core.idnumber import is_valid
    if not may_hold_id_numbers(text):
        return []
    return [m.group(0) for m in ID_RE.finditer(text or "") if is_valid(m.group(0).upper())]


def mask_full_ids(text: str, keep: str = "") -> str:
    """Mask every checksum-valid ID number in ``text``, except those that also occur in ``keep``."""
    from core.idnumber import is_valid, mask_id

    def sub(m):
        s = m.group(0)
        return mask_id(s) if is_valid(s.upper()) and s not in keep else s
    return ID_RE.sub(sub, text)


def complainant_fields(text: str) -> bool:
    return bool(_COMPLAINANT_KEY.search(text or ""))


def complaint_ids(text: str) -> list[str]:
    return sorted(set(_COMPLAINT_ID.findall(text or "")))


def downloads(payload) -> list[dict]:
    """dcc.Download payloads (``{"filename", "content", ...}``) in a callback response."""
    out: list[dict] = []

    def walk(v, depth=0):
        if depth > 8:
            return
        if isinstance(v, dict):
            if "filename" in v and "content" in v:
                out.append(v)
                return
            for x in v.values():
                walk(x, depth + 1)
        elif isinstance(v, list):
            for x in v:
                walk(x, depth + 1)

    walk(payload)
    return out


# --- logs ---------------------------------------------------------------------------------------
def redact(text: str) -> str:
    """Mask every ID-number-shaped token (18 characters, 6-digit region first) as ``430***********1234``."""
    if not text:
        return text
    from core.idnumber import mask_id
    return ID_RE.sub(lambda m: mask_id(m.group(0)), text)


_installed = False


def install_log_redaction() -> None:
    """Mask ID numbers in every log record of the process (message, arguments and traceback), by
    wrapping the record factory: this covers loggers and handlers created later too."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            msg = record.getMessage()
            record.msg, record.args = redact(msg), None
            if record.exc_info and not record.exc_text:
                record.exc_text = redact(formatter.formatException(record.exc_info))
        except Exception:  # pragma: no cover - never lose a log line to the filter
            pass
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
