"""Accounts, passwords, login, throttling and sessions, checked through the HTTP surface a browser
uses (the login form, the session cookie, the callbacks) wherever that is possible."""
from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import select

from core import auth, passwords
from core.db import get_engine
from tests.conftest import login
from tests.test_security import SAME, audit_rows_since, callback_body, last_audit_id, post_callback
from tests.test_security import cheap_argon2  # noqa: F401  (autouse: argon2id at its smallest cost)

C1, C3, CITY = "430421000000", "430422000000", "430400000000"


def _name(prefix: str = "u") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


class Clock:
    """Moves core.auth.now() (sessions, throttling, password age) forward."""

    def __init__(self, monkeypatch):
        self.offset = dt.timedelta(0)
        real = auth.now
        monkeypatch.setattr(auth, "now", lambda: real() + self.offset)

    def advance(self, **kw):
        self.offset += dt.timedelta(**kw)


def _client(dash_app, addr: str | None = None):
    c = dash_app.server.test_client()
    if addr:
        c.environ_base["REMOTE_ADDR"] = addr
    return c


def _post_login(client, username, password, otp=None):
    data = {"username": username, "password": password, "next": "/"}
    if otp is not None:
        data["otp"] = otp
    return client.post("/login", data=data, headers={"Origin": "http://localhost"})


def _overview(client, dash_app, state=None):
    output = next(k for k in dash_app.callback_map if "overview-kpis" in k)
    return post_callback(client, callback_body(output, dash_app.callback_map[output], lambda d: state or {}))


# --- password policy -----------------------------------------------------------------------------
@pytest.mark.parametrize("password,profile,problems", [
    ("correct horse battery staple", "nist", []),          # a passphrase: no composition rules
    ("Kq7m-xP3v-Hn4t", "nist", []),
    ("tr0mbone-vault", "nist", []),
    ("abc123", "nist", ["auth.pw.too_short", "auth.pw.common"]),
    ("short", "nist", ["auth.pw.too_short"]),
    ("", "nist", ["auth.pw.too_short"]),
    ("password", "nist", ["auth.pw.common"]),
    ("Password2024!", "nist", ["auth.pw.common"]),             # a common word with digits and symbols around
    ("qwertyuiop", "nist", ["auth.pw.common"]),
    ("woaini1314", "nist", ["auth.pw.common"]),
    ("aaaaaaaaaaaa", "nist", ["auth.pw.common"]),
    ("abcdefghij", "nist", ["auth.pw.common"]),
    ("jiwei2024", "nist", ["auth.pw.context"]),                 # context words add no strength
    ("纪委纪检 tea at dawn", "nist", []),                        # ...but what remains is long enough
    ("纪委纪检1234", "nist", ["auth.pw.context", "auth.pw.common"]),
    ("hengyang2023", "nist", ["auth.pw.context"]),             # a city of the province, in pinyin
    ("长沙市长沙县2023", "nist", ["auth.pw.context"]),             # region names
    ("衡阳县衡南县abc!", "nist", ["auth.pw.context"]),
    ("x" * 64 + "Yz9!", "nist", []),                             # 64 and more accepted
    ("a b" * 80, "nist", ["auth.pw.common"]),                  # 240 characters of a repeated pattern
    ("Q" + "w9e!" * 63, "nist", []),                           # 253 characters
    ("x" * 257, "nist", ["auth.pw.too_long"]),
    ("correct horse battery staple", "mlps", ["auth.pw.complexity"]),
    ("Correct horse battery 9", "mlps", []),
    ("tr0mbone-vault", "mlps", []),                            # lower, digit, symbol: three classes
])
def test_password_policy(password, profile, problems):
    assert passwords.problems(password, prof=profile) == problems


def test_the_user_name_is_a_context_word():
    assert passwords.problems("zhangwei-2024", username="zhangwei") == ["auth.pw.context"]
    assert passwords.problems("zhangwei-2024", username="someone") == []


def test_generated_passwords_pass_both_profiles():
    seen = {passwords.generate() for _ in range(20)}
    assert len(seen) == 20
    for pw in seen:
        assert passwords.problems(pw, prof="nist") == [] and passwords.problems(pw, prof="mlps") == []


