"""The inbox counter is pushed live: a server process, an RQ worker, Redis between them, and
a real Socket.IO client logged in with the session cookie."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import socketio

from accounts.service import create_token
from core.transaction import commit
from notifications import subscriptions
from tests.e2e.api_helpers import draft_body
from tests.factories import PASSWORD, make_org, make_user

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.live


def _login(base: str, email: str) -> requests.Session:
    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + "/login").text).group(1)
    resp = s.post(
        base + "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert resp.status_code == 302, resp.text
    return s


def _worker(env: dict) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "jobs", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_unread_counter_is_pushed_to_the_users_room(app, server, smtp_server):
    base, env = server
    with app.test_request_context():
        supplier = make_user(make_org(is_customer=False, is_supplier=True))
        subscriptions.create(supplier, {"categories": ["27"], "by_email": True})
        bystander = make_user(make_org(is_customer=False, is_supplier=True))
        customer_org = make_org(is_customer=True, is_supplier=False)
        customer = make_user(customer_org)
        _, token = create_token(customer, customer_org.id, "test")
        supplier_email, bystander_email = supplier.email, bystander.email
        commit()

    def connect(email):
        http = _login(base, email)
        got: queue.Queue = queue.Queue()
        client = socketio.Client(reconnection=False)
        client.on("notification", got.put)
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        headers = {"Cookie": cookie, "User-Agent": http.headers["User-Agent"]}
        client.connect(base, headers=headers, transports=["websocket"], wait_timeout=10)
        return http, client, got

    http, client, received = connect(supplier_email)
    _, other_client, other_received = connect(bystander_email)
    try:
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"
        tender = api.post(base + "/api/v1/tenders", json=draft_body()).json()
        resp = api.post(f"{base}/api/v1/tenders/{tender['id']}/publish")
        assert resp.status_code == 200, resp.text
        _worker(env)  # delivers the event, then pushes the counters
        assert received.get(timeout=15) == {"unread": 1}
        assert other_received.empty()  # another user's room hears nothing
        assert any(m["To"] == supplier_email for m in smtp_server.messages)

        # Reading it in the cabinet pushes the new count to every open page of the user.
        page = http.get(base + "/cabinet/notifications").text
        notification_id = re.search(r'data-id="(\d+)"', page).group(1)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = http.post(
            f"{base}/cabinet/notifications/{notification_id}/read",
            data={"csrf_token": csrf},
            allow_redirects=False,
        )
        assert resp.status_code == 302
        _worker(env)
        assert received.get(timeout=15) == {"unread": 0}
    finally:
        client.disconnect()
        other_client.disconnect()
