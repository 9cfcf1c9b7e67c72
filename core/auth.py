"""Access control: accounts, server-side sessions, the login form, and the request gate.

``init_security(app)`` wires everything into the Dash app's Flask server:

* the secret key (SECRET_KEY; outside development the app refuses to start without one);
* GET/POST /login (a server-rendered bilingual form), POST /logout, GET/POST /password;
* a ``before_request`` gate: the same-origin check on state-changing methods, then the session
  cookie (an opaque random token; only its SHA-256 is stored) resolved against ``sessions`` and
  ``users`` on every request, so logout, disabling a user or changing their role or scope takes
  effect on the next request. Idle timeout 30 minutes, absolute 12 hours. Without a valid
  session, HTML routes redirect to /login and Dash's JSON endpoints answer 401 without data;
* security headers on every response and generic error replies (core/security.py).

Scope of a viewer: ``Scope(region_code, pii, complaints=role == complaint_officer, person_id)``;
an administrator, or a user without a region, gets ``Scope.none()``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json
import logging
import os
import re
import secrets
import unicodedata
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Engine

from core import passwords
from core.audit import audited_in_request, log_event
from core.auth_schema import create_auth_tables, login_attempts, sessions, users
from core.db import reading
from core.i18n import t
from core.scope import Scope, level_of, normalize_code
from core.viewer import ROLES, Viewer

log = logging.getLogger("auth")

SESSION_COOKIE = "sid"
LANG_COOKIE = "lang"
IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)
TOUCH_EVERY = dt.timedelta(seconds=30)          # last_seen_at is written at most this often
THROTTLE_WINDOW = dt.timedelta(minutes=15)
ACCOUNT_FAILURES = 5                            # per account key within the window
ADDRESS_FAILURES = 20                           # per client address within the window
ROLE_LEVEL = {"province_leader": "province", "city_official": "city", "county_official": "county"}
USERNAME_RE = re.compile(r"^[\w.@-]{2,64}$")

_UNSET = object()


def now() -> dt.datetime:
    """UTC, naive (the column type on both databases). Tests move the clock by patching this."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


# --- accounts -----------------------------------------------------------------------------------
def normalize_username(name: str) -> str:
    return unicodedata.normalize("NFKC", str(name or "")).strip().casefold()


def _check_role_scope(role: str, region_code, pii: bool, person_id) -> tuple[str | None, str | None]:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    code = None
    if region_code not in (None, ""):
        try:
            code = normalize_code(region_code)
        except ValueError as exc:
            raise ValueError(f"not a region code: {region_code!r} (2, 4, 6, 9 or 12 digits)") from exc
    if role == "admin" and (code or pii):
        raise ValueError("an administrator has no data scope and no pii grant")
    want = ROLE_LEVEL.get(role)
    if want and code and level_of(code) != want:
        raise ValueError(f"role {role} needs a {want}-level region code, not {level_of(code)} {code}")
    pid = None
    if person_id not in (None, ""):
        from core.idnumber import is_valid
        pid = str(person_id).strip().upper()
        if not is_valid(pid):
            raise ValueError("person_id is not a valid 18-character ID number")
    return code, pid


def create_user(engine: Engine, username: str, role: str, region_code=None, pii: bool = False,
                person_id=None, password: str | None = None) -> str:
    """Create an account and return its password (generated when ``password`` is None: show it
    once). Raises ValueError for a bad user name, an unknown role, a region that does not fit the
    role, a weak password or a taken name."""
    create_auth_tables(engine)
    name = normalize_username(username)
    if not USERNAME_RE.match(name):
        raise ValueError("user names are 2-64 letters, digits, '.', '_', '-' or '@'")
    code, pid = _check_role_scope(role, region_code, bool(pii), person_id)
    if password is None:
        password = passwords.generate()
    else:
        passwords.validate(password, username=name)
    ts = now()
    row = dict(username=name, password_hash=passwords.hash_password(password), role=role, region_code=code,
               pii=bool(pii), person_id=pid, disabled=False, password_changed_at=ts, created_at=ts, updated_at=ts,
               totp_secret=_new_totp_secret() if passwords.totp_required() else None)
    with engine.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == name)).first():
            raise ValueError(f"user {name!r} exists already")
        conn.execute(users.insert().values(**row))
    log_event("user_create", name, "ok", {"role": role, "region_code": code, "pii": bool(pii),
                                          "person_id_set": pid is not None}, engine=engine)
    return password


