"""The data package contract (../shared/spec/data-package.md) as data: tables, columns, types, keys.

Shared by the generator (writes it), the importer (reads and validates it) and the rules (read the
typed frames). Types:
  text     free text ('' -> missing)
  code     region code, 2/4/6/9/12 digits, right-padded to 12
  date     ISO YYYY-MM-DD
  amount   yuan >= 0, at most two decimals, no separators or signs
  int      whole number >= 0
  number   decimal number >= 0
  bool     1/0, true/false, 是/否
  id       resident ID number (18 characters, GB 11643 check digit)
  period   YYYY-MM
  enum     one of ``choices``

Typed frames (what ``read`` functions return and the rules consume): text/code/id/period/enum as
Python str (missing = None), date as datetime64[ns] (NaT), amount/number as float64 (NaN),
int as Int64, bool as pandas "boolean" (<NA>).
"""
from __future__ import annotations

from dataclasses import dataclass, field

FUND_CATEGORIES = ("subsistence_allowance", "extreme_poverty_support", "housing_renovation",
                   "farmland_subsidy", "education_aid", "medical_aid", "elderly_subsidy",
                   "disability_subsidy", "industry_support", "drinking_water", "infrastructure", "other")
MEANS_TESTED = ("subsistence_allowance", "extreme_poverty_support", "housing_renovation",
                "education_aid", "medical_aid")
LEVELS = ("province", "city", "county", "township", "village")
CHANNELS = ("online", "letter", "visit", "phone", "wechat")
COMPLAINT_CATEGORIES = ("livelihood_funds", "poverty_alleviation", "village_finance", "work_style", "other")


@dataclass(frozen=True)
class Col:
    name: str
    type: str
    required: bool = True           # the column must be present in the file
    nullable: bool = False          # an empty cell is allowed
    choices: tuple = ()
    confidential: bool = False      # **C** in the spec


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple
    key: tuple = ()                 # natural key; () = a register without key (replaced as a whole)
    required: bool = False          # the file must be in the package
    refs: tuple = field(default=())  # (column, table, column) references that must resolve

    @property
    def column_names(self) -> tuple:
        return tuple(c.name for c in self.columns)

    def col(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)


def C(name, type_, **kw):
    return Col(name, type_, **kw)


