"""The storage layer: the only code in the project that speaks Redis."""

from __future__ import annotations

from worker.storage.articles import ArticleStore, IngestCommit, StoredArticle
from worker.storage.attempts import AttemptStore
from worker.storage.base import StorageUnavailable, connect
from worker.storage.feeds import FeedStore, StoredFeed
from worker.storage.hooks import HookStore
from worker.storage.renders import RenderStore
from worker.storage.sources import SourceStore
from worker.storage.work import WorkStore

__all__ = ["IngestCommit", "StorageUnavailable", "Store", "StoredArticle", "StoredFeed"]


class Store(ArticleStore, AttemptStore, FeedStore, HookStore, RenderStore, SourceStore, WorkStore):
    """One object, one connection pool, every storage operation."""

    def __init__(self, url: str, *, redeliver_after: float = 15.0, timeout: float = 5.0) -> None:
        self.r = connect(url, timeout=timeout)
        self.redeliver_after = redeliver_after
        self._init_scripts()
        self._init_article_scripts()
        self._init_feed_scripts()

    def close(self) -> None:
        self.r.close()