def get_user(engine: Engine, username: str) -> dict | None:
    create_auth_tables(engine)
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == normalize_username(username))).mappings().first()
    return dict(row) if row else None


def list_users(engine: Engine) -> list[dict]:
    """Accounts without secrets (no hash, no TOTP secret, person_id masked)."""
    from core.idnumber import mask_id
    create_auth_tables(engine)
    cols = [users.c.id, users.c.username, users.c.role, users.c.region_code, users.c.pii, users.c.person_id,
            users.c.disabled, users.c.password_changed_at, users.c.created_at]
    with engine.connect() as conn:
        rows = conn.execute(select(*cols).order_by(users.c.username)).mappings().all()
    return [{**dict(r), "person_id": mask_id(r["person_id"])} for r in rows]


def _require(engine: Engine, username: str) -> dict:
    user = get_user(engine, username)
    if user is None:
        raise ValueError(f"no user {normalize_username(username)!r}")
    return user


def _update_user(engine: Engine, user_id: int, **values) -> None:
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id).values(updated_at=now(), **values))


def revoke_user_sessions(engine: Engine, user_id: int) -> int:
    with engine.begin() as conn:
        res = conn.execute(update(sessions).where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
                           .values(revoked_at=now()))
    return res.rowcount or 0


def disable_user(engine: Engine, username: str, disabled: bool = True) -> None:
    user = _require(engine, username)
    _update_user(engine, user["id"], disabled=bool(disabled))
    if disabled:
        revoke_user_sessions(engine, user["id"])
    log_event("user_disable" if disabled else "user_enable", user["username"], "ok", engine=engine)


def set_role(engine: Engine, username: str, role: str, region_code=_UNSET) -> None:
    """Change the role (and, when given, the region). Effective on the user's next request."""
    user = _require(engine, username)
    code = user["region_code"] if region_code is _UNSET else region_code
    pii = user["pii"] and role != "admin"
    if role == "admin":
        code = None
    code, _ = _check_role_scope(role, code, pii, None)
    _update_user(engine, user["id"], role=role, region_code=code, pii=pii)
    log_event("user_set_role", user["username"], "ok", {"from": user["role"], "to": role, "region_code": code},
              engine=engine)


def set_scope(engine: Engine, username: str, region_code=_UNSET, pii=None, person_id=_UNSET) -> None:
    """Change the region (None: sees nothing), the pii grant, or the linked ID number."""
    user = _require(engine, username)
    code = user["region_code"] if region_code is _UNSET else region_code
    grant = user["pii"] if pii is None else bool(pii)
    pid_in = user["person_id"] if person_id is _UNSET else person_id
    code, pid = _check_role_scope(user["role"], code, grant, pid_in)
    _update_user(engine, user["id"], region_code=code, pii=grant, person_id=pid)
    log_event("user_set_scope", user["username"], "ok",
              {"region_code": code, "pii": grant, "person_id_set": pid is not None}, engine=engine)


def reset_password(engine: Engine, username: str, password: str | None = None) -> str:
    """Set a new password (generated when None: returned to be shown once); ends the user's sessions."""
    user = _require(engine, username)
    if password is None:
        password = passwords.generate()
    else:
        passwords.validate(password, username=user["username"])
    _update_user(engine, user["id"], password_hash=passwords.hash_password(password), password_changed_at=now())
    revoke_user_sessions(engine, user["id"])
    log_event("user_reset_password", user["username"], "ok", engine=engine)
    return password


