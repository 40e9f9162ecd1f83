"""ninjs out: events for a ``format: ninjs`` subscription carry a ninjs 3.1 document that validates
against IPTC's schema, with the audience's notices in the HTML body exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support import ninjs_errors
from worker.events import event_body, event_id, fan_out, payload_key
from worker.models import (
    Article,
    AttachedNotice,
    AudienceArticle,
    EventType,
    LeadImage,
    RawInput,
    Subscription,
)
from worker.normalize import normalize

AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[1] / "data" / "ninjs"
NOTICE = AttachedNotice(
    id="rferl-undesirable-ru",
    language="ru",
    text="Уведомление о нежелательной организации",
    url="https://x.org/n",
)


def view(paragraphs: int = 2, **fields: Any) -> AudienceArticle:
    html = "".join(f"<p>Paragraph {i} " + "word " * 50 + "</p>" for i in range(paragraphs))
    article = Article(
        id="rferl-1",
        source="rferl",
        url="https://www.rferl.org/a/story/1.html",
        title="A story",
        authors=["Jane Doe", "RFE/RL"],
        language="en",
        section="Russia",
        tags=["Kremlin"],
        summary="The summary.",
        body_text="\n\n".join(f"Paragraph {i}" for i in range(paragraphs)),
        body_html=html,
        content_hash="h1",
        published_at=AT,
        **fields,
    )
    return AudienceArticle(audience="ru", article=article, notices=[NOTICE])


def ninjs(event: EventType, v: AudienceArticle, cap: int = 256 * 1024) -> dict[str, Any]:
    doc = json.loads(event_body(event, v, AT, payload_cap=cap, form="ninjs"))
    assert doc["type"] == event and doc["timestamp"] == "2026-12-02T12:00:00Z"  # the same envelope
    assert doc["data"]["audience"] == "ru"
    article: dict[str, Any] = doc["data"]["article"]
    assert ninjs_errors(article) == []
    return article


def notice_count(doc: dict[str, Any]) -> int:
    return json.dumps(doc, ensure_ascii=False).count(NOTICE.text)


@pytest.mark.parametrize("event", ["article.published", "article.updated"])
def test_published_and_updated_are_usable_with_the_notice_once(event: EventType) -> None:
    image = LeadImage(url="https://img.rferl.org/1.jpg", caption="Cap", credit="AP", width=800, height=450,
                      type="image/jpeg", alt="Alt")  # fmt: skip
    doc = ninjs(
        event,
        view(image=image, embargoed_until=AT, expires_at=datetime(2027, 1, 1, tzinfo=UTC)),
    )
    assert doc["pubStatus"] == "usable"
    assert doc["uri"] == "urn:syndicate:article:ru:rferl-1"
    assert doc["headlines"] == [{"role": "main", "contentType": "text/plain", "value": "A story"}]
    [body] = doc["bodies"]
    assert body["contentType"] == "text/html" and "Paragraph 1" in body["value"]
    assert body["value"].count('data-notice="rferl-undesirable-ru"') == 1
    assert notice_count(doc) == 1  # in the HTML body, and nowhere else
    assert doc["embargoedUntil"] == "2026-12-02T12:00:00Z" and doc["expires"] == "2027-01-01T00:00:00Z"
    assert doc["firstCreated"] == doc["versionCreated"] == "2026-12-02T12:00:00Z"
    assert doc["by"] == "Jane Doe, RFE/RL" and doc["language"] == "en"
    assert {"role": "url", "value": "https://www.rferl.org/a/story/1.html"} in doc["altIds"]
    assert doc["subjects"] == [{"name": "Russia", "rel": "section"}, {"name": "Kremlin"}]
    [picture] = doc["associations"]
    assert picture["type"] == "picture" and picture["by"] == "AP"
    assert picture["renditions"] == [
        {"name": "original", "href": "https://img.rferl.org/1.jpg", "contentType": "image/jpeg",
         "width": 800, "height": 450}
    ]  # fmt: skip
    assert picture["descriptions"] == [{"role": "caption", "value": "Cap"}]


def test_without_embargo_or_expiry_they_are_absent() -> None:
    doc = ninjs("article.published", view())
    assert "embargoedUntil" not in doc and "expires" not in doc and "associations" not in doc


def test_withdrawn_is_canceled() -> None:
    doc = ninjs("article.withdrawn", view())
    assert doc["pubStatus"] == "canceled"
    assert doc["uri"] == "urn:syndicate:article:ru:rferl-1"
    assert "bodies" not in doc


def test_over_the_cap_the_body_goes_but_the_notice_stays_and_it_still_validates() -> None:
    big = view(paragraphs=400)
    full = event_body("article.published", big, AT, payload_cap=10**9, form="ninjs")
    cap = len(full) // 3
    body = event_body("article.published", big, AT, payload_cap=cap, form="ninjs")
    assert len(body) <= cap
    doc = json.loads(body)
    assert doc["data"]["truncated"][0] == "bodies"
    article = doc["data"]["article"]
    assert ninjs_errors(article) == []
    assert "Paragraph 1 " not in json.dumps(article)
    assert notice_count(article) == 1


def test_fan_out_builds_one_body_per_form() -> None:
    def sub(sid: str, fmt: str) -> Subscription:
        return Subscription.model_validate(
            {"id": sid, "url": "https://x.org/h", "audience": "ru", "format": fmt, "created_at": AT}
        )

    subs = [sub("s1", "json"), sub("s2", "ninjs"), sub("s3", "ninjs")]
    payloads, deliveries = fan_out("article.published", view(), subs, AT, version=1, payload_cap=256 * 1024)
    eid = event_id("rferl-1", 1, "article.published", "ru")
    assert set(payloads) == {eid, payload_key(eid, "ninjs")} == {eid, f"{eid}.ninjs"}
    assert [d.payload_key for d in deliveries] == [eid, f"{eid}.ninjs", f"{eid}.ninjs"]
    assert "body_text" in json.loads(payloads[eid])["data"]["article"]  # the JSON form as before
    assert ninjs_errors(json.loads(payloads[f"{eid}.ninjs"])["data"]["article"]) == []
    assert len({d.webhook_id for d in deliveries}) == 3


def test_a_subscription_without_format_is_json() -> None:
    fields = {"id": "s", "url": "https://x.org/h", "audience": "ru", "created_at": AT}
    sub = Subscription.model_validate(fields)
    assert sub.format == "json"


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.json")))
def test_agency_items_in_are_valid_ninjs_out_and_read_back(name: str) -> None:
    article = normalize(RawInput(format="json", body=(DATA / name).read_text("utf-8")))
    out = ninjs("article.published", AudienceArticle(audience="ru", article=article, notices=[NOTICE]))
    back = normalize(RawInput(format="ninjs", body=json.dumps(out)))
    assert back.title == article.title
    assert back.authors == article.authors
    assert back.embargoed_until == article.embargoed_until and back.expires_at == article.expires_at
    assert (back.image.url if back.image else None) == (article.image.url if article.image else None)


def test_syndicate_receive_describes_a_ninjs_event() -> None:
    from worker.cli.receive import describe

    body = event_body("article.published", view(), AT, payload_cap=256 * 1024, form="ninjs")
    assert describe(body) == "article.published audience=ru id=rferl-1 'A story'"
