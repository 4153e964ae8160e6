"""Races run for real: threads released together by a barrier, against the emulator (each request
atomic, as in DynamoDB: tests/support/concurrency.py), many times over; the end state is checked.

Each repetition uses its own references, dossiers and people, so repetitions need no cleanup and
a failure names the repetition where the interleaving went wrong.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial

import boto3
import pytest

from chalicelib.container import get_container
from chalicelib.events.funder_files import process_funder_file
from chalicelib.services.accounts.model import Account, CreateOutcome
from chalicelib.services.accounts.sessions import LoginMethod, Session
from chalicelib.services.accounts.signup import SignupForm
from chalicelib.services.errors import Invalid
from chalicelib.services.franceconnect.identity import CallbackResult, Outcome
from chalicelib.services.franceconnect.login import FranceConnectLogin
from chalicelib.services.funders.model import Funder, save_funder
from chalicelib.services.mail.notifications import NewPayment
from chalicelib.services.messages.my_messages import training_key
from chalicelib.services.messages.unread import organisation_owner, trainee_owner
from chalicelib.services.security.challenges import Purpose
from chalicelib.services.trainings.dossier_claims import WrongCode
from chalicelib.store.franceconnect import DynamoFranceConnectLinks, DynamoIdentityDossiers
from chalicelib.store.models import DossierItem, PaymentItem
from tests.conftest import TEST_ENVIRONMENT
from tests.integration.conftest import mails_to
from tests.integration.test_funder_files_chain import (
    DOSSIER_HEADER,
    PAYMENT_HEADER,
    csv_file,
    dossier_line,
    payment_line,
)
from tests.support.aws import drop, run_queue
from tests.support.concurrency import atomic_requests, run_together
from tests.support.faults import TRANSACTION_CONFLICT, inject_faults
from tests.support.franceconnect import FakeIdentityProvider
from tests.support.web import WebClient

REPETITIONS = 10
CONFLICT = "est déjà enregistrée avec un contenu différent"


@pytest.fixture
def racing(aws: dict[str, str]) -> Iterator[None]:
    boto3.client("ses").verify_domain_identity(
        Domain=TEST_ENVIRONMENT["MAIL_SENDER"].rpartition("@")[2]
    )
    save_funder(
        get_container().funders,
        Funder("region-idf", "Région Île-de-France", franceconnect_enabled=True),
    )
    with atomic_requests():
        yield


def ingest(file_name: str, content: bytes) -> dict[str, object]:
    """What the funder-files function does with one dropped file (without the queue around it)."""
    key = drop("region-idf", file_name, content)
    return process_funder_file({"bucket": get_container().exchange.name, "key": key})


def test_two_payment_files_at_once_store_one_amount_and_report_the_other_as_a_conflict(
    racing: None,
) -> None:
    numbers = [f"IDF-RACE-{index:03d}" for index in range(REPETITIONS)]
    drop("region-idf", "dossiers_race.csv", csv_file(DOSSIER_HEADER, map(dossier_line, numbers)))
    run_queue()
    for index, number in enumerate(numbers):
        reference = f"PAY-RACE-{index:03d}"
        files = {
            f"paiements_a{index}.csv": (14, "144,85"),
            f"paiements_b{index}.csv": (15, "155,20"),
        }
        contents = {
            name: csv_file(PAYMENT_HEADER, [payment_line(number, reference, days, amount)])
            for name, (days, amount) in files.items()
        }
        summaries = run_together(
            *(partial(ingest, name, content) for name, content in contents.items())
        )
        stored = [
            name
            for name, summary in zip(files, summaries, strict=True)
            if summary["payments_stored"]
        ]
        assert len(stored) == 1, f"repetition {index}: both runs say « enregistré »: {summaries}"
        rejected = [s for s in summaries if s["payments_rejected"]]
        assert len(rejected) == 1, f"repetition {index}: {summaries}"
        item = PaymentItem.get("region-idf", reference, consistent_read=True)
        _, amount = files[stored[0]]
        assert Decimal(item.total) == Decimal(amount.replace(",", ".")), f"repetition {index}"
        loser = next(name for name in files if name not in stored)
        report = get_container().exchange.read(f"reports/region-idf/{loser}.report.csv")
        assert CONFLICT in report.decode("utf-8-sig"), f"repetition {index}"


def test_a_dossier_file_rewriting_a_dossier_never_drops_a_link_made_meanwhile(
    racing: None,
) -> None:
    numbers = [f"IDF-LINK-{index:03d}" for index in range(REPETITIONS)]
    drop("region-idf", "dossiers_link.csv", csv_file(DOSSIER_HEADER, map(dossier_line, numbers)))
    run_queue()
    dossiers = get_container().dossiers
    for index, number in enumerate(numbers):
        account_id = f"account-{index:03d}"
        update = csv_file(DOSSIER_HEADER, [dossier_line(number, status="terminee")])
        summary, linked = run_together(
            partial(ingest, f"dossiers_update{index}.csv", update),
            partial(dossiers.link_account, "region-idf", number, account_id),
        )
        assert linked, f"repetition {index}"
        item = DossierItem.get("region-idf", number, consistent_read=True)
        assert item.account_id == account_id, f"repetition {index}: the link was dropped"
        assert item.status == "terminee", f"repetition {index}: the update was lost"
        assert summary["dossiers_updated"] == 1, f"repetition {index}: {summary}"


# One owner per dossier, whatever the path -----------------------------------------------------

SIGNED_UP = "Votre inscription au Portail stagiaire"
ALREADY_LINKED = "Votre demande d'inscription au Portail stagiaire"
ADDRESS_KNOWN = "Demande d'inscription au Portail stagiaire"
CAPTCHA = TEST_ENVIRONMENT["CAPTCHA_TEST_ANSWER"]
IP = "192.0.2.10"


@dataclass(frozen=True)
class Person:
    """One person per repetition: her own identity, so no repetition sees another's dossier."""

    index: int
    family_name: str = "COURSE"
    given_names: str = "Alix Marie"

    @property
    def birth_date(self) -> date:
        return date(1980, 1, 1) + timedelta(days=self.index)

    @property
    def number(self) -> str:
        return f"IDF-OWN-{self.index:03d}"

    def email(self, who: str) -> str:
        return f"{who}.{self.index}@example.fr"

    def dossier_line(self, email: str = "") -> str:
        return (
            f"{self.number};{self.family_name};{self.given_names};"
            f"{self.birth_date:%d/%m/%Y};{email};DEV;Développeur web;16/10/2017;29/06/2018;"
            "54756834567143;Institut de formation numérique;;310,39;02/10/2017;en_cours;"
            f"{self.activation_code}"
        )

    @property
    def activation_code(self) -> str:
        """Printed on the décision: the proof of a person whose funder gave no courriel."""
        return f"ACTIVATION-{self.index:06d}"

    def account(self, who: str) -> Account:
        return Account(
            account_id=f"{who}-{self.index:03d}",
            email=self.email(who),
            family_name=self.family_name,
            given_names=self.given_names,
            birth_date=self.birth_date,
            created_at=datetime.now(UTC),
        )


