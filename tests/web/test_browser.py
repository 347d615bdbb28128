"""The page in a real browser (headless Chromium): the player, chapter buttons, captions,
the lock-screen controls, nothing fetched from elsewhere, and one printed page per routine."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from browser import wait_for
from sharekit import Shared, ShareProcess

AUDIO = "document.querySelector('#tiny-share audio')"
RECORD_HANDLERS = """
window.__handlers = {};
if (navigator.mediaSession) {
  const original = navigator.mediaSession.setActionHandler.bind(navigator.mediaSession);
  navigator.mediaSession.setActionHandler = (action, handler) => {
    window.__handlers[action] = handler;
    return original(action, handler);
  };
}
"""


def _timeline(shared: Shared) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(shared.path("tiny-share.timeline.json").read_text("utf-8"))
    return doc


def _open(browser: Any, live: ShareProcess) -> None:
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_HANDLERS})
    browser.get(live.url)


def _at_rest(browser: Any) -> float:
    """currentTime once the element has finished seeking."""
    script = f"const a = {AUDIO}; return a.seeking ? null : [a.currentTime];"
    value: list[float] = wait_for(browser, script)
    return value[0]


def test_player_duration_chapters_and_captions(
    browser: Any, live: ShareProcess, shared: Shared
) -> None:
    doc = _timeline(shared)
    _open(browser, live)
    duration = wait_for(browser, f"const a = {AUDIO}; return a.readyState >= 1 && a.duration;")
    assert abs(duration - doc["duration_ms"] / 1000) <= 0.1

    buttons = browser.find_elements("css selector", "#tiny-share button[data-start]")
    assert [b.get_attribute("data-title") for b in buttons] == [c["title"] for c in doc["chapters"]]
    third = doc["chapters"][2]["start_ms"] / 1000
    buttons[2].click()
    wait_for(browser, f"return {AUDIO}.currentTime > 0;")
    assert third - 0.05 <= _at_rest(browser) < third + 1.5
    assert buttons[2].get_attribute("aria-current") == "true"

    track = f"const t = {AUDIO}.textTracks[0];"
    cues = wait_for(browser, f"{track} return t && t.cues && t.cues.length;")
    assert cues == shared.path("tiny-share.vtt").read_text("utf-8").count(" --> ")


def test_lock_screen_metadata_and_chapter_skips(
    browser: Any, live: ShareProcess, shared: Shared
) -> None:
    doc = _timeline(shared)
    starts = [c["start_ms"] / 1000 for c in doc["chapters"]]
    _open(browser, live)
    wait_for(browser, f"return {AUDIO}.readyState >= 1;")
    browser.find_elements("css selector", "#tiny-share button[data-start]")[0].click()
    wait_for(browser, "return window.__handlers.nexttrack !== undefined;")
    metadata = browser.execute_script(
        "const m = navigator.mediaSession.metadata;"
        "return {title: m.title, art: m.artwork.map(a => a.src), album: m.album};"
    )
    assert metadata["title"] == "Tiny Share"
    assert metadata["art"] == [live.url + "artwork.png"]
    browser.execute_script(f"{AUDIO}.pause();")
    _at_rest(browser)
    browser.execute_script("window.__handlers.nexttrack();")
    wait_for(browser, f"return {AUDIO}.currentTime >= {starts[1] - 0.05};")
    assert starts[1] - 0.05 <= _at_rest(browser) < starts[1] + 1.5
    browser.execute_script(f"{AUDIO}.pause();")
    browser.execute_script("window.__handlers.previoustrack();")  # just after a start: back one
    wait_for(browser, f"return {AUDIO}.currentTime < {starts[1] - 0.05};")
    assert starts[0] - 0.05 <= _at_rest(browser) < starts[0] + 1.5


def test_nothing_is_fetched_from_elsewhere(browser: Any, live: ShareProcess) -> None:
    _open(browser, live)
    wait_for(browser, f"return {AUDIO}.readyState >= 1;")
    origin = live.url.split("/", 3)[:3]
    names = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);"
    )
    assert names and all(n.split("/", 3)[:3] == origin for n in names), names
    problems = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert problems == []


def test_printing_gives_one_page_per_routine(
    browser: Any, live: ShareProcess, shared: Shared
) -> None:
    _open(browser, live)
    wait_for(browser, "return document.readyState === 'complete';")
    printed = browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
    pdf = base64.b64decode(printed["data"])
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == len(shared.names)
