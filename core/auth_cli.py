"""``python manage.py users ...``: the administrator's account commands.

    users create NAME --role ROLE [--scope CODE] [--pii] [--person-id ID] [--password-stdin]
    users disable NAME | enable NAME
    users set-role NAME ROLE [--scope CODE]
    users set-scope NAME CODE|none [--pii | --no-pii] [--person-id ID|none]
    users reset-password NAME [--password-stdin]
    users reset-totp NAME          (PASSWORD_PROFILE=mlps: a new second factor)
    users list

A generated password (and, under mlps, the TOTP enrolment URI) is printed once, on stdout, and
nowhere else. A chosen password is read from stdin, never from the command line (which ``ps``
and shell histories would show). Every change is audited as ``cli:<os user>``.
"""
from __future__ import annotations

import sys

from core.viewer import ROLES


def _engine(args):
    from core.db import get_engine
    return get_engine(args.database_url) if args.database_url else get_engine()


def _stdin_password(args) -> str | None:
    if not getattr(args, "password_stdin", False):
        return None
    return sys.stdin.readline().rstrip("\r\n")


def _none(value):
    return None if value is None or str(value).lower() in ("none", "-", "") else value


def _print_password(username: str, password: str) -> None:
    print(f"user {username}: password (shown once, pass it on in person): {password}")


def _create(args) -> int:
    from core import auth, passwords
    eng = _engine(args)
    pw = auth.create_user(eng, args.username, args.role, region_code=args.scope, pii=args.pii,
                          person_id=args.person_id, password=_stdin_password(args))
    user = auth.get_user(eng, args.username)
    if not args.password_stdin:
        _print_password(user["username"], pw)
    else:
        print(f"user {user['username']} created")
    if passwords.totp_required() and user["totp_secret"]:
        print("TOTP enrolment URI (shown once): " + auth.totp_uri(user["username"], user["totp_secret"]))
    return 0


def _disable(args) -> int:
    from core import auth
    auth.disable_user(_engine(args), args.username, disabled=(args.users_cmd == "disable"))
    print(f"user {auth.normalize_username(args.username)} {args.users_cmd}d; sessions ended" if args.users_cmd == "disable"
          else f"user {auth.normalize_username(args.username)} enabled")
    return 0


def _set_role(args) -> int:
    from core import auth
    kw = {} if args.scope is None else {"region_code": _none(args.scope)}
    auth.set_role(_engine(args), args.username, args.role, **kw)
    print(f"user {auth.normalize_username(args.username)}: role {args.role}")
    return 0


def _set_scope(args) -> int:
    from core import auth
    kw = {"region_code": _none(args.region_code), "pii": args.pii}
    if args.person_id is not None:
        kw["person_id"] = _none(args.person_id)
    auth.set_scope(_engine(args), args.username, **kw)
    print(f"user {auth.normalize_username(args.username)}: scope {_none(args.region_code) or 'none'}")
    return 0


def _reset_password(args) -> int:
    from core import auth
    pw = auth.reset_password(_engine(args), args.username, _stdin_password(args))
    if args.password_stdin:
        print(f"user {auth.normalize_username(args.username)}: password changed; sessions ended")
    else:
        _print_password(auth.normalize_username(args.username), pw)
    return 0


def _reset_totp(args) -> int:
    from core import auth
    print("TOTP enrolment URI (shown once): " + auth.reset_totp(_engine(args), args.username))
    return 0


def _list(args) -> int:
    from core import auth
    rows = auth.list_users(_engine(args))
    print(f"{'username':<20} {'role':<18} {'region':<13} {'pii':<4} {'disabled':<8} person_id")
    for r in rows:
        print(f"{r['username']:<20} {r['role']:<18} {r['region_code'] or '-':<13} {'yes' if r['pii'] else 'no':<4} "
              f"{'yes' if r['disabled'] else 'no':<8} {r['person_id'] or '-'}")
    return 0


def _run(args) -> int:
    try:
        return args.users_func(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def add_cli(sub) -> None:
    p = sub.add_parser("users", help="manage accounts (create, disable, set-role, set-scope, reset-password)")
    p.add_argument("--database-url", default=None)
    cmds = p.add_subparsers(dest="users_cmd", required=True)

    c = cmds.add_parser("create", help="create an account; prints a generated password once")
    c.add_argument("username")
    c.add_argument("--role", required=True, choices=ROLES)
    c.add_argument("--scope", default=None, help="region code (2/4/6/9/12 digits); omit for an administrator")
    c.add_argument("--pii", action="store_true", help="grant full ID numbers and names")
    c.add_argument("--person-id", default=None, help="the user's own ID number (complaints about them stay hidden)")
    c.add_argument("--password-stdin", action="store_true", help="read the password from stdin instead of generating one")
    c.set_defaults(users_func=_create)

    for name, helptext in (("disable", "disable an account and end its sessions"), ("enable", "enable an account")):
        d = cmds.add_parser(name, help=helptext)
        d.add_argument("username")
        d.set_defaults(users_func=_disable)

    r = cmds.add_parser("set-role", help="change an account's role (effective on its next request)")
    r.add_argument("username")
    r.add_argument("role", choices=ROLES)
    r.add_argument("--scope", default=None, help="also set the region code ('none' to clear)")
    r.set_defaults(users_func=_set_role)

    s = cmds.add_parser("set-scope", help="change an account's region, pii grant or linked ID number")
    s.add_argument("username")
    s.add_argument("region_code", help="region code, or 'none' (sees nothing)")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--pii", dest="pii", action="store_true", default=None)
    g.add_argument("--no-pii", dest="pii", action="store_false")
    s.add_argument("--person-id", default=None, help="the user's own ID number, or 'none'")
    s.set_defaults(users_func=_set_scope)

    w = cmds.add_parser("reset-password", help="set a new password (generated unless --password-stdin); ends sessions")
    w.add_argument("username")
    w.add_argument("--password-stdin", action="store_true")
    w.set_defaults(users_func=_reset_password)

    o = cmds.add_parser("reset-totp", help="new TOTP second factor (PASSWORD_PROFILE=mlps)")
    o.add_argument("username")
    o.set_defaults(users_func=_reset_totp)

    ls = cmds.add_parser("list", help="list accounts (no secrets)")
    ls.set_defaults(users_func=_list)

    p.set_defaults(func=_run)
