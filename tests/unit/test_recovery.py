"""« Mot de passe oublié » with in-memory fakes: equal work for every address, the code, the
secret answer counted like a login, sessions ended, mails without secrets, audit events."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.services.accounts.login import Login
from chalicelib.services.accounts.model import Account
from chalicelib.services.accounts.recovery import (
    RESET_EXPIRED,
    WRONG_ANSWER,
    WRONG_ARITHMETIC,
    WRONG_CODE,
    Recovery,
    RecoveryRequest,
    RecoveryStep,
)
from chalicelib.services.accounts.sessions import LoginMethod, Sessions
from chalicelib.services.errors import Expired, Invalid, Throttled
from chalicelib.services.security.challenges import Purpose
from tests.support.builder import build
from tests.support.fakes import (
    CountingHasher,
    FakeClock,
    MemoryAccounts,
    MemoryAudit,
    MemoryRecoveryChallenges,
    MemorySessions,
    PlainTestHasher,
    RecordingMailer,
    RecordingQueue,
)

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
EMAIL = "camille.martin@example.fr"
PASSWORD = "Pluie-Soleil-Nuage-42"
NEW_PASSWORD = "Brume-Orage-Grele-2026"
IP = "192.0.2.1"
FUNDER = "region-idf"
SETUP_HASHER = PlainTestHasher()
# The operation is drawn at random and only its hash is kept: the tests answer with the value
# that every challenge also accepts in the test stage (CAPTCHA_TEST_ANSWER).
TEST_ANSWER = "4242"


@dataclass
class World:
    recovery: Recovery
    login: Login
    accounts: MemoryAccounts
    challenge_store: MemoryRecoveryChallenges
    session_store: MemorySessions
    sessions: Sessions
    hasher: CountingHasher
    mailer: RecordingMailer
    queue: RecordingQueue
    audit: MemoryAudit
    clock: FakeClock

    def ask(self, email: str = EMAIL) -> RecoveryStep:
        """Step 1 with the right operation, then the worker's delivery."""
        arithmetic = self.recovery.new_arithmetic()
        return self.recovery.request(FUNDER, email, arithmetic.challenge_id, TEST_ANSWER, IP)

    def work(self) -> tuple[int, int, dict[str, int], dict[str, int], int]:
        """Everything countable the service did so far."""
        return (
            self.hasher.hash_calls,
            self.hasher.verify_calls,
            dict(self.accounts.calls),
            dict(self.challenge_store.calls),
            len(self.queue.batches),
        )

    def deliver_all(self) -> int:
        delivered = 0
        for request in self.queue.take():
            assert isinstance(request, RecoveryRequest)
            delivered += self.recovery.deliver(request)
        return delivered

    def mailed_code(self) -> str:
        match = re.search(r"Votre code : (\d{8})", self.mailer.sent[-1].text)
        assert match, self.mailer.sent[-1].text
        return match.group(1)

    def reset_step(self) -> RecoveryStep:
        ticket = self.ask()
        self.deliver_all()
        return self.recovery.check_code(ticket.ticket, self.mailed_code())


def code_refused(world: World, ticket: str, code: str) -> dict[str, str]:
    """The errors of a code refused; fails if it opened the reset step."""
    return refusal(lambda: world.recovery.check_code(ticket, code)).errors


def refusal(call: Callable[[], object]) -> Invalid | Throttled:
    """What `call` raised (`Expired` is an `Invalid`); fails if it went through."""
    try:
        call()
    except (Invalid, Throttled) as refused:
        return refused
    raise AssertionError("not refused")


def make_world() -> World:
    built = build(
        clock=FakeClock(START),
        challenge_store=MemoryRecoveryChallenges(),
        captcha_test_answer=TEST_ANSWER,
        hasher=CountingHasher(),
    )
    built.terms.publish("v1", "CGU")
    ports = built.ports
    return World(
        built.recovery,
        built.login,
        ports.accounts,
        ports.challenge_store,
        ports.session_store,
        built.sessions,
        ports.hasher,
        ports.mailer,
        ports.security_mail_queue,
        ports.audit,
        ports.clock,
    )


@pytest.fixture
def world() -> World:
    return make_world()


def complete_account(**changes: object) -> Account:
    return Account(
        account_id="acc-1",
        email=EMAIL,
        family_name="Martin",
        given_names="Camille Louise",
        birth_date=date(1990, 5, 14),
        created_at=START - timedelta(days=30),
        password_hash=SETUP_HASHER.hash(PASSWORD),
        secret_question="Ville de naissance ?",
        secret_answer_hash=SETUP_HASHER.hash("lille"),
        terms_version="v1",
    ).updated(**changes)


# 1. The request ------------------------------------------------------------------------------


