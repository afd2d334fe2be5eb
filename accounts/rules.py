"""Pure domain rules for Russian organization identifiers and account security."""

from __future__ import annotations

import hashlib
import re
import secrets

from core.messages import N_

__all__ = [
    "COMMON_PASSWORDS",
    "PASSWORD_MAX_LENGTH",
    "PASSWORD_MIN_DISTINCT",
    "PASSWORD_MIN_LENGTH",
    "PROFILE_FIELDS",
    "REVIEWED_STATUSES",
    "RuleViolation",
    "TOKEN_PREFIX",
    "check_inn",
    "check_kpp",
    "check_ogrn",
    "check_org_identifiers",
    "hash_token",
    "lockout_seconds",
    "merge_pending",
    "new_token_text",
    "password_problems",
    "split_for_review",
]


class RuleViolation(ValueError):
    """A business rule was broken; the message is a user-facing English sentence (its
    translation is looked up at the edge: core.forms, core.api, docs/i18n.md)."""


# --- Organization identifiers -------------------------------------------------

# ASCII digits only: str.isdigit() would also accept e.g. Arabic-Indic or superscript digits.
_INN_RE = re.compile(r"[0-9]{10}|[0-9]{12}")
_KPP_RE = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")
_OGRN_RE = re.compile(r"[0-9]{13}|[0-9]{15}")

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

INN_REQUIRED_MESSAGE = N_("INN is required.")
INN_LENGTH_MESSAGE = N_(
    "INN must be 10 digits (organization) or 12 digits (individual entrepreneur)."
)
INN_DIGITS_MESSAGE = N_("INN must contain digits only.")
INN_CHECKSUM_MESSAGE = N_("INN checksum is wrong: check the digits.")

KPP_REQUIRED_MESSAGE = N_("KPP is required.")
KPP_FORMAT_MESSAGE = N_(
    "KPP must be 9 characters: 4 digits, 2 digits or Latin letters, then 3 digits."
)
KPP_REQUIRED_FOR_ORG_MESSAGE = N_("KPP is required for an organization.")
KPP_FORBIDDEN_FOR_IP_MESSAGE = N_("An individual entrepreneur has no KPP: leave it empty.")

OGRN_REQUIRED_MESSAGE = N_("OGRN is required.")
OGRN_LENGTH_MESSAGE = N_("OGRN must be 13 digits (OGRN) or 15 digits (OGRNIP).")
OGRN_DIGITS_MESSAGE = N_("OGRN must contain digits only.")
OGRN_CHECKSUM_MESSAGE = N_("OGRN checksum is wrong: check the digits.")
OGRN_FOR_ORG_MESSAGE = N_("An organization's OGRN must be 13 digits.")
OGRN_FOR_IP_MESSAGE = N_("An individual entrepreneur's OGRNIP must be 15 digits.")


def _weighted_control(digits: str, weights: tuple[int, ...]) -> int:
    """Return the FNS control digit: weighted sum mod 11 mod 10."""
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10


def _inn_checksum_ok(digits: str) -> bool:
    """Tell whether a 10- or 12-digit INN has correct control digit(s)."""
    if len(digits) == 10:
        return _weighted_control(digits, _INN10_WEIGHTS) == int(digits[9])
    first = _weighted_control(digits, _INN12_WEIGHTS_1)
    second = _weighted_control(digits, _INN12_WEIGHTS_2)
    return first == int(digits[10]) and second == int(digits[11])


def _ogrn_checksum_ok(digits: str) -> bool:
    """Tell whether a 13-digit OGRN or 15-digit OGRNIP has a correct control digit."""
    if len(digits) == 13:
        return int(digits[:12]) % 11 % 10 == int(digits[12])
    return int(digits[:14]) % 13 % 10 == int(digits[14])


def _is_ascii_digits(value: str) -> bool:
    """Tell whether value is non-empty and made of ASCII digits only."""
    return value != "" and all("0" <= ch <= "9" for ch in value)


