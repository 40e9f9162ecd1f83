"""The long-running roles: ``up`` (everything), ``worker``, ``beat``, ``serve``."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from worker.cli.common import check_config, fail


def worker(
    queues: str = typer.Option(
        "ingest,publish,webhooks,poll", "-Q", "--queues", help="Comma-separated queues to consume."
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
    from worker import supervisor
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
    _quiet_root_warning()
    supervisor.connect()  # heartbeat and sweeper beside the pool
    app.worker_main(
        [
            "--quiet",  # no banner: the JSON log says what runs
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


def _quiet_root_warning() -> None:
    """Celery's multi-line SecurityWarning for a worker run as root becomes one log line."""
    import logging
    import warnings

    from celery.exceptions import SecurityWarning

    warnings.filterwarnings("ignore", category=SecurityWarning)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        logging.getLogger("syndicate.worker").warning(
            "running as root: fine on a laptop, use an unprivileged user in production"
        )


def beat(loglevel: str = typer.Option("INFO", "--loglevel")) -> None:
    """Run the scheduler that polls upstream sources (run exactly one per deployment).

    Example: `syndicate beat --loglevel INFO`
    """
    from worker.celery_app import app
    from worker.logs import setup_logging
    from worker.settings import Settings

    check_config()
    setup_logging(loglevel)
    settings = Settings.from_env()
    schedule = settings.beat_schedule or settings.var_dir / "beat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    scheduler = "worker.beat:SourcesAwareScheduler"
    app.start(["--quiet", "beat", "-s", str(schedule), "-S", scheduler, "--loglevel", loglevel])


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 in a container)."),
    port: int = typer.Option(8000, "--port", envvar="PORT", help="Port."),
    workers: int = typer.Option(
        1,
        "--workers",
        envvar="WEB_CONCURRENCY",
        min=1,
        help="Server processes sharing the port, each with its own feed cache; about one per core "
        "for feed traffic.",
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
    port: int = typer.Option(8000, "--port", envvar="PORT", help="Port."),
    samples: bool = typer.Option(True, help="Ingest the bundled sample articles once everything runs."),
    allow_private_targets: bool = typer.Option(
        False,
        "--allow-private-targets",
        help="Let every role call private and loopback addresses (webhooks to a receiver on this "
        "machine; sets SYNDICATE_ALLOW_PRIVATE_TARGETS=1). Local development only.",
    ),
    verbose: bool = typer.Option(
        False, "--verbose", help="The roles' JSON logs on this terminal instead of var/log/."
    ),
) -> None:
    """Everything in one process tree, for a laptop: Redis if needed, workers, beat, HTTP server.

    Ctrl-C stops everything it started, cleanly, within 30 s.
    Example: `REDIS_URL=redis://127.0.0.1:6379/0 syndicate up --port 8000`
    """
    from worker.cli.local import api_token
    from worker.cli.supervise import Stack
    from worker.settings import Settings

    check_config()
    env = dict(os.environ)  # what every role it starts inherits
    settings = Settings.from_env(env)
    var = settings.var_dir.absolute()
    env["SYNDICATE_VAR_DIR"] = str(var)
    token_file = None
    if not settings.api_token:
        env["SYNDICATE_API_TOKEN"], token_file, _ = api_token(var)
    if allow_private_targets:
        env["SYNDICATE_ALLOW_PRIVATE_TARGETS"] = "1"
    env.setdefault("SYNDICATE_BASE_URL", f"http://{host}:{port}")
    stack = Stack(
        env=env,
        host=host,
        port=port,
        python=sys.executable,
        log_dir=None if verbose else var / "log",
        token_file=token_file,
    )
    code = stack.run(samples=samples)
    raise typer.Exit(code)
