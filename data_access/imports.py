"""Imports through the browser (数据导入): uploads, background import jobs, rejects reports, history.

Administrators only: every function that answers a request takes the viewer first and returns
nothing (and audits the refusal) for anyone else. Nothing here is memoized: an import history must be
current. The history is the `packages` table (one row per import that loaded, with who, when, the file
and the counts in `summary_json`), the refused, cancelled and interrupted attempts from the audit log
(action "import"), and the jobs running now.

An upload becomes a job: the file is written under DATA_DIR/uploads/<token>/ with job.json (who, file,
language, a job id). The token (32 random bytes, hex) is the job's only handle: the background import,
which runs in another process without the request's session, takes it and consumes job.json, so a job
runs once and only an upload an administrator made can run at all. Rejects stay next to the upload as
rejects.csv (reason keys, translated when downloaded), masked on download unless the viewer has pii.

A job's life in its folder: job.json (uploaded) -> job.running.json (claimed by the import process, which
writes its host, pid and database into it) -> result.json + job.done.json (finished or refused). When
the process is gone without a result (Cancel: Dash kills it; or a crash, a restart), whoever looks next
(the page's cancel path, or any read of the history) *settles* the job once: if the database holds no
history row carrying the job id, nothing was committed (the import is one transaction) and the attempt
goes into the audit log as ``cancelled`` (Cancel was pressed: job.cancel.json) or ``interrupted``;
otherwise the data were committed before the process died and the job's result is that history row.
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
import socket
import time
from pathlib import Path
from typing import Callable

import pandas as pd
from sqlalchemy import select

from core.viewer import Viewer

UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 10 << 20))     # under the server's 16 MB request cap
ALLOWED_SUFFIXES = (".zip", ".xlsx")
_TOKEN = re.compile(r"[0-9a-f]{64}")
HISTORY_LIMIT = 100
CANCEL_WAIT = 15.0             # seconds the cancel path waits for the job's process to be gone
CLAIM_GRACE = 60.0             # a claimed job that has not written its process and database after this long died
TEST_HOLD_ENV = "IMPORT_TEST_HOLD"
JOB, RUNNING, ENDED, DONE, SETTLED, CANCEL, UNSTARTED = (
    "job.json", "job.running.json", "job.ended.json", "job.done.json", "job.settled.json", "job.cancel.json",
    "job.unstarted.json")


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
    (d / JOB).write_text(json.dumps({"owner": viewer.username, "file": name, "lang": lang, "id": secrets.token_hex(8),
                                     "at": dt.datetime.now(dt.timezone.utc).isoformat()}))
    from core.audit import log_event
    log_event("upload", name, "ok", {"bytes": len(data)})
    return {"token": token, "file": name}


def run_job(token: str, progress: Callable[[str, float], None] | None = None, engine=None) -> dict:
    """Run the import of an uploaded package (called by the background callback, in its own process).
    Returns the summary as JSON (``refused`` true with the reason when the package is refused)."""
    from core.db import make_engine
    from core.settings import get_settings
    from pipeline.importer import import_package, refusal_json
    from pipeline.package_reader import PackageError
    d = _job_dir(token)
    job_file = d / JOB if d else None
    if job_file is None or not job_file.exists():
        return {"refused": True, "reason": "upload.no_job", "message": "", "file": "", "column": ""}
    running = d / RUNNING
    try:
        os.replace(job_file, running)           # consumed: a token runs one import, once
    except FileNotFoundError:
        return {"refused": True, "reason": "upload.no_job", "message": "", "file": "", "column": ""}
    job = json.loads(running.read_text())
    # A connection of its own: this process is forked from the web server, whose pooled SQLite
    # connections must not be shared across the fork (the locks that make a killed import harmless).
    own = engine is None
    engine = engine or make_engine(get_settings().database_url)
    job.update(id=job.get("id") or _job_id(token), pid=os.getpid(), host=socket.gethostname(),
               started=_create_time(os.getpid()), db=_db_key(engine), started_at=_utcnow().isoformat())
    _write_json(running, job)                  # what a later look needs to tell whether this process is alive
    try:
        s = import_package(d / job["file"], engine, progress=_test_hold(progress), imported_by=job["owner"],
                           label=job["file"], job=job["id"])
    except PackageError as exc:
        out = refusal_json(exc, job.get("lang", "zh"))
    except BaseException:
        _rename(running, d / ENDED)             # the process may live on (a Celery worker): not running any more
        raise
    else:
        pd.DataFrame([{"file": r.file, "row": r.row, "column": r.column, "value": r.value, "reason": r.reason}
                      for r in s.rejects], columns=["file", "row", "column", "value", "reason"]
                     ).to_csv(d / "rejects.csv", index=False)
        out = s.to_json()
    finally:
        if own:
            engine.dispose()
    (d / job["file"]).unlink(missing_ok=True)          # the package itself is not kept
    out["token"] = token
    _write_json(d / "result.json", out)
    _rename(running, d / DONE)
    return out


def cancel_job(viewer: Viewer, token: str, wait: float = CANCEL_WAIT) -> str:
    """The page's Cancel (administrators only). Dash terminates the job's process in its own cancel
    callback; this records that Cancel was pressed, waits (up to ``wait`` seconds) until the process is
    gone and settles the job. Returns "cancelled" (nothing committed; recorded in the history),
    "finished" (too late: the result, or the committed data, stands), "running" (the process is still
    alive: the history will show what became of it), or "unknown" (no such job, or not allowed)."""
    if viewer is None or not viewer.is_admin:
        _refuse(viewer, "import_cancel")
        return "unknown"
    d = _job_dir(token)
    if d is None:
        return "unknown"
    from core.db import get_engine
    engine = get_engine()
    if not (d / CANCEL).exists():
        _write_json(d / CANCEL, {"by": viewer.username, "at": _utcnow().isoformat()})
    try:                                       # not started yet: it never will be
        os.replace(d / JOB, d / UNSTARTED)
    except FileNotFoundError:
        pass
    else:
        job = json.loads((d / UNSTARTED).read_text())
        job.update(id=job.get("id") or _job_id(token), db=_db_key(engine))
        _write_json(d / ENDED, job)
        (d / UNSTARTED).unlink(missing_ok=True)
    deadline = time.monotonic() + wait
    while True:
        state = _settle(d, engine)
        if state not in ("running", "settling") or time.monotonic() >= deadline:
            return "running" if state == "settling" else state
        time.sleep(0.1)


def _settle(d: Path, engine) -> str:
    """The state of the job in folder ``d`` for the database of ``engine``; a job whose process is gone
    without a result is settled here, once (see the module docstring)."""
    res = d / "result.json"
    if res.exists():
        r = json.loads(res.read_text())
        return "cancelled" if r.get("cancelled") else "interrupted" if r.get("interrupted") else "finished"
    f = d / ENDED if (d / ENDED).exists() else d / RUNNING
    info = _read_json(f)
    if info is None:
        return "settling" if (d / SETTLED).exists() else "unknown"
    if info.get("db") is None:                 # claimed a moment ago (or died then: its database is unknown)
        return "running" if time.time() - f.stat().st_mtime < CLAIM_GRACE else "unknown"
    if info["db"] != _db_key(engine):
        return "unknown"                       # another database's job
    if f.name == RUNNING and _alive(info) is not False:
        if (d / "result.json").exists():       # finished between the two looks
            return _settle(d, engine)
        return "running"
    if (d / "result.json").exists():           # died after writing its result
        _rename(f, d / DONE)
        return _settle(d, engine)
    try:
        os.replace(f, d / SETTLED)             # whoever renames it settles it
    except FileNotFoundError:
        return "settling"
    token = d.name
    job_id = info.get("id") or _job_id(token)
    try:
        committed = _committed(engine, job_id)
        if committed is not None:              # killed after the commit (during detection): the data stand
            out, state = {**committed, "refused": False}, "finished"
        else:
            cancel = _read_json(d / CANCEL)
            state = "cancelled" if cancel is not None else "interrupted"
            detail = {"reason": f"upload.{state}", "job": job_id}
            if cancel is not None:
                detail["cancelled_by"] = cancel.get("by")
            from core.audit import log_event
            log_event("import", info.get("file", ""), state, detail, engine=engine, actor=info.get("owner") or "")
            out = {"refused": False, state: True, "reason": f"upload.{state}", "file": info.get("file", "")}
    except BaseException:
        _rename(d / SETTLED, f)                # not recorded: the next look tries again
        raise
    if info.get("file"):
        (d / info["file"]).unlink(missing_ok=True)      # the package itself is not kept
    out["token"] = token
    _write_json(res, out)
    return state


def settle_jobs(engine=None) -> None:
    """The later look: settle every job of this database whose process has gone without a result."""
    from core.db import get_engine
    engine = engine or get_engine()
    for name in (RUNNING, ENDED):
        for f in uploads_dir().glob(f"*/{name}"):
            if _TOKEN.fullmatch(f.parent.name):
                _settle(f.parent, engine)


def _running_jobs(engine) -> list[dict]:
    """Imports of this database under way now, for the history."""
    rows = []
    key = _db_key(engine)
    for f in uploads_dir().glob(f"*/{RUNNING}"):
        info = _read_json(f)
        if info is None or info.get("db") != key or not _TOKEN.fullmatch(f.parent.name):
            continue
        rows.append({"at": _parse_utc(info.get("started_at") or info.get("at")), "who": info.get("owner", ""),
                     "file": info.get("file", ""), "status": "running", "as_of_date": "", "package_id": None,
                     "loaded": 0, "inserted": 0, "updated": 0, "rejected": 0, "detection": "", "reason": ""})
    return rows


def _committed(engine, job_id: str) -> dict | None:
    """The history row (its summary) that the job committed, if any."""
    from core import schema
    P = schema.packages
    if not re.fullmatch(r"[0-9a-f]{1,64}", job_id or ""):
        return None
    with engine.connect() as conn:
        for (sj,) in conn.execute(select(P.c.summary_json).where(P.c.summary_json.like(f'%"job": "{job_id}"%'))):
            s = json.loads(sj or "{}")
            if s.get("job") == job_id:
                return s
    return None


def _alive(info: dict) -> bool | None:
    """Whether the job's process still runs: False when it is gone, None when this host cannot tell
    (a worker on another machine)."""
    pid = info.get("pid")
    if pid is None:
        return None
    if info.get("host") != socket.gethostname():
        return None
    import psutil
    try:
        p = psutil.Process(int(pid))
        if info.get("started") is not None and abs(p.create_time() - float(info["started"])) > 1.0:
            return False                       # the pid belongs to another process now
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _test_hold(progress):
    """Tests only. With APP_ENV=test and IMPORT_TEST_HOLD=<file> in the environment of the process that
    runs the job (the test's own server: nothing in a request can set either), the import stops and
    waits while <file> exists (at most a minute) at the first report of the stage and fraction written in
    it ("loading:1", the default: every row written, nothing committed; "detection:0": just after the
    commit), and writes <file>.held when it starts waiting, so that a test can cancel it there."""
    from core.settings import get_settings
    path = os.environ.get(TEST_HOLD_ENV)
    if not path or get_settings().env != "test":
        return progress
    hold = Path(path)
    stage, _, frac = (hold.read_text().strip() if hold.exists() else "").partition(":")
    stage, at = stage or "loading", float(frac or 1.0)
    done = []

    def say(s: str, f: float) -> None:
        if progress:
            progress(s, f)
        if s == stage and f >= at and not done and hold.exists():
            done.append(1)
            Path(f"{path}.held").write_text(str(os.getpid()))
            deadline = time.monotonic() + 60
            while hold.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
    return say


def _job_id(token: str) -> str:
    import hashlib
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _db_key(engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _create_time(pid: int) -> float | None:
    import psutil
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:  # pragma: no cover
        return None


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _parse_utc(value) -> dt.datetime | None:
    try:
        v = dt.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return v.astimezone(dt.timezone.utc).replace(tzinfo=None) if v.tzinfo else v


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _write_json(path: Path, obj: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False))
    os.replace(tmp, path)


def _rename(src: Path, dst: Path) -> None:
    try:
        os.replace(src, dst)
    except FileNotFoundError:
        pass


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
    """The newest imports first: loaded ones from `packages`; refused, cancelled and interrupted ones
    from the audit log (jobs whose process has gone are settled first); and those running now."""
    if viewer is None or not viewer.is_admin:
        _refuse(viewer, "import_history")
        return []
    from core import schema
    from core.db import get_engine
    engine = get_engine()
    settle_jobs(engine)
    P = schema.packages
    rows = _running_jobs(engine)
    with engine.connect() as conn:
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
        with engine.connect() as conn:
            q = (select(A.c.at, A.c.username, A.c.target, A.c.result, A.c.detail)
                 .where(A.c.action == "import", A.c.result.in_(("denied", "cancelled", "interrupted")))
                 .order_by(A.c.id.desc()).limit(limit))
            for r in conn.execute(q).mappings():
                detail = json.loads(r["detail"] or "{}")
                status = "refused" if r["result"] == "denied" else r["result"]
                rows.append({"at": r["at"], "who": r["username"], "file": r["target"], "status": status,
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
