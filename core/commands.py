"""`flask jobs ...`: the RQ worker, the periodic scheduler, a job by hand, the health check.

The worker and the scheduler ride out Redis outages: RQ's own loops stop on a Redis error
(rq/cron.py's start() and register_death(), the worker's heartbeat and teardown), so each
runs under a supervising loop that starts it again with a capped exponential backoff and says
so in the log. Only a stop request (SIGTERM, Ctrl+C) ends them (docs/operations.md)."""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup
from redis.exceptions import RedisError

from core import jobs, live, redis_guard, sweepers

jobs_cli = AppGroup("jobs", help="Background jobs (RQ on Redis).")
log = logging.getLogger(__name__)

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
# A worker takes jobs from its queues in this order: closes first (they are due at a moment),
# then the default queue (events, evaluations, sweepers), then mail.
WORKER_ORDER = ("closing", "default", "emails")


class _Stop(Exception):
    """A stop was requested while waiting to start again."""


def _stop(signum, frame):
    raise _Stop


def supervise(name: str, run_once: Callable[[], bool], sleep=time.sleep) -> None:
    """Call run_once() until it returns True (stop requested); after a Redis error, or a
    return of False (it gave up on its own), wait 1, 2, 4... up to 30 s and call it again.
    The wait starts from 1 s again once a run has lasted longer than the longest wait."""
    delay = BACKOFF_FIRST
    while True:
        started = time.monotonic()
        try:
            if run_once():
                return
            reason = "it stopped on an error"
        except RedisError as error:
            reason = f"Redis {type(error).__name__}: {error}"
        if time.monotonic() - started > BACKOFF_MAX:
            delay = BACKOFF_FIRST
        log.warning("%s: %s; starting again in %.0f s", name, reason, delay)
        if not _wait(delay, sleep):
            log.info("%s: stop requested while waiting; exiting", name)
            return
        delay = min(delay * 2, BACKOFF_MAX)


def _wait(delay: float, sleep) -> bool:
    """Sleep; False if SIGTERM/SIGINT came meanwhile (RQ's handlers would only set a flag
    of the object that gave up)."""
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        sleep(delay)
        return True
    except _Stop:
        return False
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _backend() -> jobs.RQBackend:
    backend = current_app.extensions["jobs"]
    if not isinstance(backend, jobs.RQBackend):
        raise click.ClickException("Set REDIS_URL to run RQ workers (jobs now run in-process).")
    return backend


def _logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
        )


@jobs_cli.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run an RQ worker on the named queues (default: all, closes first), with the scheduler
    for enqueue_at."""
    from redis import Redis
    from rq import Queue, Worker

    backend = _backend()
    live.use_external_emitter(
        current_app.config["REDIS_URL"],
        current_app.config["SOCKETIO_CHANNEL"],
        current_app.config["REDIS_TIMEOUT"],
        current_app.config["REDIS_PAUSE"],
    )
    names = queues or WORKER_ORDER
    unknown = set(names) - set(jobs.QUEUES)
    if unknown:
        raise click.BadParameter(f"unknown queue(s): {', '.join(sorted(unknown))}")
    _logging()
    # Its own connection: RQ sets the socket timeout it needs for its blocking dequeue.
    connection = Redis.from_url(backend.redis_url, socket_connect_timeout=5)

    def run_once() -> bool:
        w = Worker([Queue(n, connection=connection) for n in names], connection=connection)
        w.max_connection_wait_time = BACKOFF_MAX  # RQ's own retry of a lost Redis: 60 s at most
        # The worker runs inside this app context, so jobs reuse the app instead of building one.
        try:
            w.work(burst=burst, with_scheduler=True)
        except RedisError:
            if w._stop_requested:  # asked to stop: Redis failed its goodbye (teardown)
                return True
            raise
        return burst or w._stop_requested  # otherwise RQ gave up (a Redis timeout, an error)

    supervise("worker", run_once)


@jobs_cli.command("scheduler")
def scheduler() -> None:
    """Enqueue the periodic jobs (sweepers) at their intervals; run one per deployment."""
    from rq.cron import CronScheduler

    backend = _backend()
    _logging()
    connection = redis_guard.client(
        backend.redis_url, current_app.config["SCHEDULER_REDIS_TIMEOUT"]
    )

    def run_once() -> bool:
        # A new scheduler each time: every sweeper runs as it starts (after an outage, at once).
        cron = CronScheduler(connection=connection, name="tenders-periodic")
        for p in current_app.extensions["periodic_jobs"]:
            cron.register(
                jobs.run_job, queue_name=p.queue, args=(p.path,), interval=p.interval, name=p.path
            )
        stop = []
        request_stop = cron._request_stop

        def note_stop(signum, frame):
            stop.append(signum)
            request_stop(signum, frame)

        cron._request_stop = note_stop  # start() installs it as the SIGTERM/SIGINT handler
        try:
            cron.start()  # returns on SIGTERM/Ctrl+C; raises on a Redis error
        except RedisError:
            if stop:  # asked to stop: Redis failed its goodbye (register_death)
                return True
            raise
        return True

    supervise("scheduler", run_once)


@jobs_cli.command("run")
@click.argument("path")
@click.argument("args", nargs=-1, type=int)
def run(path: str, args: tuple[int, ...]) -> None:
    """Run one job now in this process (for operators: e.g. notifications.jobs.relay_outbox)."""
    click.echo(repr(jobs.run_job(path, *args)))


@jobs_cli.command("health")
def health() -> None:
    """Print each sweeper's last run; exit 1 when one is overdue (for monitoring)."""
    lines = sweepers.report(current_app.extensions["periodic_jobs"])
    for line in lines:
        state = "OVERDUE" if line["overdue"] else "ok"
        click.echo(
            f"{state:8} {line['name']:40} every {line['interval']:>4} s  "
            f"last ok {line['last_success_at'] or 'never'}"
            + (f"  last failure {line['last_failure_at']}" if line["last_failure_at"] else "")
        )
        if line["last_error"]:
            click.echo(f"{'':8} {line['last_error']}")
    if any(line["overdue"] for line in lines):
        sys.exit(1)
