"""RFC 5005 archives: older items stay reachable through prev-archive pages that never change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from lxml import etree

from tests.support import Api, free_port, start_web, start_worker, wait_for
from worker.storage.articles import ARCHIVE_PAGE

ATOM = {"a": "http://www.w3.org/2005/Atom", "fh": "http://purl.org/syndication/history/1.0"}


def _post(api: Api, n: int, restricted: list[str] | None = None) -> str:
    doc = {
        "guid": f"arch-{n}",
        "source": "rferl",
        "title": f"Archived story number {n}",
        "language": "en",
        "section": "Archive Test",
        "published_at": f"2024-01-01T00:{n // 60:02d}:{n % 60:02d}Z",
        "body_html": f"<p>Body of archived story {n}.</p>",
        "restricted_regions": restricted or [],
    }
    r = api.post_article(json.dumps(doc), "application/json")
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _links(xml: bytes) -> dict[str, str]:
    root = etree.fromstring(xml)
    return {link.get("rel"): link.get("href") for link in root.findall("a:link", ATOM)}


def _titles(xml: bytes) -> list[str]:
    return [e.findtext("a:title", "", ATOM) for e in etree.fromstring(xml).findall("a:entry", ATOM)]


def test_archive_pages(stack: tuple[Api, Any, Any]) -> None:
    api, _, _ = stack
    count = 2 * ARCHIVE_PAGE + 5
    ids = [_post(api, n) for n in range(count)]
    wait_for(lambda: api.article(ids[-1])["status"] == "published", 60)
    current = wait_for(
        lambda: (r := api.get("/feeds/global/archive-test.atom")).ok and "/archive/2.atom" in r.text and r,
        60,
        what="current feed linking page 2",
    )
    assert _links(current.content)["prev-archive"].endswith("/feeds/global/archive-test/archive/2.atom")
    page2 = api.get("/feeds/global/archive-test/archive/2.atom")
    page1 = api.get("/feeds/global/archive-test/archive/1.atom")
    assert page1.ok and page2.ok, (page1.text, page2.text)
    assert etree.fromstring(page1.content).find("fh:archive", ATOM) is not None
    assert _links(page2.content)["prev-archive"].endswith("/archive/1.atom")
    assert _links(page2.content)["current"].endswith("/feeds/global/archive-test.atom")
    assert "prev-archive" not in _links(page1.content)
    # Pages hold the stories in the order they entered the feed: two workers ingest in parallel,
    # so that order is the posting order only roughly, and the page boundaries with it.
    titles1, titles2 = _titles(page1.content), _titles(page2.content)
    assert len(set(titles1)) == len(titles1) == ARCHIVE_PAGE
    assert len(set(titles2)) == len(titles2) == ARCHIVE_PAGE
    assert not set(titles1) & set(titles2)
    everything = {f"Archived story number {n}" for n in range(count)}
    assert set(titles1) | set(titles2) <= everything
    assert everything - set(titles1) - set(titles2) <= set(_titles(current.content))
    assert api.get("/feeds/global/archive-test/archive/3.atom").status_code == 404
    assert json.loads(api.get("/feeds/global/archive-test/archive/1.json").text)["items"]

    # more articles: full pages keep their bytes
    last = [_post(api, n) for n in range(count, count + 3)][-1]
    wait_for(lambda: api.article(last)["status"] == "published", 30)
    wait_for(lambda: "number 207" in api.get("/feeds/global/archive-test.atom").text, 30)
    assert api.get("/feeds/global/archive-test/archive/1.atom").content == page1.content

    # a withdrawal reaches the archive page that held the article (legal needs beat immutability)
    assert "Archived story number 3" in titles1
    _post(api, 3, restricted=["FR"])  # no audience lists FR, so the default audience is withheld
    wait_for(
        lambda: "Archived story number 3<" not in api.get("/feeds/global/archive-test/archive/1.atom").text,
        30,
        what="withdrawn story gone from archive page 1",
    )
    assert len(_titles(api.get("/feeds/global/archive-test/archive/1.atom").content)) == ARCHIVE_PAGE - 1


def _reachable(api: Api, path: str) -> list[str]:
    """Every title a reader gets from the subscription document and its prev-archive chain."""
    titles, url, seen = [], api.base + path, set()
    while url and url not in seen:
        seen.add(url)
        r = requests.get(url, timeout=10)
        assert r.ok, (url, r.status_code)
        titles += _titles(r.content)
        url = _links(r.content).get("prev-archive")
    return titles


def test_every_item_is_reachable_at_the_window_and_page_boundaries(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Window 5, pages of 100: 4, 5, 6 (window -1, =, +1), 99, 100, 101 (page -1, =, +1), 199, 200,
    201 (two pages) items. Before, items between the window and the last full page were in neither."""
    window = 5
    port = free_port()
    env.update(SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}", SYNDICATE_FEED_WINDOW=str(window))
    worker = start_worker(env, tmp_path / "worker.log")
    web = start_web(env, tmp_path / "web.log", port)
    api = Api(port)
    path = "/feeds/global/archive-test.atom"
    try:
        posted = 0
        for count in (window - 1, window, window + 1, ARCHIVE_PAGE - 1, ARCHIVE_PAGE, ARCHIVE_PAGE + 1,
                      2 * ARCHIVE_PAGE - 1, 2 * ARCHIVE_PAGE, 2 * ARCHIVE_PAGE + 1):  # fmt: skip
            ids = [_post(api, n) for n in range(posted, count)]
            posted = count
            wait_for(lambda i=ids[-1]: api.article(i)["status"] == "published", 60)
            newest = f"Archived story number {count - 1}<"
            wait_for(lambda n=newest: n in api.get(path).text, 60, what=f"story {count - 1} in the feed")
            expected = {f"Archived story number {n}" for n in range(count)}
            got = wait_for(
                lambda e=expected: (t := _reachable(api, path)) and set(t) == e and t, 60,
                what=f"all {count} stories reachable",
            )  # fmt: skip
            assert set(got) == expected, (count, sorted(expected - set(got))[:5])
            current = _titles(api.get(path).content)
            assert len(current) >= min(count, window)  # the newest window, at least
            assert len(current) <= window + ARCHIVE_PAGE - 1  # never more than window + a page
            full = count // ARCHIVE_PAGE
            link = _links(api.get(path).content).get("prev-archive")
            assert (link or "").endswith(f"/archive/{full}.atom") if full else link is None, count
    finally:
        web.stop()
        worker.stop()
