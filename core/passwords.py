"""Password policy and hashing.

Default profile (``PASSWORD_PROFILE`` unset or ``nist``), after NIST SP 800-63B §5.1.1.2:
at least 8 characters, up to 256 accepted (so 64 and more), no composition rules, no rotation,
and a blocklist: common passwords, repetitive or sequential strings, and context words (the
service: 纪委, 纪检, jiwei, 监督...; Hunan's province, city and county names; the user name).
A context word adds no strength: it is removed before the length and blocklist checks, so
``jiwei2024`` is refused while a long passphrase that happens to name 长沙 is not.

``PASSWORD_PROFILE=mlps`` adds what MLPS 2.0 level 3 (GB/T 22239-2019 8.1.4.1) assessors check:
three of four character classes, a maximum age (``PASSWORD_MAX_AGE_DAYS``, 90 by default) and a
TOTP second factor at login.

Hashes are argon2id (argon2-cffi's defaults: RFC 9106 low-memory profile).
"""
from __future__ import annotations

import functools
import os
import re
import secrets
import string
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 256

_hasher = PasswordHasher()   # argon2id

# Common passwords (the most frequent entries of the published breach corpora, international and
# Chinese). Compared after NFKC + lower case, and with leading/trailing digits and symbols removed.
COMMON = frozenset("""
123456 123456789 12345678 1234567 1234567890 12345 1234 123123 123321 111111 000000 666666 888888
88888888 11111111 00000000 654321 987654321 112233 121212 123654 147258 147258369 159753 159357
5201314 1314520 7758521 7758258 521521 520520 woaini woaini1314 woaini520 iloveyou iloveyou1
password password1 passw0rd p@ssw0rd p@ssword pass1234 passwd qwerty qwerty123 qwertyuiop qwer1234
qweasd qweasdzxc qwe123 asd123 zxc123 zxcvbn zxcvbnm asdfgh asdfghjkl 1q2w3e4r 1q2w3e 1qaz2wsx
zaq12wsx 1qazxsw2 abc123 abcd1234 abc12345 a123456 a12345678 aa123456 123456a 123456aa a1b2c3d4
qq123456 admin admin123 admin888 administrator root toor system welcome welcome1 letmein changeme
test test123 test1234 guest master monkey dragon shadow sunshine princess football baseball
superman batman trustno1 hello hello123 computer internet secret default login user
wang123 zhang123 li123456 liu123 chen123 huang123 zhao123 woaini123 aini1314 wo123456 ai123456
""".split())

# The service and its context: its words add no strength (NIST SP 800-63B: "context-specific words").
SERVICE_WORDS = ("纪委", "纪检", "监委", "监察", "监督", "互联网", "湖南", "jiwei", "jijian", "jiancha",
                 "jiandu", "hulianwang", "supervision", "dashboard", "hunan", "ccdi")
CITY_PINYIN = ("changsha", "zhuzhou", "xiangtan", "hengyang", "shaoyang", "yueyang", "changde",
               "zhangjiajie", "yiyang", "chenzhou", "yongzhou", "huaihua", "loudi", "xiangxi", "jishou")
_SUFFIXES = ("土家族苗族自治州", "苗族侗族自治县", "自治州", "自治县", "管理区", "示范区", "省", "市", "县", "区")

SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm", "01234567890",
             "1qaz2wsx3edc4rfv5tgb", "qazwsxedcrfvtgbyhnujm")


def profile() -> str:
    return "mlps" if os.environ.get("PASSWORD_PROFILE", "").strip().lower() == "mlps" else "nist"


def max_age_days() -> int | None:
    """Password rotation (mlps only): days after which a password must be changed."""
    if profile() != "mlps":
        return None
    return int(os.environ.get("PASSWORD_MAX_AGE_DAYS", "90"))


def totp_required() -> bool:
    return profile() == "mlps"


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s).casefold()


@functools.lru_cache(maxsize=1)
def region_words() -> tuple[str, ...]:
    """Province, city and county names of the shipped Hunan divisions, with their stems (长沙市 -> 长沙)."""
    words = set(CITY_PINYIN)
    try:
        from pipeline.geo.reference import load_divisions
        div = load_divisions()
        names = div.loc[div["level"].isin(["province", "city", "county"]), "name"].tolist()
    except Exception:  # pragma: no cover - the reference file is shipped
        names = []
    for name in names:
        words.add(name)
        for suf in _SUFFIXES:
            if name.endswith(suf) and len(name) - len(suf) >= 2:
                words.add(name[: -len(suf)])
                break
    return tuple(sorted(words, key=len, reverse=True))


def context_words(username: str | None = None, extra=()) -> tuple[str, ...]:
    words = {_norm(w) for w in (*SERVICE_WORDS, *region_words(), *extra) if w}
    if username and len(username) >= 3:
        words.add(_norm(username))
    return tuple(sorted(words, key=len, reverse=True))


def _strip_context(pw: str, words) -> str:
    for w in words:
        if w and w in pw:
            pw = pw.replace(w, "")
    return pw


def _is_repetitive_or_sequential(pw: str) -> bool:
    if len(set(pw)) <= 2:
        return True
    for n in (1, 2, 3, 4):   # "abab...", "abcabc..."
        if len(pw) >= 2 * n and pw == (pw[:n] * (len(pw) // n + 1))[: len(pw)]:
            return True
    for seq in SEQUENCES:
        if pw in seq or pw in seq[::-1]:
            return True
    return False


def _core(pw: str) -> str:
    """The password without leading/trailing digits and symbols: ``Password2024!`` -> ``password``."""
    return re.sub(r"^[\W\d_]+|[\W\d_]+$", "", pw)


def problems(password: str, username: str | None = None, context=(), prof: str | None = None) -> list[str]:
    """i18n keys (core/locales/auth.py) of what is wrong with the password; [] when it is acceptable."""
    prof = prof or profile()
    if not isinstance(password, str) or not password:
        return ["auth.pw.too_short"]
    out: list[str] = []
    if len(password) > MAX_LENGTH:
        return ["auth.pw.too_long"]
    pw = _norm(password)
    rest = _strip_context(pw, context_words(username, context))
    if len(password) < MIN_LENGTH:
        out.append("auth.pw.too_short")
    elif len(rest) < MIN_LENGTH:
        out.append("auth.pw.context")
    if (pw in COMMON or rest in COMMON or _core(pw) in COMMON or _core(rest) in COMMON
            or _is_repetitive_or_sequential(pw) or (rest and _is_repetitive_or_sequential(rest))):
        out.append("auth.pw.common")
    if prof == "mlps":
        classes = sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                       any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))
        if classes < 3:
            out.append("auth.pw.complexity")
    return out


def validate(password: str, username: str | None = None, context=(), prof: str | None = None) -> None:
    """Raise ValueError naming what is wrong (English: this is for the CLI and the callers' logs)."""
    found = problems(password, username, context, prof)
    if found:
        from core.i18n import t
        raise ValueError("; ".join(t(k, "en") for k in found))


def generate(length: int = 16) -> str:
    """A random password that passes both profiles: groups of 4 separated by '-' (e.g. ``Kq7m-xP3v-...``)."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "Il1O0o")
    while True:
        raw = "".join(secrets.choice(alphabet) for _ in range(length))
        pw = "-".join(raw[i:i + 4] for i in range(0, length, 4))
        if (any(c.islower() for c in pw) and any(c.isupper() for c in pw) and any(c.isdigit() for c in pw)
                and not problems(pw, prof="mlps")):
            return pw


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not there is a hash (a missing user costs the same as a wrong password)."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password or "") and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))
