"""A wall-clock deadline around a block of Python code, for the renderer's per-feed budget.

In the main thread of a process (a Celery prefork child runs its task there, as does ``solo``)
the deadline is enforced: ``SIGALRM`` fires at the deadline and :class:`DeadlineExceeded` is
raised where the code is, so an overrunning block cannot run on to the task's time limit. A
handler already installed for ``SIGALRM`` is put back afterwards, and the timer is disarmed
before it is. Elsewhere (a thread pool) no signal can reach the code: the block runs to its end
and :attr:`Deadline.overran` says whether it took too long, so the caller can treat it the same
way next time.

Code in C that does not return to the interpreter (a huge lxml serialization, say) sees the
exception only when it does; a process killed meanwhile by the hard time limit is the caller's
case to handle (``worker.publish`` marks each feed in Redis before it renders).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType


class DeadlineExceeded(Exception):
    """The block ran past its deadline."""


@dataclass
class Deadline:
    seconds: float
    enforced: bool = False
    elapsed: float = 0.0

    @property
    def overran(self) -> bool:
        return self.elapsed > self.seconds


def _can_signal() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Run the block with at most ``seconds`` of wall-clock time (see the module docstring)."""
    state = Deadline(seconds)
    started = time.perf_counter()
    previous = None
    if _can_signal() and seconds > 0:

        def _expired(signum: int, frame: FrameType | None) -> None:
            raise DeadlineExceeded(f"still running after {seconds:g} s")

        previous = signal.signal(signal.SIGALRM, _expired)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        state.enforced = True
    try:
        yield state
    finally:
        if state.enforced:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        state.elapsed = time.perf_counter() - started
