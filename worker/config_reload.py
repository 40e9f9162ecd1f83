"""The configuration of a running process, read again when its files change.

Every role reads ``config/`` at start (a broken file stops start-up with one line). While it
runs, each process looks at the files' sizes and modification times at most every
``CHECK_EVERY`` seconds; when they changed it loads them again and, if they are valid, uses the
new configuration from then on. A broken edit (or a file caught half-written) is logged in one
line and the process keeps the configuration it has, until the files change again.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from worker.config import FILES, Config, ConfigError, load_config

log = logging.getLogger("syndicate.config")
CHECK_EVERY = 2.0  # seconds between looks at the files' stat data

Stamp = tuple[tuple[str, int, int], ...]


def stamp(directory: Path) -> Stamp:
    """(name, size, mtime in ns) of each config file that exists: what an edit changes."""
    out = []
    for name in FILES:
        try:
            st = (directory / name).stat()
        except OSError:
            continue
        out.append((name, st.st_size, st.st_mtime_ns))
    return tuple(out)


class LiveConfig:
    def __init__(self, directory: Path, config: Config, *, check_every: float = CHECK_EVERY) -> None:
        self.directory, self.check_every = directory, check_every
        self._config = config
        self._stamp = stamp(directory)
        self._next_check = time.monotonic() + check_every
        self._lock = threading.Lock()
        self._broken = False  # the files on disk do not load: a fix (or a revert) is news

    def current(self) -> Config:
        """The configuration in force; cheap (a clock read) between checks."""
        if time.monotonic() >= self._next_check and self._lock.acquire(blocking=False):
            try:
                self._check()
            finally:
                self._lock.release()
        return self._config

    def refresh(self) -> Config:
        """The configuration as the files are now: the renderer calls this first, so that feeds
        marked for a new configuration (by another process of the host) are rendered with it."""
        with self._lock:
            self._check()
        return self._config

    def _check(self) -> None:
        self._next_check = time.monotonic() + self.check_every
        now = stamp(self.directory)
        if now == self._stamp:
            return
        self._stamp = now
        try:
            fresh = load_config(self.directory)
        except ConfigError as exc:
            log.error("config change not applied, still using the previous one: %s", exc)
            self._broken = True
            return
        if fresh.digest == self._config.digest and self._broken:
            log.info("config reloaded (the files are back to the config in force)")
        self._broken = False
        if fresh.digest != self._config.digest:
            moved = _membership(fresh) != _membership(self._config)
            self._config = fresh
            log.info("config reloaded", extra={"config_digest": fresh.digest[:12]})
            if moved:
                log.warning(
                    "audiences changed: articles ingested from now on follow them; run "
                    "`syndicate reindex` once to apply them to the articles already stored"
                )


def _membership(config: Config) -> list[tuple[str, tuple[str, ...], bool]]:
    """What decides which articles an audience sees (a title is only a label)."""
    return [(a.id, tuple(a.regions), a.default) for a in config.audiences]
