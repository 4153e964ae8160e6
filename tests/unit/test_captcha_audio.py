"""The spoken captcha, made on demand: sealed code, own token only, 5-minute links, not after
the code is used or expired."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.services.security.captcha import (
    AUDIO_FILENAME,
    AUDIO_LINK_SECONDS,
    SEALED_CODE,
    audio_key,
    seal,
    unseal,
)
from chalicelib.services.security.challenges import Purpose
from tests.support.builder import build
from tests.support.fakes import FakeClock, MemoryChallenges

IP = "192.0.2.7"

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


class MemoryAudioFiles:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.links: list[tuple[str, str, int]] = []

    def put_audio(self, key: str, data: bytes) -> None:
        self.files[key] = data

    def audio_url(self, key: str, filename: str, expires_in: int) -> str:
        self.links.append((key, filename, expires_in))
        return f"https://bucket.example/{key}?expires={expires_in}"


class ListedCodes:
    """The captcha drawing of these tests: codes from a list, sounds recorded as they are made."""

    def __init__(self, rendered: list[str]) -> None:
        self.codes = iter(["024680", "975320", "000002"])
        self.rendered = rendered

    def generate_code(self) -> str:
        return next(self.codes)

    def render_image(self, code: str) -> bytes:
        return f"PNG {code}".encode()

    def render_audio(self, code: str) -> bytes:
        self.rendered.append(code)
        return f"WAV {code}".encode()


class Setup:
    def __init__(self) -> None:
        self.clock = FakeClock(START)
        self.repository = MemoryChallenges()
        self.files = MemoryAudioFiles()
        self.rendered: list[str] = []
        built = build(
            clock=self.clock,
            challenge_store=self.repository,
            documents_files=self.files,
            captcha_drawing=ListedCodes(self.rendered),
        )
        self.challenges = built.challenges
        self.captchas = built.captchas


@pytest.fixture
def setup() -> Setup:
    return Setup()


def _parts(audio_path: str) -> tuple[str, str]:
    prefix, captcha_id, token = audio_path.rsplit("/", 2)
    assert prefix == "/code-de-securite"
    return captcha_id, token


def test_the_page_gets_the_image_and_a_link_and_no_sound_is_made_yet(setup: Setup) -> None:
    issued = setup.captchas.issue(IP)
    assert issued.image_png == b"PNG 024680"
    assert _parts(issued.audio_path)[0] == issued.captcha_id
    assert setup.rendered == [] and setup.files.files == {}


def test_following_the_link_speaks_the_code_behind_a_five_minute_link(setup: Setup) -> None:
    issued = setup.captchas.issue(IP)
    link = setup.captchas.audio_link(*_parts(issued.audio_path), IP)
    key = audio_key(issued.captcha_id)
    assert link == f"https://bucket.example/{key}?expires=300"
    assert setup.files.files == {key: b"WAV 024680"}
    assert setup.files.links == [(key, AUDIO_FILENAME, AUDIO_LINK_SECONDS)]
    assert AUDIO_LINK_SECONDS == 300  # security.md: presigned links within 5 minutes
    assert key.startswith("captcha/")  # the prefix the bucket's lifecycle rule expires


def test_the_stored_challenge_keeps_the_code_only_sealed(setup: Setup) -> None:
    issued = setup.captchas.issue(IP)
    stored = setup.repository.get(issued.captcha_id)
    assert stored is not None
    assert "024680" not in repr(stored)
    assert stored.data[SEALED_CODE] != "024680"
    # The answer still checks: the sealed copy changes nothing to the challenge.
    assert setup.challenges.verify(issued.captcha_id, Purpose.CAPTCHA, "024680") is not None


@pytest.mark.parametrize("code", ["000000", "024680", "999999", "0000000002"])
def test_seal_and_unseal_round_trip_with_leading_zeros(code: str) -> None:
    assert unseal(seal(code, "jeton"), "jeton") == code
    assert len(seal(code, "jeton")) == len(code)


def test_one_captchas_token_opens_no_other_captcha(setup: Setup) -> None:
    first = setup.captchas.issue(IP)
    second = setup.captchas.issue(IP)
    first_id, first_token = _parts(first.audio_path)
    second_id, second_token = _parts(second.audio_path)
    assert first_token != second_token
    assert setup.captchas.audio_link(second_id, first_token, IP) is None
    assert setup.captchas.audio_link(first_id, second_token, IP) is None
    assert setup.captchas.audio_link(second_id, "", IP) is None
    assert setup.rendered == [] and setup.files.files == {}
    # Each token still opens its own, with its own code.
    assert setup.captchas.audio_link(second_id, second_token, IP) is not None
    assert setup.rendered == ["975320"]


def test_no_sound_once_the_code_is_used_or_expired(setup: Setup) -> None:
    used = setup.captchas.issue(IP)
    used_id, used_token = _parts(used.audio_path)
    assert setup.challenges.verify(used_id, Purpose.CAPTCHA, "024680") is not None
    assert setup.captchas.audio_link(used_id, used_token, IP) is None

    expiring = setup.captchas.issue(IP)
    expiring_id, expiring_token = _parts(expiring.audio_path)
    setup.clock.advance(minutes=10)
    assert setup.captchas.audio_link(expiring_id, expiring_token, IP) is None
    assert setup.rendered == []


def test_another_kind_of_challenge_is_no_captcha_sound(setup: Setup) -> None:
    other = setup.challenges.issue(
        Purpose.ARITHMETIC, "12", data={SEALED_CODE: "000012", "audio_token_check": ""}
    )
    assert setup.captchas.audio_link(other, "", IP) is None