def test_known_and_unknown_addresses_get_the_same_answer_and_the_same_work(world):
    world.accounts.add(complete_account())
    start = world.work()
    known = world.ask(EMAIL)
    after_known = world.work()
    unknown = world.ask("personne@example.fr")
    after_unknown = world.work()

    def spent(before: tuple, after: tuple) -> tuple:
        return tuple(
            {key: value - b.get(key, 0) for key, value in a.items()}
            if isinstance(a, dict)
            else a - b
            for b, a in zip(before, after, strict=True)
        )

    assert spent(start, after_known) == spent(after_known, after_unknown)
    hashes, verifications, account_reads, challenge_calls, queue_writes = spent(start, after_known)
    assert (hashes, verifications, account_reads, queue_writes) == (0, 0, {}, 1)
    # The operation made, read and used up; the ticket made.
    assert challenge_calls == {"create": 2, "get": 1, "claim_try": 1, "consume": 1}
    assert [len(batch) for batch in world.queue.batches] == [1, 1]
    assert known.ticket != unknown.ticket and known.expires_at == unknown.expires_at
    assert known.secret_question is None and unknown.secret_question is None
    assert world.mailer.sent == []  # nothing mailed inline


def test_the_operation_and_the_address_are_checked(world):
    arithmetic = world.recovery.new_arithmetic()
    assert arithmetic.question.startswith("Combien font ")
    # Never the result: differences are written larger number first, so never negative.
    result = refusal(
        lambda: world.recovery.request(FUNDER, "pas une adresse", arithmetic.challenge_id, "-1", IP)
    )
    assert result.errors == {
        "email": "Saisissez votre adresse mail, par exemple nom@exemple.fr.",
        "arithmetic_answer": WRONG_ARITHMETIC,
    }
    assert world.queue.batches == []


def test_the_worker_mails_an_8_digit_code_only_to_a_known_address(world):
    world.accounts.add(complete_account())
    world.ask()
    world.ask("personne@example.fr")
    assert world.deliver_all() == 1
    (mail,) = world.mailer.sent
    assert mail.to == EMAIL
    assert mail.subject == "Votre code pour choisir un nouveau mot de passe"
    assert "valable 30 minutes" in mail.text
    assert re.fullmatch(r"\d{8}", world.mailed_code())
    assert world.mailed_code() not in mail.subject
    assert world.audit.names("acc-1") == ["recovery-code-sent"]


def test_a_message_delivered_twice_mails_once(world):
    world.accounts.add(complete_account())
    world.ask()
    (request,) = world.queue.take()
    assert world.recovery.deliver(request) is True
    assert world.recovery.deliver(request) is False
    assert len(world.mailer.sent) == 1


def test_a_failed_mail_is_undone_so_that_the_retry_sends_it(world):
    world.accounts.add(complete_account())
    ticket = world.ask()
    (request,) = world.queue.take()
    world.mailer.failing = True
    with pytest.raises(Exception, match="SES refused"):
        world.recovery.deliver(request)
    world.mailer.failing = False
    assert world.recovery.deliver(request) is True
    assert world.recovery.check_code(ticket.ticket, world.mailed_code()).secret_question


def test_an_account_that_never_finished_its_first_login_gets_a_temporary_password(world):
    world.accounts.add(
        complete_account(password_hash=None, secret_question=None, secret_answer_hash=None)
    )
    ticket = world.ask()
    assert world.deliver_all() == 1
    (mail,) = world.mailer.sent
    assert mail.subject == "Votre nouveau mot de passe provisoire"
    temporary = re.search(r"Mot de passe provisoire : (\S+)", mail.text).group(1)
    assert f"{FUNDER}/connexion" in mail.text
    assert code_refused(world, ticket.ticket, "12345678") == {"code": WRONG_CODE}
    login = world.login.log_in(EMAIL, temporary, IP)
    assert login.token is not None
    assert "recovery-temporary-password" in world.audit.names("acc-1")


# 2. The code ---------------------------------------------------------------------------------


def test_the_code_serves_once(world):
    world.accounts.add(complete_account())
    ticket = world.ask()
    world.deliver_all()
    code = world.mailed_code()
    first = world.recovery.check_code(ticket.ticket, code[:4] + " " + code[4:])
    assert first.secret_question == "Ville de naissance ?"
    assert code_refused(world, ticket.ticket, code) == {"code": WRONG_CODE}


def test_the_code_expires_after_30_minutes(world):
    world.accounts.add(complete_account())
    ticket = world.ask()
    world.deliver_all()
    world.clock.advance(minutes=30)
    assert code_refused(world, ticket.ticket, world.mailed_code()) == {"code": WRONG_CODE}


def test_five_wrong_codes_end_the_ticket(world):
    world.accounts.add(complete_account())
    ticket = world.ask()
    world.deliver_all()
    code = world.mailed_code()
    wrong = "00000000" if code != "00000000" else "11111111"
    for _ in range(5):
        assert code_refused(world, ticket.ticket, wrong) == {"code": WRONG_CODE}
    assert code_refused(world, ticket.ticket, code) == {"code": WRONG_CODE}


