"""The audit trail for the administrators' audit page. Never memoized: the log must be current.

Only an administrator reads it; any other viewer gets no rows, and the refusal is itself audited.
Rows carry no full ID number, password or complainant identity (core/audit.py masks them on write).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.audit import engine_for, log_event
from core.viewer import Viewer

LIMIT = 1000


def _day(value) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def audit_rows(viewer: Viewer, action: str | None = None, username: str | None = None, result: str | None = None,
               date_from: str | None = None, date_to: str | None = None, limit: int = LIMIT) -> list[dict]:
    """The newest audit rows (at most ``limit``) matching the filters; [] for anyone but an administrator.
    ``date_from``/``date_to`` are ISO dates (UTC days, both inclusive)."""
    if viewer is None or not viewer.is_admin:
        log_event("refused", "audit_log", "denied", {"reason": "not an administrator"})
        return []
    from core.auth_schema import audit_log as A
    stmt = select(A.c.id, A.c.at, A.c.username, A.c.remote_addr, A.c.action, A.c.target, A.c.result, A.c.detail)
    if action:
        stmt = stmt.where(A.c.action == str(action)[:40])
    if username:
        stmt = stmt.where(A.c.username.contains(str(username)[:64], autoescape=True))
    if result:
        stmt = stmt.where(A.c.result == str(result)[:16])
    start, end = _day(date_from), _day(date_to)
    if start:
        stmt = stmt.where(A.c.at >= start)
    if end:
        stmt = stmt.where(A.c.at < end + dt.timedelta(days=1))
    stmt = stmt.order_by(A.c.id.desc()).limit(max(1, min(int(limit or LIMIT), LIMIT)))
    with engine_for().connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return [{**dict(r), "at": r["at"].isoformat(sep=" ", timespec="seconds") if r["at"] else None} for r in rows]


def audit_actions(viewer: Viewer) -> list[str]:
    """The distinct actions in the log (for the filter); [] for anyone but an administrator."""
    if viewer is None or not viewer.is_admin:
        return []
    from core.auth_schema import audit_log as A
    with engine_for().connect() as conn:
        return [r[0] for r in conn.execute(select(A.c.action).distinct().order_by(A.c.action))]
