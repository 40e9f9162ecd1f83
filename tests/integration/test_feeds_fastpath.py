"""Feed GETs answered from the server's memory are the same answers the routes give, and change the
moment the stored feed does. Two real servers on one Redis: one with the cache, one without."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import Api, Proc, RedisServer, base_env, free_port, start_web, wait_for
from worker.storage import Store

RSS = b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>t</title></channel></rss>'


@pytest.fixture
def servers(redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[Api, Api, Store]]:
    store = Store(redis_server.url)
    store.r.hset("syn:sections", "news", "News")
    for feed in ("global/all", "ru/all", "global/news", "global/all@1"):
        for fmt in ("rss", "atom", "json"):
            store.store_feed(feed, fmt, RSS.replace(b"<title>t", f"<title>{feed}.{fmt}".encode()))
    procs: list[Proc] = []
    apis = []
    for name, size in (("cached", "64"), ("routed", "0")):
        port = free_port()
        env = base_env(redis_server.url, SYNDICATE_FEED_CACHE_MB=size)
        procs.append(start_web(env, tmp_path / f"{name}.log", port))
        apis.append(Api(port))
    wait_for(lambda: _metric(apis[0], "syndicate_feed_cache_live") == 1, 10, what="cache live")
    try:
        yield apis[0], apis[1], store
    finally:
        for p in procs:
            p.stop()
        store.close()


def _metric(api: Api, name: str) -> float:
    text = api.get("/metrics").text
    found = re.search(rf"^{name}(?:_total)? ([0-9.e+]+)$", text, re.M)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


def _answer(api: Api, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    r = requests.request(method, api.base + path, headers=headers, stream=True, timeout=10)
    body = r.raw.read()  # as sent: gzip stays gzip
    return r.status_code, {k.lower(): v for k, v in r.headers.items() if k.lower() != "date"}, body


VARIANTS = [
    ("GET", "/feeds/global/all.rss", {}),
    ("GET", "/feeds/global/all.atom", {"Accept-Encoding": "gzip"}),
    ("GET", "/feeds/global/all.json", {"Accept-Encoding": "br;q=1, gzip;q=0"}),
    ("HEAD", "/feeds/global/all.rss", {}),
    ("HEAD", "/feeds/global/all.rss", {"Accept-Encoding": "gzip"}),
    ("GET", "/feeds/global/news.rss", {}),
    ("GET", "/feeds/global/all/archive/1.atom", {}),
    ("GET", "/feeds/all.rss", {"CloudFront-Viewer-Country": "RU"}),
    ("GET", "/feeds/all.rss", {"CF-IPCountry": "UA", "CloudFront-Viewer-Country-Region": "43"}),
    ("GET", "/feeds/all.rss", {"CF-IPCountry": "FR"}),
    ("GET", "/feeds/global/all.rss", {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}),
    ("GET", "/feeds/global/all.rss", {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}),
    ("GET", "/feeds/global/all.rss", {"If-None-Match": '"not-it"'}),
    ("GET", "/feeds/global/all.rss?utm_source=x", {}),
]


def test_memory_answers_equal_routed_answers(servers: tuple[Api, Api, Store]) -> None:
    cached, routed, _ = servers
    for method, path, headers in VARIANTS:
        _answer(cached, method, path, headers)  # the first may be a miss: it fills the cache
    hits = _metric(cached, "syndicate_feed_cache_hits")
    for method, path, headers in VARIANTS:
        ours, theirs = _answer(cached, method, path, headers), _answer(routed, method, path, headers)
        assert ours == theirs, (method, path, headers)
    etag = requests.get(cached.base + "/feeds/global/all.rss", timeout=5).headers["etag"]
    for api in (cached, routed):
        assert _answer(api, "GET", "/feeds/global/all.rss", {"If-None-Match": etag})[0] == 304
        assert _answer(api, "GET", "/feeds/global/all.rss", {"If-None-Match": f'W/{etag}, "x"'})[0] == 304
    # Every variant of the second round came from memory (+ the GET above and the two 304s).
    assert _metric(cached, "syndicate_feed_cache_hits") - hits == len(VARIANTS) + 3
    assert _metric(routed, "syndicate_feed_cache_hits") == 0


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/nowhere/all.rss",
        "/feeds/global/sport.rss",
        "/feeds/global/all.xml",
        "/feeds/global/all/archive/0.atom",
        "/feeds/global/all/archive/2.atom",
        "/feeds/global/all/archive/%C2%B2.atom",
        "/feeds/global/a/b/c.rss",
    ],
)
def test_what_memory_cannot_answer_gets_the_routes_404(servers: tuple[Api, Api, Store], path: str) -> None:
    cached, routed, _ = servers
    _answer(cached, "GET", "/feeds/global/all.rss", {})  # the cache is in use
    ours, theirs = _answer(cached, "GET", path, {}), _answer(routed, "GET", path, {})
    assert ours[0] == 404 and ours == theirs


def test_a_new_render_is_served_at_once(servers: tuple[Api, Api, Store]) -> None:
    cached, _, store = servers
    before = wait_for(
        lambda: (
            (r := cached.get("/feeds/ru/all.atom")).ok and _metric(cached, "syndicate_feed_cache_hits") and r
        ),
        10,
    )
    for _ in range(3):
        assert cached.get("/feeds/ru/all.atom").headers["etag"] == before.headers["etag"]
    store.store_feed("ru/all", "atom", RSS.replace(b"<title>t", b"<title>second render"))
    after = wait_for(
        lambda: (r := cached.get("/feeds/ru/all.atom")).headers["etag"] != before.headers["etag"] and r,
        5,
        0.01,
    )
    assert b"second render" in after.content
    assert (
        after.headers["etag"] == requests.get(cached.base + "/feeds/ru/all.atom", timeout=5).headers["etag"]
    )


def test_redis_away_serves_the_last_read_and_redis_wins_once_back(
    servers: tuple[Api, Api, Store], redis_server: RedisServer
) -> None:
    """Issue 19: while Redis cannot be read (a primary died, none promoted yet) the feed read last
    still answers; the server without a cache answers 503. Once Redis answers, Redis wins: a
    write made while the cache was off (it could not hear of it) is what is served."""
    cached, routed, store = servers
    before = cached.get("/feeds/global/all.rss")
    assert before.ok and routed.get("/feeds/global/all.rss").ok
    redis_server.stop()
    wait_for(lambda: routed.get("/feeds/global/all.rss").status_code == 503, 15, 0.1, "503 without a cache")
    for _ in range(5):
        away = cached.get("/feeds/global/all.rss")
        assert away.status_code == 200 and away.content == before.content
    redis_server.start()
    newer = RSS.replace(b"<title>t", b"<title>written while the cache was off")
    store.store_feed("global/all", "rss", newer)  # before the cache can have subscribed again
    wait_for(lambda: cached.get("/feeds/global/all.rss").content == newer, 20, 0.2, "the new bytes served")
    assert cached.get("/feeds/global/all.rss").content == newer


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_several_server_processes_share_the_port(redis_server: RedisServer, tmp_path: Path) -> None:
    """``serve --workers 2``: two processes answer on one port, each caching and invalidated."""
    store = Store(redis_server.url)
    store.store_feed("global/all", "rss", RSS)
    port = free_port()
    env = base_env(redis_server.url)
    web = Proc(
        "web",
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env,
        tmp_path / "w.log",
    )
    web.start()
    try:
        api = Api(port)
        wait_for(lambda: api.get("/healthz").ok, 30, what="server")
        assert web.proc is not None
        servers = wait_for(
            lambda: len(s := [c for c in _children(web.proc.pid) if _children(c) == []]) >= 2 and s, 10
        )
        assert len(servers) >= 2
        first = {
            requests.get(api.base + "/feeds/global/all.rss", timeout=5).headers["etag"] for _ in range(20)
        }
        store.store_feed("global/all", "rss", RSS.replace(b"<title>t", b"<title>changed"))
        # Every process (new connection per request: the kernel spreads them) sees the change.
        wait_for(
            lambda: all(
                b"changed" in requests.get(api.base + "/feeds/global/all.rss", timeout=5).content
                for _ in range(20)
            ),
            5,
            0.05,
            "every process serving the new bytes",
        )
        assert len(first) == 1
    finally:
        web.stop()
        store.close()
    assert web.proc.poll() is not None
    wait_for(lambda: not [p for p in servers if _alive(p)], 15, 0.1, "no server process left after SIGTERM")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its exit status is left for a parent to read
