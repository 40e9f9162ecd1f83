"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written by hand: keys sorted, UTF-8, no clock."""

from __future__ import annotations

import json
from collections.abc import Sequence

from feeds import content
from feeds.ext import GEO_NS
from feeds.meta import FeedMeta
from worker.models import AudienceArticle, iso_utc

VERSION = "https://jsonfeed.org/version/1.1"

JsonObject = dict[str, object]


def _item(item: AudienceArticle) -> JsonObject:
    article = item.article
    data: JsonObject = {
        "id": content.item_id(item),
        "title": content.xml_safe(article.title),
        "content_html": content.item_html(item),
        "content_text": content.item_text(item),
        "summary": content.summary_text(item),
        "date_modified": iso_utc(content.updated(article)),
        "language": article.language,
        "_geo": {
            "about": GEO_NS,
            "notices": [
                {
                    "id": notice.id,
                    "language": notice.language,
                    "placement": notice.placement,
                    "text": content.xml_safe(notice.text),
                    "url": notice.url,
                }
                for notice in content.unique_notices(item)
            ],
            "restricted_countries": content.restricted_countries(article),
        },
    }
    url = content.item_url(article)
    if url:
        data["url"] = url
    if article.image is not None:
        data["image"] = article.image.url
    published = content.published(article)
    if published is not None:
        data["date_published"] = iso_utc(published)
    if article.authors:
        data["authors"] = [{"name": content.xml_safe(name)} for name in article.authors]
        data["author"] = data["authors"][0]  # JSON Feed 1.0's, for older readers (1.1 allows both)
    tags = content.categories(article)
    if tags:
        data["tags"] = tags
    return data


def feed_document(meta: FeedMeta, items: Sequence[AudienceArticle]) -> JsonObject:
    """The JSON Feed as a plain dict, items newest first."""
    document: JsonObject = {
        "version": VERSION,
        "title": meta.title,
        "home_page_url": meta.home_url,
        "feed_url": meta.url("json"),
        "description": meta.subtitle,
        "language": meta.language,
        "authors": [{"name": meta.author_name, "url": meta.home_url}],
        "author": {"name": meta.author_name, "url": meta.home_url},  # JSON Feed 1.0's
        "items": [_item(item) for item in content.ordered(items)],
    }
    if meta.hubs:
        document["hubs"] = [{"type": "WebSub", "url": hub} for hub in meta.hubs]
    return document


def render_json(meta: FeedMeta, items: Sequence[AudienceArticle]) -> bytes:
    """UTF-8 JSON Feed 1.1 with sorted keys, ending in a newline."""
    text = json.dumps(feed_document(meta, items), ensure_ascii=False, sort_keys=True, indent=2)
    return (text + "\n").encode("utf-8")
