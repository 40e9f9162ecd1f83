"""What a person sees in a browser, in real headless Chromium: a feed shown as a readable page
through its XSL stylesheet, and /docs working with no internet access. Screenshots go to the
test's own folder (tmp_path)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, wait_for

SEED = ROOT / "tests" / "data" / "rferl-nato-afghan-pullout.txt"
TITLE = "NATO Chief Says Afghan Pullout Progressing"
NOTICE_RU = "Правительство России объявило RFE/RL «нежелательной организацией»"
# Every host name but 127.0.0.1 fails to resolve: the page must need nothing from outside.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it)")
    return found


def browse(url: str, tmp_path: Path, name: str) -> str:
    """The rendered DOM of ``url``; a screenshot of it in tmp_path/NAME.png."""
    common = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium'}",
        OFFLINE,
        "--virtual-time-budget=15000",  # let the page's scripts run before the DOM is taken
        "--window-size=1200,1600",
    ]
    shot = tmp_path / f"{name}.png"
    subprocess.run([*common, f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000, "the screenshot is (nearly) blank"
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, timeout=120, check=True)
    return dom.stdout.decode("utf-8", "replace")


def visible_text(dom: str) -> str:
    from lxml import html

    tree = html.fromstring(dom)
    for hidden in tree.xpath("//script | //style | //head"):
        hidden.drop_tree()
    return " ".join(tree.text_content().split())


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_a_feed_in_a_browser_is_a_readable_page(stack, fmt: str, tmp_path: Path) -> None:
    api, _, _ = stack
    r = api.post_article(SEED.read_text(), "text/plain", source="rferl", url="https://www.rferl.org/a/x.html")
    assert r.status_code == 202, r.text
    aid = r.json()["id"]
    api.wait_published(aid)
    # Published means committed; the feed is rendered a moment later: wait for the item in it.
    url = f"{api.base}/feeds/ru/all.{fmt}"
    wait_for(lambda: aid in httpx.get(url, timeout=10).text, 60, what=f"article {aid} in {url}")
    dom = browse(f"{api.base}/feeds/ru/all.{fmt}", tmp_path, f"feed-{fmt}")
    assert 'id="feed-title"' in dom and 'class="notice"' in dom, dom[:2000]  # the stylesheet applied
    text = visible_text(dom)
    assert TITLE in text and NOTICE_RU in text, text[:2000]
    assert "To subscribe" in text and f"/feeds/ru/all.{fmt}" in text


def test_docs_work_without_internet_access(stack, tmp_path: Path) -> None:
    api, _, _ = stack
    dom = browse(f"{api.base}/docs", tmp_path, "docs")
    text = visible_text(dom)
    assert "swagger-ui" in dom and "/articles" in text and "/subscriptions" in text, text[:2000]
    assert "Authorize" in text  # the bearer scheme is declared