def _new_totp_secret() -> str:
    import pyotp
    return pyotp.random_base32()


def reset_totp(engine: Engine, username: str) -> str:
    """A new TOTP secret; returns the otpauth:// URI to show once (for an authenticator app)."""
    user = _require(engine, username)
    secret = _new_totp_secret()
    _update_user(engine, user["id"], totp_secret=secret, totp_last_step=None)
    revoke_user_sessions(engine, user["id"])
    log_event("user_reset_totp", user["username"], "ok", engine=engine)
    return totp_uri(user["username"], secret)


def totp_uri(username: str, secret: str) -> str:
    import pyotp
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Hunan-Supervision")


def change_password(engine: Engine, user_id: int, current: str, new: str, confirm: str) -> list[str]:
    """The user's own change; returns i18n keys of what is wrong ([] = changed)."""
    with engine.connect() as conn:
        user = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if user is None or not passwords.verify(user["password_hash"], current):
        return ["auth.password.wrong_current"]
    if new != confirm:
        return ["auth.password.mismatch"]
    if new == current:
        return ["auth.password.same"]
    found = passwords.problems(new, username=user["username"])
    if found:
        return found
    _update_user(engine, user_id, password_hash=passwords.hash_password(new), password_changed_at=now())
    return []


def password_expired(user: dict) -> bool:
    days = passwords.max_age_days()
    return bool(days) and user["password_changed_at"] is not None and \
        now() - user["password_changed_at"] > dt.timedelta(days=days)


# --- sessions -----------------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(engine: Engine, user_id: int, addr: str | None = None) -> str:
    """A new opaque token (returned once, for the cookie); the database keeps only its hash."""
    token = secrets.token_urlsafe(32)
    ts = now()
    with engine.begin() as conn:
        conn.execute(sessions.insert().values(token_hash=_token_hash(token), user_id=user_id, created_at=ts,
                                              last_seen_at=ts, remote_addr=(addr or "")[:64]))
    return token


def revoke_session(engine: Engine, token: str | None) -> None:
    if token:
        with engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.token_hash == _token_hash(token),
                                                sessions.c.revoked_at.is_(None)).values(revoked_at=now()))


def viewer_for(user: dict, lang: str = "zh") -> Viewer:
    role = user["role"]
    if role == "admin" or not user.get("region_code"):
        scope = Scope.none()
    else:
        scope = Scope(region_code=normalize_code(user["region_code"]), pii=bool(user["pii"]),
                      complaints=(role == "complaint_officer"), person_id=user.get("person_id") or None)
    return Viewer(user_id=user["id"], username=user["username"], role=role, scope=scope,
                  lang="en" if lang == "en" else "zh")


# The statement every request runs, built once: the session and what a request needs of its user (not
# the password hash nor the TOTP secret). Building it per request, with every column of users, cost
# ~0.3 ms of a ~1.2 ms session check on PostgreSQL.
_SESSION_USER = (select(sessions.c.id.label("session_id"), sessions.c.created_at.label("session_created"),
                        sessions.c.last_seen_at, sessions.c.revoked_at, users.c.id, users.c.username, users.c.role,
                        users.c.region_code, users.c.pii, users.c.person_id, users.c.disabled,
                        users.c.password_changed_at)
                 .join(users, users.c.id == sessions.c.user_id)
                 .where(sessions.c.token_hash == bindparam("h")))