def test_a_ticket_of_an_unknown_address_never_opens_the_reset_step(world):
    ticket = world.ask("personne@example.fr")
    world.deliver_all()
    # Even the test answer that every challenge accepts in the test stage: no account behind it.
    assert code_refused(world, ticket.ticket, "4242") == {"code": WRONG_CODE}


# 3. The secret answer and the new password -----------------------------------------------------


def test_the_right_answer_sets_the_password_ends_every_session_and_mails_a_notice(world):
    world.accounts.add(complete_account())
    for _ in range(2):
        world.login.log_in(EMAIL, PASSWORD, IP)
    assert len(world.session_store.for_account("acc-1")) == 2
    step = world.reset_step()
    world.mailer.sent.clear()

    world.recovery.reset_password(step.ticket, "  LILLE ", NEW_PASSWORD, NEW_PASSWORD, IP)

    assert world.session_store.for_account("acc-1") == []
    (notice,) = world.mailer.sent
    assert notice.subject == "Votre mot de passe a été modifié"
    assert NEW_PASSWORD not in notice.text and "Lille" not in notice.text
    assert f"{FUNDER}/mot-de-passe-oublie" in notice.text
    assert world.audit.names("acc-1")[-1] == "password-reset"
    with pytest.raises(Invalid):
        world.login.log_in(EMAIL, PASSWORD, IP)
    assert world.login.log_in(EMAIL, NEW_PASSWORD, IP).session.method == LoginMethod.PASSWORD
    # Single use: the reset step is gone.
    with pytest.raises(Expired) as again:
        world.recovery.reset_password(step.ticket, "Lille", NEW_PASSWORD, NEW_PASSWORD, IP)
    assert again.value.errors == {"form": RESET_EXPIRED}


def test_the_new_password_follows_the_rule(world):
    world.accounts.add(complete_account())
    step = world.reset_step()
    weak = refusal(
        lambda: world.recovery.reset_password(step.ticket, "Lille", "azerty", "azerty", IP)
    )
    assert "new_password" in weak.errors and not isinstance(weak, Expired)
    differs = refusal(
        lambda: world.recovery.reset_password(
            step.ticket, "Lille", NEW_PASSWORD, NEW_PASSWORD + "!", IP
        )
    )
    assert set(differs.errors) == {"confirmation"}
    # The step is still open, with its question.
    assert world.recovery.reset_step(step.ticket).secret_question == "Ville de naissance ?"


def test_wrong_answers_count_like_login_failures(world):
    world.accounts.add(complete_account())
    for _ in range(3):
        with pytest.raises(Invalid):
            world.login.log_in(EMAIL, "mauvais mot de passe", IP)
    step = world.reset_step()
    results = [
        refusal(
            lambda: world.recovery.reset_password(
                step.ticket, "Paris", NEW_PASSWORD, NEW_PASSWORD, IP
            )
        )
        for _ in range(2)
    ]
    assert [result.errors for result in results] == [{"secret_answer": WRONG_ANSWER}] * 2
    # 3 login failures + 2 wrong answers = 5: the login now waits, and so does the answer.
    with pytest.raises(Throttled) as login_waits:
        world.login.log_in(EMAIL, PASSWORD, IP)
    assert "Trop de tentatives" in login_waits.value.message
    with pytest.raises(Throttled) as blocked:
        world.recovery.reset_password(step.ticket, "Lille", NEW_PASSWORD, NEW_PASSWORD, IP)
    assert "Trop de tentatives" in blocked.value.errors["secret_answer"]
    assert blocked.value.retry_after > START
    assert world.audit.names("acc-1").count("recovery-answer-failure") == 2
    assert "lockout" in world.audit.names("acc-1")


def test_five_wrong_answers_end_the_reset_step(world):
    world.accounts.add(complete_account())
    step = world.reset_step()
    for attempt in range(5):
        result = refusal(
            lambda: world.recovery.reset_password(
                step.ticket, "Paris", NEW_PASSWORD, NEW_PASSWORD, IP
            )
        )
        if attempt < 4:
            assert not isinstance(result, Expired), attempt
    assert isinstance(result, Expired)
    assert result.errors == {"secret_answer": WRONG_ANSWER, "form": RESET_EXPIRED}


def test_the_reset_step_lasts_as_long_as_the_code(world):
    world.accounts.add(complete_account())
    step = world.reset_step()
    assert world.recovery.reset_step(step.ticket).secret_question == "Ville de naissance ?"
    world.clock.advance(minutes=31)
    with pytest.raises(Expired):
        world.recovery.reset_step(step.ticket)
    assert world.challenge_store.items == {} or all(
        challenge.purpose is not Purpose.RECOVERY_RESET
        for challenge in world.challenge_store.items.values()
    )
