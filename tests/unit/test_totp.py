"""The TOTP second factor: enrolment, the code at each login, and its abuse cases (replay,
brute force, recovery codes used twice, a session that skips the code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
import pytest

from chalicelib.services.accounts.model import Account, AccountKind, StaffRole, Step
from chalicelib.services.accounts.sessions import LoginMethod, Session, Sessions, SignedIn
from chalicelib.services.accounts.totp import (
    CODE_ALREADY_USED,
    ENROLMENT_EXPIRED,
    WRONG_CODE,
    Enrolled,
    NotStaff,
    ResetNotMailed,
    SecondFactorResetNotice,
    TotpService,
    hash_recovery_code,
)
from chalicelib.services.errors import Expired, Invalid, Throttled
from chalicelib.services.mail.mails import MailCategory, MailNotSent
from tests.support.builder import build
from tests.support.concurrency import run_together
from tests.support.fakes import (
    FakeClock,
    MemoryAccounts,
    MemoryAudit,
    MemorySecondFactors,
    RecordingMailer,
    RecordingQueue,
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
    mailer: RecordingMailer
    security_mails: RecordingQueue

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
        built.totp,
        accounts,
        ports.second_factor_store,
        built.sessions,
        ports.audit,
        clock,
        ports.mailer,
        ports.security_mail_queue,
    )


def enrolled(world: World) -> tuple[str, list[str]]:
    """Enrols acc-1 as its first login does; its secret and recovery codes."""
    token, session = world.open()
    enrolment = world.totp.begin_enrolment(world.accounts.items["acc-1"])
    result = world.totp.confirm_enrolment_step(token, session, world.code(enrolment.secret), IP)
    world.clock.advance(seconds=30)
    return enrolment.secret, result.recovery_codes


def verify(world: World, token: str, session: Session, code: str) -> SignedIn | Invalid:
    """The login completed, or its refusal (returned, to compare)."""
    try:
        return world.totp.verify_login(token, session, code, IP)
    except (Invalid, Throttled) as refused:
        return refused


def confirm(world: World, token: str, session: Session, code: str) -> Enrolled | Invalid:
    try:
        return world.totp.confirm_enrolment_step(token, session, code, IP)
    except (Invalid, Throttled) as refused:
        return refused


def refusal(outcome: SignedIn | Enrolled | Invalid) -> str | None:
    """The message of a refused code (a delay in force included), None for a code accepted."""
    if isinstance(outcome, (Invalid, Throttled)):
        assert set(outcome.errors) == {"code"}
        return outcome.errors["code"]
    return None


def test_funder_staff_must_enrol_after_the_first_login_steps() -> None:
    world = make_world()
    token, session = world.open()
    assert session.pending_step is Step.TOTP_ENROL

    enrolment = world.totp.begin_enrolment(world.accounts.items["acc-1"])
    assert enrolment.uri.startswith("otpauth://totp/Portail%20stagiaire:")
    assert refusal(confirm(world, token, session, "000000")) == WRONG_CODE
    assert not world.accounts.items["acc-1"].totp_enabled

    result = world.totp.confirm_enrolment_step(token, session, world.code(enrolment.secret), IP)

    assert result.signed_in.session.pending_step is None
    assert result.signed_in.token != token  # a new token once the login is complete
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

    # The first QR code's codes are no longer those of the pending secret.
    assert refusal(confirm(world, token, session, world.code(first.secret))) == WRONG_CODE
    assert isinstance(confirm(world, token, session, world.code(second.secret)), Enrolled)


def test_a_second_confirmation_of_a_confirmed_enrolment_is_told_to_start_again() -> None:
    """Two tabs, or a double submit: the second finds no pending secret any more."""
    world = make_world()
    account = world.accounts.items["acc-1"]
    enrolment = world.totp.begin_enrolment(account)
    codes = world.totp.confirm_enrolment(account, world.code(enrolment.secret), IP)
    assert len(codes) == 10

    with pytest.raises(Expired) as late:
        world.totp.confirm_enrolment(account, world.code(enrolment.secret), IP)

    assert late.value.errors == {"code": ENROLMENT_EXPIRED}
    assert late.value.code == "enrolment_expired"


def test_every_login_of_an_enrolled_account_waits_for_the_code() -> None:
    world = make_world()
    secret, _ = enrolled(world)
    token, session = world.open()
    assert session.pending_step is Step.TOTP
    assert world.sessions.pending_step(world.sessions.resolve(token), None) is Step.TOTP  # type: ignore[arg-type]

    assert refusal(verify(world, token, session, "123456")) == WRONG_CODE
    result = world.totp.verify_login(token, session, world.code(secret), IP)

    assert result.session.pending_step is None
    assert world.sessions.resolve(token) is None  # the half-logged-in token is gone


def test_a_code_cannot_be_used_twice() -> None:
    world = make_world()
    secret, _ = enrolled(world)
    code = world.code(secret)
    first_token, first = world.open()
    assert isinstance(verify(world, first_token, first, code), SignedIn)

    token, session = world.open()
    replayed = verify(world, token, session, code)

    assert refusal(replayed) == CODE_ALREADY_USED
    assert world.sessions.resolve(token).pending_step is Step.TOTP  # type: ignore[union-attr]
    # Nor an older code of the drift window once a later one was used.
    world.clock.advance(seconds=30)
    assert refusal(verify(world, token, session, world.code(secret, -30)))
    assert isinstance(verify(world, token, session, world.code(secret)), SignedIn)


def test_the_same_code_sent_twice_at_once_completes_one_login() -> None:
    world = make_world()
    secret, _ = enrolled(world)
    code = world.code(secret)
    opened = [world.open() for _ in range(8)]

    results = run_together(
        *(lambda t=token, s=session: verify(world, t, s, code) for token, session in opened)
    )

    assert sum(isinstance(result, SignedIn) for result in results) == 1
    assert all(refusal(result) for result in results if not isinstance(result, SignedIn))


def test_wrong_codes_are_delayed_like_passwords() -> None:
    world = make_world()
    secret, _ = enrolled(world)
    token, session = world.open()
    for _ in range(5):
        assert refusal(verify(world, token, session, "000000")) == WRONG_CODE

    with pytest.raises(Throttled) as refused:
        world.totp.verify_login(token, session, world.code(secret), IP)

    assert refused.value.message.startswith("Trop de codes incorrects")
    assert refused.value.errors == {"code": refused.value.message}
    assert "lockout" in world.audit.names("acc-1")
    world.clock.advance(minutes=1, seconds=1)
    assert isinstance(verify(world, token, session, world.code(secret)), SignedIn)


def test_a_recovery_code_replaces_the_code_once() -> None:
    world = make_world()
    _, codes = enrolled(world)
    token, session = world.open()

    assert isinstance(verify(world, token, session, codes[0].upper()), SignedIn)
    assert world.totp.recovery_codes_left("acc-1") == 9
    again_token, again = world.open()
    assert refusal(verify(world, again_token, again, codes[0])) == WRONG_CODE


def test_a_recovery_code_used_at_once_by_several_requests_serves_once() -> None:
    world = make_world()
    _, codes = enrolled(world)
    opened = [world.open() for _ in range(8)]

    results = run_together(
        *(lambda t=token, s=session: verify(world, t, s, codes[3]) for token, session in opened)
    )

    assert sum(isinstance(result, SignedIn) for result in results) == 1
    assert all(refusal(result) for result in results if not isinstance(result, SignedIn))


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 56 78"])
def test_malformed_codes_are_wrong(typed: str) -> None:
    world = make_world()
    enrolled(world)
    token, session = world.open()
    assert refusal(verify(world, token, session, typed)) == WRONG_CODE


# The operator's reset (`staff reset-totp`) and its mail ----------------------------------------

AGENT = "agent@region.example.fr"


def test_an_operators_reset_ends_the_factor_and_queues_its_mail_last() -> None:
    world = make_world()
    enrolled(world)
    token, _ = world.open()

    world.totp.reset(" Agent@Region.example.fr ")

    assert world.store.get("acc-1") is None
    assert not world.accounts.items["acc-1"].totp_enabled
    assert world.sessions.resolve(token) is None
    assert "totp-reset" in world.audit.names("acc-1")
    # The mail leaves by the security mails' queue, not on the operator's command.
    assert world.security_mails.take() == [SecondFactorResetNotice("acc-1")]
    assert world.mailer.sent == []


def test_the_reset_mail_tells_funder_staff_they_enrol_again_and_what_to_do_if_not_them() -> None:
    world = make_world()
    enrolled(world)
    world.totp.reset(AGENT)
    [notice] = world.security_mails.take()

    assert world.totp.deliver_reset_notice(notice) is True

    [mail] = world.mailer.sent_to(AGENT)
    assert mail.category is MailCategory.SECURITY  # reaches even an address that complained
    assert mail.subject == "Votre double authentification a été réinitialisée"
    text = " ".join(mail.text.split())
    assert text.startswith("Bonjour Alix,")
    assert "vient d'être réinitialisée par un opérateur du portail" in text
    assert "vos codes de secours ne servent plus" in text
    assert (
        "À votre prochaine connexion, après votre mot de passe, le portail vous demandera "
        "d'installer de nouveau une application d'authentification" in text
    )
    assert "https://portail.example.gouv.fr/financeur/" in text
    assert "Si ce n'est pas vous, quelqu'un d'autre utilise peut-être votre compte" in text
    assert "https://portail.example.gouv.fr/region-idf/mot-de-passe-oublie" in text
    assert "https://portail.example.gouv.fr/mentions-legales" in text


def test_organisation_staff_are_told_the_code_is_no_longer_asked_and_where_to_set_it_again() -> (
    None
):
    world = make_world()
    world.accounts.add(
        Account(
            account_id="acc-2",
            email="accueil@greta.example.fr",
            family_name="MARTIN",
            given_names="Sacha",
            birth_date=None,
            created_at=START,
            kind=AccountKind.STAFF,
            password_hash="hash",
            secret_answer_hash="hash",
            organisation_siret="12345678900011",
            organisation_name="Greta Provence",
            totp_enabled=True,
        )
    )
    world.totp.reset("accueil@greta.example.fr")
    [notice] = world.security_mails.take()
    assert world.totp.deliver_reset_notice(notice) is True

    text = " ".join(world.mailer.sent_to("accueil@greta.example.fr")[0].text.split())
    assert "Le code à 6 chiffres ne vous est plus demandé" in text
    assert "« Double authentification » : https://portail.example.gouv.fr/organisme/" in text
    assert "prochaine connexion" not in text


def test_a_reset_mail_that_cannot_be_sent_leaves_the_reset_done_and_goes_back_to_its_queue() -> (
    None
):
    world = make_world()
    enrolled(world)
    world.mailer.failing = True

    world.totp.reset(AGENT)  # the command succeeds: SES plays no part in it

    assert world.store.get("acc-1") is None
    assert not world.accounts.items["acc-1"].totp_enabled
    [notice] = world.security_mails.take()
    # The worker raises, so that SQS delivers the message again (then to its dead-letter queue).
    with pytest.raises(MailNotSent):
        world.totp.deliver_reset_notice(notice)
    assert world.store.get("acc-1") is None and not world.accounts.items["acc-1"].totp_enabled

    world.mailer.failing = False
    assert world.totp.deliver_reset_notice(notice) is True
    assert len(world.mailer.sent_to(AGENT)) == 1


def test_no_reset_mail_for_an_account_closed_before_its_notice_left() -> None:
    world = make_world()
    world.totp.reset(AGENT)
    [notice] = world.security_mails.take()
    del world.accounts.items["acc-1"]

    assert world.totp.deliver_reset_notice(notice) is False
    assert world.mailer.sent == []


def test_a_trainee_or_unknown_address_has_no_factor_to_reset_and_nothing_is_queued() -> None:
    world = make_world()
    world.accounts.add(
        Account(
            account_id="acc-3",
            email="camille@example.fr",
            family_name="MARTIN",
            given_names="Camille",
            birth_date=None,
            created_at=START,
        )
    )
    for email in ("camille@example.fr", "personne@example.fr"):
        with pytest.raises(NotStaff):
            world.totp.reset(email)
    assert world.security_mails.take() == []


def test_a_notice_the_queue_refuses_leaves_the_reset_done_and_says_so() -> None:
    world = make_world()
    enrolled(world)

    def refuse(notices: object) -> None:
        raise RuntimeError("SQS unreachable")

    world.security_mails.enqueue = refuse  # type: ignore[method-assign]
    with pytest.raises(ResetNotMailed) as unmailed:
        world.totp.reset(AGENT)
    assert unmailed.value.account.account_id == "acc-1"
    assert world.store.get("acc-1") is None and not world.accounts.items["acc-1"].totp_enabled

    # Run again, as the command says: the reset holds, and its notice is queued this time.
    del world.security_mails.enqueue
    world.totp.reset(AGENT)
    assert world.security_mails.take() == [SecondFactorResetNotice("acc-1")]