def resolve_session(engine: Engine, token: str | None) -> tuple[dict | None, str]:
    """(user row, "ok") for a live session, else (None, reason): none, unknown, revoked, idle,
    expired, disabled. Touches last_seen_at (at most every TOUCH_EVERY)."""
    if not token or len(token) > 200:
        return None, "none"
    with reading(engine) as conn:                       # the request's shared read connection, if any
        row = conn.execute(_SESSION_USER, {"h": _token_hash(token)}).mappings().first()
    if row is None:
        return None, "unknown"
    if row["revoked_at"] is not None:
        return None, "revoked"
    ts = now()
    reason = None
    if row["disabled"]:
        reason = "disabled"
    elif ts - row["session_created"] > ABSOLUTE_TIMEOUT:
        reason = "expired"
    elif ts - row["last_seen_at"] > IDLE_TIMEOUT:
        reason = "idle"
    if reason:
        with engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id == row["session_id"]).values(revoked_at=ts))
        return None, reason
    if ts - row["last_seen_at"] >= TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id == row["session_id"]).values(last_seen_at=ts))
    return dict(row), "ok"


# --- login and throttling -----------------------------------------------------------------------
def _account_key(secret: str, username: str) -> str:
    return hmac.new(secret.encode("utf-8"), normalize_username(username).encode("utf-8"), hashlib.sha256).hexdigest()


def throttled(engine: Engine, account_key: str, addr: str) -> bool:
    """Too many failures for this account key (since its last success) or from this address."""
    since = now() - THROTTLE_WINDOW
    with engine.connect() as conn:
        last_ok = conn.execute(select(func.max(login_attempts.c.at)).where(
            login_attempts.c.account_key == account_key, login_attempts.c.success.is_(True))).scalar()
        acc_since = max(since, last_ok) if last_ok else since
        n_acc = conn.execute(select(func.count()).where(
            login_attempts.c.account_key == account_key, login_attempts.c.success.is_(False),
            login_attempts.c.at > acc_since)).scalar()
        n_addr = conn.execute(select(func.count()).where(
            login_attempts.c.remote_addr == addr, login_attempts.c.success.is_(False),
            login_attempts.c.at > since)).scalar()
    return n_acc >= ACCOUNT_FAILURES or n_addr >= ADDRESS_FAILURES


def _record_attempt(engine: Engine, account_key: str, addr: str, success: bool) -> None:
    ts = now()
    with engine.begin() as conn:
        conn.execute(login_attempts.insert().values(account_key=account_key, remote_addr=addr, at=ts, success=success))
        if secrets.randbelow(50) == 0:   # now and then: forget old attempts and dead sessions
            conn.execute(login_attempts.delete().where(login_attempts.c.at < ts - dt.timedelta(days=1)))
            conn.execute(sessions.delete().where(sessions.c.last_seen_at < ts - ABSOLUTE_TIMEOUT - dt.timedelta(days=1)))


def authenticate(engine: Engine, secret: str, username: str, password: str, otp: str | None,
                 addr: str) -> tuple[dict | None, str]:
    """(user, "ok") or (None, status) with status one of "failed", "throttled", "otp_failed",
    "otp_missing". "failed" is the same answer for an unknown user, a wrong password and a
    disabled account; the OTP statuses come only after a correct password."""
    key = _account_key(secret, username)
    if throttled(engine, key, addr):
        log_event("login_throttled", "", "denied", {"addr_or_account": "limit"}, engine=engine, actor="")
        return None, "throttled"
    user = get_user(engine, username) if USERNAME_RE.match(normalize_username(username)) else None
    ok = passwords.verify(user["password_hash"] if user else None, password or "")
    if not ok or user is None or user["disabled"]:
        _record_attempt(engine, key, addr, False)
        log_event("login_failed", user["username"] if user else "(unknown)", "denied",
                  {"reason": "disabled" if (ok and user) else "credentials"}, engine=engine,
                  actor=user["username"] if user else "", user_id=user["id"] if user else None)
        return None, "failed"
    if passwords.totp_required():
        status = _check_totp(engine, user, otp)
        if status != "ok":
            _record_attempt(engine, key, addr, False)
            log_event("login_failed", user["username"], "denied", {"reason": status}, engine=engine,
                      actor=user["username"], user_id=user["id"])
            return None, status
    _record_attempt(engine, key, addr, True)
    if passwords.needs_rehash(user["password_hash"]):
        _update_user(engine, user["id"], password_hash=passwords.hash_password(password))
    return user, "ok"


