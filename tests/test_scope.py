import pytest

from core.scope import Scope, ancestors, level_of, normalize_code, prefix_of, prefix_upper


@pytest.mark.parametrize("code,level,prefix", [
    ("430000000000", "province", "43"), ("4304", "city", "4304"), ("430421", "county", "430421"),
    ("430421100", "township", "430421100"), ("430421100203", "village", "430421100203"),
])
def test_levels_and_prefixes(code, level, prefix):
    assert level_of(code) == level
    assert prefix_of(code) == prefix
    assert len(normalize_code(code)) == 12


@pytest.mark.parametrize("bad", ["43042", "4304211002031", "43a421", "", None])
def test_bad_codes_are_refused(bad):
    with pytest.raises(ValueError):
        normalize_code(bad)


def test_prefix_upper_carries():
    assert prefix_upper("4309") == "4310"
    assert prefix_upper("430499") == "430500"


def test_empty_scope_allows_nothing():
    s = Scope.none()
    assert not s.allows("430421100203")
    assert s.clamp("430421000000") is None


def test_county_scope_allows_inside_only_and_clamps_outside():
    s = Scope("430421000000")
    assert s.allows("430421100203") and s.allows("430421000000")
    assert not s.allows("430422002029") and not s.allows("430400000000") and not s.allows("not-a-code")
    assert s.clamp("430422000000") == "430421000000"      # another county: back to one's own
    assert s.clamp("430421100000") == "430421100000"


def test_ancestors():
    assert ancestors("430421100203") == ["430000000000", "430400000000", "430421000000", "430421100000", "430421100203"]