def check_inn(value: str) -> str:
    """Validate an INN (10 or 12 digits with FNS checksum) and return its digits."""
    inn = (value or "").strip()
    if not inn:
        raise RuleViolation(INN_REQUIRED_MESSAGE)
    if not _INN_RE.fullmatch(inn):
        if len(inn) in (10, 12) and not _is_ascii_digits(inn):
            raise RuleViolation(INN_DIGITS_MESSAGE)
        raise RuleViolation(INN_LENGTH_MESSAGE)
    if not _inn_checksum_ok(inn):
        raise RuleViolation(INN_CHECKSUM_MESSAGE)
    return inn


def check_kpp(value: str) -> str:
    """Validate a KPP (NNNNPPNNN, P = digit or A-Z) and return it upper-cased."""
    kpp = (value or "").strip().upper()
    if not kpp:
        raise RuleViolation(KPP_REQUIRED_MESSAGE)
    if not _KPP_RE.fullmatch(kpp):
        raise RuleViolation(KPP_FORMAT_MESSAGE)
    return kpp


def check_ogrn(value: str) -> str:
    """Validate an OGRN (13 digits) or OGRNIP (15 digits) with checksum; return digits."""
    ogrn = (value or "").strip()
    if not ogrn:
        raise RuleViolation(OGRN_REQUIRED_MESSAGE)
    if not _OGRN_RE.fullmatch(ogrn):
        if len(ogrn) in (13, 15) and not _is_ascii_digits(ogrn):
            raise RuleViolation(OGRN_DIGITS_MESSAGE)
        raise RuleViolation(OGRN_LENGTH_MESSAGE)
    if not _ogrn_checksum_ok(ogrn):
        raise RuleViolation(OGRN_CHECKSUM_MESSAGE)
    return ogrn


def _problem(check, value: str) -> str | None:
    """The message of a failed check, or None."""
    try:
        check(value)
    except RuleViolation as exc:
        return str(exc)
    return None


def _kpp_problem(kind: str | None, kpp: str) -> str | None:
    if kind == "organization" and not kpp:
        return KPP_REQUIRED_FOR_ORG_MESSAGE
    if kind == "entrepreneur" and kpp:
        return KPP_FORBIDDEN_FOR_IP_MESSAGE
    return _problem(check_kpp, kpp) if kpp else None


def _ogrn_problem(kind: str | None, ogrn: str) -> str | None:
    if not ogrn:
        return None
    problem = _problem(check_ogrn, ogrn)
    if problem:
        return problem
    if kind == "organization" and len(ogrn) != 13:
        return OGRN_FOR_ORG_MESSAGE
    if kind == "entrepreneur" and len(ogrn) != 15:
        return OGRN_FOR_IP_MESSAGE
    return None


def check_org_identifiers(inn: str, kpp: str | None, ogrn: str | None) -> dict[str, str]:
    """Check INN/KPP/OGRN together; return {field: message} for every problem found."""
    inn_clean = (inn or "").strip()
    # The kind is inferred from the shape even when the checksum is wrong, so the
    # other fields still get useful feedback in the same round trip.
    kind: str | None = None
    if _is_ascii_digits(inn_clean):
        kind = {10: "organization", 12: "entrepreneur"}.get(len(inn_clean))
    problems = {
        "inn": _problem(check_inn, inn_clean),
        "kpp": _kpp_problem(kind, (kpp or "").strip()),
        "ogrn": _ogrn_problem(kind, (ogrn or "").strip()),
    }
    return {field: message for field, message in problems.items() if message}


# --- Passwords ------------------------------------------------------------------

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
PASSWORD_MIN_DISTINCT = 5
_EMAIL_LOCAL_MIN_LENGTH = 3

# Very common passwords (lower case). Short ones are also caught by the length rule,
# but keeping them here makes the message more helpful.
COMMON_PASSWORDS: frozenset[str] = frozenset(
    {
        "123456",
        "12345678",
        "123456789",
        "1234567890",
        "12345678910",
        "0987654321",
        "1111111111",
        "password",
        "password1",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "qwerty",
        "qwerty123",
        "qwerty1234",
        "qwerty12345",
        "qwerty123456",
        "qwertyuiop",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "asdfghjkl1",
        "iloveyou123",
        "letmein123",
        "welcome123",
        "admin12345",
        "administrator",
        "changeme123",
        "йцукенгшщз",
        "пароль12345",
    }
)

