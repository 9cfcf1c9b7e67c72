"""Callback responses serialised by orjson directly.

Dash serialises every callback response with plotly's ``to_json_plotly``, which first walks the whole
response in Python (``clean_to_json_compatible``: numpy, pandas and component objects made plain) and
then calls orjson. Our responses are already plain (figures are dicts, see components/), so the walk
is pure cost: ~1.5 ms a callback on average, most of a warm call's time for a big figure. ``install``
puts an orjson-first encoder in its place: Dash components through their ``to_plotly_json``, numpy
through orjson's own support; anything orjson does not know (a Decimal, a set, a pandas value) falls
back to plotly's encoder for the whole response, so the output is what it was.
"""
from __future__ import annotations

import orjson

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def _component(obj):
    to_json = getattr(obj, "to_plotly_json", None)
    if to_json is None:
        raise TypeError(type(obj).__name__)
    return to_json()


def make_encoder(fallback):
    def to_json(value):
        try:
            return orjson.dumps(value, default=_component, option=_OPTIONS).decode()
        except (TypeError, orjson.JSONEncodeError):
            return fallback(value)
    to_json.fallback = fallback
    return to_json


def install() -> None:
    """Use the orjson-first encoder for Dash's callback responses (idempotent)."""
    import dash._callback as dash_callback
    current = dash_callback.to_json
    if getattr(current, "fallback", None) is None:
        dash_callback.to_json = make_encoder(current)
