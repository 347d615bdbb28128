"""The podcast feed, read by a real feed parser, and the Podcasting 2.0 chapters."""

from __future__ import annotations

import hashlib
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
from flask.testing import FlaskClient
from sharekit import BASE, Shared

from routinecast.timeline import Chapter
from routinecast.web.catalog import Built, Catalogue, CatalogueReader, Stamp
from routinecast.web.feed import CHAPTERS_VERSION, PODCAST, Links, chapters_json, feed_xml

ORIGIN = "http://localhost"


def _timeline(shared: Shared, name: str) -> dict[str, object]:
    doc: dict[str, object] = json.loads(shared.path(f"{name}.timeline.json").read_text("utf-8"))
    return doc


def test_feed_parses_and_links_every_episode(client: FlaskClient, shared: Shared) -> None:
    response = client.get(f"{BASE}feed.xml")
    assert response.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert feed.feed.title == "routinecast routines"
    assert feed.feed.image.href == f"{ORIGIN}{BASE}artwork.png"
    assert feed.feed.itunes_type == "episodic"
    assert {t.term for t in feed.feed.tags} >= {"Health & Fitness", "Fitness"}
    assert sorted(e.enclosures[0].href for e in feed.entries) == sorted(
        f"{ORIGIN}{BASE}{name}.mp3" for name in shared.names
    )
    for entry in feed.entries:
        name = entry.enclosures[0].href.rsplit("/", 1)[1].removesuffix(".mp3")
        mp3 = shared.path(f"{name}.mp3").read_bytes()
        doc = _timeline(shared, name)
        enclosure = entry.enclosures[0]
        assert enclosure.type == "audio/mpeg"
        assert int(enclosure.length) == len(mp3)
        assert entry.id == hashlib.sha256(mp3).hexdigest()
        assert entry.guidislink is False
        assert entry.itunes_duration == str(round(int(str(doc["duration_ms"])) / 1000))
        assert entry.published_parsed is not None
        assert entry.title.startswith(str(doc["title"]))
        assert entry.podcast_chapters == {
            "url": f"{ORIGIN}{BASE}{name}.chapters.json",
            "type": "application/json+chapters",
        }
        assert entry.podcast_transcript["url"] == f"{ORIGIN}{BASE}{name}.vtt"
        assert entry.podcast_transcript["type"] == "text/vtt"
        # every link answers with what it names
        assert client.get(enclosure.href.removeprefix(ORIGIN)).data == mp3
        vtt = client.get(entry.podcast_transcript["url"].removeprefix(ORIGIN))
        assert vtt.data == shared.path(f"{name}.vtt").read_bytes()
        chapters = client.get(entry.podcast_chapters["url"].removeprefix(ORIGIN))
        assert chapters.status_code == 200
        assert json.loads(chapters.data)["version"] == CHAPTERS_VERSION


def test_the_summary_is_the_description(client: FlaskClient) -> None:
    feed = feedparser.parse(client.get(f"{BASE}feed.xml").data)
    by_title = {e.title: e for e in feed.entries}
    assert by_title["Tiny Share"].summary == "Three short moves for the share tests."
    assert "guided routine" in by_title["Second Share"].summary  # no summary: a fallback


def test_chapters_json_is_the_timelines_chapters(client: FlaskClient, shared: Shared) -> None:
    for name in shared.names:
        response = client.get(f"{BASE}{name}.chapters.json")
        assert response.headers["Content-Type"] == "application/json+chapters"
        doc = json.loads(response.data)
        assert doc["version"] == CHAPTERS_VERSION
        timeline = _timeline(shared, name)
        chapters = timeline["chapters"]
        assert isinstance(chapters, list) and len(chapters) >= 2
        assert [(c["startTime"], c["title"]) for c in doc["chapters"]] == [
            (c["start_ms"] / 1000, c["title"]) for c in chapters
        ]
        assert [c["endTime"] for c in doc["chapters"]] == [c["end_ms"] / 1000 for c in chapters]


def test_a_rebuild_is_a_new_episode(tmp_path: Path, shared: Shared) -> None:
    for suffix in (".mp3", ".timeline.json", ".vtt"):
        shutil.copy(shared.path(f"tiny-share{suffix}"), tmp_path / f"tiny-share{suffix}")
    reader = CatalogueReader(tmp_path)
    links = Links("http://h/t/", "http://h/t/feed.xml", "http://h/t/artwork.png")
    before = feedparser.parse(feed_xml(reader.read(), links)).entries[0]
    with (tmp_path / "tiny-share.mp3").open("ab") as mp3:
        mp3.write(b"\0" * 417)  # new content, as a rebuild with other holds would have
    after = feedparser.parse(feed_xml(reader.read(), links)).entries[0]
    assert before.id != after.id
    assert int(after.enclosures[0].length) == int(before.enclosures[0].length) + 417


def _built(title: str) -> Built:
    return Built(
        name="a&b <c>",
        title=title,
        summary="",
        duration_ms=61_500,
        chapters=(Chapter("One & <two>", 0, 1000),),
        exercises=(),
        cautions=(),
        captions=1,
        overrides=(),
        mp3=Stamp(1, 2, 3, 1_700_000_000_000_000_000),
        sha256="ab" * 32,
    )


def test_feed_escapes_and_quotes_what_it_writes() -> None:
    links = Links("http://h:1/t/", "http://h:1/t/feed.xml", "http://h:1/t/artwork.png")
    data = feed_xml(Catalogue(Path("."), (_built('Tom & "Jerry" <b>'),)), links)
    root = ET.fromstring(data)
    item = root.find("channel/item")
    assert item is not None
    assert item.findtext("title") == 'Tom & "Jerry" <b>'
    enclosure = item.find("enclosure")
    assert enclosure is not None and enclosure.get("url") == "http://h:1/t/a%26b%20%3Cc%3E.mp3"
    assert item.findtext("{http://www.itunes.com/dtds/podcast-1.0.dtd}duration") == "62"
    chapters = item.find(f"{{{PODCAST}}}chapters")
    assert chapters is not None and chapters.get("url", "").endswith(".chapters.json")
    assert json.loads(chapters_json(_built("x")))["chapters"][0]["title"] == "One & <two>"


def test_an_empty_folder_is_an_empty_feed() -> None:
    links = Links("http://h/t/", "http://h/t/feed.xml", "http://h/t/artwork.png")
    feed = feedparser.parse(feed_xml(Catalogue(Path("."), ()), links))
    assert not feed.bozo and feed.entries == []
