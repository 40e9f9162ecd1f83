"""Who counts as a dead lock holder (storage.work.holder_is_dead), without Redis."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from worker.storage.work import holder_is_dead

HERE = socket.gethostname()


def _gone(node: str) -> bool:
    return node == "far:1"  # far:1's heartbeat has expired; far:2's has not


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


@pytest.mark.parametrize(
    ("holder", "dead"),
    [
        (f"{HERE}:{os.getpid()}:tok", False),  # alive, here
        (f"{HERE}:{os.getpid()}:tok|hb=far:1", True),  # alive pid, but its worker stopped beating
        ("far:9:tok|hb=far:1", True),  # elsewhere, its worker's heartbeat expired
        ("far:9:tok|hb=far:2", False),  # elsewhere, its worker beats
        ("far:9:tok", False),  # elsewhere, nothing vouches: wait out the TTL
        ("far:1", False),  # a node name is not a vouch
        ("", False),
        ("|hb=", False),
        (f"{HERE}:1:tok", False),  # pid 1 is never taken for dead
        (f"{HERE}:abc:tok", False),
    ],
)
def test_holders(holder: str, dead: bool) -> None:
    assert holder_is_dead(holder, _gone) is dead


def test_a_pid_of_this_host_that_exited_is_dead() -> None:
    assert holder_is_dead(f"{HERE}:{_dead_pid()}:tok")
    assert holder_is_dead(f"{HERE}:{_dead_pid()}:tok|hb=far:2")  # whatever its heartbeat says
