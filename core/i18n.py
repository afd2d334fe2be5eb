"""The interface language: Flask-Babel, Russian by default, English second (docs/i18n.md).

The language of a request: the user's setting (users.locale) when logged in, else the `lang`
cookie (set by the switch), else the best of Accept-Language, else the default
(BABEL_DEFAULT_LOCALE, "ru"). Anything unknown or malformed falls back silently.
Outside a request (jobs, mail) the default applies unless a caller forces one
(`flask_babel.force_locale`, e.g. the recipient's language)."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

from flask import Flask, appcontext_pushed, current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context
from markupsafe import Markup

from core.messages import N_  # noqa: F401  (the one catalog marker)

log = logging.getLogger(__name__)

LANGUAGES = ("ru", "en")
DEFAULT = "ru"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

babel = Babel()


# marshmallow's own words, translated by core.api.translate where errors are answered.
MARSHMALLOW_MESSAGES = (
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid boolean."),
    N_("Not a valid email address."),
    N_("Not a valid list."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Unknown field."),
    N_("Invalid input type."),
)


def supported(value: str | None) -> str | None:
    """A language code of the platform ("ru", "en"), or None for anything else."""
    value = (value or "").strip().lower()[:8]
    return value if value in LANGUAGES else None


def default_language() -> str:
    return supported(current_app.config.get("BABEL_DEFAULT_LOCALE")) or DEFAULT


def _from_accept_language() -> str | None:
    try:  # werkzeug parses leniently; a malformed header gives no match
        return request.accept_languages.best_match(LANGUAGES)
    except (ValueError, TypeError):  # pragma: no cover - defensive
        return None


def select_language() -> str:
    """The language of this request (see the module's docstring)."""
    if not has_request_context():
        return default_language()
    from flask_login import current_user

    user = g.get("api_user") or current_user  # a bearer token's user, or the session's
    user_lang = getattr(user, "locale", None) if user else None
    return (
        supported(user_lang)
        or supported(request.cookies.get(COOKIE))
        or _from_accept_language()
        or default_language()
    )


def language() -> str:
    """The current language code: "ru" or "en" (cached per request by Flask-Babel)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def compile_catalogs(directory: Path = TRANSLATIONS) -> None:
    """Compile a catalog (.po) whose .mo is missing or older: a fresh checkout runs without
    `make compile`. The .mo files are build output, not committed."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in directory.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as f:
                catalog = read_po(f)
            tmp = mo.with_suffix(".mo.tmp")
            with tmp.open("wb") as f:
                write_mo(f, catalog)
            tmp.replace(mo)
        except OSError:  # a read-only install: the packaged .mo files are used
            log.warning("could not compile %s", po)


# The words of stored values (statuses, roles) as pages show them: templates call
# tender_status(s), accreditation_label(s), role_label(r), and the org_role filter.
# English keeps the values' own words; add a kind here rather than in a template.
LABELS = {
    "tender_status": {
        "draft": _l("draft"),
        "published": _l("published"),
        "closed": _l("closed"),
        "results_published": _l("results published"),
        "cancelled": _l("cancelled"),
        "unsuccessful": _l("unsuccessful"),
    },
    "accreditation": {
        "pending": _l("pending"),
        "accredited": _l("accredited"),
        "rejected": _l("rejected"),
        "blocked": _l("blocked"),
    },
    "role": {
        "administrator": _l("administrator"),
        "manager": _l("manager"),
        "specialist": _l("specialist"),
        "observer": _l("observer"),
    },
    "role_hint": {
        "administrator": _l("members, roles and settings"),
        "manager": _l("sees every procedure and bid, approves, prepares and signs"),
        "specialist": _l("prepares tenders or bids, sees those in their charge"),
        "observer": _l("sees everything, changes nothing"),
    },
    "change": {
        "pending": _l("pending"),
        "accepted": _l("accepted"),
        "rejected": _l("rejected"),
        "withdrawn": _l("withdrawn"),
    },
    "org_role": {"customer": _l("customer"), "supplier": _l("supplier")},
}


def label(kind: str, value) -> str:
    """The word of a stored value in the current language (the value itself if unknown)."""
    key = getattr(value, "value", value)  # enums
    found = LABELS.get(kind, {}).get(key)
    return str(found) if found is not None else str(key).replace("_", " ")


def _template_gettext() -> dict:
    """Jinja's newstyle _(), gettext and ngettext bound to this render's catalog: looked up
    once per render (each lookup through Flask-Babel costs about 60 µs, and a notice page
    holds a hundred labels); a render inside force_locale gets that language's catalog."""
    translations = get_translations()

    @pass_context
    def gettext(context, string, /, **variables):
        text = translations.ugettext(string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context, singular, plural, num, /, **variables):
        variables.setdefault("num", num)
        text = translations.ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return {"gettext": gettext, "ngettext": ngettext}  # Jinja's _() calls this gettext


def _babel_slot(sender, **extra) -> None:
    g._flask_babel = SimpleNamespace()


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    compile_catalogs()
    babel.init_app(app, locale_selector=select_language)
    # flask_babel.force_locale does nothing while `g` is empty (a job's or a worker's fresh
    # app context): give every app context Flask-Babel's slot so mail and pushes made
    # outside a request are worded in their recipient's language.
    appcontext_pushed.connect(_babel_slot, app)

    @app.context_processor
    def _language():
        return {"lang": language(), "languages": LANGUAGES, **_template_gettext()}

    app.add_template_global(lambda s: label("tender_status", s), "tender_status")
    app.add_template_global(lambda s: label("accreditation", s), "accreditation_label")
    app.add_template_global(lambda r: label("role", r), "role_label")
    app.add_template_filter(lambda r: label("role", r), "role_label")
    app.add_template_global(lambda r: label("role_hint", r), "role_hint")
    app.add_template_global(tuple(LABELS["role"]), "member_roles")
    app.add_template_filter(lambda r: label("org_role", r), "org_role")
