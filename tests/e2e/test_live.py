"""Live channel end to end: a server process, an RQ worker process, Redis in between, and a
real Socket.IO client logged in with the session cookie."""

from __future__ import annotations

import datetime as dt
import queue
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import socketio

from core.transaction import commit
from tests.factories import PASSWORD, make_org, make_user

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.live
# How long a "nothing arrives" check waits for the unwanted event (see where it is used).
NOTHING_WAIT = 1.0


def _queued(redis_url: str) -> list[str]:
    """The jobs waiting in the default queue (what no worker has run yet), by path."""
    from redis import Redis
    from rq import Queue

    return [job.args[0] for job in Queue("default", connection=Redis.from_url(redis_url)).jobs]


def _browser_login(base: str, email: str) -> requests.Session:
    s = requests.Session()
    page = s.get(base + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = s.post(
        base + "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert resp.status_code == 302, resp.text
    return s


def _committed_people(app):
    with app.app_context():
        org = make_org(accreditation_status="pending")
        user = make_user(org)
        operator = make_user(is_operator=True)
        ids = (org.id, user.email, operator.email)
        commit()
    return ids


@pytest.mark.parametrize("server", ["eventlet", "threading"], indirect=True)
def test_event_from_rq_job_reaches_logged_in_socket_client(app, server, smtp_server):
    base, env = server
    org_id, user_email, operator_email = _committed_people(app)

    # The supplier's browser: logged in, connected to Socket.IO with its session cookie.
    user_http = _browser_login(base, user_email)
    received: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("accreditation", received.put)
    cookie = "; ".join(f"{c.name}={c.value}" for c in user_http.cookies)
    # Same User-Agent as the HTTP session: Flask-Login's strong session protection checks it.
    headers = {"Cookie": cookie, "User-Agent": user_http.headers["User-Agent"]}
    client.connect(base, headers=headers, transports=["websocket"], wait_timeout=10)
    try:
        # The operator accredits in the web process; that enqueues an RQ job.
        operator_http = _browser_login(base, operator_email)
        page = operator_http.get(base + "/operator/accreditation").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = operator_http.post(
            f"{base}/operator/accreditation/{org_id}",
            data={"decision": "accredit", "csrf_token": token},
            allow_redirects=False,
        )
        assert resp.status_code == 302
        # Nothing is pushed until a worker runs the job: the job waits in Redis, and no
        # event comes within a bounded wait. Bounded because "never" cannot be awaited; a
        # push from the web process itself (at its commit, or from a thread soon after)
        # would arrive well within this second.
        assert "accounts.jobs.push_accreditation" in _queued(env["REDIS_URL"])
        with pytest.raises(queue.Empty):
            received.get(timeout=NOTHING_WAIT)

        # A real RQ worker process (no monkey-patching) runs the job and emits via Redis.
        worker = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "jobs", "worker", "--burst"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert worker.returncode == 0, worker.stderr
        event = received.get(timeout=15)
        assert event["organization_id"] == org_id and event["status"] == "accredited"
        assert "accredited" in event["message"]
        # The worker also delivered the decision mail through SMTP.
        assert any(m["To"] == user_email for m in smtp_server.messages)
    finally:
        client.disconnect()


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_cross_origin_socket_connection_is_refused(app, server):
    base, _ = server
    _, user_email, _ = _committed_people(app)
    http = _browser_login(base, user_email)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            base,
            headers={
                "Cookie": cookie,
                "Origin": "http://evil.example",
                "User-Agent": http.headers["User-Agent"],
            },
            transports=["websocket"],
            wait_timeout=5,
        )


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_watcher_sees_the_deadline_move_when_another_supplier_bids(app, server):
    from tests.e2e.bidding_helpers import bidder, submit_to_server, tender_in_window

    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client)
    deadline = dt.datetime.fromisoformat(tender["bid_deadline"])
    watcher_email = _committed_people(app)[1]
    b = bidder(app, client)

    # Supplier A watches the tender in its browser session.
    http = _browser_login(base, watcher_email)
    events: queue.Queue = queue.Queue()
    sio = socketio.Client(reconnection=False)
    sio.on("deadline_extended", events.put)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    sio.connect(
        base,
        headers={"Cookie": cookie, "User-Agent": http.headers["User-Agent"]},
        transports=["websocket"],
        wait_timeout=10,
    )
    try:
        state = sio.call("watch_tender", {"tender_id": tender["id"]}, timeout=10)
        assert state["ok"] and dt.datetime.fromisoformat(state["deadline"]) == deadline
        # Supplier B bids through the server's API inside the window.
        resp = submit_to_server(base, b, tender["id"], {"1": "100.00"})
        assert resp.status_code == 201, resp.text
        event = events.get(timeout=10)
        assert event["tender_id"] == tender["id"]
        assert dt.datetime.fromisoformat(event["previous"]) == deadline
        assert dt.datetime.fromisoformat(event["deadline"]) == deadline + dt.timedelta(minutes=30)
        assert event["server_time"]
    finally:
        sio.disconnect()
