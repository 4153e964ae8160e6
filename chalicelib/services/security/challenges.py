"""Server-side challenges: captcha, arithmetic, single-use codes. Answers stored hashed,
single use, limited tries, short life."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from chalicelib.services.accounts.model import Clock

CHALLENGE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 3


class Purpose(StrEnum):
    CAPTCHA = "captcha"
    ARITHMETIC = "arithmetic"
    RECOVERY_CODE = "recovery-code"
    # The step after a right recovery code: its id lets the secret answer and new password in.
    RECOVERY_RESET = "recovery-reset"
    EMAIL_CHANGE = "email-change"
    FRANCECONNECT = "franceconnect"
    # « Ajouter un dossier » awaiting its proof: a code mailed to the dossier's courriel, or the
    # activation code printed on the décision (services/trainings/dossier_claims.py).
    DOSSIER_CLAIM = "dossier-claim"


# CAPTCHA_TEST_ANSWER (local and test stages) stands in for what a robot cannot read: the image
# and the sum. Never for a secret that was mailed (recovery code, address-change link) nor for
# the FranceConnect browser cookie, which would let a replayed callback in.
TEST_ANSWER_PURPOSES = frozenset({Purpose.CAPTCHA, Purpose.ARITHMETIC})


@dataclass(frozen=True)
class Challenge:
    challenge_id: str
    purpose: Purpose
    answer_hash: str
    expires_at: datetime
    tries: int = 0
    subject: str | None = None
    data: dict[str, str] = field(default_factory=dict)


class ChallengeRepository(Protocol):
    def create(self, challenge: Challenge) -> None: ...

    def get(self, challenge_id: str) -> Challenge | None: ...

    def claim_try(self, challenge_id: str, max_tries: int) -> int | None:
        """Counts one try atomically if fewer than `max_tries` were counted: the new count, or
        None when the challenge is gone or has no try left."""
        ...

    def consume(self, challenge_id: str) -> bool:
        """Deletes the challenge; True only for the one call that deleted it."""
        ...

    def delete(self, challenge_id: str) -> None: ...


def _normalise(answer: str) -> str:
    return "".join(answer.split()).lower()


def answer_hash(challenge_id: str, answer: str) -> str:
    return hashlib.sha256(f"{challenge_id}:{_normalise(answer)}".encode()).hexdigest()


class Challenges:
    def __init__(
        self, repository: ChallengeRepository, clock: Clock, test_answer: str | None = None
    ) -> None:
        self._repository = repository
        self._clock = clock
        # Only the local and test stages can set it (the settings refuse it elsewhere).
        self._test_answer = test_answer

    def issue(
        self,
        purpose: Purpose,
        answer: str,
        lifetime: timedelta = CHALLENGE_LIFETIME,
        subject: str | None = None,
        data: dict[str, str] | None = None,
    ) -> str:
        challenge_id = secrets.token_hex(32)
        self._repository.create(
            Challenge(
                challenge_id=challenge_id,
                purpose=purpose,
                answer_hash=answer_hash(challenge_id, answer),
                expires_at=self._clock() + lifetime,
                subject=subject,
                data=data or {},
            )
        )
        return challenge_id

    def peek(self, challenge_id: str, purpose: Purpose) -> Challenge | None:
        challenge = self._repository.get(challenge_id) if challenge_id else None
        if challenge is None or challenge.purpose != purpose:
            return None
        if challenge.expires_at <= self._clock():
            self._repository.delete(challenge_id)
            return None
        return challenge

    def verify(
        self, challenge_id: str, purpose: Purpose, answer: str, max_tries: int = MAX_TRIES
    ) -> Challenge | None:
        """The challenge if the answer is right (it is then used up), else None.

        The try is counted before the answer is compared, by one conditional update: however
        many answers arrive at once, at most `max_tries` are ever compared, and a right answer
        opens the challenge once (the one request that deletes it)."""
        challenge = self.peek(challenge_id, purpose)
        if challenge is None:
            return None
        tries = self._repository.claim_try(challenge_id, max_tries)
        if tries is None:
            # No try left, or taken by tries still being checked: not deleted here, or a right
            # answer among those would find its challenge gone (the last wrong try deletes it).
            return None
        expected = challenge.answer_hash
        right = hmac.compare_digest(expected, answer_hash(challenge_id, answer)) or (
            self._test_answer is not None
            and purpose in TEST_ANSWER_PURPOSES
            and _normalise(answer) == _normalise(self._test_answer)
        )
        if right:
            return challenge if self._repository.consume(challenge_id) else None
        if tries >= max_tries:
            self._repository.delete(challenge_id)
        return None
