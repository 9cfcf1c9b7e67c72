"""Imports through the browser (数据导入): uploads, background import jobs, rejects reports, history.

Administrators only: every function that answers a request takes the viewer first and returns
nothing (and audits the refusal) for anyone else. Nothing here is memoized: an import history must be
current. The history is the `packages` table (one row per import that loaded, with who, when, the file
and the counts in `summary_json`) plus the refused attempts from the audit log (action "import").

An upload becomes a job: the file is written under DATA_DIR/uploads/<token>/ with job.json (who, file,
language). The token (32 random bytes, hex) is the job's only handle: the background import, which runs
in another process without the request's session, takes it and consumes job.json, so a job runs once
and only an upload an administrator made can run at all. Rejects stay next to the upload as
rejects.csv (reason keys, translated when downloaded), masked on download unless the viewer has pii.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Callable

import pandas as pd
from sqlalchemy import select

from core.viewer import Viewer

UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 10 << 20))     # under the server's 16 MB request cap
ALLOWED_SUFFIXES = (".zip", ".xlsx")
_TOKEN = re.compile(r"[0-9a-f]{64}")
HISTORY_LIMIT = 100


class UploadRefused(Exception):
    def __init__(self, key: str):
        self.key = key
        super().__init__(key)


def uploads_dir() -> Path:
    from core.settings import get_settings
    d = Path(get_settings().cache_dir).parent / "uploads"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _job_dir(token: str) -> Path | None:
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    d = uploads_dir() / token
    return d if d.is_dir() else None


def _refuse(viewer: Viewer, what: str) -> None:
    from core.audit import log_event
    if viewer is not None and viewer.is_authenticated:
        log_event("refused", what, "denied", {"reason": "not an administrator"})


def safe_filename(name: str) -> str:
    base = Path(str(name or "")).name
    base = re.sub(r"[^\w.\-]+", "_", base, flags=re.UNICODE).strip("._") or "package"
    return base[-120:]


def save_upload(viewer: Viewer, filename: str, contents: str, lang: str = "zh") -> dict:
    """Store an uploaded package (a dcc.Upload data URL) as a new job; returns {"token", "file"}.
    Raises UploadRefused(key) for a non-administrator, a wrong file type, a file too big or garbage."""
    if viewer is None or not viewer.is_admin:
        _refuse(viewer, "upload")
        raise UploadRefused("upload.forbidden")
    name = safe_filename(filename)
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise UploadRefused("upload.bad_type")
    if not isinstance(contents, str) or "," not in contents:
        raise UploadRefused("upload.unreadable")
    b64 = contents.split(",", 1)[1]
    if len(b64) * 3 // 4 > UPLOAD_MAX_BYTES + 3:
        raise UploadRefused("upload.too_big")
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise UploadRefused("upload.unreadable")
    if len(data) > UPLOAD_MAX_BYTES:
        raise UploadRefused("upload.too_big")
    token = secrets.token_hex(32)
    d = uploads_dir() / token
    d.mkdir(mode=0o700)
    (d / name).write_bytes(data)
    (d / "job.json").write_text(json.dumps({"owner": viewer.username, "file": name, "lang": lang,
                                            "at": dt.datetime.now(dt.timezone.utc).isoformat()}))
    from core.audit import log_event
    log_event("upload", name, "ok", {"bytes": len(data)})
    return {"token": token, "file": name}


def run_job(token: str, progress: Callable[[str, float], None] | None = None, engine=None) -> dict:
    """Run the import of an uploaded package (called by the background callback, in its own process).
    Returns the summary as JSON (``refused`` true with the reason when the package is refused)."""
    from core.db import get_engine
    from pipeline.importer import import_package, refusal_json
    from pipeline.package_reader import PackageError
    d = _job_dir(token)
    job_file = d / "job.json" if d else None
    if job_file is None or not job_file.exists():
        return {"refused": True, "reason": "upload.no_job", "message": "", "file": "", "column": ""}
    running = d / "job.running.json"
    try:
        os.replace(job_file, running)           # consumed: a token runs one import, once
    except FileNotFoundError:
        return {"refused": True, "reason": "upload.no_job", "message": "", "file": "", "column": ""}
    job = json.loads(running.read_text())
    engine = engine or get_engine()
    try:
        s = import_package(d / job["file"], engine, progress=progress, imported_by=job["owner"], label=job["file"])
    except PackageError as exc:
        out = refusal_json(exc, job.get("lang", "zh"))
    else:
        pd.DataFrame([{"file": r.file, "row": r.row, "column": r.column, "value": r.value, "reason": r.reason}
                      for r in s.rejects], columns=["file", "row", "column", "value", "reason"]
                     ).to_csv(d / "rejects.csv", index=False)
        out = s.to_json()
    (d / job["file"]).unlink(missing_ok=True)          # the package itself is not kept
    out["token"] = token
    (d / "result.json").write_text(json.dumps(out, ensure_ascii=False))
    return out


def _mask_value(file: str, column: str, value, pii: bool):
    """ID numbers and confidential columns of the rejects report, masked unless the viewer has pii."""
    from core.idnumber import mask_id, mask_name
    from pipeline.spec import TABLES
    if pii or value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    stem = str(file).split(":")[-1].rsplit("/", 1)[-1].removesuffix(".csv").lower()
    spec = TABLES.get(stem)
    value = str(value)
    if spec is not None and column in spec.column_names:
        col = spec.col(column)
        if col.type == "id" or column in ("counterparty_id", "legal_person_id"):
            return mask_id(value) if len(value) >= 8 else "*" * len(value)
        if col.confidential:
            return mask_name(value) if column == "name" else "***"
    if not column:                                    # a whole misshapen record: may carry anything
        return "***"
    return value


def rejects_report(viewer: Viewer, token: str, lang: str = "zh", fmt: str = "csv") -> tuple[str, bytes] | None:
    """The rejects of an import as (filename, bytes) in CSV (UTF-8 with BOM, for Excel) or XLSX, reasons in
    ``lang``; None for a non-administrator or an unknown token."""
    if viewer is None or not viewer.is_admin:
        _refuse(viewer, "rejects")
        return None
    d = _job_dir(token)
    if d is None or not (d / "rejects.csv").exists():
        return None
    from core.i18n import t
    df = pd.read_csv(d / "rejects.csv", dtype=str, keep_default_na=False)
    df["value"] = [_mask_value(f, c, v, viewer.scope.pii) for f, c, v in zip(df["file"], df["column"], df["value"])]
    df["reason"] = [t(k, lang) for k in df["reason"]]
    df.columns = [t(f"upload.col.{c}", lang) for c in df.columns]
    stem = "rejects" if lang == "en" else "错误行"
    if fmt == "xlsx":
        buf = io.BytesIO()
        df.to_excel(buf, index=False)
        return f"{stem}.xlsx", buf.getvalue()
    return f"{stem}.csv", df.to_csv(index=False).encode("utf-8-sig")


def rejects_preview(viewer: Viewer, token: str, limit: int = 200) -> list[dict]:
    """The first rejects for the screen (same masking as the download, reason keys untranslated)."""
    if viewer is None or not viewer.is_admin:
        _refuse(viewer, "rejects")
        return []
    d = _job_dir(token)
    if d is None or not (d / "rejects.csv").exists():
        return []
    df = pd.read_csv(d / "rejects.csv", dtype=str, keep_default_na=False, nrows=limit)
    df["value"] = [_mask_value(f, c, v, viewer.scope.pii) for f, c, v in zip(df["file"], df["column"], df["value"])]
    return df.to_dict("records")


def job_result(viewer: Viewer, token: str) -> dict | None:
    """The stored result of a finished job (for the screen after the background callback)."""
    if viewer is None or not viewer.is_admin:
        _refuse(viewer, "import_result")
        return None
    d = _job_dir(token)
    if d is None or not (d / "result.json").exists():
        return None
    return json.loads((d / "result.json").read_text())


def import_history(viewer: Viewer, limit: int = HISTORY_LIMIT) -> list[dict]:
    """The newest imports first: loaded ones from `packages`, refused ones from the audit log."""
    if viewer is None or not viewer.is_admin:
        _refuse(viewer, "import_history")
        return []
    from core import schema
    from core.db import get_engine
    P = schema.packages
    rows = []
    with get_engine().connect() as conn:
        for r in conn.execute(select(P).order_by(P.c.id.desc()).limit(limit)).mappings():
            s = json.loads(r["summary_json"] or "{}")
            tables = s.get("tables", {})
            rows.append({"at": r["imported_at"], "who": r["imported_by"] or "", "file": s.get("file") or "",
                         "status": "loaded", "as_of_date": str(r["as_of_date"]), "package_id": r["id"],
                         "loaded": sum(t.get("loaded", 0) for t in tables.values()),
                         "inserted": sum(t.get("inserted", 0) for t in tables.values()),
                         "updated": sum(t.get("updated", 0) for t in tables.values()),
                         "rejected": sum(t.get("rejected", 0) for t in tables.values()),
                         "detection": s.get("detection", ""), "reason": ""})
    try:
        from core.auth_schema import audit_log as A
    except ImportError:  # pragma: no cover
        A = None
    if A is not None:       # the importer writes its refusals into the audit log of the database it imports into
        with get_engine().connect() as conn:
            q = (select(A.c.at, A.c.username, A.c.target, A.c.detail).where(A.c.action == "import", A.c.result == "denied")
                 .order_by(A.c.id.desc()).limit(limit))
            for r in conn.execute(q).mappings():
                detail = json.loads(r["detail"] or "{}")
                rows.append({"at": r["at"], "who": r["username"], "file": r["target"], "status": "refused",
                             "as_of_date": "", "package_id": None, "loaded": 0, "inserted": 0, "updated": 0,
                             "rejected": 0, "detection": "", "reason": detail.get("reason", "")})
    rows.sort(key=lambda x: x["at"] or dt.datetime.min, reverse=True)
    for r in rows:
        r["at"] = r["at"].isoformat(sep=" ", timespec="seconds") if r["at"] else ""
    return rows[:limit]


def purge_old_uploads(days: int = 7) -> int:
    """Remove upload folders older than ``days`` (their rejects reports with them)."""
    n = 0
    cutoff = dt.datetime.now().timestamp() - days * 86400
    for d in uploads_dir().iterdir():
        if d.is_dir() and _TOKEN.fullmatch(d.name) and d.stat().st_mtime < cutoff:
            shutil.rmtree(d, ignore_errors=True)
            n += 1
    return n
