"""The podcast feed and its Podcasting 2.0 chapters: pure, a catalogue in, bytes out.

RSS 2.0 with the iTunes tags podcast apps read (image, category, author, explicit,
duration, episode type) and the Podcasting 2.0 namespace: one ``<item>`` per build, whose
``<enclosure>`` carries the MP3's exact size, whose ``<guid>`` is the MP3's SHA-256 (a
rebuild with other holds is another episode), with ``<podcast:chapters>`` (JSON chapters,
``chapters_json``) and ``<podcast:transcript>`` (the captions). Written with
``xml.etree``; every URL is absolute, under ``Links.base``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import quote

from routinecast.durations import format_duration
from routinecast.web.catalog import MP3, VTT, Built, Catalogue

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
CHAPTERS_SUFFIX = ".chapters.json"
CHAPTERS_TYPE = "application/json+chapters"
CHAPTERS_VERSION = "1.2.0"
for _prefix, _uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM)):
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True)
class Links:
    """Absolute URLs of the share: its base (ending in "/"), page, feed and artwork."""

    base: str
    feed: str
    artwork: str

    def file(self, filename: str) -> str:
        """The URL of a file served at the base."""
        return self.base + quote(filename)


@dataclass(frozen=True)
class Channel:
    """What the feed says about itself."""

    title: str = "routinecast routines"
    description: str = "Guided exercise routines built with routinecast on your computer."
    author: str = "routinecast"
    language: str = "en"


def chapters_json(built: Built) -> bytes:
    """The build's chapters as a Podcasting 2.0 JSON chapters file."""
    doc = {
        "version": CHAPTERS_VERSION,
        "title": built.title,
        "chapters": [
            {"startTime": c.start_ms / 1000, "endTime": c.end_ms / 1000, "title": c.title}
            for c in built.chapters
        ],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def feed_xml(catalogue: Catalogue, links: Links, channel: Channel = Channel()) -> bytes:
    """The RSS document, one episode per build, newest first."""
    rss = ET.Element("rss", {"version": "2.0"})
    head = _channel(rss, channel, links)
    if catalogue.routines:
        _sub(head, "lastBuildDate", _date(max(r.mp3.modified for r in catalogue.routines)))
    for built in catalogue.routines:
        _item(head, built, links)
    ET.indent(rss)
    data: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def _channel(rss: ET.Element, channel: Channel, links: Links) -> ET.Element:
    head = _sub(rss, "channel")
    _sub(head, f"{{{ATOM}}}link", href=links.feed, rel="self", type="application/rss+xml")
    _sub(head, "title", channel.title)
    _sub(head, "link", links.base)
    _sub(head, "description", channel.description)
    _sub(head, "language", channel.language)
    _sub(head, "generator", "routinecast")
    _sub(head, f"{{{ITUNES}}}author", channel.author)
    _sub(head, f"{{{ITUNES}}}image", href=links.artwork)
    image = _sub(head, "image")
    for tag, text in (("url", links.artwork), ("title", channel.title), ("link", links.base)):
        _sub(image, tag, text)
    category = ET.SubElement(head, f"{{{ITUNES}}}category", {"text": "Health & Fitness"})
    ET.SubElement(category, f"{{{ITUNES}}}category", {"text": "Fitness"})
    _sub(head, f"{{{ITUNES}}}explicit", "false")
    _sub(head, f"{{{ITUNES}}}type", "episodic")
    return head


def _item(head: ET.Element, built: Built, links: Links) -> None:
    item = _sub(head, "item")
    _sub(item, "title", built.title)
    _sub(item, "description", _description(built))
    _sub(item, "link", f"{links.base}#{quote(built.name)}")
    mp3 = links.file(built.filename(MP3))
    _sub(item, "enclosure", url=mp3, length=str(built.mp3.size), type="audio/mpeg")
    _sub(item, "guid", built.sha256, isPermaLink="false")
    _sub(item, "pubDate", _date(built.mp3.modified))
    _sub(item, f"{{{ITUNES}}}duration", str(round(built.duration_ms / 1000)))
    _sub(item, f"{{{ITUNES}}}episodeType", "full")
    _sub(item, f"{{{ITUNES}}}explicit", "false")
    chapters = links.file(built.filename(CHAPTERS_SUFFIX))
    _sub(item, f"{{{PODCAST}}}chapters", url=chapters, type=CHAPTERS_TYPE)
    vtt = links.file(built.filename(VTT))
    _sub(item, f"{{{PODCAST}}}transcript", url=vtt, type="text/vtt", language="en", rel="captions")


def _description(built: Built) -> str:
    if built.summary:
        return built.summary
    return f"A {format_duration(built.duration_ms)} guided routine."


def _date(seconds: float) -> str:
    return format_datetime(datetime.fromtimestamp(seconds, UTC))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element
