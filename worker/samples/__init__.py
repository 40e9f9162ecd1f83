"""Sample articles that ``syndicate up`` ingests so a first run has something to show."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent

SECOND = {
    "guid": "sample-rferl-kyrgyz-water",
    "source": "rferl",
    "url": "https://www.rferl.org/a/sample-central-asia-water/1.html?utm_source=sample",
    "title": "Central Asian Neighbors Sign Water-Sharing Deal After Years Of Dispute",
    "authors": ["RFE/RL's Kyrgyz Service"],
    "published_at": "2021-06-02T08:30:00+06:00",
    "language": "en",
    "section": "Central Asia",
    "tags": ["water", "Kyrgyzstan", "Tajikistan"],
    "body_html": "<p>Kyrgyzstan and Tajikistan signed an agreement on sharing water from border rivers.</p>"
    "<p>The deal follows clashes over water and land along the disputed frontier.</p>",
}


def sample_requests() -> list[tuple[str, dict[str, str], str]]:
    """(content type, query parameters, body) for each sample, as ``POST /articles`` takes them."""
    seed = (HERE / "rferl-nato-afghan-pullout.txt").read_text(encoding="utf-8")
    return [
        (
            "text/plain",
            {
                "source": "rferl",
                "url": "https://www.rferl.org/a/nato-afghanistan-pullout/31284386.html",
                "published_at": "2021-06-01T18:40:00Z",
                "language": "en",
            },
            seed,
        ),
        ("application/json", {}, json.dumps(SECOND)),
    ]
