"""data_access applies the viewer's scope inside every function: deny by default, nothing from another county."""
import os

import pytest

from core.db import get_engine
from core.scope import Scope
from data_access import complaints, meta, overview
from pipeline.importer import import_package
from tests.package_factory import C1, C3, CITY, PROV, V1


@pytest.fixture(params=["sqlite", "postgresql"])
def loaded_db(request, tmp_path, pkg_dir, monkeypatch):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'scope.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "cache"))
    import_package(pkg_dir, get_engine(url), run_detect=False)
    return url


def test_empty_scope_sees_nothing(loaded_db):
    s = Scope.none()
    assert overview.kpis(s) is None
    assert overview.kpis(s, PROV) is None
    assert overview.monthly(s, PROV).empty
    assert overview.subregions(s, PROV).empty
    assert overview.years(s) == []
    assert complaints.complaint_funnel(s, PROV) is None
    assert meta.package_info(s) is None
    assert meta.breadcrumb(s, V1) == []


def test_county_official_cannot_see_another_county_or_the_province(loaded_db):
    s = Scope(C1)
    own = overview.kpis(s)
    assert own["region"] == C1 and own["paid_amount"] == pytest.approx(10000.0)
    for forged in (C3, CITY, PROV, "430422002029", "junk"):
        k = overview.kpis(s, forged)
        assert k["region"] == C1 and k["paid_amount"] == pytest.approx(10000.0)
        assert complaints.complaint_funnel(s, forged)["received"] == 1     # only its own complaint
    assert [c["code"] for c in meta.breadcrumb(s, C3)] == [C1]
    subs = overview.subregions(s, C3)
    assert set(subs["region_code"]) == {"430421100000"}


def test_province_leader_sees_the_province_and_can_drill_down(loaded_db):
    s = Scope(PROV)
    assert overview.kpis(s)["paid_amount"] == pytest.approx(20000.0)
    assert overview.kpis(s, C3)["paid_amount"] == pytest.approx(10000.0)
    subs = overview.subregions(s, PROV, None, "county")
    assert set(subs["region_code"]) == {C1, C3}
    assert set(subs["name"]) == {"衡阳县", "衡南县"}
    assert subs["paid_per_household"].tolist() == [50.0, 50.0]
    assert [c["name"] for c in meta.breadcrumb(s, V1)] == ["湖南省", "衡阳市", "衡阳县", "西渡镇", "西渡村委会"]


def test_cache_is_keyed_by_scope(loaded_db):
    assert os.environ.get("CACHE_DISABLED") != "1"
    a = overview.kpis(Scope(C1))
    b = overview.kpis(Scope(C3))
    assert a["region"] == C1 and b["region"] == C3
    assert overview.kpis(Scope.none()) is None
