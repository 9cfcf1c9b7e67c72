"""The clue rules on hand-made records: for every rule the positive case fires, the near-miss the
spec names does not, the evidence carries the register row, the amount at risk is as documented
(docs/rules.md), and a rule whose register is missing does not run and says why."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from core.idnumber import check_digit, make_id
from core.settings import RuleSettings
from pipeline.rules import RULE_ORDER, RULES, run_rules
from pipeline.spec import TABLES

AS_OF = dt.date(2025, 6, 30)
PROV, CITY, COUNTY = "430000000000", "430400000000", "430421000000"
T1, T2 = "430421100000", "430421101000"
V1, V2 = "430421100201", "430421100202"      # villages of township T1
V3 = "430421101201"                           # a village of township T2


# --- helpers (also used by tests/test_rules_db.py) -------------------------------------------------------
def frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """A typed frame of a package table (pipeline/spec.py conventions) from dicts; absent keys are empty."""
    data = {}
    for col in TABLES[name].columns:
        vals = [r.get(col.name) for r in rows]
        if col.type == "date":
            data[col.name] = pd.to_datetime(pd.Series(vals, dtype=object), format="%Y-%m-%d")
        elif col.type in ("amount", "number"):
            data[col.name] = pd.Series(vals, dtype="float64")
        elif col.type == "int":
            data[col.name] = pd.Series(pd.array(vals, dtype="Int64"))
        elif col.type == "bool":
            data[col.name] = pd.Series(pd.array(vals, dtype="boolean"))
        else:
            data[col.name] = pd.Series(vals, dtype=object)
    return pd.DataFrame(data)


def pid(n: int, birth: dt.date = dt.date(1960, 5, 17)) -> str:
    return make_id("430421", birth, n)


FUNDS = [
    dict(fund_code="LB", name="农村低保", category="subsistence_allowance", year=2024, issuing_region_code=PROV,
         total_amount=1e6, payment_unit="person"),
    dict(fund_code="FARM", name="耕地地力保护补贴", category="farmland_subsidy", year=2024, issuing_region_code=PROV,
         total_amount=1e6, payment_unit="household"),
    dict(fund_code="DIS", name="残疾人两项补贴", category="disability_subsidy", year=2024, issuing_region_code=PROV,
         total_amount=1e6, payment_unit="person"),
    dict(fund_code="ELD", name="高龄补贴", category="elderly_subsidy", year=2024, issuing_region_code=PROV,
         total_amount=1e6, standard_amount=300.0, payment_unit="person"),
    dict(fund_code="WS", name="安全饮水", category="drinking_water", year=2023, issuing_region_code=CITY,
         total_amount=1e6, standard_amount=300.0, payment_unit="project"),
]


def pay(payment_id, id_number, fund="LB", village=V1, amount=300.0, paid="2024-03-10", period="2024-03", **kw):
    return dict(payment_id=payment_id, fund_code=fund, id_number=id_number, village_code=village, amount=amount,
                paid_date=paid, period=period, **kw)


def package(**tables) -> dict:
    """Typed frames: the funds above plus the given tables (name=list of dicts)."""
    out = {"funds": frame("funds", FUNDS)}
    out.update({k: frame(k, v) for k, v in tables.items()})
    return out


def run(tables, rules=None, as_of=AS_OF, settings=None):
    return run_rules(tables, as_of, settings, rules)


def fired(res, rule) -> set:
    return set(res.clues.loc[res.clues["rule"] == rule, "record_id"])


def clue(res, rule, record_id) -> pd.Series:
    c = res.clues[(res.clues["rule"] == rule) & (res.clues["record_id"] == record_id)]
    assert len(c) == 1, f"{rule} {record_id}: {len(c)} clues"
    return c.iloc[0]


def evidence(res, rule, record_id) -> dict:
    return json.loads(clue(res, rule, record_id)["evidence_json"])


def run_row(res, rule) -> pd.Series:
    return res.runs.set_index("rule").loc[rule]


# --- R01-R10, R24: payments ---------------------------------------------------------------------------
def test_r01_deceased_before_period_start_only():
    a, b, c = pid(1), pid(2), pid(3)
    t = package(payments=[pay("P1", a, amount=310.0), pay("P2", b), pay("P3", c)],
                deaths=[dict(id_number=a, date_of_death="2024-01-15"),
                        dict(id_number=b, date_of_death="2024-03-05"),      # inside the period month
                        dict(id_number=c, date_of_death="2024-04-02")])     # after it
    res = run(t, ["R01"])
    assert fired(res, "R01") == {"P1"}
    ev = evidence(res, "R01", "P1")
    assert ev["deaths"] == [{"id_number": a, "date_of_death": "2024-01-15"}]
    assert ev["period_start"] == "2024-03-01"
    c1 = clue(res, "R01", "P1")
    assert c1["amount_at_risk"] == 310.0 and c1["region_code"] == V1 and c1["id_number"] == a
    assert c1["table_name"] == "payments" and c1["fund_code"] == "LB"
    assert run_row(res, "R01")["examined"] == 3


def _id_with_check(ch: str) -> str:
    for n in range(1000):
        first17 = f"430421{19700101 + n % 28:08d}{n:03d}"
        if check_digit(first17) == ch:
            return first17 + ch
    raise AssertionError


def test_r02_invalid_id_numbers():
    x_valid = _id_with_check("X")
    good = pid(5)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    feb30 = "43042119900230" + "123"
    feb30 += check_digit(feb30)                       # right check digit, impossible date
    unborn = make_id("430421", dt.date(2024, 5, 1), 7)  # born after the payment
    t = package(payments=[pay("P1", x_valid), pay("P2", good), pay("P3", wrong), pay("P4", feb30),
                          pay("P5", unborn), pay("P6", x_valid[:17] + "x"), pay("P7", "43042119600101")])
    res = run(t, ["R02"])
    assert fired(res, "R02") == {"P3", "P4", "P5", "P7"}
    assert evidence(res, "R02", "P3")["problems"] == ["check_digit"]
    assert evidence(res, "R02", "P3")["expected_check_digit"] == good[17]
    assert evidence(res, "R02", "P4")["problems"] == ["birth_date_impossible"]
    assert evidence(res, "R02", "P5")["problems"] == ["born_after_payment"]
    assert evidence(res, "R02", "P5")["birth_date"] == "2024-05-01"
    assert evidence(res, "R02", "P7")["problems"] == ["malformed"]
    assert clue(res, "R02", "P3")["amount_at_risk"] == 300.0


def test_r03_serving_official_on_means_tested_payment():
    a, b = pid(1), pid(2)
    t = package(payments=[pay("P1", a), pay("P2", b), pay("P3", a, fund="FARM")],
                officials=[dict(id_number=a, employer="县农业农村局", position="科员", region_code=COUNTY,
                                start_date="2015-07-01"),
                           dict(id_number=b, employer="镇政府", start_date="2010-01-01", end_date="2024-03-09")])
    res = run(t, ["R03"])
    assert fired(res, "R03") == {"P1"}              # b left before paid_date; FARM is not means-tested
    ev = evidence(res, "R03", "P1")
    assert ev["officials"][0]["employer"] == "县农业农村局" and ev["officials"][0]["start_date"] == "2015-07-01"
    assert run_row(res, "R03")["examined"] == 2


def test_r03_official_ending_on_paid_date_still_serving():
    a = pid(1)
    t = package(payments=[pay("P1", a)], officials=[dict(id_number=a, start_date="2010-01-01", end_date="2024-03-10")])
    assert fired(run(t, ["R03"]), "R03") == {"P1"}


def test_r04_car_or_truck_registered_by_paid_date():
    a, b, c, d, e = (pid(i) for i in range(1, 6))
    t = package(payments=[pay(f"P{i}", x) for i, x in enumerate((a, b, c, d, e), 1)] + [pay("P6", a, fund="FARM")],
                vehicles=[dict(owner_id=a, plate="湘D12345", vehicle_type="car", registered_date="2021-05-01"),
                          dict(owner_id=b, plate="湘D2", vehicle_type="motorcycle", registered_date="2020-01-01"),
                          dict(owner_id=c, plate="湘D3", vehicle_type="agricultural", registered_date="2020-01-01"),
                          dict(owner_id=d, plate="湘D4", vehicle_type="car", registered_date="2024-03-11"),
                          dict(owner_id=e, plate="湘D5", vehicle_type="truck", registered_date="2024-03-10")])
    res = run(t, ["R04"])
    assert fired(res, "R04") == {"P1", "P5"}
    assert evidence(res, "R04", "P1")["vehicles"] == [
        {"owner_id": a, "plate": "湘D12345", "vehicle_type": "car", "registered_date": "2021-05-01"}]


def test_r05_commercial_property_not_homestead():
    a, b, c = pid(1), pid(2), pid(3)
    t = package(payments=[pay("P1", a), pay("P2", b), pay("P3", c), pay("P4", a, fund="FARM")],
                real_estate=[dict(owner_id=a, property_type="commercial_housing", area_m2=120.5, region_code=COUNTY,
                                  registered_date="2019-01-01"),
                             dict(owner_id=b, property_type="rural_homestead", area_m2=200, registered_date="2000-01-01"),
                             dict(owner_id=c, property_type="shop", area_m2=40, registered_date="2024-06-01")])
    res = run(t, ["R05"])
    assert fired(res, "R05") == {"P1"}
    assert evidence(res, "R05", "P1")["real_estate"][0]["property_type"] == "commercial_housing"
    assert evidence(res, "R05", "P1")["real_estate"][0]["area_m2"] == 120.5


def test_r06_active_enterprise_only():
    a, b, c = pid(1), pid(2), pid(3)
    t = package(payments=[pay("P1", a), pay("P2", b), pay("P3", c), pay("P4", a, fund="FARM")],
                enterprises=[dict(credit_code="91430421MA4L000001", name="衡阳某商贸有限公司", legal_person_id=a,
                                  registered_date="2018-01-01", status="active"),
                             dict(credit_code="91430421MA4L000002", legal_person_id=b, registered_date="2018-01-01",
                                  status="revoked"),
                             dict(credit_code="91430421MA4L000003", legal_person_id=c, registered_date="2018-01-01",
                                  status="cancelled")])
    res = run(t, ["R06"])
    assert fired(res, "R06") == {"P1"}
    assert evidence(res, "R06", "P1")["enterprises"][0]["credit_code"] == "91430421MA4L000001"


def test_r07_cadre_household_in_that_village():
    cadre, spouse, child, other_cadre, other_spouse, ex_cadre, ex_spouse, stranger = (pid(i) for i in range(1, 9))
    people = [dict(id_number=cadre, village_code=V1, household_no="H1", relation_to_head="户主"),
              dict(id_number=spouse, village_code=V1, household_no="H1", relation_to_head="配偶"),
              dict(id_number=child, village_code=V1, household_no="H1", relation_to_head="子女"),
              dict(id_number=other_cadre, village_code=V2, household_no="H2", relation_to_head="户主"),
              dict(id_number=other_spouse, village_code=V1, household_no="H9", relation_to_head="户主"),
              dict(id_number=ex_cadre, village_code=V1, household_no="H3", relation_to_head="户主"),
              dict(id_number=ex_spouse, village_code=V1, household_no="H3", relation_to_head="配偶"),
              dict(id_number=stranger, village_code=V1, household_no="H4", relation_to_head="户主")]
    cadres = [dict(id_number=cadre, village_code=V1, role="主任", start_date="2021-01-01"),
              dict(id_number=other_cadre, village_code=V2, role="书记", start_date="2021-01-01"),
              dict(id_number=ex_cadre, village_code=V1, role="会计", start_date="2018-01-01", end_date="2023-12-31")]
    t = package(people=people, village_cadres=cadres,
                payments=[pay("P1", spouse), pay("P2", cadre), pay("P3", stranger), pay("P4", other_cadre),
                          pay("P5", ex_spouse), pay("P6", child, fund="FARM"), pay("P7", other_spouse)])
    res = run(t, ["R07"])
    # P4: a cadre of another village (paid in V1); P5: the cadre's term ended; P6: not means-tested
    assert fired(res, "R07") == {"P1", "P2"}
    ev = evidence(res, "R07", "P1")["village_cadres"][0]
    assert ev["id_number"] == cadre and ev["role"] == "主任" and ev["relation"] == "household"
    assert ev["household_no"] == "H1"
    assert evidence(res, "R07", "P2")["village_cadres"][0]["relation"] == "self"


def test_r08_duplicates_after_the_first():
    a, b = pid(1), pid(2)
    t = package(payments=[pay("P1", a, paid="2024-03-10"), pay("P2", a, paid="2024-03-05", village=V2),
                          pay("P3", a, paid="2024-03-10"), pay("P4", a, period="2024-04", paid="2024-04-10"),
                          pay("P5", b), pay("P6", a, fund="ELD")])
    res = run(t, ["R08"])
    assert fired(res, "R08") == {"P1", "P3"}      # P2 is first by paid_date; P1 before P3 by payment_id
    ev = evidence(res, "R08", "P3")
    assert {p["payment_id"] for p in ev["payments"]} == {"P1", "P2"}
    assert clue(res, "R08", "P1")["amount_at_risk"] == 300.0


def test_r09_registered_in_another_village():
    a, b, c = pid(1), pid(2), pid(3)
    t = package(people=[dict(id_number=a, village_code=V2, household_no="H1"),
                        dict(id_number=b, village_code=V1, household_no="H2")],
                payments=[pay("P1", a), pay("P2", b), pay("P3", c)])
    res = run(t, ["R09"])
    assert fired(res, "R09") == {"P1"}
    assert evidence(res, "R09", "P1")["people"][0]["village_code"] == V2
    assert run_row(res, "R09")["examined"] == 2


def test_r10_off_standard_by_more_than_tolerance():
    t = package(payments=[pay("P1", pid(1), fund="ELD", amount=303.0), pay("P2", pid(2), fund="ELD", amount=297.0),
                          pay("P3", pid(3), fund="ELD", amount=303.01), pay("P4", pid(4), fund="ELD", amount=250.0),
                          pay("P5", pid(5), fund="WS", amount=1000.0), pay("P6", pid(6), fund="LB", amount=1000.0)])
    res = run(t, ["R10"])
    assert fired(res, "R10") == {"P3", "P4"}
    assert clue(res, "R10", "P3")["amount_at_risk"] == pytest.approx(3.01)
    assert clue(res, "R10", "P4")["amount_at_risk"] == 50.0
    assert evidence(res, "R10", "P4")["funds"][0]["standard_amount"] == 300.0
    assert run_row(res, "R10")["examined"] == 4


def test_r24_disability_certificate_by_paid_date():
    a, b, c, d, e = (pid(i) for i in range(1, 6))
    t = package(payments=[pay(f"P{i}", x, fund="DIS") for i, x in enumerate((a, b, c, d), 1)]
                + [pay("P5", e, fund="ELD", amount=300.0)],
                disabled_persons=[dict(id_number=a, disability_level=2, certified_date="2020-01-01"),
                                  dict(id_number=b, disability_level=3, certified_date="2024-03-10"),
                                  dict(id_number=c, disability_level=1, certified_date="2024-05-01")])
    res = run(t, ["R24"])
    assert fired(res, "R24") == {"P3", "P4"}        # certified after paid_date; no certificate
    assert evidence(res, "R24", "P3")["disabled_persons"][0]["certified_date"] == "2024-05-01"
    assert evidence(res, "R24", "P4")["disabled_persons"] == []
    assert clue(res, "R24", "P4")["amount_at_risk"] == 300.0
    assert run_row(res, "R24")["examined"] == 4


def test_means_tested_restriction_on_farmland_subsidy():
    a = pid(1)
    t = package(people=[dict(id_number=a, village_code=V1, household_no="H1")],
                payments=[pay("P1", a, fund="FARM")],
                officials=[dict(id_number=a, start_date="2000-01-01")],
                vehicles=[dict(owner_id=a, vehicle_type="car", registered_date="2000-01-01")],
                real_estate=[dict(owner_id=a, property_type="office", registered_date="2000-01-01")],
                enterprises=[dict(credit_code="C1", legal_person_id=a, registered_date="2000-01-01", status="active")],
                village_cadres=[dict(id_number=a, village_code=V1, start_date="2000-01-01")])
    res = run(t, ["R03", "R04", "R05", "R06", "R07"])
    assert res.clues.empty
    assert res.runs["ran"].all() and (res.runs["examined"] == 0).all()


# --- R11, R12: flows -----------------------------------------------------------------------------------
def alloc(aid, fund, frm, to, amount, date="2024-01-10"):
    return dict(allocation_id=aid, fund_code=fund, from_region_code=frm, to_region_code=to, amount=amount,
                allocated_date=date)


def test_r11_what_left_counts_children_and_spending_outside_them():
    # LB: county gets 100k; passes 30k to township T1 and pays 25k in village V3 (township T2 got nothing
    # from the county), so 55k left it. Payments inside T1 are T1's to account for and do not count.
    # FARM: county gets 100k, passes 40k to T1, and 20k paid inside T1: 40k left -> stagnant.
    a, b = pid(1), pid(2)
    t = package(allocations=[alloc("A1", "LB", CITY, COUNTY, 100000), alloc("A2", "LB", COUNTY, T1, 30000, "2024-02-01"),
                             alloc("A3", "FARM", CITY, COUNTY, 100000), alloc("A4", "FARM", COUNTY, T1, 40000),
                             alloc("A5", "ELD", CITY, COUNTY, 100000, "2025-03-01")],       # too recent
                payments=[pay("P1", a, village=V3, amount=25000), pay("P2", b, fund="FARM", village=V1, amount=20000)])
    res = run(t, ["R11"])
    assert "A1" not in fired(res, "R11")
    assert "A3" in fired(res, "R11") and "A5" not in fired(res, "R11")
    c = clue(res, "R11", "A3")
    assert c["amount_at_risk"] == 60000 and c["region_code"] == COUNTY and c["fund_code"] == "FARM"
    ev = evidence(res, "R11", "A3")
    assert ev["left"] == 40000 and ev["passed_on"] == 40000 and ev["paid"] == 0
    assert [x["allocation_id"] for x in ev["allocations_out"]] == ["A4"]
    # T1 received 40k of FARM and paid 20k inside: 50% left -> the near-miss, no clue
    assert "A4" not in fired(res, "R11")
    # T1 received 30k of LB and spent nothing -> stagnant
    assert "A2" in fired(res, "R11") and clue(res, "R11", "A2")["amount_at_risk"] == 30000


def test_r11_near_miss_exactly_half_and_project_ledger():
    t = package(allocations=[alloc("A1", "WS", COUNTY, T1, 10000)],
                projects=[dict(project_code="PR1", fund_code="WS", region_code=V1, name="饮水", contract_amount=9000,
                               planned_quantity=1, completed_quantity=1)],
                ledger=[dict(entry_id="E1", village_code=V1, entry_date="2024-03-01", booked_date="2024-03-01",
                             direction="expense", category="工程支出", amount=5000.0, project_code="PR1")],
                payments=[])
    assert fired(run(t, ["R11"]), "R11") == set()
    t["ledger"].loc[0, "amount"] = 4999.99
    res = run(t, ["R11"])
    assert fired(res, "R11") == {"A1"} and evidence(res, "R11", "A1")["ledger"] == 4999.99


def test_r12_retained_at_level():
    # fund LB (year 2024: due on 2025-06-29 + ...); T1 gets 100k and pays 97.9k: gap 2.1% -> clue;
    # T2 gets 100k and pays 98k: gap exactly 2% -> no clue. The county passes everything on.
    t = package(allocations=[alloc("A1", "LB", COUNTY, T1, 100000), alloc("A2", "LB", COUNTY, T2, 100000),
                             alloc("A0", "LB", CITY, COUNTY, 200000)],
                payments=[pay("P1", pid(1), village=V1, amount=97900), pay("P2", pid(2), village=V3, amount=98000)])
    res = run(t, ["R12"], as_of=dt.date(2025, 6, 30))
    assert fired(res, "R12") == {f"LB|{T1}"}
    c = clue(res, "R12", f"LB|{T1}")
    assert c["amount_at_risk"] == pytest.approx(2100) and c["region_code"] == T1 and c["table_name"] == "allocations"
    ev = evidence(res, "R12", f"LB|{T1}")
    assert ev["inflow"] == 100000 and ev["paid"] == 97900 and ev["allocations_in"][0]["allocation_id"] == "A1"
    assert run_row(res, "R12")["examined"] == 3          # county, T1, T2
    # before the fund's year has ended and 180 days passed, nothing is examined
    early = run(t, ["R12"], as_of=dt.date(2025, 6, 28))
    assert fired(early, "R12") == set() and run_row(early, "R12")["examined"] == 0


# --- R13-R15: projects ---------------------------------------------------------------------------------
def project(code, contract=100000.0, planned=10, done=5, acceptance=None, region=V1, **kw):
    return dict(project_code=code, fund_code="WS", region_code=region, name=f"项目{code}", contract_amount=contract,
                planned_quantity=planned, completed_quantity=done, unit="口", start_date="2024-01-01",
                acceptance_date=acceptance, **kw)


def expense(eid, amount, date="2024-03-01", project_code=None, village=V1, approval=True, booked=None, **kw):
    return dict(entry_id=eid, village_code=village, entry_date=date, booked_date=booked or date, direction="expense",
                category="工程支出", amount=amount, collective_approval=approval, project_code=project_code, **kw)


def test_r13_paid_beyond_progress():
    t = package(projects=[project("A"), project("B")],
                ledger=[expense("E1", 30000, project_code="A"), expense("E2", 20000, project_code="A"),
                        expense("E3", 50600, project_code="B")])
    res = run(t, ["R13"])
    assert fired(res, "R13") == {"B"}                 # A is paid exactly in proportion (50%)
    assert clue(res, "R13", "B")["amount_at_risk"] == pytest.approx(600)
    ev = evidence(res, "R13", "B")
    assert ev["progress_limit"] == 50000 and ev["ledger"][0]["entry_id"] == "E3"


def test_r14_ninety_percent_before_acceptance():
    t = package(projects=[project("A", acceptance="2024-05-01"), project("B", acceptance="2024-03-15"),
                          project("C"), project("D")],
                ledger=[expense("A1", 60000, "2024-03-01", "A"), expense("A2", 30000, "2024-04-01", "A"),
                        expense("B1", 60000, "2024-03-01", "B"), expense("B2", 30000, "2024-04-01", "B"),
                        expense("C1", 89999.99, "2024-03-01", "C"),
                        expense("D1", 95000, "2024-03-01", "D")])
    res = run(t, ["R14"])
    assert fired(res, "R14") == {"A", "D"}            # B reached 90% after acceptance; C is below 90%
    ev = evidence(res, "R14", "A")
    assert ev["reached_date"] == "2024-04-01" and ev["acceptance_date"] == "2024-05-01"
    assert clue(res, "R14", "A")["amount_at_risk"] == 90000
    assert clue(res, "R14", "D")["amount_at_risk"] == 95000


def test_r14_reached_on_acceptance_day_is_not_before():
    t = package(projects=[project("A", acceptance="2024-04-01")],
                ledger=[expense("A1", 60000, "2024-03-01", "A"), expense("A2", 30000, "2024-04-01", "A")])
    assert fired(run(t, ["R14"]), "R14") == set()


def test_r15_contractor_linked_to_cadre():
    cadre, spouse, other = pid(1), pid(2), pid(3)
    t = package(people=[dict(id_number=cadre, village_code=V1, household_no="H1"),
                        dict(id_number=spouse, village_code=V1, household_no="H1"),
                        dict(id_number=other, village_code=V2, household_no="H2")],
                village_cadres=[dict(id_number=cadre, village_code=V1, role="书记", start_date="2021-01-01"),
                                dict(id_number=other, village_code=V2, role="主任", start_date="2021-01-01")],
                enterprises=[dict(credit_code="E-SELF", legal_person_id=cadre, status="active"),
                             dict(credit_code="E-SPOUSE", legal_person_id=spouse, status="active"),
                             dict(credit_code="E-OTHER", legal_person_id=other, status="active")],
                projects=[project("A", contractor_credit_code="E-SELF", contract=80000),
                          project("B", contractor_credit_code="E-SPOUSE"),
                          project("C", contractor_credit_code="E-OTHER"),       # a cadre of another village
                          project("D")])
    res = run(t, ["R15"])
    assert fired(res, "R15") == {"A", "B"}
    ev = evidence(res, "R15", "B")
    assert ev["enterprises"][0]["credit_code"] == "E-SPOUSE"
    assert ev["village_cadres"][0]["id_number"] == cadre and ev["village_cadres"][0]["relation"] == "household"
    assert clue(res, "R15", "A")["amount_at_risk"] == 80000 and clue(res, "R15", "A")["id_number"] == cadre


# --- R16-R20: ledger -----------------------------------------------------------------------------------
def test_r16_missing_collective_approval():
    t = package(ledger=[expense("E1", 5000, approval=False), expense("E2", 4999.99, approval=False),
                        expense("E3", 8000, approval=True), expense("E4", 6000, approval=None),
                        dict(expense("E5", 9000, approval=False), direction="income")])
    res = run(t, ["R16"])
    assert fired(res, "R16") == {"E1", "E4"}
    assert clue(res, "R16", "E1")["amount_at_risk"] == 5000
    assert evidence(res, "R16", "E4")["approval_recorded"] is False


def test_r17_late_booking():
    t = package(ledger=[expense("E1", 100, "2024-03-01", booked="2024-04-01"),      # 31 days
                        expense("E2", 100, "2024-03-01", booked="2024-03-31")])     # exactly 30
    res = run(t, ["R17"])
    assert fired(res, "R17") == {"E1"} and evidence(res, "R17", "E1")["days"] == 31


def test_r18_split_expenses():
    kw = dict(approval=False, counterparty_name="衡阳某建材店")
    t = package(ledger=[
        expense("A1", 2000, "2024-03-01", **kw), expense("A2", 2000, "2024-03-03", **kw),
        expense("A3", 1500, "2024-03-08", **kw),                                  # 7 days after A1: within
        expense("A4", 2000, "2024-03-20", **kw),                                  # alone: not in the group
        expense("B1", 2000, "2024-05-01", **kw), expense("B2", 2000, "2024-05-05", **kw),
        expense("B3", 2000, "2024-05-09", **kw),                                  # spread over 8 days
        expense("C1", 2000, "2024-07-01", village=V2, **kw), expense("C2", 2000, "2024-07-01", village=V2, **kw),
        expense("C3", 900, "2024-07-02", village=V2, **kw),                       # together 4,900 < 5,000
        expense("D1", 2000, "2024-09-01", village=V2, **kw), expense("D2", 2000, "2024-09-01", village=V2, **kw),
        expense("D3", 2000, "2024-09-01", village=V2, approval=True, counterparty_name="衡阳某建材店"),
    ])
    res = run(t, ["R18"])
    assert fired(res, "R18") == {"A1", "A2", "A3"}
    ev = evidence(res, "R18", "A2")
    assert {e["entry_id"] for e in ev["ledger"]} == {"A1", "A3"} and ev["group_total"] == 5500
    assert clue(res, "R18", "A3")["amount_at_risk"] == 1500


def test_r18_every_entry_of_overlapping_groups():
    kw = dict(approval=False, counterparty_name="某劳务队")
    days = ["2024-03-01", "2024-03-06", "2024-03-08", "2024-03-13", "2024-03-15"]
    t = package(ledger=[expense(f"E{i}", 1800, d, **kw) for i, d in enumerate(days)])
    assert fired(run(t, ["R18"]), "R18") == {"E0", "E1", "E2", "E3", "E4"}


def _inv(iid, eid, code, no, amount, date="2024-03-01"):
    return dict(invoice_id=iid, entry_id=eid, invoice_code=code, invoice_no=no, issuer_name="某公司", amount=amount,
                issue_date=date)


def test_r19_duplicate_invoice():
    t = package(ledger=[expense("E1", 1000, "2024-03-05"), expense("E2", 1000, "2024-04-05", village=V3),
                        expense("E3", 1000, "2024-05-05")],
                invoices=[_inv("I1", "E1", "043001900111", "00012345", 1000),
                          _inv("I2", "E2", "043001900111", "00012345", 1000),
                          _inv("I3", "E3", "043001900222", "00012345", 1000)])      # same number, other code
    res = run(t, ["R19"])
    assert fired(res, "R19") == {"I2"}
    c = clue(res, "R19", "I2")
    assert c["region_code"] == V3 and c["table_name"] == "invoices" and c["amount_at_risk"] == 1000
    assert evidence(res, "R19", "I2")["first_use"]["invoice_id"] == "I1"


def test_r19_order_by_issue_date_then_entry_date():
    t = package(ledger=[expense("E1", 1000, "2024-03-09"), expense("E2", 1000, "2024-03-05")],
                invoices=[_inv("I1", "E1", "C", "N", 1000, "2024-03-01"), _inv("I2", "E2", "C", "N", 1000, "2024-03-01")])
    assert fired(run(t, ["R19"]), "R19") == {"I1"}


def test_r20_unsupported_expense():
    t = package(ledger=[expense("E1", 1000), expense("E2", 1000), expense("E3", 1000), expense("E4", 999.99)],
                invoices=[_inv("I1", "E1", "C", "1", 600), _inv("I2", "E1", "C", "2", 390),       # 990: within 1%
                          _inv("I3", "E2", "C", "3", 989.99)])
    res = run(t, ["R20"])
    assert fired(res, "R20") == {"E2", "E3"}
    assert clue(res, "R20", "E2")["amount_at_risk"] == pytest.approx(10.01)
    assert clue(res, "R20", "E3")["amount_at_risk"] == 1000
    ev = evidence(res, "R20", "E2")
    assert ev["invoices"][0]["invoice_id"] == "I3" and ev["invoice_total"] == 989.99
    assert evidence(res, "R20", "E3")["invoices"] == []


# --- R22, R23: complaints ------------------------------------------------------------------------------
def complaint(cid, received, accepted=None, closed=None, extension=False, amount=None):
    return dict(complaint_id=cid, region_code=V1, channel="online", category="livelihood_funds",
                received_date=received, accepted_date=accepted, closed_date=closed, extension_approved=extension,
                amount_involved=amount)


def test_r22_late_acceptance():
    t = package(complaints=[complaint("C1", "2024-03-01", "2024-03-08"), complaint("C2", "2024-03-01", "2024-03-09", amount=1200),
                            complaint("C3", "2025-06-22"), complaint("C4", "2025-06-23")])
    res = run(t, ["R22"])
    assert fired(res, "R22") == {"C2", "C3"}       # accepted on day 7 is in time; C4 is 7 days old at as-of
    assert clue(res, "R22", "C2")["amount_at_risk"] == 1200 and clue(res, "R22", "C3")["amount_at_risk"] == 0
    assert evidence(res, "R22", "C2")["days_to_accept"] == 8


def test_r23_overdue_closing_calendar_months():
    t = package(complaints=[complaint("C1", "2024-01-30", "2024-01-31", "2024-04-30"),          # last allowed day
                            complaint("C2", "2024-01-30", "2024-01-31", "2024-05-01"),
                            complaint("C3", "2024-01-30", "2024-01-31", "2024-05-31", extension=True),
                            complaint("C4", "2024-01-30", "2024-01-31", "2024-06-01", extension=True),
                            complaint("C5", "2025-03-01", "2025-03-02"),                       # open, due 2025-06-02
                            complaint("C6", "2025-03-30", "2025-03-31"),                       # open, due 2025-06-30
                            complaint("C7", "2025-03-01")])                                    # never accepted
    res = run(t, ["R23"])
    assert fired(res, "R23") == {"C2", "C4", "C5"}
    assert evidence(res, "R23", "C2")["deadline"] == "2024-04-30"
    assert evidence(res, "R23", "C4")["deadline"] == "2024-05-31"
    assert run_row(res, "R23")["examined"] == 6


# --- the engine ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule_id, register", [
    ("R01", "deaths"), ("R03", "officials"), ("R04", "vehicles"), ("R05", "real_estate"), ("R06", "enterprises"),
    ("R07", "village_cadres"), ("R15", "village_cadres"), ("R15", "enterprises"), ("R24", "disabled_persons")])
def test_rule_does_not_run_without_its_register(rule_id, register):
    t = package(payments=[pay("P1", pid(1), fund="DIS")], people=[dict(id_number=pid(1), village_code=V1,
                                                                      household_no="H1")],
                projects=[project("A")], ledger=[], village_cadres=[], enterprises=[])
    t.pop(register, None)
    res = run(t)
    row = run_row(res, rule_id)
    assert not row["ran"] and row["reason"] == f"rule.{rule_id}.skip.{register}"
    assert row["examined"] == 0 and rule_id not in set(res.clues["rule"])
    from core.i18n import t as tr
    assert "deaths" not in tr(row["reason"], "zh") or register == "deaths"
    assert tr(row["reason"], "en") != row["reason"]          # translated in both languages
    assert tr(row["reason"], "zh") != row["reason"]


def test_all_rules_reported_and_empty_package():
    res = run({})
    assert list(res.runs["rule"]) == list(RULE_ORDER) and len(RULE_ORDER) == 23 and "R21" not in RULES
    assert not res.runs["ran"].any() and res.clues.empty
    res = run(package(payments=[], ledger=[], invoices=[], complaints=[], allocations=[], projects=[], people=[],
                      deaths=[], officials=[], vehicles=[], real_estate=[], enterprises=[], village_cadres=[],
                      disabled_persons=[]))
    assert res.runs["ran"].all() and res.clues.empty and (res.runs["examined"] == 0).all()


def test_flood_flag():
    t = package(payments=[pay(f"P{i}", pid(i), fund="ELD", amount=250.0 if i < 3 else 300.0) for i in range(10)])
    res = run(t, ["R10"], settings=RuleSettings(flood_share=0.2))
    assert bool(run_row(res, "R10")["flood"])
    assert not bool(run_row(run(t, ["R10"], settings=RuleSettings(flood_share=0.3)), "R10")["flood"])  # 3/10


def test_locale_needs_match_the_rules():
    from core.locales.rules import _NEEDS, _RULES
    assert set(_RULES) == set(RULES) and all(_NEEDS[r] == RULES[r].needs for r in RULES)


def test_clue_frame_shape_and_pyarrow_strings():
    """The same clues whether text columns are object or pyarrow strings (what detect loads)."""
    cadre = pid(1)
    t = package(people=[dict(id_number=cadre, village_code=V2, household_no="H1")],
                village_cadres=[dict(id_number=cadre, village_code=V1, start_date="2020-01-01")],
                deaths=[dict(id_number=cadre, date_of_death="2023-01-01")],
                payments=[pay("P1", cadre), pay("P2", cadre), pay("P3", "BAD")],
                ledger=[expense("E1", 6000, approval=False, counterparty_name="x")], invoices=[],
                complaints=[complaint("C1", "2024-01-01")])
    a = run(t)
    arrow = {k: v.apply(lambda s: s.astype("string[pyarrow]") if s.dtype == object else s) for k, v in t.items()}
    b = run(arrow)
    key = ["rule", "record_id"]
    pd.testing.assert_frame_equal(a.clues.sort_values(key).reset_index(drop=True),
                                  b.clues.sort_values(key).reset_index(drop=True), check_dtype=False)
    # C1 was never accepted: R22 (late acceptance) fires; R23 judges accepted complaints only
    assert {"R01", "R02", "R07", "R08", "R09", "R16", "R20", "R22"} <= set(a.clues["rule"])
    assert "R23" not in set(a.clues["rule"])
    assert list(a.clues.columns) == ["rule", "table_name", "record_id", "region_code", "fund_code", "id_number",
                                     "project_code", "amount_at_risk", "evidence_json"]
    assert a.clues["region_code"].str.len().eq(12).all()
    for e in a.clues["evidence_json"]:
        json.loads(e)


def test_evaluate_precision_recall():
    from pipeline.rules.cli import evaluate, failing
    clues = pd.DataFrame({"rule": ["R01", "R01", "R08"], "table_name": ["payments"] * 3, "record_id": ["P1", "P2", "P3"]})
    truth = pd.DataFrame({"rule": ["R01", "R08", "R16"], "table": ["payments", "payments", "ledger"],
                          "record_id": ["P1", "P3", "E1"]})
    ev = evaluate(clues, truth).set_index("rule")
    assert ev.loc["R01", "precision"] == 0.5 and ev.loc["R01", "recall"] == 1.0
    assert ev.loc["R08", "precision"] == 1.0 and ev.loc["R16", "recall"] == 0.0 and np.isnan(ev.loc["R16", "precision"])
    assert set(failing(ev.reset_index(), 1.0, 1.0)["rule"]) == {"R01", "R16"}
    assert set(failing(ev.reset_index(), 0.5, 0.0)["rule"]) == set()