def test_hashes_are_argon2id_and_salted(app_db, monkeypatch, cheap_argon2):
    from argon2 import Type
    monkeypatch.setattr(passwords, "_hasher", cheap_argon2)           # the production hasher, for this test
    params = passwords._hasher
    assert params.type == Type.ID and params.memory_cost >= 19456 and params.time_cost >= 2   # OWASP minimum
    pw = "tr0mbone-vault"
    h1, h2 = passwords.hash_password(pw), passwords.hash_password(pw)
    assert h1.startswith("$argon2id$") and h1 != h2
    assert passwords.verify(h1, pw) and not passwords.verify(h1, pw + "x") and not passwords.verify(None, pw)
    name = _name()
    auth.create_user(get_engine(), name, "analyst", region_code=C1, password=pw)
    stored = auth.get_user(get_engine(), name)["password_hash"]
    assert stored.startswith("$argon2id$") and pw not in stored


# --- accounts and the command line ---------------------------------------------------------------
@pytest.mark.parametrize("role,region,pii,ok", [
    ("province_leader", "43", False, True),
    ("province_leader", "4304", False, False),      # a province leader needs the province
    ("city_official", "4304", False, True),
    ("city_official", "430421", False, False),
    ("county_official", "430421", False, True),
    ("county_official", "4304", False, False),
    ("analyst", "430421100203", True, True),       # any region; pii only by grant
    ("complaint_officer", "4304", False, True),
    ("admin", None, False, True),
    ("admin", "43", False, False),                  # an administrator sees no data
    ("admin", None, True, False),
    ("superuser", "43", False, False),
    ("analyst", "4304x", False, False),
])
def test_roles_and_scopes_are_checked_on_creation(app_db, role, region, pii, ok):
    name = _name(role[:5])
    if ok:
        auth.create_user(get_engine(), name, role, region_code=region, pii=pii)
        user = auth.get_user(get_engine(), name)
        scope = auth.viewer_for(user).scope
        assert scope.pii == pii and scope.complaints == (role == "complaint_officer")
        assert scope.is_empty == (role == "admin")
    else:
        with pytest.raises(ValueError):
            auth.create_user(get_engine(), name, role, region_code=region, pii=pii)
        assert auth.get_user(get_engine(), name) is None


def test_no_default_account(tmp_path):
    from sqlalchemy import func
    from core.auth_schema import create_auth_tables, users
    eng = get_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    create_auth_tables(eng)
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar() == 0


