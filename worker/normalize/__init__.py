"""Normalization: scraped text, HTML pages and CMS JSON to one :class:`~worker.models.Article`."""

from worker.normalize.core import normalize
from worker.normalize.errors import NormalizeError
from worker.normalize.identity import article_id, content_hash
from worker.normalize.sniff import detect_format
from worker.normalize.urls import canonical_url

__all__ = ["NormalizeError", "article_id", "canonical_url", "content_hash", "detect_format", "normalize"]