def _check_totp(engine: Engine, user: dict, otp: str | None) -> str:
    import pyotp
    if not user.get("totp_secret"):
        return "otp_missing"
    code = re.sub(r"\s", "", otp or "")
    if not re.fullmatch(r"\d{6}", code):
        return "otp_failed"
    totp = pyotp.TOTP(user["totp_secret"])
    ts = now().replace(tzinfo=dt.timezone.utc)
    step_now = totp.timecode(ts)
    for step in (step_now - 1, step_now, step_now + 1):       # one step of clock drift either way
        if hmac.compare_digest(totp.generate_otp(step), code):
            if user.get("totp_last_step") is not None and step <= user["totp_last_step"]:
                return "otp_failed"                             # a code is good once
            _update_user(engine, user["id"], totp_last_step=step)
            return "ok"
    return "otp_failed"


# --- the secret key -----------------------------------------------------------------------------
class InsecureConfiguration(RuntimeError):
    pass


def resolve_secret_key(settings=None) -> str:
    """SECRET_KEY from the environment. Without it: refuse in production; in development/test a
    random key persisted (mode 0600) in DATA_DIR/secret_key."""
    from core.settings import get_settings
    settings = settings or get_settings()
    key = settings.secret_key
    if key:
        if len(key) < 32 and not settings.is_development:
            raise InsecureConfiguration("SECRET_KEY must be at least 32 characters (python -c "
                                        "'import secrets; print(secrets.token_urlsafe(48))')")
        return key
    if not settings.is_development:
        raise InsecureConfiguration(
            "SECRET_KEY is not set and APP_ENV is production: refusing to start. Set SECRET_KEY to a "
            "random value of at least 32 characters (python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
            "or APP_ENV=development for a local key.")
    from core import settings as settings_mod
    path = Path(os.environ.get("DATA_DIR", settings_mod.DATA_DIR)) / "secret_key"
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    os.chmod(path, 0o600)
    return key


# --- pages --------------------------------------------------------------------------------------
def safe_next(target: str | None) -> str:
    """Only a local path: never another host (``//evil``, ``/\\evil``, ``https://...``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return "/"
    if parts.path in ("/login", "/logout", "/login.js"):
        return "/"
    return target


CLEAR_STORAGE_JS = ("try{window.localStorage&&localStorage.clear();}catch(e){}\n"
                    "try{window.sessionStorage&&sessionStorage.clear();}catch(e){}\n")


def _page(lang: str, title_key: str, body: str, next_url: str = "/") -> str:
    other = "en" if lang == "zh" else "zh"
    e = html.escape
    switch = "/login?" + urlencode({"lang": other, "next": safe_next(next_url)})
    return f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(t(title_key, lang))} · {e(t('app.title', lang))}</title>
<link rel="stylesheet" href="/assets/00-bootstrap.min.css">
<script src="/login.js"></script>
</head><body class="bg-light">
<main class="container" style="max-width:28rem;margin-top:8vh">
<h1 class="h4 mb-1">{e(t('app.title', lang))}</h1>
<p class="text-end"><a href="{e(switch)}">{e(t('app.lang_switch', lang))}</a></p>
{body}
<p class="text-muted small mt-3">{e(t('auth.login.notice', lang))}</p>
</main></body></html>"""


def _alert(msg: str | None, kind: str = "danger") -> str:
    return f'<div class="alert alert-{kind}" role="alert">{html.escape(msg)}</div>' if msg else ""


def _field(name: str, label: str, kind: str, autocomplete: str, extra: str = "") -> str:
    return (f'<div class="mb-3"><label class="form-label" for="{name}">{html.escape(label)}</label>'
            f'<input class="form-control" id="{name}" name="{name}" type="{kind}" autocomplete="{autocomplete}" '
            f'required {extra}></div>')


