"""Beat's scheduler: the ``poll-due-sources`` tick is not sent while ``sources.yaml`` lists no
source, so an idle stack logs nothing (the configuration is read again when edited)."""

from __future__ import annotations

from typing import Any

from celery.beat import PersistentScheduler, ScheduleEntry

POLL_TASK = "syndicate.poll_due"


def has_sources() -> bool:
    from worker.runtime import runtime

    return bool(runtime().config.sources)


class SourcesAwareScheduler(PersistentScheduler):  # type: ignore[misc]
    def apply_entry(self, entry: ScheduleEntry, producer: Any = None) -> None:
        if entry.task == POLL_TASK and not has_sources():
            return  # nothing to poll: no message, no log line (the entry still moves on)
        super().apply_entry(entry, producer=producer)
