"""`python manage.py complaints subjects FILE`: load who complaints are about (被反映人) from a CSV.

The data package has no such column (complaints.csv, data-package.md), so the link that keeps a
complaint away from the official it is about is recorded on the side, in ``complaint_subjects``:
one by one by the complaint officers on the complaints page, or in bulk here from the complaint
system's export. The file has two columns, ``complaint_id`` and ``id_number`` (UTF-8 or GB18030).

All or nothing: any bad row (unknown complaint, ID number with a wrong check digit, a row repeated)
refuses the whole file with one message per row naming file, row, column and reason, and nothing is
written. ``--replace`` first removes the subjects already recorded for the complaints in the file.
Every load is audited (counts only; ID numbers never reach the log).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path

from sqlalchemy import delete, insert, select

COLUMNS = ("complaint_id", "id_number")


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ValueError("the file is neither UTF-8 nor GB18030")


def read_subjects(path: str | Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(rows, errors) of a subjects file; errors name file, row (the header is row 1), column, reason."""
    from core.idnumber import is_valid
    p = Path(path)
    label = p.name
    try:
        text = _decode(p.read_bytes())
    except OSError as exc:
        return [], [f"{label}: cannot be read ({exc.strerror or exc})"]
    except ValueError as exc:
        return [], [f"{label}: {exc}"]
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [f"{label}: required column {c!r} is missing" for c in missing]
    ix = {c: header.index(c) for c in COLUMNS}
    rows, errors, seen = [], [], {}
    for n, rec in enumerate(reader, start=2):
        if not any(v.strip() for v in rec):
            continue
        cid = rec[ix["complaint_id"]].strip() if len(rec) > ix["complaint_id"] else ""
        idn = rec[ix["id_number"]].strip().upper() if len(rec) > ix["id_number"] else ""
        if not cid or len(cid) > 40:
            errors.append(f"{label}, row {n}, column complaint_id: {'empty' if not cid else 'longer than 40 characters'}")
            continue
        if not is_valid(idn):
            errors.append(f"{label}, row {n}, column id_number: not a valid ID number (18 characters, check digit)")
            continue
        if (cid, idn) in seen:
            errors.append(f"{label}, row {n}: repeats row {seen[(cid, idn)]}")
            continue
        seen[(cid, idn)] = n
        rows.append((cid, idn, n))
    return rows, errors


def load_subjects(path: str | Path, engine=None, replace: bool = False, actor: str | None = None) -> dict:
    """Validate and load a subjects file in one transaction. Returns {"file", "loaded", "unchanged",
    "removed", "errors"}; with errors nothing is written."""
    from core import schema
    from core.audit import log_event
    from core.db import create_schema, get_engine
    from data_access.cache import invalidate_person
    K, S = schema.complaints, schema.complaint_subjects
    eng = engine or get_engine()
    create_schema(eng)
    rows, errors = read_subjects(path)
    out = {"file": str(path), "loaded": 0, "unchanged": 0, "removed": 0, "errors": errors}
    if errors:
        log_event("complaint_subject", Path(path).name, "denied", {"action": "load", "errors": len(errors)},
                  engine=eng, actor=actor)
        return out
    ids = sorted({cid for cid, _, _ in rows})
    with eng.begin() as conn:
        known = set()
        for i in range(0, len(ids), 900):
            known |= set(conn.execute(select(K.c.complaint_id).where(K.c.complaint_id.in_(ids[i:i + 900]))).scalars())
        for cid, _, n in rows:
            if cid not in known:
                errors.append(f"{Path(path).name}, row {n}, column complaint_id: no complaint {cid!r} in the database")
        if errors:            # nothing written yet: leave the transaction empty
            out["errors"] = errors
        else:
            existing, touched = set(), set()
            for i in range(0, len(ids), 900):
                for cid, idn in conn.execute(select(S.c.complaint_id, S.c.id_number)
                                             .where(S.c.complaint_id.in_(ids[i:i + 900]))):
                    existing.add((cid, idn))
            wanted = {(cid, idn) for cid, idn, _ in rows}
            if replace:
                gone = existing - wanted
                for cid, idn in gone:
                    conn.execute(delete(S).where(S.c.complaint_id == cid, S.c.id_number == idn))
                touched |= {idn for _, idn in gone}
                out["removed"] = len(gone)
            new = sorted(wanted - existing)
            now = dt.datetime.now().replace(microsecond=0)
            by = (actor or "cli")[:64]
            if new:
                conn.execute(insert(S), [{"complaint_id": c, "id_number": i, "recorded_at": now, "recorded_by": by}
                                         for c, i in new])
            touched |= {idn for _, idn in new}
            out["loaded"], out["unchanged"] = len(new), len(wanted & existing)
    if out["errors"]:
        log_event("complaint_subject", Path(path).name, "denied", {"action": "load", "errors": len(out["errors"])},
                  engine=eng, actor=actor)
        return out
    log_event("complaint_subject", Path(path).name, "ok",
              {"action": "load", "loaded": out["loaded"], "removed": out["removed"], "unchanged": out["unchanged"]},
              engine=eng, actor=actor)
    for idn in touched:
        invalidate_person(idn)
    return out


def _run(args) -> int:
    from core.db import get_engine
    res = load_subjects(args.file, engine=get_engine(args.database_url) if args.database_url else None,
                        replace=args.replace)
    if args.json:
        print(json.dumps(res, ensure_ascii=False))
    elif res["errors"]:
        print(f"refused: {len(res['errors'])} problem(s), nothing loaded", file=sys.stderr)
        for e in res["errors"][:200]:
            print("  " + e, file=sys.stderr)
    else:
        print(f"{res['file']}: {res['loaded']} subject(s) recorded, {res['unchanged']} already there, "
              f"{res['removed']} removed")
    return 1 if res["errors"] else 0


def add_cli(sub) -> None:
    p = sub.add_parser("complaints", help="complaint subjects (被反映人)")
    s = p.add_subparsers(dest="complaints_command", required=True)
    c = s.add_parser("subjects", help="load who complaints are about from a CSV (complaint_id,id_number)",
                     formatter_class=argparse.RawDescriptionHelpFormatter, description=__doc__)
    c.add_argument("file")
    c.add_argument("--replace", action="store_true",
                   help="remove the subjects recorded for these complaints that the file does not list")
    c.add_argument("--json", action="store_true")
    c.add_argument("--database-url", default=None)
    c.set_defaults(func=_run)