def login_page(lang: str, next_url: str = "/", error: str | None = None, info: str | None = None) -> str:
    e = html.escape
    fields = [_field("username", t("auth.login.username", lang), "text", "username", 'maxlength="64" autofocus'),
              _field("password", t("auth.login.password", lang), "password", "current-password", 'maxlength="256"')]
    if passwords.totp_required():
        fields.append(_field("otp", t("auth.login.otp", lang), "text", "one-time-code",
                             'inputmode="numeric" pattern="[0-9 ]{6,7}" maxlength="7"'))
    body = (f'{_alert(error)}{_alert(info, "info")}'
            f'<form method="post" action="/login">'
            f'<input type="hidden" name="next" value="{e(safe_next(next_url))}">'
            f'{"".join(fields)}'
            f'<button class="btn btn-primary w-100" type="submit">{e(t("auth.login.submit", lang))}</button></form>')
    return _page(lang, "auth.login.title", body, next_url)


def password_page(lang: str, errors=(), info: str | None = None) -> str:
    e = html.escape
    days = passwords.max_age_days()
    policy = t("auth.password.policy_mlps", lang, days=days) if days else t("auth.password.policy", lang)
    fields = [_field("current", t("auth.password.current", lang), "password", "current-password", 'maxlength="256"'),
              _field("new", t("auth.password.new", lang), "password", "new-password", 'maxlength="256" minlength="8"'),
              _field("confirm", t("auth.password.confirm", lang), "password", "new-password", 'maxlength="256"')]
    body = ("".join(_alert(t(k, lang)) for k in errors) + _alert(info, "info")
            + f'<h2 class="h5">{e(t("auth.password.title", lang))}</h2><p class="small text-muted">{e(policy)}</p>'
            f'<form method="post" action="/password">{"".join(fields)}'
            f'<button class="btn btn-primary w-100" type="submit">{e(t("auth.password.submit", lang))}</button></form>')
    return _page(lang, "auth.password.title", body, "/password")