def load_dossiers(people: list[Person], who: str | None = None) -> None:
    """The people's dossiers, with `who`'s address as the funder's courriel when given (the proof
    that lets a sign-up with that address link the dossier at once)."""
    lines = [person.dossier_line(person.email(who) if who else "") for person in people]
    header = DOSSIER_HEADER + ";code_activation"
    ingest(f"dossiers_people{people[0].index}.csv", csv_file(header, lines))


def sign_up(person: Person, who: str, with_number: bool = True) -> dict[str, str]:
    """The sign-up form sent: the inputs to correct, {} when it went through."""
    container = get_container()
    funder = container.funders.get("region-idf")
    assert funder is not None
    form = SignupForm(
        family_name=person.family_name,
        given_names=person.given_names,
        birth_date=f"{person.birth_date:%d/%m/%Y}",
        no_dossier=not with_number,
        dossier_number=person.number if with_number else "",
        email=person.email(who),
        email_confirmation=person.email(who),
        captcha_id=container.challenges.issue(Purpose.CAPTCHA, CAPTCHA),
        captcha_answer=CAPTCHA,
        terms_accepted=True,
    )
    # Each person from her own address: the races are the subject here, not the sign-up's
    # per-address rate limit, which the service counts (services/accounts/signup.py).
    try:
        container.signup.sign_up(funder, form, f"198.51.100.{person.index % 250 + 1}")
    except Invalid as refused:
        return refused.errors
    return {}


