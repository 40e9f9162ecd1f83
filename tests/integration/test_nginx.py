"""Issue 14: deploy/nginx.conf, run in a real nginx on 127.0.0.1 in front of ``syndicate serve``.

The one config file of the repository is used as it is, with only what differs from the
container substituted: the upstream (``web:8000``), the listening address, the export folder,
and a shorter header timeout so the slow-header case ends quickly.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.test_end_to_end import post_seed
from tests.support import ROOT, Api, Proc, free_port, wait_for
from worker.storage import Store
from worker.storage.articles import ARCHIVE_PAGE

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = pytest.mark.skipif(
    NGINX is None,
    reason="nginx is not installed (apt-get install nginx-light; .ci/run installs it): "
    "deploy/nginx.conf was not run",
)


def substitute(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert text.count(old) == 1, f"deploy/nginx.conf no longer has exactly one {old!r}"
        text = text.replace(old, new)
    return text


@pytest.fixture
def nginx(stack: tuple[Api, Proc, Proc], env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    api, _, _ = stack
    web_port = int(api.base.rsplit(":", 1)[1])
    port = free_port()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    conf = substitute(
        (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8"),
        {
            "server web:8000;": f"server 127.0.0.1:{web_port};",
            "listen 80;": f"listen 127.0.0.1:{port};",
            "root /srv/export;": f"root {env['SYNDICATE_EXPORT_DIR']};",
            "client_header_timeout 10s;": "client_header_timeout 2s;",
        },
    )
    (prefix / "nginx.conf").write_text(conf, encoding="utf-8")
    # as root, nginx's workers would run as nobody, who cannot read pytest's private tmp folders
    extra = " user root;" if os.geteuid() == 0 else ""
    args = [str(NGINX), "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-g", f"daemon off;{extra}"]
    log = (prefix / "nginx.log").open("ab")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: proc.poll() is None and requests.get(base + "/healthz", timeout=2).ok,
            30,
            what=f"nginx answering ({(prefix / 'nginx.log').read_text(errors='replace')[-500:]})",
        )
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_feeds_writes_and_slow_clients_through_nginx(
    nginx: str, stack: tuple[Api, Proc, Proc], env: dict[str, str]
) -> None:
    api, _, web = stack
    through = Api(int(nginx.rsplit(":", 1)[1]))
    # A write through nginx: refused without the token, taken with it.
    r = requests.post(
        nginx + "/articles", data=b"{}", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    article_id = post_seed(through)
    through.wait_published(article_id)
    exported = Path(env["SYNDICATE_EXPORT_DIR"]) / "feeds" / "global" / "all.rss"
    wait_for(exported.exists, 30, what="the exported feed file")

    # Feeds through nginx, with the content types of the contract, gzip when asked.
    for fmt, media in [
        ("rss", "application/rss+xml; charset=utf-8"),
        ("atom", "application/atom+xml; charset=utf-8"),
        ("json", "application/feed+json"),
    ]:
        r = requests.get(f"{nginx}/feeds/global/all.{fmt}", timeout=10)
        assert r.status_code == 200 and r.headers["content-type"] == media, (fmt, r.headers)
        on_disk = (exported.parent / f"all.{fmt}").read_bytes()
        assert r.content == on_disk  # the file (decompressed by requests)
        if len(on_disk) >= 512:  # gzip_min_length
            assert r.headers.get("content-encoding") == "gzip", (fmt, r.headers)
    raw = requests.get(f"{nginx}/feeds/global/all.rss", timeout=10, stream=True)
    assert len(exported.read_bytes()) >= 512 and raw.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw.raw.read()) == exported.read_bytes()
    # Not exported (geo-located, unknown): the app answers through nginx.
    assert requests.get(f"{nginx}/feeds/all.rss", timeout=10).status_code == 200
    assert requests.get(f"{nginx}/feeds/nowhere/all.rss", timeout=10).json()["error"] == "not_found"

    # A client that never finishes its headers is cut off by nginx (uvicorn would wait forever).
    with socket.create_connection(("127.0.0.1", int(nginx.rsplit(":", 1)[1])), timeout=30) as s:
        s.sendall(b"GET /feeds/global/all.rss HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */")
        data = b""
        try:
            while part := s.recv(65536):  # ends when nginx closes (socket timeout: 30 s)
                data += part
        except ConnectionResetError:  # reset_timedout_connection: nginx resets it
            pass
    assert data == b"" or data.startswith(b"HTTP/1.1 408"), data[:200]

    # The files are served from disk: with the app stopped, the feeds still answer.
    web.stop()
    r = requests.get(f"{nginx}/feeds/global/all.rss", timeout=10, headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and r.content == exported.read_bytes()
    assert requests.get(f"{nginx}/healthz", timeout=10).status_code == 502
    with pytest.raises(requests.ConnectionError):
        requests.get(api.base + "/feeds/global/all.rss", timeout=10)


# What both paths must answer alike for a feed (nginx adds Server, Date, Accept-Ranges; the app
# adds Link, which nginx cannot know).
SAME = ("etag", "last-modified", "content-type", "content-encoding", "cache-control", "vary")


def _get(url: str, **headers: str) -> tuple[requests.Response, bytes]:
    r = requests.get(url, headers=headers, timeout=10, stream=True)
    return r, r.raw.read()  # the bytes as sent: gzip stays gzip


def _answers(base: str, path: str, coding: str) -> dict[str, str]:
    r, _ = _get(base + path, **{"Accept-Encoding": coding})
    return {h: r.headers.get(h, "") for h in ("etag", "last-modified")}


def _assert_same(nginx: str, web: str, path: str) -> str:
    """The exported file through nginx and the app's answer are the same, in both codings, and
    each path answers 304 to the other's validators; returns the gzip ETag."""
    for coding in ("identity", "gzip"):
        wait_for(  # the file is written just after the bytes are stored (nginx: then up to 1 s old)
            lambda c=coding: _answers(nginx, path, c) == _answers(web, path, c),
            30,
            what=f"the same validators for {path} ({coding}) from nginx and the app",
        )
        (a, a_body), (b, b_body) = (
            _get(nginx + path, **{"Accept-Encoding": coding}),
            _get(web + path, **{"Accept-Encoding": coding}),
        )
        assert a.status_code == b.status_code == 200, (path, a.status_code, b.status_code)
        assert {h: a.headers.get(h) for h in SAME} == {h: b.headers.get(h) for h in SAME}, (path, coding)
        assert a_body == b_body and len(a_body) == int(a.headers["content-length"]), (path, coding)
        if coding == "gzip":
            assert a.headers["content-encoding"] == "gzip" and gzip.decompress(a_body)
            assert a.headers["etag"] == f'"{int(a.headers["etag"][1:].split("-")[0], 16):x}-{len(a_body):x}"'
        for base, other in ((nginx, b), (web, a)):
            for validator in (
                {"If-None-Match": other.headers["etag"]},
                {"If-Modified-Since": other.headers["last-modified"]},
            ):
                r, body = _get(base + path, **{"Accept-Encoding": coding}, **validator)
                assert r.status_code == 304 and body == b"", (base, path, coding, validator)
                assert r.headers["etag"] == other.headers["etag"], (base, path, coding)
    return str(a.headers["etag"])


