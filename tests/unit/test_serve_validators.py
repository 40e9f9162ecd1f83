"""feeds.serve answers nginx's validators: the ETag and Last-Modified nginx makes from an exported
file's mtime and size (and its ``.gz``'s), and nginx's rules for 304s and gzip."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from feeds.feedkey import FeedKey
from feeds.serve import FeedBytes, accepts_gzip, etag_of, gzip_body, reply
from worker.export import export

LM = 1_764_670_000  # Tue, 02 Dec 2025 10:06:40 GMT
DATE = "Tue, 02 Dec 2025 10:06:40 GMT"
BODY = b"<rss>" + b"<item>x</item>" * 100 + b"</rss>"


def feed(body: bytes = BODY) -> FeedBytes:
    return FeedBytes.at(body, gzip_body(body), LM)


def test_the_etag_is_nginxs_mtime_and_size_in_hex() -> None:
    assert etag_of(LM, 2011) == '"692eba30-7db"'  # what nginx 1.22 sent for such a file
    f = feed()
    assert f.etag == etag_of(LM, len(BODY)) and f.gzip_etag == etag_of(LM, len(f.gzipped or b""))
    assert f.last_modified == DATE


def test_the_gzip_is_never_as_long_as_the_body_so_the_two_tags_differ() -> None:
    # 25 bytes of "a" then 26 random ones compress to exactly 51 bytes at level 6
    same = b"a" * 25 + random.Random(51).randbytes(26)
    assert len(gzip.compress(same, compresslevel=6, mtime=0)) == len(same)
    for body in (same, b"", b"x", BODY, random.Random(1).randbytes(300)):
        gz = gzip_body(body)
        assert gzip.decompress(gz) == body and len(gz) != len(body)


def test_each_coding_has_its_own_tag_and_304s_match_only_it() -> None:
    f = feed()
    plain = reply({}, f, "rss")
    zipped = reply({"accept-encoding": "gzip, deflate"}, f, "rss")
    assert plain.headers["ETag"] == f.etag and zipped.headers["ETag"] == f.gzip_etag
    assert zipped.body == f.gzipped and zipped.headers["Content-Encoding"] == "gzip"
    assert plain.headers["Vary"] == zipped.headers["Vary"] == "Accept-Encoding, Accept"
    for req, status in [
        ({"if-none-match": f.etag}, 304),
        ({"if-none-match": f"W/{f.etag}"}, 304),
        ({"if-none-match": f'"x", {f.etag}'}, 304),
        ({"if-none-match": "*"}, 304),
        ({"if-none-match": f.gzip_etag}, 200),  # the other coding's tag: nginx sends the file
        ({"if-none-match": f.gzip_etag, "accept-encoding": "gzip"}, 304),
        ({"if-none-match": f.etag, "accept-encoding": "gzip"}, 200),
        ({"if-modified-since": DATE}, 304),
        ({"if-modified-since": "Wed, 03 Dec 2025 00:00:00 GMT"}, 304),  # if_modified_since before
        ({"if-modified-since": "Tue, 02 Dec 2025 10:06:39 GMT"}, 200),
        ({"if-modified-since": "not a date"}, 200),
        ({"if-none-match": f.etag, "if-modified-since": DATE}, 304),
        ({"if-none-match": f.etag, "if-modified-since": "Tue, 02 Dec 2025 10:06:39 GMT"}, 200),  # nginx
    ]:
        assert reply(req, f, "rss").status == status, req


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("GZIP", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("*", False),  # nginx sends the plain file
        ("identity", False),
        ("", False),
    ],
)
def test_gzip_when_nginx_would_send_it(value: str, expected: bool) -> None:
    assert accepts_gzip({"accept-encoding": value}) is expected


def test_the_export_writes_the_file_and_its_gzip_with_the_feeds_mtime(tmp_path: Path) -> None:
    f = feed()
    path = export(tmp_path, FeedKey("global", "all", 2), "atom", f)
    gz = path.with_name(path.name + ".gz")
    assert path.relative_to(tmp_path).parts == ("feeds", "global", "all", "archive", "2.atom")
    assert path.read_bytes() == BODY and gz.read_bytes() == f.gzipped
    for file, tag in ((path, f.etag), (gz, f.gzip_etag)):
        st = file.stat()
        assert st.st_mtime == LM and etag_of(int(st.st_mtime), st.st_size) == tag
        assert st.st_mode & 0o777 == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["2.atom", "2.atom.gz"]  # no temp files
