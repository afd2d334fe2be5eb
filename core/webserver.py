"""The eventlet web server with deliberate limits (see docs/capacity.md).

eventlet.wsgi.server as Flask-SocketIO starts it waits forever for a request's headers and
body, and once its pool of 1,024 connections is full it stops accepting: new connections,
/healthz included, wait in the kernel's backlog until their clients give up, and run later.
Here: the file-descriptor limit is raised and the pool sized from it; a request head must
arrive within WEB_HEADER_TIMEOUT and a body within its deadline; a connection past the pool
is answered 503 at once. Established websockets and long-polls are not timed: they are long
lived by design. Imported only by serve.py, after eventlet has patched the standard library.
"""

from __future__ import annotations

import logging
import resource
import socket
import time

import eventlet
import eventlet.wsgi
from eventlet import greenio
from werkzeug.exceptions import RequestTimeout

from core import capacity

log = logging.getLogger(__name__)

_BUSY = b"This server is at its connection limit. Please try again in a moment.\n"
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Retry-After: 5\r\n"
    b"Connection: close\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_BUSY), _BUSY)
)


# A client that reads the 503 closes at once; one that does not (a slow client) is given
# this long before the connection is closed, so that its refusal slot is soon free again.
REFUSAL_DRAIN = 0.25


class HeadTimeout(TimeoutError):
    """The request line and headers did not arrive in time (caught by eventlet's server)."""


def raise_fd_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = capacity.fd_target(soft, hard, resource.RLIM_INFINITY)
    if target != soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            log.warning("could not raise the file-descriptor limit from %s to %s", soft, target)
            return soft
    return target


class DeadlineInput:
    """wsgi.input that raises 408 (and closes the connection) once the body is overdue."""

    def __init__(self, inner, seconds: float, on_expired):
        self._inner, self._on_expired = inner, on_expired
        self._deadline = time.monotonic() + seconds
        # After a response, eventlet discards the unread rest of the body to keep the
        # connection: on the same deadline, or a slow client would hold it read by read.
        self._discard, inner.discard = inner.discard, self._discard_in_time

    def _discard_in_time(self, *args):
        try:
            return self._call(self._discard, *args)
        except RequestTimeout:
            raise OSError("the request body did not arrive in time") from None

    def _call(self, method, *args):
        remaining = self._deadline - time.monotonic()
        if remaining > 0:
            timer = eventlet.Timeout(remaining)
            try:
                return method(*args)
            except eventlet.Timeout as fired:
                if fired is not timer:
                    raise  # someone else's timeout
            finally:
                timer.cancel()
        self._on_expired()
        raise RequestTimeout("The request body did not arrive in time.")

    def read(self, *args):
        """Read, within the body's deadline."""
        return self._call(self._inner.read, *args)

    def readline(self, *args):
        """Read a line, within the body's deadline."""
        return self._call(self._inner.readline, *args)

    def readlines(self, *args):
        """Read lines, within the body's deadline."""
        return self._call(self._inner.readlines, *args)

    def __iter__(self):
        while line := self.readline():
            yield line

    def __getattr__(self, name):
        if name == "readinto":  # werkzeug would use it if present: keep reads on the deadline
            raise AttributeError(name)
        return getattr(self._inner, name)


