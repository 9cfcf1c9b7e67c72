"""`python manage.py run`: serve the app on the embedded default, building the demo database on first run.

The demo database is a synthetic province-wide package (labelled synthetic everywhere it is shown)
generated with a fixed seed, imported, checked by the clue rules, plus one user per role with a
random password printed once.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

DEMO_USERS = (
    ("leader", "province_leader", "430000000000", False),
    ("hengyang", "city_official", "430400000000", False),
    ("hengyangxian", "county_official", "430421000000", False),
    ("analyst", "analyst", "430400000000", True),
    ("complaints", "complaint_officer", "430000000000", False),
    ("admin", "admin", None, False),
)


def database_has_data(engine) -> bool:
    from sqlalchemy import func, inspect, select
    from core import schema
    if not inspect(engine).has_table("packages"):
        return False
    with engine.connect() as conn:
        return bool(conn.execute(select(func.count()).select_from(schema.packages)).scalar())


def build_demo(engine, seed: int = 1, out: Path | None = None, users: bool = True) -> list[tuple[str, str, str]]:
    """Generate, import and detect the demo package; create the demo users. Returns (user, role, password)."""
    from core.settings import DATA_DIR
    from pipeline.generator import generate
    from pipeline.importer import format_summary, import_package
    out = Path(out or (DATA_DIR / "demo_package"))
    print(f"generating the synthetic demo package into {out} ...", flush=True)
    generate(scale="demo", seed=seed, out=out)
    print("importing ...", flush=True)
    summary = import_package(out, engine)
    print(format_summary(summary), flush=True)
    created = []
    if users:
        from core.auth import create_user
        for name, role, region, pii in DEMO_USERS:
            pw = create_user(engine, name, role, region_code=region, pii=pii)
            created.append((name, role, pw))
    return created


def _run(args) -> int:
    os.environ.setdefault("APP_ENV", "development")
    from core.db import create_schema, get_engine
    engine = get_engine()
    create_schema(engine)
    if not database_has_data(engine):
        created = build_demo(engine, seed=args.seed)
        print("\nDemo users (the passwords are shown only this once):")
        for name, role, pw in created:
            print(f"  {name:<14} {role:<18} {pw}")
        print(flush=True)
    from app import app
    print(f"serving on http://{args.host}:{args.port}/", flush=True)
    app.run(host=args.host, port=args.port, debug=False)
    return 0


def _demo(args) -> int:
    from core.db import create_schema, get_engine
    engine = get_engine(args.database_url) if args.database_url else get_engine()
    create_schema(engine)
    if database_has_data(engine) and not args.force:
        print("the database already holds data; use --force to import the demo package again", file=sys.stderr)
        return 1
    created = build_demo(engine, seed=args.seed, users=not args.no_users)
    for name, role, pw in created:
        print(f"  {name:<14} {role:<18} {pw}")
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("run", help="serve the app (builds the demo database on first run)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=_run)
    d = sub.add_parser("demo", help="build the synthetic demo database and its users")
    d.add_argument("--database-url", default=None)
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--force", action="store_true")
    d.add_argument("--no-users", action="store_true")
    d.set_defaults(func=_demo)
