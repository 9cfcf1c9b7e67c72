"""SQLAlchemy 2 Core schema: every table of the data package (names and columns as the spec gives
them), the package manifest, the pre-aggregated roll-ups the dashboard reads, and the clues.

Amounts are stored as double precision yuan (validated to two decimals on import; sums are rounded
to the fen where shown). Dates are SQL DATE (ISO text in SQLite).
Other modules add their own tables to ``metadata`` (e.g. core/auth_schema.py).
"""
from __future__ import annotations

from sqlalchemy import (Boolean, Column, Date, DateTime, Float, Index, Integer, MetaData, String, Table,
                        Text, BigInteger)

HALF_FEN = 0.005    # amounts are to the fen: a difference below half a fen is rounding, not money

metadata = MetaData()
CODE = String(12)
AMOUNT = Float(53)


def _amount(name, **kw):
    return Column(name, AMOUNT, **kw)


# --- the package -------------------------------------------------------------------------------
packages = Table(
    "packages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("as_of_date", Date, nullable=False),
    Column("source", Text),
    Column("description", Text),
    Column("synthetic", Boolean, nullable=False, default=False),
    Column("imported_at", DateTime, nullable=False),
    Column("imported_by", String(64)),
    Column("summary_json", Text),
)

regions = Table(
    "regions", metadata,
    Column("code", CODE, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("level", String(10), nullable=False),
    Column("parent_code", CODE),
    Column("households", Integer),
    Column("population", Integer),
    Index("ix_regions_parent", "parent_code"),
    Index("ix_regions_level", "level"),
)

funds = Table(
    "funds", metadata,
    Column("fund_code", String(40), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("category", String(32), nullable=False),
    Column("year", Integer, nullable=False),
    Column("issuing_region_code", CODE, nullable=False),
    _amount("total_amount", nullable=False),
    _amount("standard_amount"),
    Column("payment_unit", String(10), nullable=False),
    Index("ix_funds_region", "issuing_region_code"),
    Index("ix_funds_cat_year", "category", "year"),
)

allocations = Table(
    "allocations", metadata,
    Column("allocation_id", String(40), primary_key=True),
    Column("fund_code", String(40), nullable=False),
    Column("from_region_code", CODE, nullable=False),
    Column("to_region_code", CODE, nullable=False),
    _amount("amount", nullable=False),
    Column("allocated_date", Date, nullable=False),
    Index("ix_alloc_fund_from", "fund_code", "from_region_code"),
    Index("ix_alloc_to", "to_region_code", "fund_code"),
)

projects = Table(
    "projects", metadata,
    Column("project_code", String(40), primary_key=True),
    Column("fund_code", String(40), nullable=False),
    Column("region_code", CODE, nullable=False),
    Column("name", String(200), nullable=False),
    Column("contractor_name", String(200)),
    Column("contractor_credit_code", String(18)),
    _amount("contract_amount", nullable=False),
    Column("planned_quantity", Float),
    Column("completed_quantity", Float),
    Column("unit", String(16)),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("acceptance_date", Date),
    Index("ix_projects_region", "region_code"),
    Index("ix_projects_fund", "fund_code"),
)
# the project search's order (newest first, then by code): PostgreSQL reads a province's or a city's 50
# newest from this index instead of sorting every project in the scope (province: 13.6 ms -> 0.4 ms), and a
# county's few hundred through ix_projects_region, sorted. (SQLite's planner keeps the region index and
# sorts: 7.5 ms for the province's 29k projects.)
Index("ix_projects_recent", projects.c.start_date.desc(), projects.c.project_code)

people = Table(
    "people", metadata,
    Column("id_number", String(18), primary_key=True),
    Column("name", String(64)),
    Column("village_code", CODE, nullable=False),
    Column("household_no", String(40), nullable=False),
    Column("relation_to_head", String(16)),
    Column("poverty_registered", Boolean),
    Index("ix_people_village_hh", "village_code", "household_no"),
    Index("ix_people_hh", "household_no"),
    Index("ix_people_name", "name"),
)

payments = Table(
    "payments", metadata,
    Column("payment_id", String(40), primary_key=True),
    Column("fund_code", String(40), nullable=False),
    Column("project_code", String(40)),
    Column("id_number", String(18), nullable=False),
    Column("name", String(64)),
    Column("village_code", CODE, nullable=False),
    _amount("amount", nullable=False),
    Column("paid_date", Date, nullable=False),
    Column("period", String(7), nullable=False),
    Index("ix_pay_village_date", "village_code", "paid_date"),
    Index("ix_pay_id", "id_number"),
    Index("ix_pay_project", "project_code"),
)

ledger = Table(
    "ledger", metadata,
    Column("entry_id", String(40), primary_key=True),
    Column("village_code", CODE, nullable=False),
    Column("entry_date", Date, nullable=False),
    Column("booked_date", Date, nullable=False),
    Column("direction", String(8), nullable=False),
    Column("category", String(32), nullable=False),
    _amount("amount", nullable=False),
    Column("counterparty_name", String(200)),
    Column("counterparty_id", String(18)),
    Column("voucher_no", String(40)),
    Column("collective_approval", Boolean),
    Column("project_code", String(40)),
    Index("ix_ledger_village_date", "village_code", "entry_date"),
    Index("ix_ledger_project", "project_code"),
)

invoices = Table(
    "invoices", metadata,
    Column("invoice_id", String(40), primary_key=True),
    Column("entry_id", String(40), nullable=False),
    Column("invoice_code", String(20)),
    Column("invoice_no", String(20)),
    Column("issuer_name", String(200)),
    Column("issuer_credit_code", String(18)),
    _amount("amount", nullable=False),
    Column("issue_date", Date),
    Index("ix_invoices_entry", "entry_id"),
    Index("ix_invoices_code_no", "invoice_code", "invoice_no"),
)

complaints = Table(
    "complaints", metadata,
    Column("complaint_id", String(40), primary_key=True),
    Column("region_code", CODE, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("category", String(24), nullable=False),
    Column("received_date", Date, nullable=False),
    Column("accepted_date", Date),
    Column("closed_date", Date),
    Column("extension_approved", Boolean),
    Column("substantiated", Boolean),
    _amount("amount_involved"),
    Column("fund_code", String(40)),
    Column("project_code", String(40)),
    Column("summary", Text),
    Column("complainant_name", String(64)),
    Column("complainant_contact", String(64)),
    Index("ix_complaints_region_date", "region_code", "received_date"),
)

# Who a complaint is about (被反映人): not in the data package (complaints.csv has no such column), so
# the complaint officers record it in the app (or load it with `manage.py complaints subjects`). It is
# what lets "a complaint about an official is never shown to that official" work (users.person_id).
# Kept apart from `complaints`, so a re-import never drops it.
complaint_subjects = Table(
    "complaint_subjects", metadata,
    Column("complaint_id", String(40), primary_key=True),
    Column("id_number", String(18), primary_key=True),
    Column("recorded_at", DateTime, nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Index("ix_complaint_subjects_id", "id_number", "complaint_id"),
)

# --- comparison registers ----------------------------------------------------------------------
officials = Table(
    "officials", metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column("id_number", String(18), nullable=False),
    Column("name", String(64)),
    Column("employer", String(200)),
    Column("position", String(64)),
    Column("region_code", CODE),
    Column("start_date", Date),
    Column("end_date", Date),
    Index("ix_officials_id", "id_number"),
)

village_cadres = Table(
    "village_cadres", metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column("id_number", String(18), nullable=False),
    Column("name", String(64)),
    Column("village_code", CODE, nullable=False),
    Column("role", String(16)),
    Column("start_date", Date),
    Column("end_date", Date),
    Index("ix_cadres_id", "id_number"),
    Index("ix_cadres_village", "village_code"),
)

enterprises = Table(
    "enterprises", metadata,
    Column("credit_code", String(18), primary_key=True),
    Column("name", String(200)),
    Column("industry", String(64)),
    Column("legal_person_id", String(18)),
    Column("registered_date", Date),
    Column("status", String(10)),
    Index("ix_enterprises_person", "legal_person_id"),
)

real_estate = Table(
    "real_estate", metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column("owner_id", String(18), nullable=False),
    Column("property_type", String(20), nullable=False),
    Column("area_m2", Float),
    Column("region_code", CODE),
    Column("registered_date", Date),
    Index("ix_real_estate_owner", "owner_id"),
)

vehicles = Table(
    "vehicles", metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column("owner_id", String(18), nullable=False),
    Column("plate", String(16)),
    Column("vehicle_type", String(12), nullable=False),
    Column("registered_date", Date),
    Index("ix_vehicles_owner", "owner_id"),
)

deaths = Table(
    "deaths", metadata,
    Column("id_number", String(18), primary_key=True),
    Column("date_of_death", Date, nullable=False),
)

disabled_persons = Table(
    "disabled_persons", metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column("id_number", String(18), nullable=False),
    Column("disability_level", Integer),
    Column("certified_date", Date),
    Index("ix_disabled_id", "id_number"),
)

PACKAGE_TABLES = ("regions", "funds", "allocations", "projects", "people", "payments", "ledger",
                  "invoices", "complaints", "officials", "village_cadres", "enterprises",
                  "real_estate", "vehicles", "deaths", "disabled_persons")
REGISTERS = ("officials", "village_cadres", "enterprises", "real_estate", "vehicles", "deaths",
             "disabled_persons")

# --- roll-ups (built by pipeline/rollups.py after every import) -----------------------------------
# Every level from province to village, so that no dashboard view scans raw payments.
agg_region_year = Table(
    "agg_region_year", metadata,
    Column("region_code", CODE, primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("level", String(10), nullable=False),
    _amount("funds_disclosed", default=0),      # total_amount of fund items issued by the region
    Column("n_funds", Integer, default=0),
    _amount("allocated_in", default=0),         # allocations into the region from outside it
    _amount("paid_amount", default=0),          # payments to households inside the region
    Column("n_payments", BigInteger, default=0),
    Column("households_reached", Integer, default=0),
    Column("persons_reached", Integer, default=0),
    Column("households", Integer),              # registered households (regions / people)
    Column("population", Integer),
    _amount("ledger_income", default=0),
    _amount("ledger_expense", default=0),
    Column("n_ledger", Integer, default=0),
    _amount("project_amount", default=0),
    Column("n_projects", Integer, default=0),
    Index("ix_agg_region_year_level", "level", "year"),
    # the sub-regions of one level under a region (under(region_code) AND level = ...): one index range
    # instead of two bitmaps ANDed (PostgreSQL) or a scan of the whole level (SQLite)
    Index("ix_agg_region_year_level_region", "level", "region_code", "year"),
)

agg_pay_month = Table(
    "agg_pay_month", metadata,
    Column("region_code", CODE, primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("category", String(32), primary_key=True),
    Column("level", String(10), nullable=False),
    Column("n_payments", BigInteger, nullable=False),
    _amount("amount", nullable=False),
    # the townships of a county month by month (data_access.townships.monthly): without it the range of the
    # county's codes is read through the primary key, villages included (~93% of the rows thrown away)
    Index("ix_agg_pay_month_level", "level", "region_code", "period"),
)

agg_fund_region = Table(
    "agg_fund_region", metadata,
    Column("fund_code", String(40), primary_key=True),
    Column("region_code", CODE, primary_key=True),
    Column("level", String(10), nullable=False),
    Column("parent_code", CODE),
    _amount("allocated_in", default=0),
    _amount("passed_on", default=0),
    _amount("paid_inside", default=0),          # payments inside the region (all depths)
    Column("n_payments", BigInteger, default=0),
    Column("n_recipients", Integer, default=0),
    Index("ix_agg_fund_region_parent", "fund_code", "parent_code"),
    Index("ix_agg_fund_region_region", "region_code"),
)

agg_complaints = Table(
    "agg_complaints", metadata,
    Column("region_code", CODE, primary_key=True),
    Column("period", String(7), primary_key=True),      # month received
    Column("channel", String(10), primary_key=True),
    Column("category", String(24), primary_key=True),
    Column("level", String(10), nullable=False),
    Column("received", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("closed", Integer, nullable=False),
    Column("substantiated", Integer, nullable=False),
    Column("accepted_in_time", Integer, nullable=False),
    Column("closed_in_time", Integer, nullable=False),
    Column("extensions", Integer, nullable=False),
    _amount("amount_involved", nullable=False),
    Index("ix_agg_complaints_level", "level", "period"),
    Index("ix_agg_complaints_level_region", "level", "region_code", "period"),
)

# --- clues (pipeline/rules) -----------------------------------------------------------------------
clues = Table(
    "clues", metadata,
    Column("clue_id", BigInteger, primary_key=True, autoincrement=True),
    Column("rule", String(4), nullable=False),
    Column("table_name", String(20), nullable=False),
    Column("record_id", String(80), nullable=False),
    Column("region_code", CODE, nullable=False),
    Column("fund_code", String(40)),
    Column("id_number", String(18)),
    Column("project_code", String(40)),
    _amount("amount_at_risk", nullable=False, default=0),
    Column("evidence_json", Text),
    Column("status", String(16), nullable=False, default="new"),
    Column("detected_at", DateTime),
    Index("ix_clues_region", "region_code"),
    Index("ix_clues_rule_record", "rule", "record_id", unique=True),
    Index("ix_clues_id_number", "id_number"),
)

rule_runs = Table(
    "rule_runs", metadata,
    Column("rule", String(4), primary_key=True),
    Column("ran", Boolean, nullable=False),
    Column("reason", String(200)),               # why it did not run (missing register)
    Column("examined", BigInteger, default=0),
    Column("clues", BigInteger, default=0),
    Column("seconds", Float, default=0),
    Column("run_at", DateTime),
)

agg_clues = Table(
    "agg_clues", metadata,
    Column("region_code", CODE, primary_key=True),
    Column("rule", String(4), primary_key=True),
    Column("level", String(10), nullable=False),
    Column("n_clues", Integer, nullable=False),
    _amount("amount_at_risk", nullable=False),
    Index("ix_agg_clues_level", "level"),
)

# I01 per region (all levels): payments flagged by any payment rule, by count and by amount
agg_anomaly = Table(
    "agg_anomaly", metadata,
    Column("region_code", CODE, primary_key=True),
    Column("level", String(10), nullable=False),
    Column("n_payments", BigInteger, nullable=False),
    _amount("paid_amount", nullable=False),
    Column("flagged_payments", BigInteger, nullable=False),
    _amount("flagged_amount", nullable=False),
    Column("n_clues", Integer, nullable=False),
    _amount("amount_at_risk", nullable=False),
    Index("ix_agg_anomaly_level", "level"),
    Index("ix_agg_anomaly_level_region", "level", "region_code"),
)

# the fund items that reach inside each region of the province, city, county and township levels: those
# with a row of agg_fund_region at the region, those allocated to it or to any region inside it, those
# issued by it or inside it (the fund-flow page's fund list: data_access.flows.fund_options)
FUND_REACH_LEVELS = ("province", "city", "county", "township")
agg_fund_reach = Table(
    "agg_fund_reach", metadata,
    Column("region_code", CODE, primary_key=True),
    Column("fund_code", String(40), primary_key=True),
)

ROLLUP_TABLES = ("agg_region_year", "agg_pay_month", "agg_fund_region", "agg_fund_reach", "agg_complaints")
CLUE_ROLLUP_TABLES = ("agg_clues", "agg_anomaly")

# --- indexes added for the drill-down pages (village / project / household), additive -------------
# clues of one project (project page); payments found by the recipient's name (household search).
Index("ix_clues_project", clues.c.project_code)
Index("ix_pay_name", payments.c.name)

# --- clue workflow and risk indicators (the clue pages and the map; docs/clues.md) ---------------------
# The status itself stays on `clues.status` (detect keeps it when a clue is found again); everything else
# the workflow records lives here, keyed by clue_id, so that re-detection never drops it.
clue_workflow = Table(
    "clue_workflow", metadata,
    Column("clue_id", BigInteger, primary_key=True),
    Column("batch_id", String(40)),              # 交办 batch
    Column("assigned_region", CODE),             # the commission it was handed to
    Column("dismiss_reason", String(32)),        # false positive: why
    Column("outcome", String(16)),               # corrected / case_opened / disciplined
    _amount("recovered", default=0),             # money recovered (yuan)
    _amount("returned", default=0),              # of it, returned to residents (yuan)
    Column("note", Text),
    Column("updated_at", DateTime),
    Column("updated_by", String(64)),
    Index("ix_clue_workflow_batch", "batch_id"),
)

# Every change of a clue's workflow: who and when (append-only by convention; the audit log has it too).
clue_events = Table(
    "clue_events", metadata,
    Column("event_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("clue_id", BigInteger, nullable=False),
    Column("rule", String(4)),
    Column("record_id", String(80)),
    Column("at", DateTime, nullable=False),
    Column("username", String(64), nullable=False),
    Column("role", String(24)),
    Column("action", String(16), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16)),
    Column("detail_json", Text),
    Index("ix_clue_events_clue", "clue_id", "at"),
)

# I01-I05 per region (every level) and year, built after detection (pipeline/rollups.build_indicator_rollups).
# Additive columns only, so "all years" is a SUM (population: MAX).
agg_indicators = Table(
    "agg_indicators", metadata,
    Column("region_code", CODE, primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("level", String(10), nullable=False),
    Column("n_payments", BigInteger, default=0),          # I01
    _amount("paid_amount", default=0),
    Column("flagged_payments", BigInteger, default=0),
    _amount("flagged_amount", default=0),
    Column("n_expenses", BigInteger, default=0),          # I02, I03: ledger expenses > 0
    Column("n_round", BigInteger, default=0),             # I03: multiples of round_amount_unit
    *[Column(f"d{i}", BigInteger, default=0) for i in range(1, 10)],   # I02: first-digit counts
    Column("complaints", Integer, default=0),             # I04
    Column("closed", Integer, default=0),
    Column("substantiated", Integer, default=0),
    Column("population", Integer),
    Column("lag_n", BigInteger, default=0),               # I05: payments with a disclosure date
    Column("lag_days", BigInteger, default=0),
    Index("ix_agg_indicators_level", "level", "year"),
    Index("ix_agg_indicators_level_region", "level", "region_code", "year"),
)

# Fund flows per (fund, region) with "what left" exactly as R11/R12 define it (clue-rules.md; computed
# by pipeline.rules.flows.Flows from per-(village, fund) sums): the fund-flow page reads this.
agg_fund_flow = Table(
    "agg_fund_flow", metadata,
    Column("fund_code", String(40), primary_key=True),
    Column("region_code", CODE, primary_key=True),
    Column("level", String(10), nullable=False),
    _amount("inflow", default=0),               # allocations of the fund into the region (up to as-of)
    _amount("passed_on", default=0),            # allocations of the fund from the region to regions below
    _amount("paid", default=0),                 # payments inside it, not inside a child it allocated to
    _amount("ledger", default=0),               # project expenses likewise
    _amount("left_region", default=0),          # "what left" = passed_on + paid + ledger
    Index("ix_agg_fund_flow_region", "region_code"),
)
# The same flow summed over every fund of a budget year and category (category "*": all categories), so that
# the fund-flow page's default views (all funds, a category, a range of years) read one row per region and
# year instead of one per fund: the per-fund derivations (budget of the issuer, left, retained, pending, R12)
# are computed per fund first (pipeline.rollups.flow_node_rows, shared with data_access.flows).
agg_fund_flow_group = Table(
    "agg_fund_flow_group", metadata,
    Column("category", String(40), primary_key=True),
    Column("region_code", CODE, primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("level", String(10), nullable=False),
    _amount("in_amount", default=0),
    _amount("budget", default=0),
    _amount("passed_on", default=0),
    _amount("paid", default=0),
    _amount("ledger", default=0),
    _amount("left_amount", default=0),           # "left" is a reserved word in PostgreSQL
    _amount("retained", default=0),
    _amount("pending", default=0),
    Column("r12", Boolean, default=False),
)
# Allocations up to as-of summed per (category, year, from, to): the links of those views ("" = none).
agg_flow_edge_group = Table(
    "agg_flow_edge_group", metadata,
    Column("category", String(40), primary_key=True),
    Column("to_code", CODE, primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("from_code", CODE, primary_key=True),
    _amount("amount", default=0),
)
FLOW_ROLLUP_TABLES = ("agg_fund_flow", "agg_fund_flow_group", "agg_flow_edge_group")