def test_the_exported_files_answer_what_the_app_answers(
    nginx: str, stack: tuple[Api, Proc, Proc], env: dict[str, str]
) -> None:
    api, _, _ = stack
    store = Store(env["REDIS_URL"])
    settled = functools.partial(wait_for, lambda: not store.dirty(), 60, what="every feed rendered")
    api.wait_published(post_seed(api))
    settled()  # then nothing changes the feeds while both paths are compared
    feeds = [f"/feeds/global/all.{fmt}" for fmt in ("rss", "atom", "json")]
    before = {path: _assert_same(nginx, api.base, path) for path in feeds}
    exported = Path(env["SYNDICATE_EXPORT_DIR"]) / "feeds" / "global" / "all.rss"
    assert exported.with_name("all.rss.gz").exists()
    # A browser asking for the RSS as a page gets the app's answer (application/xml) via nginx.
    page = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
    a, b = (requests.get(base + feeds[0], headers=page, timeout=10) for base in (nginx, api.base))
    assert a.headers["content-type"] == b.headers["content-type"] == "application/xml; charset=utf-8"

    # New articles: the feed changes on both paths together, and a full archive page is exported
    # under the same rule.
    ids = [_post_numbered(api, n) for n in range(ARCHIVE_PAGE + 1)]
    waiting = set(ids)

    def published() -> bool:
        waiting.difference_update([i for i in waiting if api.article(i)["status"] == "published"])
        return not waiting

    wait_for(published, 120, what="the articles published")
    settled()
    for path in feeds:
        assert _assert_same(nginx, api.base, path) != before[path]
    page1 = "/feeds/global/archive-test/archive/1"
    for fmt in ("rss", "atom", "json"):
        _assert_same(nginx, api.base, f"{page1}.{fmt}")
    store.close()


def _post_numbered(api: Api, n: int) -> str:
    doc = {
        "guid": f"nginx-{n}",
        "source": "rferl",
        "title": f"Archived story number {n}",
        "language": "en",
        "section": "Archive Test",
        "published_at": f"2024-01-01T00:{n // 60:02d}:{n % 60:02d}Z",
        "body_html": f"<p>Body of archived story {n}.</p>",
    }
    r = api.post_article(json.dumps(doc), "application/json")
    assert r.status_code == 202, r.text
    return str(r.json()["id"])