def owner(person: Person) -> str | None:
    item = DossierItem.get("region-idf", person.number, consistent_read=True)
    return item.account_id


def account_of(email: str) -> Account | None:
    return get_container().accounts.find_by_email(email)


def subjects(email: str) -> list[str]:
    return [subject for subject, _ in mails_to(email)]


def test_two_sign_ups_for_one_dossier_make_one_account_and_tell_the_other_as_if_second(
    racing: None,
) -> None:
    # Only the funder's courriel proves a dossier at sign-up: both sign-ups type it, as a person
    # who clicks « Valider » twice, or two browsers, would.
    people = [Person(index) for index in range(REPETITIONS)]
    load_dossiers(people, who="courriel")
    for person in people:
        first, second = run_together(
            partial(sign_up, person, "courriel"), partial(sign_up, person, "courriel")
        )
        assert first == second == {}, "the screen never tells who won"
        account = account_of(person.email("courriel"))
        assert account is not None, f"repetition {person.index}"
        assert not account.awaiting_dossier, f"repetition {person.index}"
        assert owner(person) == account.account_id, f"repetition {person.index}"
        # One account, one temporary password; the second hears what a second sign-up hears.
        assert sorted(subjects(person.email("courriel"))) == sorted([SIGNED_UP, ADDRESS_KNOWN])


def claim_with_activation_code(account: Account, person: Person) -> bool:
    """« Ajouter un dossier » with the number, then the code printed on the décision."""
    claims = get_container().dossier_claims
    ip = f"198.51.100.{person.index}"  # one address a person: the per-address throttle stays out
    asked = claims.request(account.account_id, "region-idf", person.number, ip)
    assert asked.claim_id is not None
    try:
        claims.confirm(account.account_id, asked.claim_id, person.activation_code, ip)
    except WrongCode:  # the other account linked it first
        return False
    return True


def test_two_accounts_adding_one_dossier_at_once_leave_it_to_one(racing: None) -> None:
    people = [Person(index) for index in range(REPETITIONS)]
    load_dossiers(people)
    container = get_container()
    for person in people:
        accounts = [person.account("ajout-a"), person.account("ajout-b")]
        for account in accounts:
            assert container.accounts.create(account) is CreateOutcome.CREATED
        answers = run_together(
            *(partial(claim_with_activation_code, account, person) for account in accounts)
        )
        assert sorted(answers) == [False, True], f"repetition {person.index}"
        winner = accounts[answers.index(True)]
        assert owner(person) == winner.account_id


