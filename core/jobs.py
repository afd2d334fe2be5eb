"""Background jobs: RQ on Redis when REDIS_URL is set, an in-process runner otherwise.

Jobs are named by dotted path and take primitive arguments (ids), never ORM objects.
Every job runs inside an application context and commits its own unit of work.
"""

from __future__ import annotations

import datetime as dt
import heapq
import importlib
import itertools
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from flask import Flask, current_app, has_app_context

from core import clock, redis_guard, sweepers
from core.extensions import db
from core.transaction import after_commit, rollback

log = logging.getLogger(__name__)

QUEUES = ("default", "emails", "closing")
_JOB_ID = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Periodic:
    """A job run every `interval` seconds (sweepers)."""

    path: str
    interval: int
    queue: str = "default"


def resolve(path: str):
    """Import a job function from its dotted path."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


_app_factory: Callable[[], Flask] | None = None
_worker_app: Flask | None = None


def run_job(path: str, *args) -> object:
    """Entry point of every job: find the function, run it inside an app context (a worker
    without one builds its app once, with the factory given to init_app)."""
    if has_app_context():
        return _run_here(path, args)
    global _worker_app
    if _worker_app is None:
        if _app_factory is None:
            raise RuntimeError("no application for jobs: start workers with `flask jobs worker`")
        _worker_app = _app_factory()
    with _worker_app.app_context():
        return _run_here(path, args)


def _run_here(path: str, args: tuple) -> object:
    periodic = not args and any(p.path == path for p in current_app.extensions["periodic_jobs"])
    try:
        result = resolve(path)(*args)
    except Exception as error:
        if periodic:
            _record(sweepers.record_failure, path, error)
        raise
    else:
        if periodic:
            _record(sweepers.record_success, path, result)
        return result
    finally:
        db.session.remove()


def _record(how, path: str, outcome: object) -> None:
    """Record a sweeper's run for the health check; never fail the job over it."""
    try:
        how(path, outcome)
    except Exception:
        rollback()
        log.exception("recording the run of sweeper %s failed", path)


