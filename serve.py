"""Start the web process: the Flask-SocketIO server on eventlet (default) or threading.

eventlet must patch the standard library before anything else is imported, and psycopg2
must be made green with psycogreen; so this module, not app.py, is the web entry point.
RQ workers never come through here: they do not monkey-patch.
"""

import os

ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "eventlet")
if ASYNC_MODE == "eventlet":
    import warnings

    # eventlet announces its deprecation on import; the choice is documented in README.
    warnings.filterwarnings("ignore", message=".*Eventlet is deprecated.*")
    import eventlet

    eventlet.monkey_patch()
    from psycogreen.eventlet import patch_psycopg

    patch_psycopg()

import argparse  # noqa: E402
import gc  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Parse --host/--port, build the app and serve it."""
    parser = argparse.ArgumentParser(description="Run the tenders web process.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=os.environ.get("PORT", "5000"))
    args = parser.parse_args(argv)

    from app import create_app
    from core.extensions import socketio
    from core.jobs import InProcessBackend

    try:
        app = create_app()
    except RuntimeError as exc:  # a bad setting: its message, not a traceback
        raise SystemExit(f"Configuration error: {exc}") from None
    # Without BASE_URL, links in mail point here (core.http.base_url).
    shown_host = "localhost" if args.host in ("0.0.0.0", "::", "") else args.host
    app.config["SERVED_URL"] = f"http://{shown_host}:{args.port}"
    # What is loaded by now (modules, mappers, compiled schemas: most of the heap) lives as
    # long as the process: keep the collector from scanning it again in every full
    # collection, which otherwise stops every request in this process for ~100 ms. A request
    # allocates thousands of objects that die with it: collect the young generation every
    # 20,000 allocations rather than 700 (measured under load: GC time 620 -> 110 ms per
    # process in 25 s, the longest pause 75 -> 20 ms).
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)
    backend = app.extensions["jobs"]
    if isinstance(backend, InProcessBackend):
        backend.start()  # embedded default: jobs and sweepers run in this process
    print(
        f"Tenders is running at http://{args.host}:{args.port}/ "
        f"(async mode {app.config['SOCKETIO_ASYNC_MODE']}, jobs {app.config['JOBS_MODE']}, "
        f"database {app.config['SQLALCHEMY_DATABASE_URI'].split('://')[0]})",
        flush=True,
    )
    if app.config["SOCKETIO_ASYNC_MODE"] == "eventlet":
        from core import webserver

        webserver.serve(app, args.host, args.port)  # limits and timeouts: docs/capacity.md
    else:
        socketio.run(
            app, host=args.host, port=args.port, allow_unsafe_werkzeug=True, log_output=False
        )


if __name__ == "__main__":
    main()
