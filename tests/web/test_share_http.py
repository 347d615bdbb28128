"""The share over HTTP (Flask test client): page, files, types, HEAD, ranges, caching."""

from __future__ import annotations

import json
import struct
import zlib

import pytest
from flask.testing import FlaskClient
from sharekit import BASE, Shared

from routinecast.web.catalog import MP3, TIMELINE, VTT

TYPES = {MP3: "audio/mpeg", TIMELINE: "application/json", VTT: "text/vtt; charset=utf-8"}


def test_page_lists_every_build_with_player_chapters_and_links(
    client: FlaskClient, shared: Shared
) -> None:
    response = client.get(BASE)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for name in shared.names:
        doc = json.loads(shared.path(name + TIMELINE).read_text("utf-8"))
        assert f"<h2>{doc['title']}</h2>" in page
        assert f'src="{BASE}{name}.mp3"' in page
        assert f'<track kind="captions" src="{BASE}{name}.vtt"' in page and " default>" in page
        assert f'href="{BASE}download/{name}.mp3"' in page
        for chapter in doc["chapters"]:
            assert f'data-start="{chapter["start_ms"] / 1000}"' in page
            assert chapter["title"] in page
    assert "Subscribe in a podcast app" in page
    assert "evil" not in page and "sneaky" not in page and "half" not in page


def test_page_fetches_nothing_from_outside(client: FlaskClient) -> None:
    page = client.get(BASE).get_data(as_text=True)
    for attribute in ("src=", "href="):
        for piece in page.split(attribute)[1:]:
            url = piece[1:].split(piece[0], 1)[0]
            assert url.startswith(("/", "#", "http://localhost/")), url
    assert "default-src 'none'" in client.get(BASE).headers["Content-Security-Policy"]


def test_page_carries_the_print_handout(client: FlaskClient) -> None:
    page = client.get(BASE).get_data(as_text=True)
    assert page.count('<section class="handout">') == 2
    assert page.count("<svg") == 2  # one QR code per routine
    assert "2 sets of 5 seconds on each side" in page  # the plan as announced
    assert "Kneel on your right knee" in page  # the spoken set-up line
    css = client.get(f"{BASE}static/share.css").get_data(as_text=True)
    assert "@media print" in css and "page-break-after: always" in css


@pytest.mark.parametrize("suffix", [MP3, TIMELINE, VTT])
def test_every_output_is_served_exactly(client: FlaskClient, shared: Shared, suffix: str) -> None:
    for name in shared.names:
        expected = shared.path(name + suffix).read_bytes()
        response = client.get(BASE + name + suffix)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == TYPES[suffix]
        assert response.data == expected
        assert int(response.headers["Content-Length"]) == len(expected)
        assert response.headers["Accept-Ranges"] == "bytes"
        assert response.headers["ETag"] and response.headers["Last-Modified"]


def test_the_mp3_is_a_real_encoded_file(client: FlaskClient) -> None:
    data = client.get(f"{BASE}tiny-share.mp3").data
    assert data[:3] == b"ID3"  # ID3v2 tags (chapters) first
    audio = data[10 + _syncsafe(data[6:10]) :]
    assert audio[0] == 0xFF and audio[1] & 0xE0 == 0xE0  # an MPEG frame sync
    assert b"Xing" in audio[:200] or b"Info" in audio[:200]  # LAME/Xing header


def _syncsafe(raw: bytes) -> int:
    return (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]


