"""A failed login costs the same work whether or not the address has an account (issue 13,
Info): the audit write that only known addresses made (~14 ms) told them apart by the clock. No
stopwatch here (README: count, never time): the DynamoDB requests and Argon2 verifications of
each path are counted, try by try, through the delays."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from chalicelib.adapters.hashing import Argon2Hasher
from chalicelib.container import get_container
from chalicelib.services.accounts.model import Account
from chalicelib.services.accounts.passwords import normalise_secret_answer
from chalicelib.services.errors import Invalid, Throttled
from tests.support.aws import count_dynamodb_requests

KNOWN = "emma.roux@example.fr"
UNKNOWN = "personne.inconnue@example.fr"
WRONG = "Mauvais-Mot-De-Passe-2026"


def create_account(email: str) -> None:
    container = get_container()
    container.accounts.create(
        Account(
            account_id=uuid.uuid4().hex,
            email=email,
            family_name="ROUX",
            given_names="Emma",
            birth_date=None,
            created_at=datetime.now(UTC) - timedelta(days=3),
            password_hash=container.hasher.hash("Juste-Mot-De-Passe-2026"),
            secret_question="Ville de naissance ?",
            secret_answer_hash=container.hasher.hash(normalise_secret_answer("Lille")),
        )
    )


def work_of_failed_logins(email: str, tries: int) -> list[tuple[Counter[str], int]]:
    login = get_container().login
    verifications = []
    original = Argon2Hasher.verify

    def counting(self: Argon2Hasher, hashed: str, secret: str) -> bool:
        verifications.append(hashed)
        return original(self, hashed, secret)

    work = []
    with mock.patch.object(Argon2Hasher, "verify", counting):
        for _ in range(tries):
            verifications.clear()
            # A wrong pair, then a delay in force.
            with count_dynamodb_requests() as requests, pytest.raises((Invalid, Throttled)):
                login.log_in(email, WRONG, "192.0.2.9")
            work.append((Counter(requests), len(verifications)))
    return work


def test_a_known_and_an_unknown_address_cost_the_same_requests_and_verifications(aws) -> None:
    create_account(KNOWN)
    assert get_container().login  # built (its throwaway hash made) before anything is counted

    # Six tries: the free ones, the 5th that starts the delays, then one refused.
    known = work_of_failed_logins(KNOWN, 6)
    unknown = work_of_failed_logins(UNKNOWN, 6)

    assert known == unknown
    first_requests, first_verifications = known[0]
    assert first_verifications == 1 and first_requests["PutItem"] == 1  # the audit write
    assert known[4][0]["PutItem"] == 2  # failure + lockout, on both paths
    assert known[5][1] == 0  # refused during the delay: nothing is checked