# --- Flask wiring -------------------------------------------------------------------------------
def init_security(app, database_url: str | None = None) -> None:
    """Install the access-control layer on a Dash app (see the module docstring).

    The database: ``database_url``, else ``app.server.config["DATABASE_URL"]``, else Settings.
    Raises InsecureConfiguration when production runs without SECRET_KEY."""
    import flask
    from flask import g, redirect, request

    from core.db import get_engine
    from core.security import (CALLBACK_PATH, PUBLIC_PATHS, apply_headers, client_addr, complainant_fields,
                               complaint_ids, downloads, full_id_numbers, install_log_redaction, is_api_path,
                               is_https, mask_full_ids, region_wishes, register_error_handlers, same_origin)
    from core.settings import get_settings

    settings = get_settings()
    server = app.server
    secret = resolve_secret_key(settings)
    server.secret_key = secret
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         MAX_CONTENT_LENGTH=server.config.get("MAX_CONTENT_LENGTH") or 16 * 1024 * 1024)
    if not settings.is_development:
        server.debug = False
        _force_debug_off(app)
    install_log_redaction()
    engine = get_engine(database_url or server.config.get("DATABASE_URL") or None)
    create_auth_tables(engine)
    server.extensions["auth_engine"] = engine

    def lang() -> str:
        return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"

    def set_session_cookie(resp, token: str) -> None:
        resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", secure=is_https(), path="/",
                        max_age=int(ABSOLUTE_TIMEOUT.total_seconds()))

    def clear_session_cookie(resp) -> None:
        resp.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax", secure=is_https())

    def html_response(body: str, status: int = 200):
        return flask.Response(body, status=status, content_type="text/html; charset=utf-8")

    def refuse(status: int, error: str, audit_action: str | None = None, target: str = ""):
        if audit_action:
            log_event(audit_action, target or request.path, "denied", {"method": request.method}, engine=engine)
        resp = flask.jsonify({"error": error})
        resp.status_code = status
        return resp

    @server.before_request
    def _gate():
        g.viewer = None
        path = request.path
        if not same_origin():
            return refuse(403, "cross-origin request refused", "refused_origin")
        if path in PUBLIC_PATHS:
            return None
        token = request.cookies.get(SESSION_COOKIE)
        user, reason = resolve_session(engine, token)
        if user is None and path == "/logout":
            return None                                   # logging out without a session: just go to /login
        if user is None:
            if reason in ("revoked", "idle", "expired", "disabled"):
                log_event("session_refused", path, "denied", {"reason": reason}, engine=engine)
            if is_api_path(path) or request.method != "GET":
                if is_api_path(path) and not path.startswith("/_dash-component-suites/"):
                    log_event("refused", path, "denied", {"reason": "no session"}, engine=engine)
                resp = refuse(401, "authentication required")
            else:
                resp = redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}), code=302)
            if token:
                clear_session_cookie(resp)
            return resp
        g.viewer = viewer_for(user, lang())
        g.session_user = user
        if password_expired(user) and path not in ("/password", "/logout"):
            if is_api_path(path):
                return refuse(403, "password expired")
            return redirect("/password", code=302)
        if path == CALLBACK_PATH and request.method == "POST":
            _audit_wishes(request.get_json(silent=True))
        return None

    def _audit_wishes(payload) -> None:
        """A region asked for outside the viewer's scope is clamped by data_access; the request is
        recorded here as refused (once per request, whatever the callback and its cache do)."""
        if not isinstance(payload, dict):
            return
        scope = g.viewer.scope
        outside = sorted(c for c in region_wishes(payload) if not scope.allows(c))
        if outside:
            log_event("refused", str(payload.get("output", ""))[:200], "denied",
                      {"reason": "out_of_scope", "regions": outside[:10]}, engine=engine)

    def _audit_response(resp):
        """What a callback response carries, whatever page wrote it: full ID numbers (audited as a
        view for an entitled viewer, masked otherwise), complainant fields (audited for the
        complaint officer, refused for everyone else), and downloads (audited as exports)."""
        viewer = g.get("viewer")
        if (viewer is None or request.path != CALLBACK_PATH or resp.status_code != 200
                or resp.direct_passthrough or resp.headers.get("Content-Encoding")
                or not (resp.mimetype or "").endswith("json")):
            return resp
        text = resp.get_data(as_text=True)
        try:
            output = str((request.get_json(silent=True) or {}).get("output", ""))[:200]
        except Exception:  # pragma: no cover
            output = ""
        if complainant_fields(text) and not viewer.scope.complaints:
            log.error("callback %s returned complainant fields to a %s: refused", output, viewer.role)
            log_event("refused", output, "denied", {"reason": "complainant_fields"}, engine=engine)
            return refuse(403, "forbidden")
        sent = request.get_data(as_text=True) or ""
        ids = [i for i in full_id_numbers(text) if i not in sent]      # an echo of what the client sent discloses nothing
        if ids and viewer.scope.pii:
            log_event("view_pii", output, "ok", {"id_numbers": len(set(ids))}, engine=engine)
        elif ids:
            log.error("callback %s returned %d full ID numbers to a viewer without pii: masked", output, len(ids))
            log_event("pii_masked", output, "error", {"id_numbers": len(set(ids))}, engine=engine)
            text = mask_full_ids(text, keep=sent)
            resp.set_data(text)
        if viewer.scope.complaints and (complainant_fields(text) or '"summary"' in text):
            cids = complaint_ids(text)
            if cids:
                log_event("view_complaint", output, "ok", {"complaint_ids": cids[:50], "n": len(cids)}, engine=engine)
        if '"filename"' in text and not audited_in_request("export"):   # a page may audit its export itself
            try:
                files = downloads(json.loads(text))
            except ValueError:
                files = []
            for f in files:
                log_event("export", str(f.get("filename"))[:200], "ok",
                          {"output": output, "chars": len(str(f.get("content") or ""))}, engine=engine)
        return resp

    @server.after_request
    def _headers(resp):
        return apply_headers(_audit_response(resp), app)

    @server.route("/login.js")
    def _login_js():
        return flask.Response(CLEAR_STORAGE_JS, content_type="application/javascript; charset=utf-8")

    @server.route("/login", methods=["GET", "POST"])
    def _login():
        lg = request.args.get("lang")
        if lg in ("zh", "en"):
            resp = redirect("/login?" + urlencode({"next": safe_next(request.args.get("next"))}), code=302)
            resp.set_cookie(LANG_COOKIE, lg, samesite="Lax", secure=is_https(), max_age=365 * 86400)
            return resp
        lang_ = lang()
        if request.method == "GET":
            info = None
            if request.args.get("bye"):
                info = t("auth.login.logged_out", lang_)
            return html_response(login_page(lang_, request.args.get("next") or "/", info=info))
        form = request.form
        next_url = safe_next(form.get("next"))
        user, status = authenticate(engine, secret, form.get("username", "")[:64], form.get("password", "")[:256],
                                    form.get("otp"), client_addr())
        if user is None:
            msg = (t("auth.login.throttled", lang_, minutes=int(THROTTLE_WINDOW.total_seconds() // 60))
                   if status == "throttled" else t(f"auth.login.{status}", lang_))
            return html_response(login_page(lang_, next_url, error=msg), 429 if status == "throttled" else 401)
        revoke_session(engine, request.cookies.get(SESSION_COOKIE))     # no fixation: always a new token
        token = start_session(engine, user["id"], client_addr())
        g.viewer = viewer_for(user, lang_)
        log_event("login", user["username"], "ok", engine=engine)
        resp = redirect("/password" if password_expired(user) else next_url, code=302)
        set_session_cookie(resp, token)
        return resp

    @server.route("/logout", methods=["POST"])
    def _logout():
        revoke_session(engine, request.cookies.get(SESSION_COOKIE))
        if g.viewer is not None:
            log_event("logout", "", "ok", engine=engine)
        resp = redirect("/login?bye=1", code=303)
        clear_session_cookie(resp)
        # the page's stores: browsers honour this on HTTPS/localhost; /login.js clears them everywhere
        resp.headers["Clear-Site-Data"] = '"cache", "storage"'
        return resp

    @server.route("/password", methods=["GET", "POST"])
    def _password():
        lang_ = lang()
        user = g.session_user
        if request.method == "GET":
            info = t("auth.password.expired", lang_) if password_expired(user) else None
            return html_response(password_page(lang_, info=info))
        form = request.form
        errors = change_password(engine, user["id"], form.get("current", "")[:256], form.get("new", "")[:256],
                                 form.get("confirm", "")[:256])
        log_event("password_change", user["username"], "denied" if errors else "ok", engine=engine)
        if errors:
            return html_response(password_page(lang_, errors), 400)
        revoke_user_sessions(engine, user["id"])                     # every other session ends too
        resp = redirect("/", code=303)
        set_session_cookie(resp, start_session(engine, user["id"], client_addr()))
        return resp

    register_error_handlers(server)


def _force_debug_off(app) -> None:
    """Outside development a request to run the app in debug mode is ignored (no tracebacks, no dev tools)."""
    original = app.run

    def run(*args, **kwargs):
        if kwargs.get("debug"):
            log.warning("debug requested with APP_ENV=production: ignored")
        kwargs["debug"] = False
        kwargs.pop("dev_tools_ui", None)
        kwargs.pop("dev_tools_props_check", None)
        return original(*args, **kwargs)

    app.run = run
    os.environ.pop("DASH_DEBUG", None)
