"""The viewer's scope: which region a viewer may see and what personal data the role entitles.

Region codes are the 12-digit statistical division codes; a region's descendants share its
prefix (province 2 digits, city 4, county 6, township 9, village 12), so "inside the scope" is the
index-friendly range ``prefix <= code < next(prefix)``. Deny by default: ``Scope.none()`` matches
no row at all.
"""
from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("province", "city", "county", "township", "village")
PREFIX_LEN = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
CHILD_LEVEL = {"province": "city", "city": "county", "county": "township", "township": "village"}
PARENT_LEVEL = {v: k for k, v in CHILD_LEVEL.items()}


def normalize_code(code) -> str:
    """Right-pad a 2/4/6/9/12-digit code to 12 digits; raise ValueError for anything else."""
    s = str(code).strip()
    if not s.isdigit() or len(s) not in (2, 4, 6, 9, 12):
        raise ValueError(f"not a region code: {code!r}")
    return s.ljust(12, "0")


def level_of(code: str) -> str:
    """The level of a 12-digit code, from its trailing zeros."""
    c = normalize_code(code)
    if c[2:] == "0" * 10:
        return "province"
    if c[4:] == "0" * 8:
        return "city"
    if c[6:] == "0" * 6:
        return "county"
    if c[9:] == "000":
        return "township"
    return "village"


def prefix_of(code: str) -> str:
    c = normalize_code(code)
    return c[: PREFIX_LEN[level_of(c)]]


def prefix_upper(prefix: str) -> str:
    """The first string after every code that starts with ``prefix`` (same length, digits only)."""
    return str(int(prefix) + 1).zfill(len(prefix))


def ancestors(code: str) -> list[str]:
    """Codes of the region and its ancestors, province first."""
    c = normalize_code(code)
    lvl = LEVELS.index(level_of(c))
    return [c[: PREFIX_LEN[LEVELS[i]]].ljust(12, "0") for i in range(lvl + 1)]


def contains(outer: str, inner: str) -> bool:
    return normalize_code(inner).startswith(prefix_of(outer))


@dataclass(frozen=True)
class Scope:
    """What one viewer may see. Hashable, so it is part of every cache key."""
    region_code: str | None = None   # None: nothing at all
    pii: bool = False                # full ID numbers and names
    complaints: bool = False         # complaint summaries and complainant fields
    person_id: str | None = None     # the viewer's own ID number: complaints about them stay hidden

    @classmethod
    def none(cls) -> "Scope":
        return cls(None)

    @property
    def is_empty(self) -> bool:
        return self.region_code is None

    @property
    def prefix(self) -> str | None:
        return None if self.region_code is None else prefix_of(self.region_code)

    @property
    def level(self) -> str | None:
        return None if self.region_code is None else level_of(self.region_code)

    def allows(self, code: str | None) -> bool:
        if self.region_code is None or not code:
            return False
        try:
            return contains(self.region_code, code)
        except ValueError:
            return False

    def clamp(self, code: str | None) -> str | None:
        """The requested region if it lies inside the scope, else the scope's own region (None when empty)."""
        if self.region_code is None:
            return None
        if code and self.allows(code):
            return normalize_code(code)
        return self.region_code

    def narrowed(self, code: str | None) -> "Scope":
        """This viewer's scope cut down to ``code`` (a region inside it), with the same grants; empty when
        ``code`` is outside. A data_access helper that reads only under ``code`` gives the same answer for
        both, and memoized on the narrowed scope it is shared by every viewer who may see ``code`` with the
        same grants (a province leader opening a county and that county's official)."""
        if not code or not self.allows(code):
            return Scope(None, self.pii, self.complaints, self.person_id)
        return Scope(normalize_code(code), self.pii, self.complaints, self.person_id)