# Literal numbers (a message must be a literal to be extracted for translation); checked below.
PASSWORD_TOO_SHORT_MESSAGE = N_("Password must be at least 10 characters long.")
PASSWORD_TOO_LONG_MESSAGE = N_("Password must be at most 128 characters long.")
PASSWORD_DIGITS_ONLY_MESSAGE = N_("Password must not consist of digits only.")
PASSWORD_CONTAINS_EMAIL_MESSAGE = N_("Password must not contain your email name.")
PASSWORD_COMMON_MESSAGE = N_("Password is too common: choose a less predictable one.")
PASSWORD_FEW_DISTINCT_MESSAGE = N_("Password must contain at least 5 different characters.")
assert str(PASSWORD_MIN_LENGTH) in PASSWORD_TOO_SHORT_MESSAGE
assert str(PASSWORD_MAX_LENGTH) in PASSWORD_TOO_LONG_MESSAGE
assert str(PASSWORD_MIN_DISTINCT) in PASSWORD_FEW_DISTINCT_MESSAGE


def password_problems(password: str, email: str = "") -> list[str]:
    """Return every strength-policy problem of a password (empty list when acceptable)."""
    password = password or ""
    problems: list[str] = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(PASSWORD_TOO_SHORT_MESSAGE)
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(PASSWORD_TOO_LONG_MESSAGE)
    if password.isdigit():
        problems.append(PASSWORD_DIGITS_ONLY_MESSAGE)
    local_part = (email or "").strip().rpartition("@")[0]  # "" when there is no "@"
    folded = password.casefold()
    if len(local_part) >= _EMAIL_LOCAL_MIN_LENGTH and local_part.casefold() in folded:
        problems.append(PASSWORD_CONTAINS_EMAIL_MESSAGE)
    if folded in COMMON_PASSWORDS:
        problems.append(PASSWORD_COMMON_MESSAGE)
    if len(set(password)) < PASSWORD_MIN_DISTINCT:
        problems.append(PASSWORD_FEW_DISTINCT_MESSAGE)
    return problems


# --- Login throttling -----------------------------------------------------------


