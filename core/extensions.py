"""Unbound Flask extensions, bound to the app in the factory."""

from flask import current_app, request, session
from flask_login import LoginManager
from flask_login.config import COOKIE_NAME
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the naming convention that keeps migrations stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RememberingLoginManager(LoginManager):
    """Flask-Login with "strong" session protection that keeps remembered logins.

    Strong protection binds a session to its client (a hash of the address and the
    user agent kept in the session as ``_id``) and wipes a session presented by another
    client. Flask-Login 0.6 restores a session from the remember cookie without that
    binding, so the next request wiped it and deleted the cookie: "Keep me logged in"
    lasted one page (issue 19.6). Here a session restored from the cookie is bound to the
    client that restored it, and a session wiped by the protection is restored from the
    remember cookie, when the request has a valid one, instead of deleting it: the cookie
    is checked again (signature, user, password version) and proves the login by itself.
    A session cookie alone, copied to another client, is still refused (docs/security.md).
    """

    def _session_protection_failed(self) -> bool:
        if not super()._session_protection_failed():
            return False
        name = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
        if name not in request.cookies:
            return True
        session.pop("_remember", None)  # keep the cookie: _load_user re-validates it
        return False

    def _load_user_from_remember_cookie(self, cookie: str):
        user = super()._load_user_from_remember_cookie(cookie)
        if user is not None:
            session["_id"] = self._session_identifier_generator()
        return user


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = RememberingLoginManager()
csrf = CSRFProtect()
socketio = SocketIO()
