"""`flask jobs ...`: the RQ worker and the periodic scheduler."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from core import jobs, live

jobs_cli = AppGroup("jobs", help="Background jobs (RQ on Redis).")


def _backend() -> jobs.RQBackend:
    backend = current_app.extensions["jobs"]
    if not isinstance(backend, jobs.RQBackend):
        raise click.ClickException("Set REDIS_URL to run RQ workers (jobs now run in-process).")
    return backend


@jobs_cli.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run an RQ worker on the named queues (default: all), with the scheduler for enqueue_at."""
    from rq import Worker

    backend = _backend()
    live.use_external_emitter(
        current_app.config["REDIS_URL"],
        current_app.config["SOCKETIO_CHANNEL"],
    )
    names = queues or jobs.QUEUES
    unknown = set(names) - set(jobs.QUEUES)
    if unknown:
        raise click.BadParameter(f"unknown queue(s): {', '.join(sorted(unknown))}")
    w = Worker([backend.queue(n) for n in names], connection=backend.connection)
    # The worker runs inside this app context, so jobs reuse the app instead of building one.
    w.work(burst=burst, with_scheduler=True)


@jobs_cli.command("scheduler")
def scheduler() -> None:
    """Enqueue the periodic jobs (sweepers) at their intervals; run one per deployment."""
    from rq.cron import CronScheduler

    backend = _backend()
    cron = CronScheduler(connection=backend.connection, name="tenders-periodic")
    for p in current_app.extensions["periodic_jobs"]:
        cron.register(
            jobs.run_job, queue_name=p.queue, args=(p.path,), interval=p.interval, name=p.path
        )
    cron.start()


@jobs_cli.command("run")
@click.argument("path")
@click.argument("args", nargs=-1, type=int)
def run(path: str, args: tuple[int, ...]) -> None:
    """Run one job now in this process (for operators: e.g. notifications.jobs.relay_outbox)."""
    click.echo(repr(jobs.run_job(path, *args)))
