"""Tries that arrive at once (issue 13, Medium 1): the login delays, the tries of a mailed code
and the single use of a link hold when many requests race, under moto with real threads.

Each secret check is counted: the old code read the delay, checked, then counted the failure, so
20 concurrent wrong passwords had 13 checked before the lock (5 allowed)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from unittest import mock

import pytest

from chalicelib.adapters.hashing import Argon2Hasher
from chalicelib.container import get_container
from chalicelib.services.accounts.model import Account
from chalicelib.services.accounts.passwords import normalise_secret_answer
from chalicelib.services.accounts.proofs import Proof
from chalicelib.services.accounts.recovery import CODE_TRIES
from chalicelib.services.errors import DomainError, Invalid, Throttled
from chalicelib.services.security import challenges as challenges_module
from chalicelib.services.security.challenges import Purpose
from tests.support.concurrency import atomic_requests, run_together

EMAIL = "emma.roux@example.fr"
PASSWORD = "Juste-Mot-De-Passe-2026"
WRONG = "Mauvais-Mot-De-Passe-2026"
IP = "192.0.2.7"
CONCURRENT = 20
T = TypeVar("T")
FREE_TRIES = 5  # security.md: the 5th consecutive failure starts the delays


def all_at_once(request: Callable[[], T]) -> list[T]:
    """`request` made CONCURRENT times at once (threads released together)."""
    return run_together(*[request] * CONCURRENT)


class Checks:
    """Counts the Argon2 verifications made against one stored hash."""

    def __init__(self, watched: str) -> None:
        self.watched = watched
        self.count = 0
        self._lock = threading.Lock()

    def verify(self, hasher: Argon2Hasher, hashed: str, secret: str) -> bool:
        if hashed == self.watched:
            with self._lock:
                self.count += 1
        return ORIGINAL_VERIFY(hasher, hashed, secret)


ORIGINAL_VERIFY = Argon2Hasher.verify


@pytest.fixture
def account(aws: dict[str, str]) -> Account:
    container = get_container()
    account = Account(
        account_id=uuid.uuid4().hex,
        email=EMAIL,
        family_name="ROUX",
        given_names="Emma",
        birth_date=None,
        created_at=datetime.now(UTC) - timedelta(days=3),
        password_hash=container.hasher.hash(PASSWORD),
        secret_question="Ville de naissance ?",
        secret_answer_hash=container.hasher.hash(normalise_secret_answer("Lille")),
    )
    container.accounts.create(account)
    return account


@pytest.fixture
def concurrently() -> Iterator[None]:
    with atomic_requests():
        yield


def counting_checks_of(hashed: str) -> tuple[Checks, mock._patch]:  # type: ignore[type-arg]
    checks = Checks(hashed)

    def verify(self: Argon2Hasher, stored: str, secret: str) -> bool:
        return checks.verify(self, stored, secret)

    return checks, mock.patch.object(Argon2Hasher, "verify", verify)


def test_concurrent_wrong_passwords_never_get_more_checks_than_the_free_tries(
    account, concurrently
):
    login = get_container().login
    checks, patch = counting_checks_of(account.password_hash or "")

    def log_in(password: str) -> DomainError:
        try:
            login.log_in(EMAIL, password, IP)
        except (Invalid, Throttled) as refused:
            return refused
        raise AssertionError("a session opened")

    with patch:
        results = all_at_once(lambda: log_in(WRONG))
        right_one_now = log_in(PASSWORD)

    assert checks.count == FREE_TRIES
    refused = [result for result in results if isinstance(result, Throttled)]
    assert len(refused) == CONCURRENT - FREE_TRIES
    assert all("Trop de tentatives" in result.message for result in refused)
    assert isinstance(right_one_now, Throttled)


def test_concurrent_wrong_current_passwords_in_mon_compte_are_throttled_the_same(
    account, concurrently
):
    settings = get_container().account_settings
    checks, patch = counting_checks_of(account.password_hash or "")

    def change() -> DomainError | None:
        new = "Nouveau-Mot-2026!"
        proof = Proof(password=WRONG, secret_answer="Lille")
        try:
            settings.change_password(account.account_id, "jeton", proof, new, new, IP)
        except (Invalid, Throttled) as refused:
            return refused
        return None

    with patch:
        refusals = all_at_once(change)

    assert checks.count == FREE_TRIES
    assert sum(isinstance(refused, Throttled) for refused in refusals) == CONCURRENT - FREE_TRIES


def test_concurrent_wrong_codes_never_get_more_comparisons_than_the_code_tries(aws, concurrently):
    challenges = get_container().challenges
    code_id = challenges.issue(Purpose.RECOVERY_CODE, "12345678")
    compared = []
    original = challenges_module.answer_hash

    def counting(challenge_id: str, answer: str) -> str:
        compared.append(answer)
        return original(challenge_id, answer)

    with mock.patch.object(challenges_module, "answer_hash", counting):
        results = all_at_once(
            lambda: challenges.verify(code_id, Purpose.RECOVERY_CODE, "00000000", CODE_TRIES),
        )

    assert results == [None] * CONCURRENT
    assert len(compared) <= CODE_TRIES
    assert challenges.peek(code_id, Purpose.RECOVERY_CODE) is None, "its tries are used up"


def test_a_link_opened_many_times_at_once_is_used_only_once(aws, concurrently):
    challenges = get_container().challenges
    link_id = challenges.issue(Purpose.EMAIL_CHANGE, "secret-du-lien", subject="compte")

    results = all_at_once(
        lambda: challenges.verify(link_id, Purpose.EMAIL_CHANGE, "secret-du-lien")
    )

    assert len([result for result in results if result is not None]) == 1
