"""The ``syndicate`` command."""

from worker.cli.main import main

__all__ = ["main"]
