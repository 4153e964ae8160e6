"""Each use case of identification, sign-up and « Mot de passe oublié » counts the requests of
its client address itself (RATE_LIMITS in services/security/throttling.py) and raises
`RateLimited` with its own sentence past the allowance: no face counts them any more, so the
pages and the API cannot drift apart on a limit."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.services.accounts.model import AccountKind
from chalicelib.services.accounts.recovery import TOO_MANY_OPERATIONS
from chalicelib.services.accounts.sessions import Session
from chalicelib.services.accounts.signup import SignupForm
from chalicelib.services.errors import Invalid, RateLimited, SignedOut, Throttled
from chalicelib.services.funders.model import Funder
from chalicelib.services.security.captcha import TOO_MANY_CODES, TOO_MANY_LISTENS
from chalicelib.services.security.throttling import (
    RATE_LIMITS,
    TOO_MANY_ATTEMPTS,
    TOO_MANY_REQUESTS,
)
from tests.support.builder import Built, build
from tests.support.fakes import FakeClock

IP, OTHER_IP = "192.0.2.40", "198.51.100.40"
FUNDER = Funder("region", "Région test")
# The start of a ten-minute, fifteen-minute and one-hour window alike: no count straddles two.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GONE = Session(
    token_hash="t",
    account_id="fermé",
    kind=AccountKind.TRAINEE,
    method="password",
    created_at=START,
    last_used_at=START,
    csrf_token="c",
    pending_step=None,
    terms_version=None,
)
FORM = SignupForm(
    family_name="Martin",
    given_names="Lucas",
    birth_date="01/02/1990",
    no_dossier=True,
    dossier_number="",
    email="lucas@example.fr",
    email_confirmation="lucas@example.fr",
    captcha_id="inconnu",
    captcha_answer="000000",
    terms_accepted=True,
)

UseCase = Callable[[Built, str], Any]
USE_CASES: list[tuple[str, str, str, UseCase]] = [
    ("login", "login", TOO_MANY_ATTEMPTS, lambda w, ip: w.login.log_in("a@b.fr", "x", ip)),
    (
        "second factor",
        "login",
        TOO_MANY_ATTEMPTS,
        lambda w, ip: w.totp.verify_login("t", GONE, "123456", ip),
    ),
    (
        "second factor enrolment",
        "login",
        TOO_MANY_ATTEMPTS,
        lambda w, ip: w.totp.confirm_enrolment_step("t", GONE, "123456", ip),
    ),
    (
        "FranceConnect",
        "login",
        TOO_MANY_ATTEMPTS,
        lambda w, ip: w.franceconnect_login.start(FUNDER.code, ip),
    ),
    ("sign-up", "signup", TOO_MANY_REQUESTS, lambda w, ip: w.signup.sign_up(FUNDER, FORM, ip)),
    ("captcha", "captcha", TOO_MANY_CODES, lambda w, ip: w.captchas.issue(ip)),
    (
        "captcha sound",
        "captcha_audio",
        TOO_MANY_LISTENS,
        lambda w, ip: w.captchas.audio_link("c", "t", ip),
    ),
    (
        "recovery",
        "recovery",
        TOO_MANY_REQUESTS,
        lambda w, ip: w.recovery.request(FUNDER.code, "a@b.fr", "c", "1", ip),
    ),
    (
        "recovery operation",
        "captcha",
        TOO_MANY_OPERATIONS,
        lambda w, ip: w.recovery.issue_arithmetic(ip),
    ),
]


def attempt(world: Built, use_case: UseCase, ip: str) -> None:
    """One request; what the use case answers besides a rate limit does not matter here."""
    # The second factor of a session whose account is gone; a login's wrong pair, its delays.
    with suppress(SignedOut, Invalid, Throttled):
        use_case(world, ip)


@pytest.mark.parametrize(
    ("action", "message", "use_case"),
    [case[1:] for case in USE_CASES],
    ids=[case[0] for case in USE_CASES],
)
def test_each_use_case_counts_its_address_and_refuses_past_its_allowance(
    action: str, message: str, use_case: UseCase
) -> None:
    world = build(clock=FakeClock(START))
    for _ in range(RATE_LIMITS[action].requests):
        attempt(world, use_case, IP)
    with pytest.raises(RateLimited) as refused:
        use_case(world, IP)
    assert refused.value.message == message
    attempt(world, use_case, OTHER_IP)  # another address has its own count


def test_a_missing_address_shares_one_count_rather_than_escaping_it() -> None:
    world = build(clock=FakeClock(START))
    for _ in range(RATE_LIMITS["signup"].requests):
        with suppress(Invalid):  # the form's captcha is unknown: refused, counted all the same
            world.signup.sign_up(FUNDER, FORM, None)
    with pytest.raises(RateLimited):
        world.signup.sign_up(FUNDER, FORM, None)


def test_the_franceconnect_link_counts_as_the_password_login_it_is() -> None:
    """Linking an account is one password login: counted once, by the login itself."""
    world = build(clock=FakeClock(START))
    for _ in range(RATE_LIMITS["login"].requests):
        with suppress(Invalid, Throttled):  # a wrong pair, its delays: counted all the same
            world.login.log_in("a@b.fr", "x", IP)
    world.franceconnect_login.pending_link = lambda *_: object()  # type: ignore[method-assign]
    with pytest.raises(RateLimited):
        world.franceconnect_login.confirm_link("l", "s", "a@b.fr", "x", IP)
