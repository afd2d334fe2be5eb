"""Application factory: composes the domain packages into one Flask app."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from flask import Flask, jsonify
from flask_babel import lazy_gettext
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import config
from core import events, http, i18n, jobs, live
from core.extensions import csrf, db, login_manager, migrate, socketio
from core.fields import MAX_ID
from core.jobs import Periodic
from core.transaction import install_idle_ping, install_sqlite_pragmas
from tenders import commands as tender_commands

ROOT = Path(__file__).resolve().parent

# Periodic jobs (sweepers) declared as data; the scheduler (RQ) or the in-process runner runs them.
PERIODIC_JOBS = (
    Periodic("notifications.jobs.relay_outbox", interval=60, queue="emails"),
    Periodic("notifications.jobs.relay_events", interval=60),
    Periodic("notifications.jobs.send_reminders", interval=300),
    Periodic("notifications.jobs.send_digests", interval=900, queue="emails"),
    Periodic("reports.jobs.sweep_protocols", interval=300),
    Periodic("tenders.jobs.close_overdue", interval=60, queue="closing"),
    Periodic("results.jobs.evaluate_missing", interval=60),
    Periodic("results.rebidding.jobs.close_overdue", interval=60, queue="closing"),
)


def _secret_key(app: Flask) -> str:
    """A key generated once into the instance folder (development only)."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _eventlet_patched() -> bool:
    eventlet = sys.modules.get("eventlet")
    return bool(eventlet and eventlet.patcher.is_monkey_patched("socket"))


def digits_up_to(limit: int) -> str:
    """A regular expression of the whole numbers from 0 to limit (and no larger one)."""
    text = str(limit)
    alternatives = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for i, digit in enumerate(text):
        if digit != "0":
            alternatives.append(rf"{text[:i]}[0-{int(digit) - 1}]\d{{{len(text) - i - 1}}}")
    alternatives.append(text)
    return "(?:" + "|".join(alternatives) + ")"


class IdConverter(IntegerConverter):
    """<int:...> in every route: an id no row can have (past PostgreSQL's integer) matches no
    route, so it is a 404 like any unknown id, never a database error. The limit is in the
    regular expression, not only in to_python: werkzeug answers 405 when a path matched a
    rule of another method and the converter refused the value afterwards."""

    regex = digits_up_to(MAX_ID)

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def create_app(config_overrides: dict | None = None, env: dict | None = None) -> Flask:
    """Build the app; settings come from the environment (or `env`) and the overrides."""
    overrides = dict(config_overrides or {})
    environ = os.environ if env is None else env
    app = Flask(
        __name__,
        instance_path=environ.get("INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.url_map.converters["int"] = IdConverter  # before any route is declared
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config.load(overrides.pop("APP_ENV", None), environ, app.instance_path))
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app)

    if app.config["PROXY_FIX_X_FOR"]:
        # Behind N trusted proxies, the client address (login throttling) is in X-Forwarded-For.
        n = app.config["PROXY_FIX_X_FOR"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.json.ensure_ascii = False  # Cyrillic as itself in JSON answers
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_size": app.config["DB_POOL_SIZE"],
            "max_overflow": app.config["DB_MAX_OVERFLOW"],
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            install_sqlite_pragmas(db.engine, green=_eventlet_patched())
        else:
            install_idle_ping(db.engine, app.config["DB_PING_IDLE_SECONDS"])
    _init_login(app)
    csrf.init_app(app)
    if app.config["SOCKETIO_ASYNC_MODE"] == "eventlet" and not _eventlet_patched():
        # CLI commands and RQ workers are not patched (only serve.py patches): use threads.
        app.config["SOCKETIO_ASYNC_MODE"] = "threading"
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        # Redis: short timeouts to publish, reconnects within seconds; rooms follow
        # visibility changes (core/live.py)
        client_manager=live.client_manager(app.config),
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),  # None: same origin only
    )
    jobs.init_app(app, PERIODIC_JOBS, app_factory=create_app)
    events.init_app(app)
    i18n.init_app(app)
    http.init_app(app)
    tender_commands.init_app(app)
    _register_domains(app)
    return app


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"


