"""Pure parts of feed isolation: the per-feed deadline, the backoff schedule, bounded export names."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from feeds.feedkey import FeedKey
from feeds.serve import FeedBytes, gzip_body
from worker.deadline import DeadlineExceeded, deadline
from worker.export import MAX_NAME_BYTES, export, export_name
from worker.storage.renders import backoff_delay


def _stored(body: bytes) -> FeedBytes:
    return FeedBytes.at(body, gzip_body(body), 1_764_670_000)


def test_the_deadline_stops_code_that_would_run_forever() -> None:
    spins = 0
    with pytest.raises(DeadlineExceeded), deadline(0.2) as state:
        while True:  # no end of its own: only the deadline stops it
            spins += 1
    assert state.enforced and spins > 0


def test_the_deadline_puts_the_previous_alarm_handler_back() -> None:
    import signal

    def mine(signum: int, frame: object) -> None:
        raise AssertionError("not expected")

    old = signal.signal(signal.SIGALRM, mine)
    try:
        with deadline(5):
            pass
        assert signal.getsignal(signal.SIGALRM) is mine
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, old)


def test_off_the_main_thread_the_block_finishes_and_says_whether_it_overran() -> None:
    seen: dict[str, object] = {}

    def work() -> None:
        with deadline(0.0001) as state:
            threading.Event().wait(0.01)
        seen.update(enforced=state.enforced, overran=state.overran)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen == {"enforced": False, "overran": True}


def test_backoff_doubles_up_to_ten_minutes() -> None:
    assert [backoff_delay(n) for n in range(1, 9)] == [5, 10, 20, 40, 80, 160, 320, 600]
    assert backoff_delay(10_000) == 600


def test_short_names_are_kept_as_they_are() -> None:
    assert export_name("afghanistan-pakistan") == "afghanistan-pakistan"
    assert export_name("archive") == "archive"


def test_long_names_are_bounded_and_distinct(tmp_path: Path) -> None:
    long_a, long_b = "ж" * 200, "ж" * 199 + "з"
    name_a, name_b = export_name(long_a), export_name(long_b)
    assert len(name_a.encode()) <= MAX_NAME_BYTES and name_a != name_b
    assert name_a.startswith("ж" * 20) and export_name(long_a) == name_a  # stable
    path = export(tmp_path, FeedKey("ru", long_a, 3), "atom", _stored(b"<feed/>"))
    assert path.read_bytes() == b"<feed/>"
    assert path.relative_to(tmp_path).parts == ("feeds", "ru", name_a, "archive", "3.atom")


def test_a_200_letter_cyrillic_section_used_to_fail_with_file_name_too_long(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="File name too long"):
        (tmp_path / ("ж" * 200 + ".rss")).write_bytes(b"")
    assert export(tmp_path, FeedKey("ru", "ж" * 200), "rss", _stored(b"x")).exists()
