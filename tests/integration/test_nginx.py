"""Issue 14: deploy/nginx.conf, run in a real nginx on 127.0.0.1 in front of ``syndicate serve``.

The one config file of the repository is used as it is, with only what differs from the
container substituted: the upstream (``web:8000``), the listening address, the export folder,
and a shorter header timeout so the slow-header case ends quickly.
"""

from __future__ import annotations

import gzip
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
