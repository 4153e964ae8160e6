"""The signup captcha: its image goes in the page, its sound is made only when someone asks.

The spoken code (RGAA 1.4/1.5) weighs 110 KB, 147 KB in base64: inlined, it tripled the page
that phones download, and rendering it cost 30 ms of CPU on every sign-up page for the few who
listen. The page now links to `/code-de-securite/{captcha_id}/{token}`, which renders the WAV,
writes it to the documents bucket and redirects to a short presigned link (nothing binary goes
through API Gateway: docs/specs/architecture.md, D9), as PDFs are handed out.

The answer stays hashed in the challenge (docs/specs/security.md). To speak the code later,
the challenge also keeps it sealed under a one-time pad drawn from `token`, a random value only
the page holds: the stored item alone does not give the code,
and one captcha's token opens no other.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from chalicelib.services.security.challenges import Challenges, Purpose
from chalicelib.services.security.throttling import RateLimiter

AUDIO_LINK_SECONDS = 300  # docs/specs/security.md: presigned links expire within 5 minutes
AUDIO_FILENAME = "code-de-securite.wav"
AUDIO_PREFIX = "captcha/"  # the bucket's lifecycle rule empties it after a day
SEALED_CODE = "sealed_code"
TOKEN_CHECK = "audio_token_check"
# The captchas' windows are ten minutes (throttling.RATE_LIMITS "captcha", "captcha_audio").
TOO_MANY_CODES = "Trop de demandes de code depuis votre connexion. Réessayez dans quelques minutes."
TOO_MANY_LISTENS = "Trop de demandes depuis votre connexion. Réessayez dans dix minutes."


class AudioFiles(Protocol):
    def put_audio(self, key: str, data: bytes) -> None: ...

    def audio_url(self, key: str, filename: str, expires_in: int) -> str: ...


@dataclass(frozen=True)
class IssuedCaptcha:
    captcha_id: str
    image_png: bytes
    audio_path: str  # the portal's path that hands out the sound


def audio_key(captcha_id: str) -> str:
    return f"{AUDIO_PREFIX}{hashlib.sha256(captcha_id.encode()).hexdigest()[:32]}.wav"


def _pad(token: str, length: int) -> int:
    digest = hashlib.sha256(f"captcha-audio-pad:{token}".encode()).digest()
    # 256 bits reduced modulo 10^length: the bias is far below anything measurable.
    return int.from_bytes(digest, "big") % 10**length


def _check(token: str) -> str:
    return hashlib.sha256(f"captcha-audio-check:{token}".encode()).hexdigest()


def seal(code: str, token: str) -> str:
    modulus = 10 ** len(code)
    return f"{(int(code) + _pad(token, len(code))) % modulus:0{len(code)}d}"


def unseal(sealed: str, token: str) -> str:
    modulus = 10 ** len(sealed)
    return f"{(int(sealed) - _pad(token, len(sealed))) % modulus:0{len(sealed)}d}"


class Captchas:
    def __init__(
        self,
        challenges: Challenges,
        files: AudioFiles,
        generate_code: Callable[[], str],
        render_image: Callable[[str], bytes],
        render_audio: Callable[[str], bytes],
        limiter: RateLimiter,
    ) -> None:
        self._challenges = challenges
        self._files = files
        self._generate_code = generate_code
        self._render_image = render_image
        self._render_audio = render_audio
        self._limiter = limiter

    def issue(self, client_ip: str | None) -> IssuedCaptcha:
        """A new code; raises `RateLimited` past the address's allowance of images."""
        self._limiter.check("captcha", client_ip, TOO_MANY_CODES)
        code = self._generate_code()
        if not code.isascii() or not code.isdigit():
            raise ValueError("a captcha code is made of ASCII digits only")
        token = secrets.token_urlsafe(24)
        captcha_id = self._challenges.issue(
            Purpose.CAPTCHA,
            code,
            data={SEALED_CODE: seal(code, token), TOKEN_CHECK: _check(token)},
        )
        return IssuedCaptcha(
            captcha_id=captcha_id,
            image_png=self._render_image(code),
            audio_path=f"/code-de-securite/{captcha_id}/{token}",
        )

    def audio_link(self, captcha_id: str, token: str, client_ip: str | None) -> str | None:
        """A 5-minute link to the spoken code, or None when the captcha is used, expired, or
        the token is not its own. Each listen renders a sound and writes it to S3: raises
        `RateLimited` past the address's allowance."""
        self._limiter.check("captcha_audio", client_ip, TOO_MANY_LISTENS)
        challenge = self._challenges.peek(captcha_id, Purpose.CAPTCHA)
        if challenge is None:
            return None
        sealed = challenge.data.get(SEALED_CODE)
        check = challenge.data.get(TOKEN_CHECK, "")
        if sealed is None or not hmac.compare_digest(check, _check(token)):
            return None
        key = audio_key(captcha_id)
        self._files.put_audio(key, self._render_audio(unseal(sealed, token)))
        return self._files.audio_url(key, AUDIO_FILENAME, AUDIO_LINK_SECONDS)