def test_a_funder_file_linking_an_account_without_dossier_races_a_sign_up_with_the_number(
    racing: None,
) -> None:
    people = [Person(index) for index in range(REPETITIONS)]
    # The funder first gave the courriel of « numero »: a sign-up with it proves the dossier.
    load_dossiers(people, who="numero")
    for person in people:
        started = time.perf_counter()
        assert sign_up(person, "attente", with_number=False) == {}
        # A sign-up hashes a password before it writes, a dossier file is quick: the file starts
        # later and later over the repetitions, so that its read, then its write, fall before,
        # around and after the sign-up's write.
        sign_up_time = time.perf_counter() - started
        file_delay = sign_up_time * (0.2 + person.index / REPETITIONS)
        waiting = account_of(person.email("attente"))
        assert waiting is not None and waiting.awaiting_dossier
        # The funder's correction: the courriel is now that of the account waiting for a dossier.
        update = csv_file(
            DOSSIER_HEADER + ";code_activation",
            [person.dossier_line(person.email("attente"))],
        )
        summary, signed_up = run_together(
            partial(ingest, f"dossiers_courriel{person.index}.csv", update),
            partial(sign_up, person, "numero"),
            delays=(file_delay,),
        )
        assert signed_up == {} and summary["dossiers_updated"] == 1
        by_number = account_of(person.email("numero"))
        waiting = account_of(person.email("attente"))
        assert waiting is not None
        holder = owner(person)
        if by_number is not None and holder == by_number.account_id:
            # The sign-up came first: the funder file links nobody.
            assert waiting.awaiting_dossier, f"repetition {person.index}"
            assert subjects(person.email("attente")) == [SIGNED_UP]
        else:
            # The file came first: the dossier is the waiting account's, and the sign-up either
            # found it held (told as if second, no account) or read the new courriel, which is
            # not its address (an account without the dossier).
            assert holder == waiting.account_id, f"repetition {person.index}"
            assert not waiting.awaiting_dossier, f"repetition {person.index}"
            if by_number is None:
                assert subjects(person.email("numero")) == [ALREADY_LINKED]
            else:
                assert by_number.awaiting_dossier, f"repetition {person.index}"


def franceconnect_first_login(person: Person) -> CallbackResult:
    """The FranceConnect callback for this person, the provider played by a fake (its answer is
    not what races here: the portal's writes are)."""
    container = get_container()
    provider = FakeIdentityProvider()
    provider.claims = {
        "sub": f"{person.index:064d}v1",
        "given_name": person.given_names,
        "family_name": person.family_name,
        "birthdate": person.birth_date.isoformat(),
        "gender": "female",
        "birthplace": "75107",
        "birthcountry": "99100",
        "email": person.email("franceconnect"),
    }
    service = FranceConnectLogin(
        provider=provider,
        challenges=container.challenges,
        login=container.login,
        links=DynamoFranceConnectLinks(),
        dossiers=DynamoIdentityDossiers(),
        audit=container.audit,
        mailer=container.mailer,
        clock=lambda: datetime.now(UTC),
        urls=container.urls,
        limiter=container.rate_limiter,
    )
    started = service.start("region-idf", None)
    assert started is not None
    state = re.search(r"state=([0-9a-f]+)", started.url).group(1)  # type: ignore[union-attr]
    return service.finish(state, "code", "", started.browser_secret, IP)


def test_a_franceconnect_first_login_racing_a_form_sign_up_leaves_one_owner(
    racing: None,
) -> None:
    people = [Person(index) for index in range(REPETITIONS)]
    load_dossiers(people, who="formulaire")  # the form's sign-up holds the proof
    for person in people:
        result, signed_up = run_together(
            partial(franceconnect_first_login, person), partial(sign_up, person, "formulaire")
        )
        assert signed_up == {}
        by_form = account_of(person.email("formulaire"))
        by_franceconnect = account_of(person.email("franceconnect"))
        assert (by_form is None) != (by_franceconnect is None), f"repetition {person.index}"
        holder = by_form or by_franceconnect
        assert holder is not None and owner(person) == holder.account_id
        if by_form is not None:
            # As if second: FranceConnect finds the dossier held and asks for that password.
            assert result.outcome is Outcome.LINK_REQUIRED, f"repetition {person.index}"
            assert DynamoFranceConnectLinks().owner(f"{person.index:064d}v1") is None
        else:
            assert result.outcome is Outcome.SIGNED_IN
            assert subjects(person.email("formulaire")) == [ALREADY_LINKED]


# Messages and payment notices --------------------------------------------------------------


