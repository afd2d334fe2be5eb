"""The eventlet web process under slow and excess connections (serve.py, core/webserver.py)."""

from __future__ import annotations

import re
import socket
import threading
from contextlib import ExitStack
from urllib.parse import urlparse

import pytest
import requests
import socketio

from core.transaction import commit
from tests.factories import PASSWORD, make_user

LIMIT = 6
SMALL = {
    "WEB_MAX_CONNECTIONS": str(LIMIT),
    "WEB_HEADER_TIMEOUT": "2",
    "WEB_BODY_TIMEOUT": "1",
    "WEB_BODY_MIN_RATE": "1000000",
}
pytestmark = [
    pytest.mark.parametrize("server", [{"mode": "eventlet", **SMALL}], indirect=True),
    pytest.mark.production_layout,
]


def _connect(base: str, stack: ExitStack) -> socket.socket:
    url = urlparse(base)
    sock = stack.enter_context(socket.create_connection((url.hostname, url.port), timeout=15))
    return sock


def _slow_head(base: str, stack: ExitStack) -> socket.socket:
    """A client that starts a request and never finishes its headers."""
    sock = _connect(base, stack)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (b'' when it closes without a word)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def test_slow_heads_are_cut_health_answers_and_past_the_limit_503(server):
    base, _ = server
    with ExitStack() as stack:
        slow = [_slow_head(base, stack) for _ in range(LIMIT - 1)]
        # One slot is left: /healthz gets it. The server closes the connection (and frees the
        # slot, in the same step) before the client reads to the end.
        health = _connect(base, stack)
        health.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert _answer(health).startswith(b"HTTP/1.1 200 OK\r\n")
        slow.append(_slow_head(base, stack))
        # Every slot is taken now (until the head timeout): the next connection is refused.
        extra = _connect(base, stack)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = _answer(extra)
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert b"Retry-After: 5" in answer and b"connection limit" in answer
        # Each slow client is disconnected after the head timeout, with no answer; the
        # socket timeout (15 s) fails the test if the server keeps waiting.
        assert [_answer(sock) for sock in slow] == [b""] * len(slow)
    # Once the slow clients are cut, the process serves again.
    assert requests.get(base + "/healthz", timeout=5).ok


def test_a_slow_body_is_cut_with_408(server):
    base, _ = server
    with ExitStack() as stack:
        sock = _connect(base, stack)
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 1000\r\n\r\nemail=a"
        )
        answer = _answer(sock)
    head = answer.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"Connection: close" in head
    assert requests.get(base + "/healthz", timeout=5).ok


def test_a_slow_body_nobody_reads_is_cut_after_the_answer(server):
    base, _ = server
    with ExitStack() as stack:
        sock = _connect(base, stack)
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\nx")
        answer = _answer(sock)  # the answer, then the end: not kept open for the body
    assert answer.startswith(b"HTTP/1.1 405 ")


def test_a_quiet_websocket_outlives_the_head_timeout(app, server):
    base, _ = server
    with app.app_context():
        email = make_user().email
        commit()
    with requests.Session() as http:
        page = http.get(base + "/login", timeout=5).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        login = {"email": email, "password": PASSWORD, "csrf_token": token}
        assert http.post(base + "/login", data=login, allow_redirects=False).status_code == 302
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        agent = http.headers["User-Agent"]
    client = socketio.Client(reconnection=False)
    client.connect(
        base,
        headers={"Cookie": cookie, "User-Agent": agent},
        transports=["websocket"],
        wait_timeout=10,
    )
    try:
        # Quiet for longer than the head timeout (2 s): only heads and bodies are timed.
        disconnected = threading.Event()
        client.on("disconnect", disconnected.set)
        assert not disconnected.wait(3)
        answer = client.call("watch_tender", {"tender_id": 0}, timeout=10)
        assert answer == {"ok": False, "error": "No such tender."}
    finally:
        client.disconnect()
