"""The wall-clock deadline of an outgoing request: a watchdog shuts its sockets down when it passes.

Connect and read timeouts bound each step; a peer that drips its answer a byte at a time passes
every step. One daemon thread per process sleeps until the earliest deadline and shuts down
(``SHUT_RDWR``) the sockets of the requests that outlived theirs. Every outgoing request uses it:
webhook attempts, upstream fetches (a feed or a page, all its redirects included), WebSub pings.
The guarded connections of ``worker.net.guard`` put each socket they open under ``CURRENT``.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator


class Deadline:
    """The sockets of one attempt, shut down (``SHUT_RDWR``) if the attempt outlives ``at``."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self.done = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if not self.expired:
                self._socks.append(sock)
                return
        shutdown(sock)

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
        for sock in self._socks:
            shutdown(sock)

    def release(self, sock: socket.socket | None) -> bool:
        """Take ``sock`` off the watch (its connection goes back to a pool, and may serve another
        request later); False if the deadline had expired (then the connection must be closed)."""
        with self._lock:
            if self.expired:
                return False
            self._socks = [s for s in self._socks if s is not sock]
            return True

    @property
    def passed(self) -> bool:
        """True once ``at`` is past (the watchdog may not have shut the sockets down yet)."""
        return self.expired or time.monotonic() >= self.at

    def stop(self) -> bool:
        """End the watch (before a connection goes back to the pool); False if it had expired."""
        with self._lock:
            self.done = True
            return not self.expired


def shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread for all attempts of a process, sleeping until the earliest deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (deadline.at, next(self._seq), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="outgoing-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is deadline:
                self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    heapq.heappop(self._heap)[2].expire()
                self._cond.wait(self._heap[0][0] - now if self._heap else None)


WATCHDOG = _Watchdog()
CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("outgoing_deadline", default=None)
if hasattr(os, "register_at_fork"):  # a forked child has no watchdog thread and maybe a held lock
    os.register_at_fork(after_in_child=WATCHDOG.__init__)


def watch(sock: socket.socket | None) -> None:
    deadline = CURRENT.get()
    if deadline is not None and sock is not None:
        deadline.watch(sock)


def remaining(default: float) -> float:
    """Seconds left before the current deadline (at most ``default``; ``default`` without one)."""
    deadline = CURRENT.get()
    if deadline is None:
        return default
    return max(0.001, min(default, deadline.at - time.monotonic()))


@contextlib.contextmanager
def bound(seconds: float) -> Iterator[Deadline]:
    """Within this block, every socket of a guarded connection is shut down ``seconds`` from now.

    An enclosing deadline that ends sooner stays in force (a request never outlives it).
    """
    outer = CURRENT.get()
    if outer is not None and not outer.done and outer.at <= time.monotonic() + seconds:
        yield outer
        return
    deadline = Deadline(seconds)
    token = CURRENT.set(deadline)
    WATCHDOG.add(deadline)
    try:
        yield deadline
    finally:
        deadline.stop()
        CURRENT.reset(token)