def lockout_seconds(
    failures: int, threshold: int, base_seconds: int = 30, cap_seconds: int = 3600
) -> int:
    """Return how long to lock a login after consecutive failures (exponential backoff)."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    if base_seconds < 0 or cap_seconds < 0:
        raise ValueError("base_seconds and cap_seconds must not be negative")
    if failures < threshold or base_seconds == 0:
        return 0
    exponent = failures - threshold
    # With base_seconds >= 1, 2 ** cap.bit_length() already exceeds the cap; this
    # avoids building huge integers for absurd failure counts.
    if exponent >= cap_seconds.bit_length():
        return cap_seconds
    return min(base_seconds * 2**exponent, cap_seconds)


# --- API tokens ----------------------------------------------------------------

TOKEN_PREFIX = "tnd_"


def new_token_text() -> str:
    """A fresh bearer token: a recognisable prefix and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(plaintext: str) -> str:
    """Storage hash of a token; tokens are 256-bit random, so plain SHA-256 is enough."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


# --- Profile changes of a verified organization ----------------------------------

# The profile an admin edits; the INN is not in it (it is the organization: a new INN is a
# new registration). Values: strings (None for an empty KPP/OGRN), is_sme a bool, roles a
# sorted list.
PROFILE_FIELDS = ("name", "kpp", "ogrn", "region_code", "is_sme", "roles")
# Statuses in which the operator has verified the profile: changes go back to the operator.
REVIEWED_STATUSES = frozenset({"accredited", "blocked"})


def _needs_review(field: str, old, new) -> bool:
    """A change needs review unless it only narrows what the organization may do."""
    if field == "roles":
        return not set(new) < set(old)  # dropping a role gives up a right: nothing to verify
    if field == "is_sme":
        return bool(new)  # claiming SME opens SME-only tenders; giving it up does not
    return True  # name, KPP, OGRN, region: what the operator checked against the registry


def split_for_review(status: str, current: dict, wanted: dict) -> tuple[dict, dict]:
    """Split a profile edit into (applies at once, waits for the operator), changed fields only.

    Until accreditation everything applies at once (the operator reviews the whole
    organization then); afterwards identity fields and widened rights wait for review.
    """
    changed = {k: v for k, v in wanted.items() if k in PROFILE_FIELDS and current.get(k) != v}
    if status not in REVIEWED_STATUSES:
        return changed, {}
    now, later = {}, {}
    for field, value in changed.items():
        (later if _needs_review(field, current.get(field), value) else now)[field] = value
    return now, later


def merge_pending(pending: dict, edited: set[str] | frozenset[str], review: dict) -> dict:
    """The pending request after an edit: a field the edit names takes its new requested
    value, or leaves the request (set back to the value in force, or applied at once);
    fields the edit does not name stay as they were requested."""
    kept = {k: v for k, v in pending.items() if k not in edited}
    return {**kept, **review}


# --- Roles of a member inside an organization -------------------------------------

# A person may hold several. administrator: members, roles and the organization's settings;
# manager: sees every procedure and bid of the organization, approves, prepares and signs;
# specialist: prepares tenders or bids and sees those they are responsible for; observer:
# sees everything, changes nothing.
MEMBER_ROLES = ("administrator", "manager", "specialist", "observer")
FOUNDER_ROLES = ("administrator", "manager")  # who registers an organization
INVITED_ROLES = ("specialist",)  # an invitation's default

# What each right needs: any one of the roles listed.
RIGHTS = {
    "administer": frozenset({"administrator"}),
    "see_all": frozenset({"administrator", "manager", "observer"}),
    "prepare": frozenset({"manager", "specialist"}),
    "approve": frozenset({"manager"}),
    "sign": frozenset({"manager", "specialist"}),
}

ROLES_REQUIRED_MESSAGE = N_("Choose at least one role.")


def may(roles, right: str) -> bool:
    """Whether a member holding these roles has the right (see RIGHTS)."""
    return not RIGHTS[right].isdisjoint(roles)


# Who acts on every procedure or bid of the organization with a right it holds; anyone
# else holding the right (a specialist) acts only on those it is responsible for.
ACTS_ON_ALL = frozenset({"manager"})


def sees(roles, responsible_ids, user_id: int) -> bool:
    """Whether a member sees an organization's procedure or bid: every one with the see_all
    right, otherwise only those the member is responsible for (or prepared)."""
    return may(roles, "see_all") or user_id in responsible_ids


def acts_on(roles, right: str, responsible_id: int | None, user_id: int) -> bool:
    """Whether a member may use the right on one procedure or bid: a manager on every one,
    a specialist only on those it is responsible for (responsible_id None: a new one)."""
    if not may(roles, right):
        return False
    return responsible_id is None or responsible_id == user_id or not ACTS_ON_ALL.isdisjoint(roles)


def roles_change_problem(old: list[str], new: list[str], administrators: int) -> str | None:
    """Why a member's roles may not become `new` (None: they may); administrators: how many
    members hold "administrator" now, this one included."""
    if "administrator" in old and "administrator" not in new and administrators <= 1:
        return LAST_ADMINISTRATOR_MESSAGE
    return None


LAST_ADMINISTRATOR_MESSAGE = N_("The last administrator keeps the administrator role.")


def check_roles(values) -> list[str]:
    """Validated, sorted, distinct roles; ValueError with a catalog message otherwise."""
    roles = sorted({str(v).strip() for v in values or () if str(v).strip()})
    if not roles:
        raise ValueError(ROLES_REQUIRED_MESSAGE)
    for role in roles:
        if role not in MEMBER_ROLES:
            raise ValueError(N_("Unknown role: %(role)s.", role=role))
    return roles