@pytest.fixture
def conversation(messages_on: WebClient) -> Iterator[tuple[Session, Session, str]]:
    """Camille's and Claire's sessions, and the training Camille can write about."""
    from local.demo import READY, READY_STAFF

    container = get_container()
    sessions = []
    for email in (READY.email, READY_STAFF.email):
        account = account_of(email)
        assert account is not None
        _, session = container.login.sessions.open(
            account, LoginMethod.PASSWORD, container.terms.current_version()
        )
        sessions.append(session)
    trainee, staff = sessions
    dossier = next(
        d
        for d in container.dossiers.list_for_account(trainee.account_id)
        if d.funder_code == "region-idf"
    )
    with atomic_requests():
        yield trainee, staff, training_key(dossier)


def unread_total(owner: str) -> int:
    return sum(get_container().messages.repository.owner_state(owner).snapshot.counts.values())


def test_a_staff_reply_and_a_trainee_reply_at_once_are_both_stored_and_counted(
    conversation: tuple[Session, Session, str],
) -> None:
    trainee, staff, training = conversation
    messages = get_container().messages
    organisation = organisation_owner("54756834567143")
    for index in range(REPETITIONS):
        started = messages.start(trainee, training, f"Question {index}", "Bonjour, une question.")
        assert started.thread_id, started
        before = unread_total(organisation), unread_total(trainee_owner(trainee.account_id))
        answers = run_together(
            partial(messages.reply, trainee, started.thread_id, "Précision de la stagiaire."),
            partial(messages.reply, staff, started.thread_id, "Réponse de l'organisme."),
        )
        assert all(answer.thread_id for answer in answers), f"repetition {index}: {answers}"
        found = messages.repository.thread_with_messages(started.thread_id)
        assert found is not None
        thread, stored = found
        assert len(stored) == thread.message_count == 3, f"repetition {index}"
        assert (thread.unread_for_organisation, thread.unread_for_trainee) == (2, 1)
        after = unread_total(organisation), unread_total(trainee_owner(trainee.account_id))
        assert (after[0] - before[0], after[1] - before[1]) == (1, 1), f"repetition {index}"


def test_a_reply_that_meets_a_transaction_conflict_is_stored_not_refused_as_thread_full(
    conversation: tuple[Session, Session, str],
) -> None:
    """In DynamoDB two transactions on one thread at the same instant conflict: one is cancelled
    with `TransactionConflict` (botocore does not retry it). The emulator, one request at a time,
    never does: the fault plays it."""
    trainee, staff, training = conversation
    messages = get_container().messages
    started = messages.start(trainee, training, "Question", "Bonjour, une question.")
    with inject_faults() as faults:
        faults.fail("dynamodb", "TransactWriteItems", TRANSACTION_CONFLICT, times=1)
        answer = messages.reply(staff, started.thread_id, "Réponse de l'organisme.")
    assert faults.failed == [("dynamodb", "TransactWriteItems")]
    assert answer.thread_id == started.thread_id, answer  # not refused (Invalid) as thread full
    found = messages.repository.thread_with_messages(started.thread_id)
    assert found is not None and found[0].message_count == len(found[1]) == 2


def test_two_mail_workers_claiming_one_payment_send_one_mail(
    conversation: tuple[Session, Session, str],
) -> None:
    from local.demo import READY

    container = get_container()
    payments = [item for item in PaymentItem.query("region-idf") if item.dossier_number]
    owned = {
        d.dossier_number for d in container.dossiers.list_for_account(conversation[0].account_id)
    }
    mine = [item for item in payments if item.dossier_number in owned]
    assert mine
    new_payment = "Un nouveau paiement est disponible"
    for item in mine[:REPETITIONS]:
        container.payments.release_notice("region-idf", item.reference)  # never notified yet
        before = subjects(READY.email).count(new_payment)
        notice = NewPayment("region-idf", item.reference)
        sent = run_together(
            partial(container.new_payment_notifier.deliver, notice),
            partial(container.new_payment_notifier.deliver, notice),
        )
        assert sorted(sent) == [False, True], item.reference
        assert subjects(READY.email).count(new_payment) == before + 1, item.reference
        assert PaymentItem.get("region-idf", item.reference, consistent_read=True).notified
