"""Tables of the access-control layer, on the shared ``core.schema.metadata``.

users          accounts: argon2id hash, role, scope (region_code, pii), own ID number, TOTP secret
sessions       server-side sessions; only the SHA-256 of the opaque cookie token is stored
login_attempts failed and successful logins, for throttling per account key and per address
audit_log      who did what, when, with what result: append-only (triggers on SQLite and PostgreSQL)

The account key in login_attempts is an HMAC of the typed user name, so a password typed into
the user-name field never lands in the table in clear.
"""
from __future__ import annotations

from sqlalchemy import DDL, Boolean, Column, DateTime, Index, Integer, String, Table, Text, event

from core.schema import CODE, metadata

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(24), nullable=False),
    Column("region_code", CODE),                    # None: sees nothing (admin: always None)
    Column("pii", Boolean, nullable=False, default=False),
    Column("person_id", String(18)),                # the user's own ID number: complaints about them stay hidden
    Column("disabled", Boolean, nullable=False, default=False),
    Column("totp_secret", String(64)),              # PASSWORD_PROFILE=mlps: second factor
    Column("totp_last_step", Integer),              # a TOTP code is accepted once
    Column("password_changed_at", DateTime, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Column("remote_addr", String(64)),
    Index("ix_sessions_user", "user_id"),
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_key", String(64), nullable=False),
    Column("remote_addr", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("success", Boolean, nullable=False),
    Index("ix_login_attempts_account", "account_key", "at"),
    Index("ix_login_attempts_addr", "remote_addr", "at"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("user_id", Integer),
    Column("username", String(64)),
    Column("remote_addr", String(64)),
    Column("action", String(40), nullable=False),
    Column("target", String(200)),
    Column("result", String(16), nullable=False),
    Column("detail", Text),
    Index("ix_audit_at", "at"),
    Index("ix_audit_action", "action", "at"),
)

AUTH_TABLES = (users, sessions, login_attempts, audit_log)

# --- audit_log is append-only -------------------------------------------------------------------
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
# Triggers bind even a superuser or the table's owner; the REVOKE covers every other role. In
# production the app connects as a role that owns nothing (docs/security.md gives the GRANTs).
_PG_STATEMENTS = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC",
)
for _sql in _SQLITE_TRIGGERS:
    event.listen(audit_log, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
for _sql in _PG_STATEMENTS:
    event.listen(audit_log, "after_create", DDL(_sql).execute_if(dialect="postgresql"))


def create_auth_tables(engine) -> None:
    metadata.create_all(engine, tables=list(AUTH_TABLES))
