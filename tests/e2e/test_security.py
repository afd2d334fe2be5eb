"""Headers, cookies, limits and error pages."""

import pytest

from tests.e2e.helpers import csrf_of, login
from tests.factories import make_org, make_user


def _logged_in(client, email: str):
    """Log in and check it worked (to the cabinet), so no test goes on as an anonymous one."""
    resp = login(client, email)
    assert resp.status_code == 302 and resp.headers["Location"] == "/cabinet", resp.status_code
    return resp


def test_security_headers_and_strict_csp(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    # Sockets only to this site ('self' covers ws: and wss: of the same host in CSP 3).
    assert "connect-src 'self';" in csp and "ws:" not in csp and "wss:" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Cache-Control"] == "no-store"


def test_pages_carry_no_inline_script_or_style(client, db):
    import re

    user = make_user(make_org())
    _logged_in(client, user.email)
    for url in ("/", "/login", "/register", "/cabinet", "/members", "/tokens"):
        page = client.get(url)
        assert page.status_code == 200, url  # the page itself, not a redirect to /login
        html = page.get_data(as_text=True)
        # Inline code is forbidden; JSON data islands (never executed) are allowed.
        inline = r'<script(?![^>]*\bsrc=)(?![^>]*type="application/json")[^>]*>'
        assert not re.search(inline, html), url
        assert " style=" not in html and not re.search(r"\son[a-z]+=", html), url


def test_session_cookie_flags(client, db):
    user = make_user(make_org())
    resp = _logged_in(client, user.email)
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_error_pages_leak_nothing(app, client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404
    text = resp.get_data(as_text=True)
    assert "Traceback" not in text and "Not found" in text


def test_unexpected_error_is_a_plain_500(tmp_path):
    from app import create_app

    fresh = create_app(
        {"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"},
        env={"INSTANCE_PATH": str(tmp_path)},
    )

    @fresh.get("/__boom")
    def boom():
        raise RuntimeError("secret detail")

    resp = fresh.test_client().get("/__boom")
    assert resp.status_code == 500
    assert "secret detail" not in resp.get_data(as_text=True)


def test_oversized_request_is_refused(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    resp = client.post("/api/v1/tokens", data=b"x" * (limit + 1), content_type="application/json")
    assert resp.status_code == 413
    assert "limit" in resp.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "///evil.example/",  # a path to urlsplit, a host to browsers
        "/%09/evil.example",  # browsers drop the tab: //evil.example
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        "/%5Cevil.example",  # a backslash reads as a slash
        "%5C%5Cevil.example",
        "%20//evil.example",
        "https://evil.example/",
        "https:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_open_redirect_after_login_is_refused(client, db, target):
    user = make_user(make_org())
    token = csrf_of(client, f"/login?next={target}")
    resp = client.post(
        f"/login?next={target}",
        data={"email": user.email, "password": "Correct-horse-42", "csrf_token": token},
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/cabinet"


def test_redirect_after_login_keeps_a_local_path(client, db):
    user = make_user(make_org())
    token = csrf_of(client, "/login")
    resp = client.post(
        "/login?next=%2Ftenders%3Fq%3D%D0%BA%D0%B0%D0%B1%D0%B5%D0%BB%D1%8C%26page%3D2",
        data={"email": user.email, "password": "Correct-horse-42", "csrf_token": token},
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/tenders?q=%D0%BA%D0%B0%D0%B1%D0%B5%D0%BB%D1%8C&page=2"


@pytest.mark.parametrize(
    ("referrer", "expected"),
    [
        ("http://localhost/tenders?page=2", "/tenders?page=2"),
        ("http://evil.example/tenders", "/cabinet"),
        ("http://localhost.evil.example/", "/cabinet"),
        ("http://localhost@evil.example/", "/cabinet"),
        ("https://localhost/tenders", "/cabinet"),  # another scheme is another site
        ("http://localhost//evil.example/", "/cabinet"),
        ("http://localhost///evil.example/", "/cabinet"),
        ("http://localhost/\\evil.example", "/cabinet"),
    ],
)
def test_switching_organization_returns_only_to_this_site(client, db, referrer, expected):
    org = make_org()
    user = make_user(org)
    _logged_in(client, user.email)
    resp = client.post(
        "/switch-org",
        data={"org_id": org.id, "csrf_token": csrf_of(client, "/cabinet")},
        headers={"Referer": referrer},
    )
    assert resp.status_code == 302 and resp.headers["Location"] == expected