def test_head_has_the_headers_and_no_body(client: FlaskClient, shared: Shared) -> None:
    response = client.head(f"{BASE}tiny-share.mp3")
    assert response.status_code == 200
    assert response.data == b""
    assert int(response.headers["Content-Length"]) == shared.path("tiny-share.mp3").stat().st_size
    assert response.headers["Content-Type"] == "audio/mpeg"
    for path in ("", "feed.xml", "tiny-share.chapters.json", "artwork.png"):
        assert client.head(BASE + path).status_code == 200


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-1", 0, 1),  # what Safari asks first
        ("bytes=-500", -500, -1),
        ("bytes=100-", 100, -1),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=5-99999999999", 5, -1),  # an end past the file is clamped
    ],
)
def test_ranges(client: FlaskClient, shared: Shared, header: str, start: int, end: int) -> None:
    data = shared.path("tiny-share.mp3").read_bytes()
    size = len(data)
    first, last = start % size, end % size
    response = client.get(f"{BASE}tiny-share.mp3", headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert response.data == data[first : last + 1]
    assert int(response.headers["Content-Length"]) == last - first + 1


def test_head_with_a_range(client: FlaskClient, shared: Shared) -> None:
    size = shared.path("tiny-share.mp3").stat().st_size
    response = client.head(f"{BASE}tiny-share.mp3", headers={"Range": "bytes=0-1"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 0-1/{size}"
    assert response.data == b""


def test_unsatisfiable_range_is_416(client: FlaskClient, shared: Shared) -> None:
    size = shared.path("tiny-share.mp3").stat().st_size
    response = client.get(f"{BASE}tiny-share.mp3", headers={"Range": "bytes=99999999-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"
    assert len(response.data) < 1000


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "bytes=1-0",
        "bytes=-0",
        "bytes=",
        "bytes",
        "items=0-1",
        "bytes=0-1,2-3",
        "bytes=--1",
        "bytes=0-1" + ",0-1" * 5000,
        "bytes=" + "9" * 5000 + "-",
        "bytes=0-" + "9" * 5000,
        "bytes=\u00e9-1",
    ],
)
def test_malformed_or_huge_ranges_are_handled(
    client: FlaskClient, shared: Shared, header: str
) -> None:
    data = shared.path("tiny-share.mp3").read_bytes()
    response = client.get(f"{BASE}tiny-share.mp3", headers={"Range": header})
    assert response.status_code in (200, 206, 416), response.status_code
    if response.status_code == 200:
        assert response.data == data
    if response.status_code == 206:
        first, last = map(int, response.headers["Content-Range"][6:].split("/")[0].split("-"))
        assert response.data == data[first : last + 1]


def test_if_none_match_gives_304(client: FlaskClient) -> None:
    for path in ("tiny-share.mp3", "tiny-share.vtt", "feed.xml", "tiny-share.chapters.json"):
        first = client.get(BASE + path)
        etag = first.headers["ETag"]
        again = client.get(BASE + path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.data == b""
        assert client.get(BASE + path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_if_modified_since_gives_304(client: FlaskClient) -> None:
    first = client.get(f"{BASE}tiny-share.mp3")
    since = first.headers["Last-Modified"]
    assert (
        client.get(f"{BASE}tiny-share.mp3", headers={"If-Modified-Since": since}).status_code == 304
    )


def test_if_range_with_a_stale_etag_sends_everything(client: FlaskClient, shared: Shared) -> None:
    response = client.get(
        f"{BASE}tiny-share.mp3", headers={"Range": "bytes=0-1", "If-Range": '"stale"'}
    )
    assert response.status_code == 200
    assert response.data == shared.path("tiny-share.mp3").read_bytes()


def test_download_is_an_attachment(client: FlaskClient, shared: Shared) -> None:
    response = client.get(f"{BASE}download/tiny-share.mp3")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=tiny-share.mp3"
    assert response.data == shared.path("tiny-share.mp3").read_bytes()
    ranged = client.get(f"{BASE}download/tiny-share.mp3", headers={"Range": "bytes=0-1"})
    assert ranged.status_code == 206
    plain = client.get(f"{BASE}tiny-share.mp3")
    assert plain.headers["Content-Disposition"].startswith("inline")
    for other in ("tiny-share.vtt", "tiny-share.timeline.json", "notes.txt", "evil.mp3"):
        assert client.get(f"{BASE}download/{other}").status_code == 404


def test_artwork_is_a_square_png(client: FlaskClient) -> None:
    response = client.get(f"{BASE}artwork.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    data = response.data
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (kind, width, height, depth, colour) == (b"IHDR", 1400, 1400, 8, 2)
    assert struct.unpack(">I", data[16 + length : 20 + length])[0] == zlib.crc32(
        data[12 : 16 + length]
    )


def test_a_rebuild_is_picked_up(client: FlaskClient, shared: Shared) -> None:
    """The catalogue follows the folder: a new build appears, a removed one goes."""
    folder = shared.folder
    names = ("copy.mp3", "copy.timeline.json", "copy.vtt")
    try:
        for suffix, name in zip((MP3, TIMELINE, VTT), names, strict=True):
            (folder / name).write_bytes(shared.path("second-share" + suffix).read_bytes())
        assert client.get(f"{BASE}copy.mp3").status_code == 200
        assert 'id="copy"' in client.get(BASE).get_data(as_text=True)
    finally:
        for name in names:
            (folder / name).unlink(missing_ok=True)
    assert client.get(f"{BASE}copy.mp3").status_code == 404
    assert 'id="copy"' not in client.get(BASE).get_data(as_text=True)
