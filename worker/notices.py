"""The notice rules: which legal notices an article carries for an audience, and where it is withheld.

Pure functions over the shared models; no I/O, no clock (``today`` is passed in).

Region codes are ISO 3166-1 alpha-2 (``RU``) or ISO 3166-2 (``UA-43``), compared upper-case.
Two codes *meet* when they are equal, or when one is a country and the other one of its
subdivisions: ``UA`` meets ``UA-43``; ``RU`` does not meet ``UA-43``.

A reader belongs to one audience (``resolve_audience``): the audience listing the reader's
subdivision, else the one listing the reader's country, else the default audience.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from worker.models import Article, AttachedNotice, Audience, AudienceArticle, Notice, Publisher
from worker.names import region_code, section_slug
from worker.publishers import same_publisher


class NoDefaultAudienceError(LookupError):
    """The audiences given have no default audience (``load_config`` never lets this happen)."""


def in_force(notice: Notice, today: date) -> bool:
    """``effective_from <= today <= effective_until``, both days included; ``None`` is open-ended."""
    if notice.effective_from is not None and today < notice.effective_from:
        return False
    return notice.effective_until is None or today <= notice.effective_until


def regions_meet(first: str, second: str) -> bool:
    """Equal codes, or a country and one of its subdivisions (``UA`` / ``UA-43``), in either order."""
    a, b = region_code(first), region_code(second)
    return a == b or (_is_sub(a) != _is_sub(b) and _country(a) == _country(b))


def notice_applies(
    notice: Notice,
    article: Article,
    audience: Audience,
    today: date,
    publishers: Sequence[Publisher] = (),
) -> bool:
    """Whether ``notice`` is attached to ``article`` for ``audience`` on ``today``.

    All must hold: the notice is in force; it covers the article's publisher (``article.source``,
    or the publisher that source or the article's URL domain resolves to through ``publishers``;
    no publishers = every publisher) and section (no sections = every section, compared as
    slugs); one of the audience's regions meets one of the notice's regions (no regions = every
    audience). A ``withhold`` notice is never attached: it hides the article instead (see
    ``is_withheld``).
    """
    if notice.withhold or not _covers(notice, article, today, publishers):
        return False
    if not notice.regions:
        return True
    return any(regions_meet(mine, theirs) for mine in audience.regions for theirs in notice.regions)


def attached_notices(
    article: Article,
    audience: Audience,
    notices: Sequence[Notice],
    today: date,
    publishers: Sequence[Publisher] = (),
) -> list[AttachedNotice]:
    """The notices ``article`` carries for ``audience``, in config order, each at most once.

    The text is in the audience's language when the notice has it (exact tag, else the same
    primary language: ``pt-BR`` finds ``pt``), else in the notice's ``default_language``.
    """
    attached: list[AttachedNotice] = []
    seen: set[str] = set()
    for notice in notices:
        if notice.id in seen or not notice_applies(notice, article, audience, today, publishers):
            continue
        seen.add(notice.id)
        language = _pick_language(notice, audience.language)
        attached.append(
            AttachedNotice(
                id=notice.id,
                language=language,
                text=notice.texts[language].text,
                url=notice.url,
                placement=notice.placement,
            )
        )
    return attached


def withheld_regions(
    article: Article, notices: Sequence[Notice], today: date, publishers: Sequence[Publisher] = ()
) -> set[str]:
    """Where ``article`` must not be shown: its own ``restricted_regions``, plus the regions of every
    ``withhold: true`` notice that covers it (publisher, section and dates as in ``notice_applies``).
    """
    regions = {region_code(code) for code in article.restricted_regions}
    for notice in notices:
        if notice.withhold and _covers(notice, article, today, publishers):
            regions.update(region_code(code) for code in notice.regions)
    return regions


def audience_meets(audience: Audience, audiences: Sequence[Audience], regions: Iterable[str]) -> bool:
    """Whether some reader of ``audience`` could be in one of ``regions``.

    For each restricted region R, ``audience`` meets R when one of its own regions
      - equals R, or is a subdivision of the country R (``ru`` lists UA-43: restricted UA meets it);
      - is the country of the subdivision R, unless ANOTHER audience lists R itself (those readers
        go to that audience: most specific wins).
    The default audience (readers from everywhere no other audience claims) also meets R when R is
    not fully covered by the other audiences: no other audience lists R, nor R's country when R is
    a subdivision. Restricted FR with no audience listing FR: the default audience meets it;
    restricted RU with ``ru`` listing RU: only ``ru`` does. A reader whose subdivision is unknown
    counts as being in their country only.
    """
    others = {region_code(code) for other in audiences if other.id != audience.id for code in other.regions}
    own = {region_code(code) for code in audience.regions}
    for region in {region_code(code) for code in regions}:
        for mine in own:
            if mine == region or (_is_sub(mine) and not _is_sub(region) and _country(mine) == region):
                return True
            if _is_sub(region) and mine == _country(region) and region not in others:
                return True
        covered = region in others or (_is_sub(region) and _country(region) in others)
        if audience.default and not covered:
            return True
    return False


def is_withheld(
    article: Article,
    audience: Audience,
    audiences: Sequence[Audience],
    notices: Sequence[Notice],
    today: date,
    publishers: Sequence[Publisher] = (),
) -> bool:
    """Whether ``article`` must not be shown to ``audience``: it meets the withheld regions."""
    return audience_meets(audience, audiences, withheld_regions(article, notices, today, publishers))


def audience_view(
    article: Article,
    audience: Audience,
    audiences: Sequence[Audience],
    notices: Sequence[Notice],
    today: date,
    publishers: Sequence[Publisher] = (),
) -> AudienceArticle | None:
    """``article`` as ``audience`` sees it, notices attached; ``None`` when it is withheld there."""
    if is_withheld(article, audience, audiences, notices, today, publishers):
        return None
    notes = attached_notices(article, audience, notices, today, publishers)
    return AudienceArticle(audience=audience.id, article=article, notices=notes)


def resolve_audience(
    config_audiences: Sequence[Audience], country: str | None, subdivision: str | None
) -> Audience:
    """The audience of a reader in ``country`` (``UA``) and ``subdivision`` (``43`` or ``UA-43``).

    Most specific wins: an audience listing the subdivision, else one listing the country, else the
    default audience (also for unknown or missing codes). A subdivision of another country than
    ``country`` is ignored; without ``country`` a full ``UA-43`` still counts.
    """
    nation = region_code(country or "") or None
    sub = region_code(subdivision or "") or None
    if sub and _is_sub(sub):
        if nation and _country(sub) != nation:
            sub = None
        nation = nation or _country(sub or "")
    elif sub:
        sub = f"{nation}-{sub}" if nation else None
    for code in (sub, nation):
        for audience in config_audiences if code else ():
            if code in {region_code(r) for r in audience.regions}:
                return audience
    for audience in config_audiences:
        if audience.default:
            return audience
    raise NoDefaultAudienceError("no default audience among " + ", ".join(a.id for a in config_audiences))


def _covers(notice: Notice, article: Article, today: date, publishers: Sequence[Publisher]) -> bool:
    """In force, and covering the article's publisher and section."""
    if not in_force(notice, today):
        return False
    if notice.publishers and not any(
        same_publisher(publishers, wanted, article.source, article.url) for wanted in notice.publishers
    ):
        return False
    if not notice.sections:
        return True
    if article.section is None:
        return False
    return section_slug(article.section) in {section_slug(s) for s in notice.sections}


def _pick_language(notice: Notice, wanted: str) -> str:
    by_tag = {tag.lower(): tag for tag in notice.texts}
    wanted = wanted.lower()
    for candidate in (wanted, wanted.split("-")[0]):
        if candidate in by_tag:
            return by_tag[candidate]
    return notice.default_language if notice.default_language in notice.texts else next(iter(notice.texts))


def _is_sub(code: str) -> bool:
    return "-" in code


def _country(code: str) -> str:
    return code.split("-", 1)[0]