TABLES: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("regions", (
        C("code", "code"), C("name", "text"), C("level", "enum", choices=LEVELS),
        C("parent_code", "code", nullable=True), C("households", "int", required=False, nullable=True),
        C("population", "int", required=False, nullable=True)), key=("code",)),
    TableSpec("funds", (
        C("fund_code", "text"), C("name", "text"), C("category", "enum", choices=FUND_CATEGORIES),
        C("year", "int"), C("issuing_region_code", "code"), C("total_amount", "amount"),
        C("standard_amount", "amount", required=False, nullable=True),
        C("payment_unit", "enum", choices=("person", "household", "project"))), key=("fund_code",)),
    TableSpec("allocations", (
        C("allocation_id", "text"), C("fund_code", "text"), C("from_region_code", "code"),
        C("to_region_code", "code"), C("amount", "amount"), C("allocated_date", "date")),
        key=("allocation_id",), refs=(("fund_code", "funds", "fund_code"),)),
    TableSpec("projects", (
        C("project_code", "text"), C("fund_code", "text"), C("region_code", "code"), C("name", "text"),
        C("contractor_name", "text", nullable=True), C("contractor_credit_code", "text", required=False, nullable=True),
        C("contract_amount", "amount"), C("planned_quantity", "number", nullable=True),
        C("completed_quantity", "number", nullable=True), C("unit", "text", nullable=True),
        C("start_date", "date", nullable=True), C("end_date", "date", nullable=True),
        C("acceptance_date", "date", required=False, nullable=True)),
        key=("project_code",), refs=(("fund_code", "funds", "fund_code"),)),
    TableSpec("people", (
        C("id_number", "id"), C("name", "text", confidential=True), C("village_code", "code"),
        C("household_no", "text"), C("relation_to_head", "text", nullable=True),
        C("poverty_registered", "bool", nullable=True)), key=("id_number",)),
    TableSpec("payments", (
        C("payment_id", "text"), C("fund_code", "text"), C("project_code", "text", required=False, nullable=True),
        C("id_number", "id"), C("name", "text", nullable=True, confidential=True), C("village_code", "code"),
        C("amount", "amount"), C("paid_date", "date"), C("period", "period")),
        key=("payment_id",), refs=(("fund_code", "funds", "fund_code"),)),
    TableSpec("ledger", (
        C("entry_id", "text"), C("village_code", "code"), C("entry_date", "date"), C("booked_date", "date"),
        C("direction", "enum", choices=("income", "expense")), C("category", "text"), C("amount", "amount"),
        C("counterparty_name", "text", nullable=True), C("counterparty_id", "text", required=False, nullable=True),
        C("voucher_no", "text", nullable=True), C("collective_approval", "bool", nullable=True),
        C("project_code", "text", required=False, nullable=True)), key=("entry_id",)),
    TableSpec("invoices", (
        C("invoice_id", "text"), C("entry_id", "text"), C("invoice_code", "text"), C("invoice_no", "text"),
        C("issuer_name", "text", nullable=True), C("issuer_credit_code", "text", required=False, nullable=True),
        C("amount", "amount"), C("issue_date", "date", nullable=True)),
        key=("invoice_id",), refs=(("entry_id", "ledger", "entry_id"),)),
    TableSpec("complaints", (
        C("complaint_id", "text"), C("region_code", "code"), C("channel", "enum", choices=CHANNELS),
        C("category", "enum", choices=COMPLAINT_CATEGORIES), C("received_date", "date"),
        C("accepted_date", "date", nullable=True), C("closed_date", "date", nullable=True),
        C("extension_approved", "bool", nullable=True), C("substantiated", "bool", nullable=True),
        C("amount_involved", "amount", required=False, nullable=True),
        C("fund_code", "text", required=False, nullable=True), C("project_code", "text", required=False, nullable=True),
        C("summary", "text", nullable=True, confidential=True),
        C("complainant_name", "text", required=False, nullable=True, confidential=True),
        C("complainant_contact", "text", required=False, nullable=True, confidential=True)),
        key=("complaint_id",)),
    TableSpec("officials", (
        C("id_number", "id"), C("name", "text", nullable=True, confidential=True), C("employer", "text", nullable=True),
        C("position", "text", nullable=True), C("region_code", "code", nullable=True),
        C("start_date", "date", nullable=True), C("end_date", "date", nullable=True))),
    TableSpec("village_cadres", (
        C("id_number", "id"), C("name", "text", nullable=True, confidential=True), C("village_code", "code"),
        C("role", "text", nullable=True), C("start_date", "date", nullable=True), C("end_date", "date", nullable=True))),
    TableSpec("enterprises", (
        C("credit_code", "text"), C("name", "text", nullable=True), C("industry", "text", nullable=True),
        C("legal_person_id", "id", nullable=True), C("registered_date", "date", nullable=True),
        C("status", "enum", choices=("active", "revoked", "cancelled"))), key=("credit_code",)),
    TableSpec("real_estate", (
        C("owner_id", "id"), C("property_type", "enum", choices=("commercial_housing", "shop", "office", "rural_homestead")),
        C("area_m2", "number", nullable=True), C("region_code", "code", nullable=True),
        C("registered_date", "date", nullable=True))),
    TableSpec("vehicles", (
        C("owner_id", "id"), C("plate", "text", nullable=True),
        C("vehicle_type", "enum", choices=("car", "truck", "motorcycle", "agricultural")),
        C("registered_date", "date", nullable=True))),
    TableSpec("deaths", (C("id_number", "id"), C("date_of_death", "date")), key=("id_number",)),
    TableSpec("disabled_persons", (
        C("id_number", "id"), C("disability_level", "int", nullable=True), C("certified_date", "date", nullable=True))),
)}

MANIFEST_KEYS = ("as_of_date", "source", "description", "synthetic")
REGISTERS = ("officials", "village_cadres", "enterprises", "real_estate", "vehicles", "deaths", "disabled_persons")
TRUTH_COLUMNS = ("rule", "table", "record_id")
# Load order: referenced tables first.
LOAD_ORDER = ("regions", "funds", "allocations", "projects", "people", "payments", "ledger", "invoices",
              "complaints") + REGISTERS
