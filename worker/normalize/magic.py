"""Files that are not articles, known by their first bytes, and the one message that says so.

``decode_input`` is the door for every input (``syndicate normalize``, ``syndicate ingest``,
``POST /articles``): a PDF, an image, an archive or an office document is refused with
``PDF files are not supported: send the article's text, HTML or CMS JSON``; anything else must
be UTF-8.
"""

from __future__ import annotations

from worker.normalize.errors import NormalizeError

HINT = "send the article's text, HTML or CMS JSON"

# (offset, leading bytes, what it is), first match wins.
MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"%PDF-", "PDF files"),
    (0, b"\x89PNG\r\n\x1a\n", "PNG images"),
    (0, b"\xff\xd8\xff", "JPEG images"),
    (0, b"GIF87a", "GIF images"),
    (0, b"GIF89a", "GIF images"),
    (0, b"II*\x00", "TIFF images"),
    (0, b"MM\x00*", "TIFF images"),
    (4, b"ftypheic", "HEIC images"),
    (4, b"ftypavif", "AVIF images"),
    (4, b"ftyp", "video files"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Office documents (.doc, .xls, .ppt)"),
    (0, b"{\\rtf", "RTF documents"),
    (0, b"\x1f\x8b", "gzip archives"),
    (0, b"7z\xbc\xaf\x27\x1c", "7-Zip archives"),
    (0, b"Rar!\x1a\x07", "RAR archives"),
    (0, b"\xfd7zXZ\x00", "xz archives"),
    (0, b"\x28\xb5\x2f\xfd", "zstd archives"),
    (257, b"ustar", "tar archives"),
)
# ZIP containers: office formats name their parts near the start.
_ZIP_KINDS = (
    (b"word/", "Word documents (.docx)"),
    (b"xl/", "Excel workbooks (.xlsx)"),
    (b"ppt/", "PowerPoint presentations (.pptx)"),
    (b"application/vnd.oasis.opendocument", "OpenDocument files"),
    (b"application/epub+zip", "EPUB books"),
)


def non_article_kind(data: bytes) -> str | None:
    """What ``data`` is when its first bytes say it is not text (``"PDF files"``), else None."""
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WebP images"
    if data.startswith(b"BM") and data[6:10] == b"\x00\x00\x00\x00":  # "BM" alone may be text
        return "BMP images"
    if data.startswith(b"BZh") and data[4:10] == b"1AY&SY":
        return "bzip2 archives"
    if data.startswith(b"PK\x03\x04"):
        head = data[:65536]
        return next((kind for marker, kind in _ZIP_KINDS if marker in head), "ZIP archives")
    for offset, magic, kind in MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return kind
    return None


def decode_input(data: bytes) -> str:
    """The input as text; raises NormalizeError (one line) for a known non-article file or for
    bytes that are not UTF-8."""
    kind = non_article_kind(data)
    if kind is not None:
        raise NormalizeError(f"{kind} are not supported: {HINT}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NormalizeError(
            f"not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r}): {HINT}, in UTF-8"
        ) from None
