"""Who is asking: the viewer of the current request.

The access-control layer (core/auth.py) authenticates the session in a Flask ``before_request``
and puts a ``Viewer`` on ``flask.g.viewer``. Everything else asks ``current_viewer()``; outside a
request or without a session it returns the anonymous viewer, whose scope matches nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.scope import Scope

ROLES = ("province_leader", "city_official", "county_official", "analyst", "complaint_officer", "admin")


@dataclass(frozen=True)
class Viewer:
    user_id: int | None = None
    username: str | None = None
    role: str | None = None
    scope: Scope = field(default_factory=Scope.none)
    lang: str = "zh"

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


ANONYMOUS = Viewer()


def current_viewer() -> Viewer:
    try:
        from flask import g, has_request_context
    except ImportError:  # pragma: no cover
        return ANONYMOUS
    if not has_request_context():
        return ANONYMOUS
    return getattr(g, "viewer", None) or ANONYMOUS


def current_scope() -> Scope:
    return current_viewer().scope


def current_lang() -> str:
    """The viewer's language: the `lang` cookie ("zh" default)."""
    from core.i18n import norm_lang
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover
        return "zh"
    if not has_request_context():
        return "zh"
    return norm_lang(request.cookies.get("lang"))