def enqueue(
    path: str,
    *args,
    queue: str = "default",
    job_id: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Enqueue a job once the current transaction commits."""
    after_commit(enqueue_now, path, *args, queue=queue, job_id=job_id, at=at)


def enqueue_now(
    path: str,
    *args,
    queue: str = "default",
    job_id: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Enqueue a job immediately (its inputs must already be committed)."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if job_id is not None and not _JOB_ID.fullmatch(job_id):
        raise ValueError(f"job id {job_id!r}: use letters, digits, '-' and '_' (RQ's rule)")
    current_app.extensions["jobs"].submit(path, args, queue=queue, job_id=job_id, at=at)


class RQBackend:
    """Jobs on Redis through RQ: named queues, deterministic ids, enqueue_at for schedules.

    Enqueues give up after `timeout` seconds and are not tried for `pause` seconds after a
    failure (core.redis_guard): what they would have queued, the sweepers find."""

    def __init__(self, redis_url: str, timeout: float | None = None, pause: float = 0.0):
        self.redis_url = redis_url
        self.connection = redis_guard.client(redis_url, timeout)
        self.breaker = redis_guard.Breaker(pause)

    def queue(self, name: str):
        from rq import Queue

        return Queue(name, connection=self.connection)

    def submit(self, path, args, *, queue, job_id, at) -> None:
        self.breaker.call(self._submit, path, args, queue, job_id, at)

    def _submit(self, path, args, queue, job_id, at) -> None:
        q = self.queue(queue)
        if job_id:
            self.cancel(job_id)
        options = {"job_id": job_id, "result_ttl": 3600, "failure_ttl": 7 * 24 * 3600}
        if at is not None:
            q.enqueue_at(at, run_job, path, *args, **options)
        else:
            q.enqueue(run_job, path, *args, **options)

    def cancel(self, job_id: str) -> None:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            job = Job.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            return
        job.delete()


@dataclass(order=True)
class _Entry:
    when: dt.datetime
    seq: int
    path: str = field(compare=False)
    args: tuple = field(compare=False)
    job_id: str | None = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class InProcessBackend:
    """Runs jobs in the web process: a daemon thread (or synchronously when eager)."""

    def __init__(self, app: Flask, eager: bool = False, periodic: tuple[Periodic, ...] = ()):
        self.app = app
        self.eager = eager
        self.periodic = periodic
        self._heap: list[_Entry] = []
        self._by_id: dict[str, _Entry] = {}
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._next_periodic: dict[str, dt.datetime] = {}

    def submit(self, path, args, *, queue, job_id, at) -> None:
        if self.eager and (at is None or at <= clock.now()):
            self._run(path, args)
            return
        with self._cond:
            if job_id and job_id in self._by_id:
                self._by_id.pop(job_id).cancelled = True
            entry = _Entry(at or clock.now(), next(self._seq), path, tuple(args), job_id)
            heapq.heappush(self._heap, entry)
            if job_id:
                self._by_id[job_id] = entry
            self._cond.notify()
        self.start()

    def cancel(self, job_id: str) -> None:
        with self._cond:
            entry = self._by_id.pop(job_id, None)
            if entry:
                entry.cancelled = True

    def run_due(self) -> int:
        """Run every job whose time has come; return how many ran."""
        ran = 0
        while True:
            with self._cond:
                entry = self._pop_due()
            if entry is None:
                return ran
            self._run(entry.path, entry.args)
            ran += 1

    def _pop_due(self) -> _Entry | None:
        now = clock.now()
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        if self._heap and self._heap[0].when <= now:
            entry = heapq.heappop(self._heap)
            if entry.job_id:
                self._by_id.pop(entry.job_id, None)
            return entry
        return None

    def _run(self, path: str, args: tuple) -> None:
        with self.app.app_context():
            try:
                run_job(path, *args)
            except Exception:
                log.exception("in-process job %s%r failed", path, args)

    def _run_periodic(self) -> None:
        now = clock.now()
        for p in self.periodic:
            due = self._next_periodic.get(p.path)
            if due is None or due <= now:
                self._next_periodic[p.path] = now + dt.timedelta(seconds=p.interval)
                self._run(p.path, ())

    def start(self) -> None:
        """Start the runner thread (not in eager mode, where tests drive it)."""
        if self.eager or (self._thread and self._thread.is_alive()):
            return
        self._thread = threading.Thread(target=self._loop, name="jobs", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            self.run_due()
            self._run_periodic()
            with self._cond:
                wait = 1.0
                if self._heap:
                    delta = (self._heap[0].when - clock.now()).total_seconds()
                    wait = max(0.0, min(wait, delta))
                self._cond.wait(wait)


def init_app(
    app: Flask, periodic: tuple[Periodic, ...], app_factory: Callable[[], Flask] | None = None
) -> None:
    """Choose the backend: RQ with REDIS_URL (unless JOBS_MODE says otherwise). app_factory:
    how a worker process that runs a job outside any app context builds its app."""
    global _app_factory
    if app_factory is not None:
        _app_factory = app_factory
    mode = app.config.get("JOBS_MODE") or ("rq" if app.config.get("REDIS_URL") else "inprocess")
    if app.config.get("SWEEPERS_INTERVAL"):
        periodic = tuple(replace(p, interval=app.config["SWEEPERS_INTERVAL"]) for p in periodic)
    if mode == "rq":
        if not app.config.get("REDIS_URL"):
            raise RuntimeError("JOBS_MODE=rq needs REDIS_URL")
        backend = RQBackend(
            app.config["REDIS_URL"], app.config["REDIS_TIMEOUT"], app.config["REDIS_PAUSE"]
        )
    elif mode in ("inprocess", "eager"):
        backend = InProcessBackend(app, eager=mode == "eager", periodic=periodic)
    else:
        raise RuntimeError(f"Unknown JOBS_MODE {mode!r}; use rq, inprocess or eager")
    app.config["JOBS_MODE"] = mode
    app.extensions["jobs"] = backend
    app.extensions["periodic_jobs"] = periodic
