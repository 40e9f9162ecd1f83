"""The lead image: the CMS ``image`` field, a page's ``og:``/``twitter:`` tags, or the first figure."""

from __future__ import annotations

import mimetypes
import re
from typing import Any
from urllib.parse import urlsplit

from worker.models import LeadImage
from worker.normalize import hygiene
from worker.normalize.links import absolute_url
from worker.normalize.structure import FigureImage

_MEDIA_TYPE = re.compile(r"^image/[a-z0-9][a-z0-9.+-]{0,60}$")
_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
          ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml"}  # fmt: skip
MAX_SIDE = 100_000


def lead_image(
    stated: dict[str, Any] | None, base: str | None, figure: FigureImage | None
) -> LeadImage | None:
    """The article's lead image: the one the source states, else the body's first figure, else ``None``."""
    if stated and stated.get("url"):
        image = _build(stated, base)
        if image is not None:
            return image
    if figure is not None:
        fields = {"url": figure.url, "alt": figure.alt, "caption": figure.caption}
        return _build({**fields, "width": figure.width, "height": figure.height}, base)
    return None


def _build(data: dict[str, Any], base: str | None) -> LeadImage | None:
    url = absolute_url(str(data.get("url") or ""), base, "src")
    if url is None:
        return None
    return LeadImage(
        url=url,
        alt=_text(data.get("alt")),
        caption=_text(data.get("caption")),
        credit=_text(data.get("credit")),
        width=_side(data.get("width")),
        height=_side(data.get("height")),
        type=_type(data.get("type"), url),
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    return hygiene.clean_text(str(value)) or None


def _side(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        value = value.strip().removesuffix("px")
        value = int(value) if value.isdigit() else None
    return value if isinstance(value, int) and 0 < value <= MAX_SIDE else None


def _type(value: Any, url: str) -> str | None:
    given = str(value).strip().lower() if isinstance(value, str) else ""
    if _MEDIA_TYPE.match(given):
        return given
    path = urlsplit(url).path.lower()
    suffix = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    guessed = _TYPES.get(suffix) or (mimetypes.types_map.get(suffix) if suffix else None)
    return guessed if guessed and guessed.startswith("image/") else None
