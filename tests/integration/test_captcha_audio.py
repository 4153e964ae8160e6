"""« Écouter le code » on the real Chalice routing and moto: the sign-up page carries a link, not
the sound; the link redirects to a 5-minute presigned WAV of that captcha only, and to nothing
once the code is used or expired."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlparse

import boto3
import pytest

from tests.conftest import TEST_ENVIRONMENT
from tests.integration.conftest import CAPTCHA
from tests.integration.test_accounts_web import LUCAS
from tests.support.fakes import FakeClock
from tests.support.web import Page, WebClient

DOCUMENTS = TEST_ENVIRONMENT["DOCUMENTS_BUCKET"]
AUDIO_LINK = re.compile(r'<a [^>]*href="(/code-de-securite/[^"]+)"[^>]*>Écouter le code')


def audio_path(page: Page) -> str:
    match = AUDIO_LINK.search(page.body)
    assert match, page.body
    return unescape(match.group(1))


def key_of(location: str) -> str:
    """The object a presigned link names, in the documents bucket (virtual-hosted style)."""
    parsed = urlparse(location)
    assert parsed.hostname is not None and parsed.hostname.startswith(f"{DOCUMENTS}.s3.")
    return parsed.path.lstrip("/")


def wav_behind(location: str) -> bytes:
    return boto3.client("s3").get_object(Bucket=DOCUMENTS, Key=key_of(location))["Body"].read()


def test_the_sign_up_page_links_to_the_sound_and_carries_no_audio(portal: WebClient) -> None:
    page = portal.get("/region-idf/inscription")
    assert page.status == 200
    assert "data:audio" not in page.body
    assert len(page.body.encode()) < 40_000  # it was 180 KB with the sound inline
    path = audio_path(page)
    assert path.startswith(f"/code-de-securite/{page.hidden('captcha_id')}/")
    assert boto3.client("s3").list_objects_v2(Bucket=DOCUMENTS)["KeyCount"] == 0


def test_the_link_redirects_to_a_five_minute_presigned_wav(portal: WebClient) -> None:
    answer = portal.get(audio_path(portal.get("/region-idf/inscription")))
    assert answer.status == 303
    query = parse_qs(urlparse(answer.location).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-type"] == ["audio/wav"]
    assert query["response-content-disposition"] == ['attachment; filename="code-de-securite.wav"']
    sound = wav_behind(answer.location)
    assert sound[:4] == b"RIFF" and sound[8:12] == b"WAVE"
    assert key_of(answer.location).startswith("captcha/")  # the lifecycle rule's prefix


def test_one_captchas_link_does_not_open_another(portal: WebClient) -> None:
    first = audio_path(portal.get("/region-idf/inscription"))
    second = audio_path(portal.get("/region-idf/inscription"))
    first_id, first_token = first.rsplit("/", 2)[1:]
    second_id, second_token = second.rsplit("/", 2)[1:]
    for mixed in (
        f"/code-de-securite/{second_id}/{first_token}",
        f"/code-de-securite/{first_id}/{second_token}",
        f"/code-de-securite/{second_id}/x",
        f"/code-de-securite/{'0' * 64}/{first_token}",
    ):
        refused = portal.get(mixed)
        assert refused.status == 404, mixed
        assert "Ce code de sécurité n’est plus valable" in refused.text
    assert boto3.client("s3").list_objects_v2(Bucket=DOCUMENTS)["KeyCount"] == 0
    # Each link still opens its own, under its own key.
    locations = {key_of(portal.get(path).location) for path in (first, second)}
    assert len(locations) == 2


def test_no_sound_once_the_code_is_used(portal: WebClient) -> None:
    page = portal.get("/region-idf/inscription")
    path = audio_path(page)
    data = {
        "csrf": page.hidden("csrf"),
        "captcha_id": page.hidden("captcha_id"),
        "action": "submit",
        **{**LUCAS, "captcha_answer": CAPTCHA},
    }
    assert portal.post("/region-idf/inscription", data).status == 303
    assert portal.get(path).status == 404


def test_no_sound_once_the_code_expired(portal: WebClient) -> None:
    from chalicelib.store.models import ChallengeItem

    page = portal.get("/region-idf/inscription")
    path = audio_path(page)
    item = ChallengeItem.get(page.hidden("captcha_id"))
    item.update(actions=[ChallengeItem.expires_at.set(item.expires_at.replace(year=2020))])
    assert portal.get(path).status == 404


def test_listening_is_rate_limited_per_address(
    portal: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import container as container_module
    from chalicelib.container import get_container, reset_container
    from chalicelib.services.security.throttling import RATE_LIMITS

    # The limit counts in fixed windows: the clock stands still at the start of one, so that a
    # run crossing a boundary (every ten minutes) does not start a new count halfway.
    window = int(RATE_LIMITS["captcha_audio"].window.total_seconds())
    start = datetime.fromtimestamp(int(time.time()) // window * window + 1, UTC)
    monkeypatch.setattr(container_module, "now", FakeClock(start))
    reset_container()
    path = audio_path(portal.get("/region-idf/inscription"))
    multiplier = get_container().settings.rate_limit_multiplier
    for _ in range(RATE_LIMITS["captcha_audio"].requests * multiplier):
        assert portal.get(path).status == 303
    refused = portal.get(path)
    assert refused.status == 429
    assert "Réessayez dans dix minutes" in refused.text