def _register_domains(app: Flask) -> None:
    import accounts.sockets  # noqa: F401  (registers the connect handler)
    import approvals.guards  # noqa: F401  (publishing, amending, cancelling, signing a bid)
    import audit.models  # noqa: F401
    import bids.csv_models  # noqa: F401
    import bids.models  # noqa: F401
    import bids.offers  # noqa: F401  (counts the bids at a close; offers rooms)
    import core.events  # noqa: F401  (domain_events)
    import core.mail  # noqa: F401  (outgoing_emails)
    import core.models  # noqa: F401
    import notifications.commission  # noqa: F401  (the commission's votes and their mail)
    import notifications.models  # noqa: F401
    import notifications.rebidding  # noqa: F401  (re-bidding invitations and their mail)
    import positions.models  # noqa: F401
    import reports.models  # noqa: F401
    import results.jobs  # noqa: F401  (evaluates a tender when it closes)
    import results.models  # noqa: F401
    import results.offers  # noqa: F401  (the offers table once results are published)
    import results.rebidding.jobs  # noqa: F401  (re-bidding rounds and their close)
    import signatures.models  # noqa: F401
    import tenders.models  # noqa: F401
    import tenders.sockets  # noqa: F401  (watching tenders live)
    from accounts import views as accounts_views
    from approvals import views as approval_views
    from audit.commands import audit_cli
    from bids import csv_views as bid_csv_views
    from bids import views as bid_views
    from core.api import build_spec
    from core.commands import jobs_cli
    from core.files import files_cli
    from demo import demo_cli
    from notifications import handlers as notification_handlers
    from notifications import views as notification_views
    from reports import chart_views
    from reports import handlers as report_handlers
    from reports import views as report_views
    from results import commission_views
    from results import views as result_views
    from results.rebidding import views as rebidding_views
    from signatures import views as signature_views
    from signatures.commands import signatures_cli
    from tenders import api as tender_api
    from tenders import cabinet as tender_cabinet
    from tenders import views as tender_views
    from workspaces import views as workspace_views

    # Who reacts to what the domains publish (core/events.py, the packages' signals).
    notification_handlers.register(app)
    report_handlers.register(app)

    app.register_blueprint(tender_views.bp)
    app.register_blueprint(tender_api.api)
    app.register_blueprint(tender_cabinet.bp)
    app.register_blueprint(result_views.bp)
    app.register_blueprint(result_views.api)
    app.register_blueprint(commission_views.bp)
    app.register_blueprint(commission_views.api)
    app.register_blueprint(rebidding_views.api)
    app.register_blueprint(rebidding_views.bp)
    app.register_blueprint(bid_views.api)
    app.register_blueprint(bid_views.bp)
    app.register_blueprint(bid_csv_views.api)
    app.register_blueprint(bid_csv_views.bp)
    app.register_blueprint(accounts_views.bp)
    app.register_blueprint(accounts_views.api)
    app.register_blueprint(notification_views.bp)
    app.register_blueprint(notification_views.api)
    app.register_blueprint(signature_views.bp)
    app.register_blueprint(signature_views.api)
    app.register_blueprint(report_views.bp)
    app.register_blueprint(report_views.api)
    app.register_blueprint(approval_views.bp)
    app.register_blueprint(approval_views.api)
    app.register_blueprint(workspace_views.bp)
    app.register_blueprint(workspace_views.api)
    app.register_blueprint(chart_views.bp)
    app.register_blueprint(chart_views.api)

    @app.get("/api/v1/openapi.json")
    def openapi():
        """The OpenAPI 3 document, generated from the schemas."""
        return jsonify(build_spec())

    @app.get("/healthz")
    def healthz():
        """Liveness probe for the load balancer."""
        return {"status": "ok"}

    @app.get("/healthz/jobs")
    def healthz_jobs():
        """The sweepers' last runs: 200 when every one ran in time, 503 when one is overdue
        (for monitoring; the same as `flask jobs health`)."""
        from core import sweepers

        # Public like /healthz: the error texts (SQL, hosts) stay for `flask jobs health`.
        lines = [
            {k: v for k, v in line.items() if k != "last_error"}
            for line in sweepers.report(app.extensions["periodic_jobs"])
        ]
        overdue = [line["name"] for line in lines if line["overdue"]]
        body = {"status": "overdue" if overdue else "ok", "overdue": overdue, "sweepers": lines}
        return body, 503 if overdue else 200

    app.cli.add_command(audit_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(files_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(signatures_cli)


if __name__ == "__main__":
    # The web entry point is serve.py (it must patch for eventlet before any import).
    os.execv(sys.executable, [sys.executable, str(ROOT / "serve.py"), *sys.argv[1:]])
