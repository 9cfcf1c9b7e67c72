"""The audit trail: who did what, when, from where, with what result.

``log_event`` appends one row to ``audit_log`` (append-only: see core/auth_schema.py). The actor is
the request's viewer (or ``actor=`` for the command line). Target and detail never carry a full
ID number, a password or a complainant's identity: ID-number-shaped strings are masked and
sensitive keys are replaced by ``[redacted]`` before anything is written.

A failure to write the audit row raises: a view of personal data that cannot be audited must not
be served.

Flooding: refusals of requests without a session (no login, a foreign origin, a throttled login)
cost an attacker nothing, so they are capped per address and action: the first ``ANON_BUDGET`` in a
window of ``ANON_WINDOW`` seconds are written one by one, the rest are counted and written as one
``audit_suppressed`` row (address, action, count, window) once the window has passed. The cap is per
worker process. Events of signed-in users are never capped.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import threading
import time

from core.security import redact

SENSITIVE_KEYS = ("password", "secret", "token", "totp", "otp", "complainant", "contact", "name")
ALLOWED_NAME_KEYS = ("username", "table_name", "page_name", "fund_name", "region_name")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _sensitive(key: str) -> bool:
    k = str(key).lower()
    if k in ALLOWED_NAME_KEYS:
        return False
    return any(s in k for s in SENSITIVE_KEYS)


def sanitize(value, depth: int = 0):
    """A JSON-able copy of ``value`` with ID numbers masked and sensitive keys redacted."""
    if depth > 6:
        return "…"
    if isinstance(value, dict):
        return {str(k): ("[redacted]" if _sensitive(k) else sanitize(v, depth + 1)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [sanitize(v, depth + 1) for v in list(value)[:200]]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value))[:1000]


def engine_for(engine=None):
    """The explicit engine, else the app's (set by init_security), else the settings' database."""
    if engine is not None:
        return engine
    try:
        from flask import current_app, has_app_context
        if has_app_context():
            eng = current_app.extensions.get("auth_engine")
            if eng is not None:
                return eng
    except ImportError:  # pragma: no cover
        pass
    from core.db import get_engine
    return get_engine()


def _request_addr() -> str | None:
    try:
        from flask import has_request_context
        if has_request_context():
            from core.security import client_addr
            return client_addr()
    except ImportError:  # pragma: no cover
        pass
    return None


ANON_BUDGET = 30
ANON_WINDOW = 60.0
ANON_KEYS = 10000          # beyond this many (address, action) pairs, further addresses share one key
_clock = time.monotonic
_anon: dict[tuple[str, str], list] = {}      # key -> [window start (clock), wall-clock start, written, suppressed]
_anon_lock = threading.Lock()


def _anon_admit(addr: str, action: str) -> tuple[bool, list[dict]]:
    """(write this row?, summaries of windows that have ended) for an anonymous refusal."""
    now = _clock()
    done = []
    with _anon_lock:
        for key, (start, wall, _, suppressed) in list(_anon.items()):
            if now - start >= ANON_WINDOW:
                del _anon[key]
                if suppressed:
                    done.append({"addr": key[0], "action": key[1], "suppressed": suppressed,
                                 "window_from": wall.isoformat(timespec="seconds"),
                                 "window_seconds": ANON_WINDOW})
        key = (addr or "?", action)
        if key not in _anon and len(_anon) >= ANON_KEYS:
            key = ("*", action)
        entry = _anon.setdefault(key, [now, _now(), 0, 0])
        if entry[2] < ANON_BUDGET:
            entry[2] += 1
            return True, done
        entry[3] += 1
        return False, done


def log_event(action: str, target: str = "", result: str = "ok", detail: dict | None = None, engine=None,
              actor: str | None = None, user_id: int | None = None) -> None:
    """Append one audit row. ``actor``/``user_id`` override the request's viewer (command line,
    failed logins); outside a request without ``actor`` the actor is ``cli:<os user>``."""
    from core.viewer import current_viewer
    viewer = current_viewer()
    addr = _request_addr()
    if actor is None:
        if viewer.is_authenticated:
            actor, user_id = viewer.username, viewer.user_id if user_id is None else user_id
        elif addr is None:
            try:
                actor = "cli:" + getpass.getuser()
            except Exception:  # pragma: no cover
                actor = "cli"
        else:
            actor = ""
    if not actor and result == "denied" and addr is not None:
        write, summaries = _anon_admit(addr, str(action)[:40])
        for summ in summaries:
            _insert({"at": _now(), "user_id": None, "username": "", "remote_addr": summ["addr"][:64],
                     "action": "audit_suppressed", "target": summ["action"], "result": "denied",
                     "detail": json.dumps(summ, ensure_ascii=False)}, engine)
        if not write:
            _note(str(action)[:40])
            return
    row = {
        "at": _now(),
        "user_id": user_id,
        "username": (actor or "")[:64],
        "remote_addr": addr,
        "action": str(action)[:40],
        "target": redact(str(target or ""))[:200],
        "result": str(result)[:16],
        "detail": json.dumps(sanitize(detail), ensure_ascii=False, default=str) if detail else None,
    }
    _insert(row, engine)
    _note(row["action"])


def _insert(row: dict, engine=None) -> None:
    from core.auth_schema import audit_log
    with engine_for(engine).begin() as conn:
        conn.execute(audit_log.insert().values(**row))


def _note(action: str) -> None:
    """Remember the actions audited during this request (the response filter does not repeat them)."""
    try:
        from flask import g, has_request_context
        if has_request_context():
            g.setdefault("audited_actions", []).append(action)
    except ImportError:  # pragma: no cover
        pass


def audited_in_request(prefix: str) -> bool:
    """Whether an action starting with ``prefix`` was audited during the current request."""
    try:
        from flask import g, has_request_context
        return has_request_context() and any(a.startswith(prefix) for a in g.get("audited_actions", ()))
    except ImportError:  # pragma: no cover
        return False
