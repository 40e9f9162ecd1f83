"""Issue 17's acceptance: real readers subscribed to both audiences keep every item of each.

newsboat (Debian's) keys items by guid across all its feeds; with one id shared by the ``global``
and ``ru`` versions of an article it showed the global feed with 1 item of 10. feedparser reads the
same feeds; the notice must be in every summary and every full content of ``ru`` and nowhere in
``global``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import feedparser
import pytest

from tests.support import Api, Proc, run_cli, wait_for

COUNT = 10
TITLE = "Reader story number {n}"
RU_TEXT = "Правительство России объявило RFE/RL «нежелательной организацией»."  # config/notices.yaml
ASIDE = 'data-notice="rferl-undesirable-ru"'


def _post_all(api: Api) -> None:
    ids = []
    for n in range(COUNT):
        doc = {
            "guid": f"reader-{n}",
            "source": "rferl",
            "url": f"https://www.rferl.org/a/reader-story-{n}.html",
            "title": TITLE.format(n=n),
            "language": "en",
            "section": "Readers",
            "published_at": f"2024-03-01T10:{n:02d}:00Z",
            "summary": f"The summary of story {n}.",
            "body_html": f"<p>Body of reader story {n}.</p><p>Second paragraph.</p>",
        }
        r = api.post_article(json.dumps(doc), "application/json")
        assert r.status_code == 202, r.text
        ids.append(str(r.json()["id"]))
    for aid in ids:
        api.wait_published(aid)
    for audience in ("global", "ru"):
        for fmt in ("rss", "atom"):
            path = f"/feeds/{audience}/readers.{fmt}"
            wait_for(
                lambda p=path: (
                    (r := api.get(p)).ok
                    and TITLE.format(n=COUNT - 1) in r.text
                    and r.text.count("Reader story number") >= COUNT
                ),
                30,
                what=f"{COUNT} items in {path}",
            )


def _newsboat(tmp: Path, urls: list[str]) -> list[tuple[str, str, str, str]]:
    """Run real newsboat's reload over ``urls``; its cache's (feedurl, guid, title, content) rows."""
    newsboat = shutil.which("newsboat")
    if newsboat is None:
        pytest.fail("newsboat is not installed: apt-get install newsboat (.ci/run installs it)")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "urls").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (tmp / "config").write_text("reload-threads 2\nshow-read-feeds yes\n", encoding="utf-8")
    cache = tmp / "cache.db"
    env = {"HOME": str(tmp), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TERM": "dumb"}
    run = subprocess.run(
        [newsboat, "-u", str(tmp / "urls"), "-c", str(cache), "-C", str(tmp / "config"), "-x", "reload"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, (run.stdout, run.stderr)
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT feedurl, guid, title, content FROM rss_item").fetchall()
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_newsboat_keeps_both_audiences_apart(stack: tuple[Api, Proc, Proc], tmp_path: Path, fmt: str) -> None:
    api, _, _ = stack
    _post_all(api)
    urls = {aud: f"{api.base}/feeds/{aud}/readers.{fmt}" for aud in ("global", "ru")}
    rows = _newsboat(tmp_path / "newsboat", list(urls.values()))
    by_feed: dict[str, list[tuple[str, str, str]]] = {}
    for feedurl, guid, title, text in rows:
        by_feed.setdefault(feedurl, []).append((guid, title, text))
    expected = {TITLE.format(n=n) for n in range(COUNT)}
    for audience, url in urls.items():
        items = by_feed.get(url, [])
        assert {title for _, title, _ in items} == expected, (audience, sorted(by_feed))
        assert len(items) == COUNT
        notices = [text.count(ASIDE) for _, _, text in items]
        assert notices == ([1] * COUNT if audience == "ru" else [0] * COUNT), audience
    guids = [guid for _, guid, _, _ in rows]
    assert len(set(guids)) == len(guids) == 2 * COUNT


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_feedparser_sees_the_notice_in_every_summary_and_content(
    stack: tuple[Api, Proc, Proc], fmt: str
) -> None:
    api, _, _ = stack
    _post_all(api)
    seen_ids: dict[str, set[str]] = {}
    for audience in ("global", "ru"):
        body = api.get(f"/feeds/{audience}/readers.{fmt}").content
        if fmt == "json":
            items = json.loads(body)["items"]
            ids = [i["id"] for i in items]
            summaries = [i["summary"] for i in items]
            contents = [i["content_html"] + "\n" + i["content_text"] for i in items]
        else:
            parsed = feedparser.parse(body)
            assert not parsed.bozo, parsed.get("bozo_exception")
            items = parsed.entries
            ids = [e.id for e in items]
            summaries = [e.summary for e in items]
            contents = [e.content[0].value for e in items]
        assert len(items) == COUNT
        want = 1 if audience == "ru" else 0
        assert [s.count(RU_TEXT) for s in summaries] == [want] * COUNT, (audience, summaries[:1])
        assert [c.count(RU_TEXT) >= 1 for c in contents] == [bool(want)] * COUNT, audience
        assert all("The summary of story" in s for s in summaries)
        assert len(set(ids)) == COUNT
        seen_ids[audience] = set(ids)
    assert seen_ids["global"].isdisjoint(seen_ids["ru"])


def test_sources_named_by_alias_or_site_get_the_notice(
    stack: tuple[Api, Proc, Proc], env: dict[str, str]
) -> None:
    """``RFE/RL`` (a CMS's natural name), ``rferl-news`` and an article on svoboda.org are RFE/RL's."""
    api, _, _ = stack
    cases = {
        "alias-slash": {"source": "RFE/RL"},
        "alias-news": {"source": "rferl-news"},
        "by-domain": {"source": "partner-cms", "url": "https://www.svoboda.org/a/story/1.html"},
        "not-theirs": {"source": "kavkaz-uzel", "url": "https://www.kavkaz-uzel.eu/articles/1/"},
    }
    ids = {}
    for name, fields in cases.items():
        doc = {
            "guid": name,
            "title": f"Publisher case {name}",
            "language": "en",
            "published_at": "2024-03-02T10:00:00Z",
            "body_html": f"<p>Body of {name}.</p>",
            **fields,
        }
        r = api.post_article(json.dumps(doc), "application/json")
        assert r.status_code == 202, r.text
        ids[name] = str(r.json()["id"])
    sources = {name: api.wait_published(aid)["article"]["source"] for name, aid in ids.items()}
    assert sources == {
        "alias-slash": "rferl",
        "alias-news": "rferl",
        "by-domain": "rferl",
        "not-theirs": "kavkaz-uzel",
    }
    feed = wait_for(
        lambda: (r := api.get("/feeds/ru/all.json")).ok and r.text.count("Publisher case") == 4 and r.json(),
        30,
        what="four publisher cases in the ru feed",
    )
    notices = {
        i["title"].removeprefix("Publisher case "): i["content_html"].count(ASIDE) for i in feed["items"]
    }
    assert notices == {"alias-slash": 1, "alias-news": 1, "by-domain": 1, "not-theirs": 0}
    out = run_cli(env, "publishers", "--json")
    assert out.returncode == 0, out.stderr
    (rferl,) = json.loads(out.stdout)
    assert rferl["id"] == "rferl" and "svoboda.org" in rferl["domains"] and "RFE/RL" in rferl["names"]
