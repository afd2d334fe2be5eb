"""Pure rules of subscriptions, reminders, digests and unsubscribe scopes (the mail
outbox's own rules are in core/mail_rules.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from core.messages import N_

# -- subscriptions, reminders, digests -------------------------------------------------------

REMINDER_WINDOWS = (("1h", dt.timedelta(hours=1)), ("24h", dt.timedelta(hours=24)))
EXTENSION_MAIL_QUIET = dt.timedelta(hours=1)


def email_mode(by_email: bool, frequency: str) -> str:
    """How a subscription's alert is mailed: "instant", "digest" or "none"."""
    if not by_email:
        return "none"
    return "digest" if frequency == "daily" else "instant"


def strongest_email_mode(modes) -> str:
    """One alert per tender and user: instant beats digest beats none."""
    modes = set(modes)
    for mode in ("instant", "digest"):
        if mode in modes:
            return mode
    return "none"


def reminder_due(deadline: dt.datetime | None, now: dt.datetime) -> str | None:
    """Which reminder ("1h" or "24h") a bid deadline calls for now, if any: the narrowest
    window the deadline is in, so a tender published 3 hours before its deadline gets only
    the one-hour reminder and an already-sent one is never repeated (see dedupe keys)."""
    if deadline is None or deadline <= now:
        return None
    left = deadline - now
    for name, window in REMINDER_WINDOWS:
        if left <= window:
            return name
    return None


def digest_cutoff(now_local: dt.datetime, hour: int) -> dt.datetime:
    """The latest daily digest moment (local `hour`:00) at or before `now_local` (aware)."""
    today = now_local.replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if today <= now_local else today - dt.timedelta(days=1)


def extension_mail_due(last_mailed: dt.datetime | None, now: dt.datetime) -> bool:
    """Extensions can follow each other every few minutes in a bidding war: the inbox gets
    each one, mail at most one per tender and user per quiet period."""
    return last_mailed is None or now - last_mailed >= EXTENSION_MAIL_QUIET


def subscription_problems(facets: dict) -> dict[str, str]:
    """A subscription must name at least one facet (else it would match every tender) and a
    sane price range; returns {field: message} (English, marked: the edge translates)."""
    problems: dict[str, str] = {}
    if not any(facets.get(k) for k in ("categories", "regions", "keywords", "customers")):
        problems["categories"] = N_("Choose at least one category, region, keyword or customer.")
    low, high = facets.get("price_min"), facets.get("price_max")
    if low is not None and high is not None and low > high:
        problems["price_max"] = N_("The maximum price is below the minimum.")
    if not facets.get("by_email", True) and not facets.get("in_cabinet", True):
        problems["in_cabinet"] = N_("Choose email, the cabinet or both.")
    return problems


def adjust_facets(
    facets: list[dict],
    add_regions: list[str],
    drop_categories: list[str],
    within: Callable[[str, str], bool],
) -> list[dict]:
    """The feed's facets after the page widens regions and narrows categories.

    Added regions widen every subscription limited to regions. A dropped category leaves
    every subscription (with its subtree: dropping "C" drops "25.1"; `within(code, ancestor)`
    decides); a subscription left with no categories is left out, never widened to "any".
    The feed also hides tenders in the dropped categories (see notifications.feed).
    """
    out = []
    for f in facets:
        f = dict(f)
        if f.get("regions") and add_regions:
            f["regions"] = sorted(set(f["regions"]) | set(add_regions))
        if f.get("categories") and drop_categories:
            kept = [c for c in f["categories"] if not any(within(c, d) for d in drop_categories)]
            if not kept:
                continue
            f["categories"] = kept
        out.append(f)
    return out


UNSUBSCRIBE_SCOPES = ("subscription", "alerts", "tender")


def parse_scope(scope: str) -> tuple[str, int | None]:
    """'subscription:12' / 'tender:5' / 'alerts' -> (kind, id); ValueError when malformed."""
    kind, _, ident = scope.partition(":")
    if kind not in UNSUBSCRIBE_SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    if kind == "alerts":
        if ident:
            raise ValueError("alerts take no id")
        return kind, None
    if not ident.isdigit():
        raise ValueError(f"scope {scope!r} needs a numeric id")
    return kind, int(ident)
