"""How soon feeds are rendered after a change: soon when it is quiet, every few seconds in a burst.

A burst is a backlog of staged articles not yet ingested, or a bulk import committing without
the queue (``syndicate ingest``, which marks it). While it lasts each render pass renders what is
dirty once and leaves what becomes dirty meanwhile to the next pass, so rendering does not take
the CPU the ingest needs: feeds lag by at most ``BURST_PUBLISH_EVERY``.
"""

from __future__ import annotations

PUBLISH_COUNTDOWN = 0.3  # seconds from a change to its render, when it is quiet
BURST_PUBLISH_EVERY = 3.0  # seconds between renders during a burst
BURST_BACKLOG = 20  # staged articles not yet ingested that make a burst
