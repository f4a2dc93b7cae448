"""Failure messages of the download path: network errors in words, the by-hand route in numbered steps."""

from __future__ import annotations

import socket
import urllib.error

import pytest

from geo.load import packs
from geo.load.packs import PackError, by_hand, download_file, fetch_release, releases
from tests.mirror import Mirror


def test_no_internet_is_said_in_words_with_the_whole_route_by_hand(tmp_path, monkeypatch):
    def offline(url, headers, timeout):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(packs, "_open", offline)
    monkeypatch.setattr(packs.time, "sleep", lambda s: None)
    with pytest.raises(PackError) as err:
        fetch_release("iod2019", tmp_path)
    message, hint = err.value.message, err.value.hint
    assert "no internet connection: could not reach the GOV.UK file server" in message
    assert "urlopen" not in message and "Errno" not in message
    assert releases()["iod2019"]["table"]["url"] in message
    assert "1. Open GOV.UK › English indices of deprivation 2019 (https://www.gov.uk/" in hint
    assert "\n5. Run: python -m geo data import --release iod2019 --from FOLDER" in hint
    assert "--release ID" not in hint and "ONS Open Geography Portal" in hint


def test_refused_and_missing_are_said_in_words(tmp_path):
    with pytest.raises(PackError) as err:
        download_file("http://127.0.0.1:9/f.csv", tmp_path / "f.csv", attempts=1)
    assert "the mirror at 127.0.0.1:9: the connection was refused" in err.value.message
    with Mirror() as mirror, pytest.raises(PackError) as err:
        download_file(f"{mirror.url}/gone.csv", tmp_path / "f.csv", attempts=1)
    assert "answered 404" in err.value.message and "no file at this address" in err.value.message
    assert err.value.not_found


def test_every_known_file_7_address_is_tried_in_turn(tmp_path, monkeypatch):
    release = releases()["iod2019"]
    moved = {**release, "table": {**release["table"], "url": "https://assets.publishing.service.gov.uk/media/old/f7.csv",
                                  "also": [release["table"]["url"]]}}
    monkeypatch.setitem(releases(), "iod2019", moved)
    with Mirror() as mirror:
        with pytest.raises(PackError) as err:  # the second address answers (here with a bad table): it was tried
            mirror.add_file(packs.urllib.parse.urlsplit(release["table"]["url"]).path, b"a,b\n1,2\n")
            fetch_release("iod2019", tmp_path, mirror=mirror.url)
        paths = [p for m, p, r in mirror.requests if m == "GET"]
    assert paths[:2] == ["/media/old/f7.csv", packs.urllib.parse.urlsplit(release["table"]["url"]).path]
    assert "not usable" in err.value.message


def test_every_release_has_a_by_hand_page_and_title():
    for release_id, release in releases().items():
        steps = by_hand(release_id)
        for part in ("table", "lsoa", "districts"):
            assert release[part]["page"].startswith("https://") and release[part]["title"] in steps