class GuardedProtocol(eventlet.wsgi.HttpProtocol):
    """eventlet's protocol with a deadline on the request head and on the body."""

    header_timeout = 20.0
    body_timeout = 30.0
    body_min_rate = 100_000
    _head_timer = None

    def _read_request_line(self):
        # One deadline from the moment the connection is ready for a request (accepted, or
        # its previous response sent) to the end of its headers: idle keep-alive included.
        self._head_timer = eventlet.Timeout(self.header_timeout, HeadTimeout())
        return super()._read_request_line()

    def _cancel_head_timer(self):
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def parse_request(self):
        """Parse the headers, still under the head deadline."""
        try:
            return super().parse_request()
        finally:
            self._cancel_head_timer()

    def handle_one_request(self):
        """One request; the head deadline never outlives its head."""
        try:
            super().handle_one_request()
        finally:
            self._cancel_head_timer()

    def get_environ(self):
        """The WSGI environ, its input bounded by the body deadline."""
        env = super().get_environ()
        length = env.get("CONTENT_LENGTH")
        seconds = capacity.body_deadline(
            int(length) if length and length.isdigit() else None,
            self.body_timeout,
            self.body_min_rate,
        )
        env["wsgi.input"] = DeadlineInput(env["wsgi.input"], seconds, self._close_after)
        return env

    def _close_after(self):
        self.close_connection = 1


class RefusingPool(eventlet.GreenPool):
    """A pool that answers 503 at once when full instead of blocking the accept loop (which
    would leave new connections queued in the backlog, to run after their clients left)."""

    def __init__(self, size: int, refusals: int):
        super().__init__(size)
        self._refusals = eventlet.GreenPool(refusals)
        self.refused = 0
        self._last_warning = 0.0

    def spawn(self, function, *args, **kwargs):
        """Serve the connection, or refuse it when every slot is taken."""
        if self.free() > 0:
            return super().spawn(function, *args, **kwargs)
        self.refused += 1
        self._warn()
        if self._refusals.free() > 0:
            return self._refusals.spawn(refuse, args[0][1])
        return eventlet.spawn(greenio.shutdown_safe, args[0][1])  # closed by the server

    def _warn(self):
        now = time.monotonic()
        if now - self._last_warning >= 10:
            self._last_warning = now
            log.warning(
                "connection limit %s reached: %s connection(s) refused with 503 so far",
                self.size,
                self.refused,
            )


def refuse(sock) -> None:
    """Answer 503 and close; read what the client sent first so that closing does not reset
    the connection before the client has read the answer."""
    sock.settimeout(REFUSAL_DRAIN)
    try:
        sock.sendall(REFUSAL)
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + REFUSAL_DRAIN
        while time.monotonic() < deadline and sock.recv(65536):
            pass
    except OSError:
        pass


def serve(app, host: str, port: int) -> None:
    """Listen and serve `app` (the Flask app wrapped by Flask-SocketIO) until stopped."""
    cfg = app.config
    nofile = raise_fd_limit()
    refusals = cfg["WEB_REFUSALS"]
    reserved = refusals + cfg["DB_POOL_SIZE"] + cfg["DB_MAX_OVERFLOW"]
    size = capacity.connection_limit(cfg["WEB_MAX_CONNECTIONS"], nofile, reserved)
    if size < cfg["WEB_MAX_CONNECTIONS"]:
        log.warning(
            "WEB_MAX_CONNECTIONS %s lowered to %s: %s file descriptors",
            cfg["WEB_MAX_CONNECTIONS"],
            size,
            nofile,
        )
    protocol = type(
        "Protocol",
        (GuardedProtocol,),
        {
            "header_timeout": cfg["WEB_HEADER_TIMEOUT"],
            "body_timeout": cfg["WEB_BODY_TIMEOUT"],
            "body_min_rate": cfg["WEB_BODY_MIN_RATE"],
        },
    )
    family = socket.getaddrinfo(host, port)[0][0]
    listener = eventlet.listen((host, port), family, backlog=cfg["WEB_BACKLOG"])
    print(
        f"Connections: at most {size} at once (file descriptors {nofile}), "
        f"head timeout {cfg['WEB_HEADER_TIMEOUT']} s, body timeout {cfg['WEB_BODY_TIMEOUT']} s",
        flush=True,
    )
    eventlet.wsgi.server(
        listener,
        app,
        custom_pool=RefusingPool(size, refusals),
        protocol=protocol,
        socket_timeout=cfg["WEB_SOCKET_TIMEOUT"] or None,
        keepalive=True,
        log_output=False,
        debug=False,
    )
