"""The TOTP second factor: enrolment, the code at each login, and its abuse cases (replay,
brute force, recovery codes used twice, a session that skips the code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
import pytest

from chalicelib.services.accounts.model import Account, AccountKind, StaffRole, Step
from chalicelib.services.accounts.sessions import LoginMethod, Session, Sessions
from chalicelib.services.accounts.totp import (
    CODE_ALREADY_USED,
    WRONG_CODE,
    TotpService,
    hash_recovery_code,
)
from tests.support.builder import build
from tests.support.concurrency import run_together
from tests.support.fakes import (
    FakeClock,
    MemoryAccounts,
    MemoryAudit,
    MemorySecondFactors,
)

START = datetime(2026, 1, 15, 9, 0, 10, tzinfo=UTC)
IP = "192.0.2.1"


@dataclass
class World:
    totp: TotpService
    accounts: MemoryAccounts
    store: MemorySecondFactors
    sessions: Sessions
    audit: MemoryAudit
    clock: FakeClock

    def open(self, account_id: str = "acc-1") -> tuple[str, Session]:
        return self.sessions.open(self.accounts.items[account_id], LoginMethod.PASSWORD, None)

    def code(self, secret: str, seconds_later: int = 0) -> str:
        return pyotp.TOTP(secret).at(int(self.clock().timestamp()) + seconds_later)


def make_world() -> World:
    clock = FakeClock(START)
    accounts = MemoryAccounts()
    accounts.add(
        Account(
            account_id="acc-1",
            email="agent@region.example.fr",
            family_name="DURAND",
            given_names="Alix",
            birth_date=None,
            created_at=START,
            kind=AccountKind.FUNDER_STAFF,
            password_hash="hash",
            secret_answer_hash="hash",
            funder_code="region-idf",
            staff_role=StaffRole.MANAGER,
        )
    )
    # No terms published: the current version is None, as the old hand-made world said.
    built = build(clock=clock, accounts=accounts)
    ports = built.ports
    return World(
        built.totp, accounts, ports.second_factor_store, built.sessions, ports.audit, clock
    )


def enrolled(world: World) -> tuple[str, list[str]]:
    """Enrols acc-1 as its first login does; its secret and recovery codes."""
    token, session = world.open()
    enrolment = world.totp.begin_enrolment(world.accounts.items["acc-1"])
    result = world.totp.confirm_enrolment_step(token, session, world.code(enrolment.secret), IP)
    assert result.ok, result.error
    world.clock.advance(seconds=30)
    return enrolment.secret, result.recovery_codes


def test_funder_staff_must_enrol_after_the_first_login_steps() -> None:
    world = make_world()
    token, session = world.open()
    assert session.pending_step is Step.TOTP_ENROL

    enrolment = world.totp.begin_enrolment(world.accounts.items["acc-1"])
    assert enrolment.uri.startswith("otpauth://totp/Portail%20stagiaire:")
    assert world.totp.confirm_enrolment_step(token, session, "000000", IP).error == WRONG_CODE
    assert not world.accounts.items["acc-1"].totp_enabled

    result = world.totp.confirm_enrolment_step(token, session, world.code(enrolment.secret), IP)

    assert result.ok and result.session is not None
    assert result.session.pending_step is None
    assert result.token != token  # a new token once the login is complete
    assert world.accounts.items["acc-1"].totp_enabled
    assert len(set(result.recovery_codes)) == 10
    stored = world.store.items["acc-1"]["codes"]
    assert stored == {hash_recovery_code(code) for code in result.recovery_codes}
    assert not set(result.recovery_codes) & stored  # only their hashes are kept
    assert "totp-enabled" in world.audit.names("acc-1")


def test_a_new_qr_code_replaces_the_one_not_yet_confirmed() -> None:
    world = make_world()
    token, session = world.open()
    first = world.totp.begin_enrolment(world.accounts.items["acc-1"])
    second = world.totp.begin_enrolment(world.accounts.items["acc-1"])

    stale = world.totp.confirm_enrolment_step(token, session, world.code(first.secret), IP)

    assert not stale.ok
    assert world.totp.confirm_enrolment_step(token, session, world.code(second.secret), IP).ok


def test_every_login_of_an_enrolled_account_waits_for_the_code() -> None:
    world = make_world()
    secret, _ = enrolled(world)
    token, session = world.open()
    assert session.pending_step is Step.TOTP
    assert world.sessions.pending_step(world.sessions.resolve(token), None) is Step.TOTP  # type: ignore[arg-type]

    assert world.totp.verify_login(token, session, "123456", IP).error == WRONG_CODE
    result = world.totp.verify_login(token, session, world.code(secret), IP)

    assert result.ok and result.session is not None and result.session.pending_step is None
    assert world.sessions.resolve(token) is None  # the half-logged-in token is gone


def test_a_code_cannot_be_used_twice() -> None:
    world = make_world()
    secret, _ = enrolled(world)
    code = world.code(secret)
    first_token, first = world.open()
    assert world.totp.verify_login(first_token, first, code, IP).ok

    token, session = world.open()
    replayed = world.totp.verify_login(token, session, code, IP)

    assert replayed.error == CODE_ALREADY_USED
    assert world.sessions.resolve(token).pending_step is Step.TOTP  # type: ignore[union-attr]
    # Nor an older code of the drift window once a later one was used.
    world.clock.advance(seconds=30)
    assert world.totp.verify_login(token, session, world.code(secret, -30), IP).error
    assert world.totp.verify_login(token, session, world.code(secret), IP).ok


def test_the_same_code_sent_twice_at_once_completes_one_login() -> None:
    world = make_world()
    secret, _ = enrolled(world)
    code = world.code(secret)
    opened = [world.open() for _ in range(8)]

    results = run_together(
        *(
            lambda t=token, s=session: world.totp.verify_login(t, s, code, IP)
            for token, session in opened
        )
    )

    assert sum(result.ok for result in results) == 1


def test_wrong_codes_are_delayed_like_passwords() -> None:
    world = make_world()
    secret, _ = enrolled(world)
    token, session = world.open()
    for _ in range(5):
        assert world.totp.verify_login(token, session, "000000", IP).error == WRONG_CODE

    refused = world.totp.verify_login(token, session, world.code(secret), IP)

    assert refused.error is not None and refused.error.startswith("Trop de codes incorrects")
    assert "lockout" in world.audit.names("acc-1")
    world.clock.advance(minutes=1, seconds=1)
    assert world.totp.verify_login(token, session, world.code(secret), IP).ok


def test_a_recovery_code_replaces_the_code_once() -> None:
    world = make_world()
    _, codes = enrolled(world)
    token, session = world.open()

    assert world.totp.verify_login(token, session, codes[0].upper(), IP).ok
    assert world.totp.recovery_codes_left("acc-1") == 9
    again_token, again = world.open()
    assert world.totp.verify_login(again_token, again, codes[0], IP).error == WRONG_CODE


def test_a_recovery_code_used_at_once_by_several_requests_serves_once() -> None:
    world = make_world()
    _, codes = enrolled(world)
    opened = [world.open() for _ in range(8)]

    results = run_together(
        *(
            lambda t=token, s=session: world.totp.verify_login(t, s, codes[3], IP)
            for token, session in opened
        )
    )

    assert sum(result.ok for result in results) == 1


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 56 78"])
def test_malformed_codes_are_wrong(typed: str) -> None:
    world = make_world()
    enrolled(world)
    token, session = world.open()
    assert world.totp.verify_login(token, session, typed, IP).error == WRONG_CODE