def _manage(argv, capsys, stdin=None, monkeypatch=None):
    """``python manage.py users ...``: manage.py registers core.auth_cli's parser; it is driven here on
    its own so that another command module being edited cannot break this test."""
    import argparse
    import manage
    from core import auth_cli
    assert "core.auth_cli" in manage.COMMAND_MODULES
    parser = argparse.ArgumentParser(prog="manage.py")
    auth_cli.add_cli(parser.add_subparsers(dest="command", required=True))
    if stdin is not None:
        import io
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    args = parser.parse_args(argv)
    code = args.func(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_manage_users_commands(tmp_path, capsys, monkeypatch, dash_app):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    eng = get_engine(url)
    base = ["users", "--database-url", url]
    code, out, _ = _manage(base + ["create", "Zhou.Li", "--role", "county_official", "--scope", "430421"], capsys)
    assert code == 0
    pw = re.search(r"password \(shown once.*\): (\S+)", out).group(1)
    user = auth.get_user(eng, "zhou.li")
    assert user and passwords.verify(user["password_hash"], pw)
    # the password appears nowhere but that one line of output: not in the database, not in the audit trail
    from core.auth_schema import audit_log
    with eng.connect() as conn:
        trail = " ".join(str(v) for r in conn.execute(select(audit_log)).all() for v in r)
    assert pw not in trail and "user_create" in trail and "cli:" in trail

    code, out, err = _manage(base + ["create", "weak", "--role", "analyst", "--scope", "43", "--password-stdin"],
                             capsys, stdin="jiwei2024\n", monkeypatch=monkeypatch)
    assert code == 2 and "error:" in err and "jiwei2024" not in out + err
    assert auth.get_user(eng, "weak") is None

    assert _manage(base + ["set-role", "zhou.li", "city_official", "--scope", "4304"], capsys)[0] == 0
    user = auth.get_user(eng, "zhou.li")
    assert (user["role"], user["region_code"]) == ("city_official", CITY)
    assert _manage(base + ["set-role", "zhou.li", "county_official"], capsys)[0] == 2     # 4304 is no county

    idn = __import__("tests.package_factory", fromlist=["person"]).person("430421", 3)
    assert _manage(base + ["set-scope", "zhou.li", "430400", "--pii", "--person-id", idn], capsys)[0] == 0
    user = auth.get_user(eng, "zhou.li")
    assert user["pii"] and user["person_id"] == idn
    code, out, _ = _manage(base + ["list"], capsys)
    assert "zhou.li" in out and idn not in out and idn[-4:] in out      # listed masked

    code, out, _ = _manage(base + ["reset-password", "zhou.li"], capsys)
    new = re.search(r"password \(shown once.*\): (\S+)", out).group(1)
    user = auth.get_user(eng, "zhou.li")
    assert new != pw and passwords.verify(user["password_hash"], new) and not passwords.verify(user["password_hash"], pw)

    assert _manage(base + ["disable", "zhou.li"], capsys)[0] == 0
    assert auth.get_user(eng, "zhou.li")["disabled"]
    assert _manage(base + ["enable", "zhou.li"], capsys)[0] == 0
    assert not auth.get_user(eng, "zhou.li")["disabled"]
    assert _manage(base + ["disable", "nobody"], capsys)[0] == 2
    with eng.connect() as conn:
        actions = [r[0] for r in conn.execute(select(audit_log.c.action).order_by(audit_log.c.id))]
    for a in ("user_create", "user_set_role", "user_set_scope", "user_reset_password", "user_disable", "user_enable"):
        assert a in actions


def test_demo_users_get_random_passwords(monkeypatch, tmp_path):
    """pipeline.demo creates one user per role with a fresh random password (nothing hard-coded)."""
    import sys
    import types
    from pipeline import demo
    eng = get_engine(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    fake_gen = types.ModuleType("pipeline.generator")
    fake_gen.generate = lambda **kw: None                       # no package needed to check the users
    monkeypatch.setitem(sys.modules, "pipeline.generator", fake_gen)
    monkeypatch.setattr("pipeline.importer.import_package", lambda out, engine: {})
    monkeypatch.setattr("pipeline.importer.format_summary", lambda s: "")
    created = demo.build_demo(eng, out=tmp_path / "pkg")
    assert {role for _, role, _ in created} == {"province_leader", "city_official", "county_official", "analyst",
                                               "complaint_officer", "admin"}
    pws = [pw for _, _, pw in created]
    assert len(set(pws)) == len(pws) and all(passwords.problems(pw, prof="mlps") == [] for pw in pws)
    src = (__import__("pathlib").Path(demo.__file__)).read_text()
    assert not any(pw in src for pw in pws)


# --- login ---------------------------------------------------------------------------------------
def test_login_and_logout(dash_app):
    client = _client(dash_app, "10.1.0.1")
    name = _name()
    pw = auth.create_user(get_engine(), name, "county_official", region_code=C1)
    r = client.get("/login")
    assert r.status_code == 200 and 'name="password"' in r.get_data(as_text=True)
    before = last_audit_id()
    r = _post_login(client, name, pw)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("sid=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").status_code == 200
    assert _overview(client, dash_app).status_code == 200
    r = client.post("/logout", headers=SAME)
    assert r.status_code == 303 and r.headers["Location"].startswith("/login")
    assert "Clear-Site-Data" in r.headers and '"storage"' in r.headers["Clear-Site-Data"]
    assert _overview(client, dash_app).status_code == 401
    actions = [(row["action"], row["username"], row["result"]) for row in audit_rows_since(before)]
    assert ("login", name, "ok") in actions and ("logout", name, "ok") in actions


def test_logout_needs_post(dash_app):
    """A link or an image (GET, cross-site) cannot sign anyone out: only the form's POST does."""
    client = _client(dash_app)
    login(client, "analyst", "430421")
    client.get("/logout")
    assert _overview(client, dash_app).status_code == 200


@pytest.mark.parametrize("case", ["unknown_user", "wrong_password", "disabled_user"])
def test_failed_login_never_tells_whether_the_user_exists(dash_app, case):
    client = _client(dash_app, f"10.2.0.{['unknown_user', 'wrong_password', 'disabled_user'].index(case) + 1}")
    name = _name()
    pw = auth.create_user(get_engine(), name, "analyst", region_code=C1)
    if case == "disabled_user":
        auth.disable_user(get_engine(), name)
    username = {"unknown_user": _name("ghost")}.get(case, name)
    password = pw if case == "disabled_user" else "Wrong-password-9"
    before = last_audit_id()
    r = _post_login(client, username, password)
    assert r.status_code == 401
    body = r.get_data(as_text=True)
    assert "用户名或密码错误" in body and username not in body and "Set-Cookie" not in r.headers
    failed = audit_rows_since(before, action="login_failed")
    assert len(failed) == 1 and failed[0]["result"] == "denied"
    assert password not in str(failed[0])


@pytest.mark.parametrize("known", [True, False])
def test_throttling_per_account(dash_app, monkeypatch, known):
    clock = Clock(monkeypatch)
    name = _name()
    pw = auth.create_user(get_engine(), name, "analyst", region_code=C1) if known else "Whatever-pass-1"
    for i in range(auth.ACCOUNT_FAILURES):               # from different addresses: the account is what counts
        r = _post_login(_client(dash_app, f"10.3.{int(known)}.{i + 1}"), name, "Wrong-password-9")
        assert r.status_code == 401
    r = _post_login(_client(dash_app, "10.3.9.9"), name, pw)
    assert r.status_code == 429 and "分钟后再试" in r.get_data(as_text=True)   # same answer, user or not
    clock.advance(minutes=16)
    r = _post_login(_client(dash_app, "10.3.9.9"), name, pw)
    assert r.status_code == (302 if known else 401)


def test_throttling_per_address(dash_app, monkeypatch):
    Clock(monkeypatch)
    addr = "10.4.0.1"
    for i in range(auth.ADDRESS_FAILURES):               # many accounts, one address
        assert _post_login(_client(dash_app, addr), _name("spray"), "Spring-2024-pw").status_code == 401
    name = _name()
    pw = auth.create_user(get_engine(), name, "analyst", region_code=C1)
    assert _post_login(_client(dash_app, addr), name, pw).status_code == 429
    assert _post_login(_client(dash_app, "10.4.0.2"), name, pw).status_code == 302


def test_a_success_resets_the_account_counter(dash_app, monkeypatch):
    Clock(monkeypatch)
    name = _name()
    pw = auth.create_user(get_engine(), name, "analyst", region_code=C1)
    client = _client(dash_app, "10.5.0.1")
    for _ in range(auth.ACCOUNT_FAILURES - 1):
        assert _post_login(client, name, "Wrong-password-9").status_code == 401
    assert _post_login(client, name, pw).status_code == 302
    for _ in range(auth.ACCOUNT_FAILURES - 1):
        assert _post_login(_client(dash_app, "10.5.0.2"), name, "Wrong-password-9").status_code == 401
    assert _post_login(_client(dash_app, "10.5.0.3"), name, pw).status_code == 302


# --- sessions ------------------------------------------------------------------------------------
def _logged_in(dash_app, role="county_official", region=C1, addr="10.6.0.1"):
    client = _client(dash_app, addr)
    name = _name(role[:6])
    pw = auth.create_user(get_engine(), name, role, region_code=region)
    r = _post_login(client, name, pw)
    assert r.status_code == 302
    return client, name, client.get_cookie("sid").value


def test_no_session_fixation(dash_app):
    # a token planted before login (by an attacker) is never adopted...
    client = _client(dash_app, "10.6.1.1")
    client.set_cookie("sid", "planted-by-attacker")
    name = _name()
    pw = auth.create_user(get_engine(), name, "analyst", region_code=C1)
    assert _post_login(client, name, pw).status_code == 302
    token = client.get_cookie("sid").value
    assert token != "planted-by-attacker" and len(token) >= 40
    attacker = _client(dash_app)
    attacker.set_cookie("sid", "planted-by-attacker")
    assert _overview(attacker, dash_app).status_code == 401
    # ...and logging in again, even as the same user, replaces a live token
    assert _post_login(client, name, pw).status_code == 302
    assert client.get_cookie("sid").value != token
    old = _client(dash_app)
    old.set_cookie("sid", token)
    assert _overview(old, dash_app).status_code == 401
    # the database keeps only a hash of the token
    from core.auth_schema import sessions
    with get_engine().connect() as conn:
        stored = [r[0] for r in conn.execute(select(sessions.c.token_hash))]
    assert token not in stored and auth._token_hash(token) in stored


def test_replay_after_logout(dash_app):
    client, _, token = _logged_in(dash_app)
    client.post("/logout", headers=SAME)
    thief = _client(dash_app)
    thief.set_cookie("sid", token)
    assert _overview(thief, dash_app).status_code == 401
    assert thief.get("/").status_code == 302


@pytest.mark.parametrize("steps,alive", [
    ([{"minutes": 29}], True),
    ([{"minutes": 31}], False),                                 # idle 30 minutes
    ([{"minutes": 25}] * 4, True),                              # active: 100 minutes, never idle
    ([{"minutes": 25}] * 28 + [{"minutes": 19}], True),         # 11h59 of activity
    ([{"minutes": 25}] * 29, False),                            # 12h05: the absolute limit
])
def test_idle_and_absolute_timeouts(dash_app, monkeypatch, steps, alive):
    clock = Clock(monkeypatch)
    client, _, token = _logged_in(dash_app)
    for step in steps[:-1]:
        clock.advance(**step)
        assert _overview(client, dash_app).status_code == 200
    clock.advance(**steps[-1])
    before = last_audit_id()
    r = _overview(client, dash_app)
    assert r.status_code == (200 if alive else 401)
    if not alive:
        reasons = [row["detail"] for row in audit_rows_since(before, action="session_refused")]
        assert reasons and ("idle" in reasons[0] or "expired" in reasons[0])
        clock.offset = dt.timedelta(0)                          # and it stays dead
        again = _client(dash_app)
        again.set_cookie("sid", token)
        assert _overview(again, dash_app).status_code == 401


@pytest.mark.parametrize("change", ["disable", "reset_password", "set_role", "set_scope"])
def test_account_changes_take_effect_on_the_next_request(dash_app, change):
    client, name, _ = _logged_in(dash_app, "county_official", C1)
    r = _overview(client, dash_app)
    assert r.status_code == 200 and "衡阳县" in r.get_data(as_text=True)
    eng = get_engine()
    if change == "disable":
        auth.disable_user(eng, name)
    elif change == "reset_password":
        auth.reset_password(eng, name)
    elif change == "set_role":
        auth.set_role(eng, name, "admin")
    else:
        auth.set_scope(eng, name, "430422")
    r = _overview(client, dash_app)
    body = r.get_data(as_text=True)
    if change in ("disable", "reset_password"):
        assert r.status_code == 401
    elif change == "set_role":                       # an administrator sees no data at all
        assert r.status_code == 200 and "衡阳" not in body and "10,000" not in body
    else:
        assert r.status_code == 200 and "衡南县" in body and "衡阳县" not in body


# --- the MLPS profile: complexity, rotation, TOTP -------------------------------------------------
def test_mlps_second_factor(dash_app, monkeypatch):
    import pyotp
    monkeypatch.setenv("PASSWORD_PROFILE", "mlps")
    clock = Clock(monkeypatch)
    eng = get_engine()
    name = _name()
    pw = auth.create_user(eng, name, "analyst", region_code=C1)
    secret = auth.get_user(eng, name)["totp_secret"]
    assert secret
    client = _client(dash_app, "10.7.0.1")
    assert 'name="otp"' in client.get("/login").get_data(as_text=True)
    assert _post_login(client, name, pw).status_code == 401                  # the password alone is not enough
    assert _post_login(client, name, pw, "000000").status_code == 401
    code = pyotp.TOTP(secret).at(auth.now().replace(tzinfo=dt.timezone.utc))
    assert _post_login(client, name, pw, code).status_code == 302
    assert _post_login(_client(dash_app, "10.7.0.2"), name, pw, code).status_code == 401   # a code is good once
    clock.advance(seconds=60)
    code = pyotp.TOTP(secret).at(auth.now().replace(tzinfo=dt.timezone.utc))
    assert _post_login(_client(dash_app, "10.7.0.3"), name, pw, code).status_code == 302


def test_mlps_password_rotation(dash_app, monkeypatch):
    import pyotp
    monkeypatch.setenv("PASSWORD_PROFILE", "mlps")
    monkeypatch.setenv("PASSWORD_MAX_AGE_DAYS", "90")
    clock = Clock(monkeypatch)
    eng = get_engine()
    name = _name()
    pw = auth.create_user(eng, name, "analyst", region_code=C1)
    secret = auth.get_user(eng, name)["totp_secret"]
    clock.advance(days=91)
    client = _client(dash_app, "10.8.0.1")
    r = _post_login(client, name, pw, pyotp.TOTP(secret).at(auth.now().replace(tzinfo=dt.timezone.utc)))
    assert r.status_code == 302 and r.headers["Location"] == "/password"
    assert client.get("/").headers["Location"] == "/password"                # no data before the change
    r = _overview(client, dash_app)
    assert r.status_code == 403
    form = {"current": pw, "new": "simple passphrase", "confirm": "simple passphrase"}
    r = client.post("/password", data=form, headers=SAME)
    assert r.status_code == 400                                              # mlps: three character classes
    form = {"current": pw, "new": "Tr0mbone-vault", "confirm": "Tr0mbone-vault"}
    r = client.post("/password", data=form, headers=SAME)
    assert r.status_code == 303
    assert _overview(client, dash_app).status_code == 200


def test_nist_profile_has_no_rotation_and_no_totp(dash_app, monkeypatch):
    monkeypatch.delenv("PASSWORD_PROFILE", raising=False)
    clock = Clock(monkeypatch)
    name = _name()
    pw = auth.create_user(get_engine(), name, "analyst", region_code=C1)
    assert auth.get_user(get_engine(), name)["totp_secret"] is None
    clock.advance(days=800)
    r = _post_login(_client(dash_app, "10.9.0.1"), name, pw)
    assert r.status_code == 302 and r.headers["Location"] == "/"
