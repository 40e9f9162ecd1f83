"""The feed formats, in one registry: name -> renderer, media type, URL extension, export file name.

Everything that handles more than one format reads this table: rendering (``feeds.render``), the
feed URLs (``FeedMeta.url``), serving (``feeds.serve``: the path's extension, ``Content-Type``),
the worker's renders and exported files (``worker.publish``), the WebSub pings (``worker.websub``)
and the URLs ``syndicate up`` prints. Adding a format is one renderer module plus one
``register`` call below.

A renderer is named by ``"module:function"`` and imported on first use: renderer modules import
``feeds.meta``, which imports this module, so importing them here would make a cycle.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feeds.meta import FeedMeta
    from worker.models import AudienceArticle

Renderer = Callable[["FeedMeta", Sequence["AudienceArticle"]], bytes]
FeedFormat = str  # a registered format's name: "rss", "atom", "json", ...


class UnknownFormatError(ValueError):
    """A feed format that is not registered was asked for."""

    def __init__(self, fmt: object) -> None:
        super().__init__(f"feed format {fmt!r} is unknown: expected one of {', '.join(names())}")


@dataclass(frozen=True)
class Format:
    """One feed format. ``renderer`` is ``"module:function"`` (imported on first render) or the
    function itself; ``extension`` (of URLs and exported files) defaults to ``name``."""

    name: str
    media_type: str  # the Content-Type it is served with
    renderer: str | Renderer
    extension: str = ""
    # A browser (it asks for text/html first) gets it as plain XML, which it shows through the
    # feed's stylesheet; as application/rss+xml it would show the raw text or download it.
    browser_page: bool = False
    _loaded: list[Renderer] = field(default_factory=list, compare=False, repr=False)

    @property
    def ext(self) -> str:
        return self.extension or self.name

    @property
    def mime(self) -> str:
        """The media type without parameters (``application/rss+xml``), for ``type=`` attributes."""
        return self.media_type.split(";", 1)[0].strip()

    def file_name(self, stem: str) -> str:
        """The name of the URL's last part and of the exported file: ``all`` -> ``all.rss``."""
        return f"{stem}.{self.ext}"

    def render(self, meta: FeedMeta, items: Sequence[AudienceArticle]) -> bytes:
        if not self._loaded:
            self._loaded.append(_load(self.renderer))
        return self._loaded[0](meta, items)


def _load(renderer: str | Renderer) -> Renderer:
    if not isinstance(renderer, str):
        return renderer
    module, _, name = renderer.partition(":")
    fn: Renderer = getattr(importlib.import_module(module), name)
    return fn


_REGISTRY: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    """Add a format; formats are rendered and listed in the order registered."""
    if fmt.name in _REGISTRY or any(f.ext == fmt.ext for f in _REGISTRY.values()):
        raise ValueError(f"feed format {fmt.name!r} (extension .{fmt.ext}) is registered already")
    _REGISTRY[fmt.name] = fmt
    return fmt


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def get(name: str) -> Format:
    """The format called ``name``; ``UnknownFormatError`` if none is."""
    found = _REGISTRY.get(name)
    if found is None:
        raise UnknownFormatError(name)
    return found


def all_formats() -> tuple[Format, ...]:
    return tuple(_REGISTRY.values())


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def by_extension(ext: str) -> Format | None:
    """The format whose URLs end in ``.ext``, or None."""
    return next((f for f in _REGISTRY.values() if f.ext == ext), None)


def expected_names(stem: str) -> str:
    """``SECTION.rss, SECTION.atom or SECTION.json``: the names a path may end in, for errors."""
    files = [f.file_name(stem) for f in _REGISTRY.values()]
    return files[0] if len(files) == 1 else f"{', '.join(files[:-1])} or {files[-1]}"


register(Format("rss", "application/rss+xml; charset=utf-8", "feeds.rss:render_rss", browser_page=True))
register(Format("atom", "application/atom+xml; charset=utf-8", "feeds.atom:render_atom", browser_page=True))
register(Format("json", "application/feed+json", "feeds.jsonfeed:render_json"))
