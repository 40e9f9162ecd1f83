"""The long-running roles: ``up`` (everything), ``worker``, ``beat``, ``serve``."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

import typer

from worker.cli.common import check_config, fail


def worker(
    queues: str = typer.Option(
        "ingest,publish,webhooks", "-Q", "--queues", help="Comma-separated queues to consume."
    ),
    concurrency: int = typer.Option(
        0, "-c", "--concurrency", help="Processes (or threads); 0 = a sensible default."
    ),
    pool: str = typer.Option(
        "auto", "--pool", help="prefork | threads | solo | auto (threads for webhooks only)."
    ),
    loglevel: str = typer.Option("INFO", "--loglevel"),
) -> None:
    """Run a Celery worker on the given queues (one role of docker-compose).

    Example: `syndicate worker -Q webhooks -c 32` (I/O-bound deliveries on threads).
    """
    from worker.celery_app import QUEUES, app
    from worker.logs import setup_logging

    names = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = [q for q in names if q not in QUEUES]
    if unknown or not names:
        fail(
            f"-Q: unknown queue(s) {', '.join(unknown) or '(none)'}; expected some of {', '.join(QUEUES)}",
            code=2,
        )
    check_config()
    if pool == "auto":
        pool = "threads" if names == ["webhooks"] else "prefork"
    if concurrency <= 0:
        concurrency = 16 if pool == "threads" else min(4, os.cpu_count() or 2)
    setup_logging(loglevel)
    app.worker_main(
        [
            "worker",
            "-Q",
            ",".join(names),
            "-c",
            str(concurrency),
            "-P",
            pool,
            "-n",
            f"syndicate-{'-'.join(names)}-{os.getpid()}@%h",
            "--loglevel",
            loglevel,
            "--without-gossip",
            "--without-mingle",
        ]
    )


def beat(loglevel: str = typer.Option("INFO", "--loglevel")) -> None:
    """Run the scheduler that polls upstream sources (run exactly one per deployment).

    Example: `syndicate beat --loglevel INFO`
    """
    from worker.celery_app import app
    from worker.logs import setup_logging

    check_config()
    setup_logging(loglevel)
    schedule = Path(os.environ.get("SYNDICATE_BEAT_SCHEDULE", Path(tempfile.gettempdir()) / "syndicate-beat"))
    app.start(["beat", "-s", str(schedule), "--loglevel", loglevel])


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 in a container)."),
    port: int = typer.Option(int(os.environ.get("PORT", "8000")), "--port", help="Port (env PORT)."),
    workers: int = typer.Option(
        int(os.environ.get("WEB_CONCURRENCY", "1")),
        "--workers",
        min=1,
        help="Server processes sharing the port, each with its own feed cache; about one per core "
        "for feed traffic (env WEB_CONCURRENCY).",
    ),
) -> None:
    """Serve the HTTP API and the feeds on uvicorn.

    Example: `syndicate serve --host 0.0.0.0 --port 8000 --workers 4`
    """
    import uvicorn

    from worker.settings import Settings

    check_config()
    settings = Settings.from_env()
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,  # at log level warning there would be none anyway: skip the call
        "timeout_graceful_shutdown": 10,
        "proxy_headers": False,
        # Bounded per process: connections held at once (then 503) and idle keep-alive seconds.
        # uvicorn has no timeout for slow headers: deploy/nginx.conf in front of it has one.
        "limit_concurrency": settings.http_limit_concurrency,
        "timeout_keep_alive": settings.http_keepalive_timeout,
    }
    if workers > 1:  # uvicorn starts the processes and imports the app in each by name
        uvicorn.run("worker.web.app:create_server_process", factory=True, workers=workers, **options)
        return
    from worker.web.app import create_server_process

    uvicorn.run(create_server_process(), **options)


def up(
    host: str = typer.Option("127.0.0.1", "--host", help="Address for the HTTP server."),
    port: int = typer.Option(int(os.environ.get("PORT", "8000")), "--port", help="Port (env PORT)."),
    samples: bool = typer.Option(True, help="Ingest the bundled sample articles once everything runs."),
) -> None:
    """Everything in one process tree, for a laptop: Redis if needed, workers, beat, HTTP server.

    Ctrl-C stops everything it started, cleanly, within 30 s.
    Example: `REDIS_URL=redis://127.0.0.1:6379/0 syndicate up --port 8000`
    """
    from worker.cli.supervise import Stack

    check_config()
    env = dict(os.environ)
    if not env.get("SYNDICATE_API_TOKEN"):
        env["SYNDICATE_API_TOKEN"] = secrets.token_urlsafe(24)
        print(f"SYNDICATE_API_TOKEN was not set; this run uses: {env['SYNDICATE_API_TOKEN']}", flush=True)
    env.setdefault("SYNDICATE_BASE_URL", f"http://{host}:{port}")
    stack = Stack(env=env, host=host, port=port, python=sys.executable)
    code = stack.run(samples=samples)
    raise typer.Exit(code)
