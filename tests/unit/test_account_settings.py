"""« Mon compte » with in-memory fakes: phone, password by the secret answer, secret question by
the password, mail address confirmed by a link; mails without secrets; audit; throttling."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.services.accounts.login import Login
from chalicelib.services.accounts.model import Account, PortalUrls
from chalicelib.services.accounts.my_account import (
    ADDRESS_TAKEN,
    EMAIL_CONFIRMATION_DIFFERS,
    LINK_EXPIRED,
    MISSING_PASSWORD,
    SAME_EMAIL,
    WRONG_ANSWER,
    WRONG_PASSWORD,
    AccountSettings,
)
from chalicelib.services.accounts.phones import PHONE_FORMAT_ERROR
from chalicelib.services.accounts.proofs import Proof
from chalicelib.services.accounts.sessions import hash_token
from chalicelib.services.errors import Invalid, Throttled
from chalicelib.services.funder_files.model import DossierStatus
from chalicelib.services.trainings.dossiers import Dossier
from tests.support.builder import build
from tests.support.fakes import (
    CountingHasher,
    FakeClock,
    MemoryAudit,
    MemoryDossiersOfAccount,
    MemorySessions,
    MemorySettingsAccounts,
    PlainTestHasher,
    RecordingMailer,
)

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
EMAIL = "camille.martin@example.fr"
NEW_EMAIL = "camille.nouvelle@example.fr"
PASSWORD = "Pluie-Soleil-Nuage-42"
NEW_PASSWORD = "Brume-Orage-Grele-2026"
IP = "192.0.2.1"
SETUP_HASHER = PlainTestHasher()
PORTAL = "https://portail.example.gouv.fr"


@dataclass
class World:
    settings: AccountSettings
    login: Login
    accounts: MemorySettingsAccounts
    session_store: MemorySessions
    mailer: RecordingMailer
    audit: MemoryAudit
    clock: FakeClock
    hasher: CountingHasher

    def sign_in(self, password: str = PASSWORD) -> str:
        return self.login.log_in(EMAIL, password, IP).token

    def confirmation_token(self) -> str:
        mail = next(mail for mail in self.mailer.sent if mail.to == NEW_EMAIL)
        match = re.search(r"/compte/adresse-mail/confirmation\?jeton=(\S+)", mail.text)
        assert match, mail.text
        return match.group(1)


def dossier(account_id: str) -> Dossier:
    return Dossier(
        funder_code="region-idf",
        dossier_number="IDF-1",
        family_name="Martin",
        given_names="Camille",
        birth_date=date(1990, 5, 14),
        email=None,
        training_code="DEV",
        training_title="Développeur",
        start_date=date(2026, 1, 5),
        end_date=date(2026, 6, 30),
        organisation_siret="54756834567143",
        organisation_name="IFN",
        organisation_email=None,
        monthly_rate=Decimal("685.00"),
        decision_date=date(2025, 12, 1),
        status=DossierStatus.IN_PROGRESS,
        account_id=account_id,
    )


@pytest.fixture
def world() -> World:
    clock = FakeClock(START)
    accounts = MemorySettingsAccounts()
    accounts.add(
        Account(
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
        )
    )
    built = build(
        clock=clock,
        accounts=accounts,
        dossiers=MemoryDossiersOfAccount(dossier("acc-1")),
        hasher=CountingHasher(),
        urls=PortalUrls(PORTAL),
    )
    built.terms.publish("v1", "CGU")
    ports = built.ports
    return World(
        built.account_settings,
        built.login,
        accounts,
        ports.session_store,
        ports.mailer,
        ports.audit,
        clock,
        ports.hasher,
    )


def account(world: World) -> Account:
    return world.accounts.items["acc-1"]


def refusal(change: Callable[[], object]) -> dict[str, str]:
    """The errors of a refused change, by the use case's input names."""
    with pytest.raises(Invalid) as refused:
        change()
    return refused.value.errors


def by_password(password: str = PASSWORD) -> Proof:
    return Proof(password=password)


def by_answer(answer: str) -> Proof:
    return Proof(secret_answer=answer)


# Phone -----------------------------------------------------------


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "+33 6 12 34 56 78", "0612345678"])
def test_a_french_phone_is_stored_in_e164(world, typed):
    assert world.settings.set_phone("acc-1", typed, IP) == "+33612345678"
    assert account(world).phone == "+33612345678"
    assert world.audit.names("acc-1") == ["phone-changed"]


def test_anything_else_gets_a_clear_error_and_an_empty_field_removes_the_number(world):
    errors = refusal(lambda: world.settings.set_phone("acc-1", "12 34", IP))
    assert errors == {"phone": PHONE_FORMAT_ERROR}
    assert account(world).phone is None
    world.settings.set_phone("acc-1", "0612345678", IP)
    assert world.settings.set_phone("acc-1", "  ", IP) is None
    assert account(world).phone is None


# Password by the current password and the secret answer -------------------------------------


def change_password(world: World, token: str, password: str, answer: str, new: str = NEW_PASSWORD):
    proof = Proof(password=password, secret_answer=answer)
    return world.settings.change_password("acc-1", token, proof, new, new, IP)


def test_the_password_changes_with_the_password_and_the_answer_and_other_sessions_end(world):
    kept = world.sign_in()
    other = world.sign_in()
    change_password(world, kept, PASSWORD, " lille")
    assert [session.token_hash for session in world.session_store.for_account("acc-1")] == [
        hash_token(kept)
    ]
    assert other != kept
    (mail,) = world.mailer.sent
    assert mail.to == EMAIL and mail.subject == "Votre mot de passe a été modifié"
    assert NEW_PASSWORD not in mail.text and "lille" not in mail.text.lower()
    assert f"{PORTAL}/region-idf/mot-de-passe-oublie" in mail.text
    assert world.audit.names("acc-1")[-1] == "password-changed"
    assert world.login.log_in(EMAIL, NEW_PASSWORD, IP).token is not None


def test_a_wrong_answer_is_refused_and_counts_like_a_login_failure(world):
    token = world.sign_in()
    for _ in range(5):
        errors = refusal(lambda: change_password(world, token, PASSWORD, "Paris"))
        assert errors == {"secret_answer": WRONG_ANSWER}
    with pytest.raises(Throttled) as blocked:
        change_password(world, token, PASSWORD, "Lille")
    # The delay is told under the first proof asked, the current password.
    assert blocked.value.key == "password" and "Trop de tentatives" in blocked.value.message
    assert blocked.value.retry_after > START
    with pytest.raises(Throttled) as login_waits:
        world.login.log_in(EMAIL, PASSWORD, IP)
    assert "Trop de tentatives" in login_waits.value.message
    assert world.audit.names("acc-1").count("reauthentication-failure") == 5
    assert "lockout" in world.audit.names("acc-1")
    assert world.mailer.sent == []


def test_the_new_password_follows_the_rule(world):
    token = world.sign_in()
    errors = refusal(lambda: change_password(world, token, PASSWORD, "Lille", "court"))
    assert set(errors) == {"new_password"}


def test_a_borrowed_session_with_the_right_answer_but_not_the_password_changes_nothing(world):
    # ASVS 2.1.6: the secret answer alone (guessable) no longer changes the password.
    token = world.sign_in()
    for typed in ("", "Devine-Le-2026"):
        errors = refusal(lambda typed=typed: change_password(world, token, typed, "Lille"))
        assert errors == {"password": MISSING_PASSWORD if not typed else WRONG_PASSWORD}
    assert world.hasher.verify(account(world).password_hash or "", PASSWORD)
    assert world.audit.names("acc-1").count("reauthentication-failure") == 1
    assert world.mailer.sent == []


def test_the_answer_is_not_even_checked_when_the_password_is_wrong(world):
    token = world.sign_in()
    before = world.hasher.verify_calls
    errors = refusal(lambda: change_password(world, token, "Devine-Le-2026", "Paris"))
    assert errors == {"password": WRONG_PASSWORD}  # nothing said about the answer
    assert world.hasher.verify_calls - before == 1


def test_wrong_current_passwords_count_like_login_failures(world):
    token = world.sign_in()
    for _ in range(5):
        refusal(lambda: change_password(world, token, "Devine-Le-2026", "Lille"))
    with pytest.raises(Throttled) as login_waits:
        world.login.log_in(EMAIL, PASSWORD, IP)
    assert "Trop de tentatives" in login_waits.value.message
    assert "lockout" in world.audit.names("acc-1")


def test_an_account_without_a_password_sets_one_with_its_secret_answer_only(world):
    world.accounts.save(account(world).updated(password_hash=None, franceconnect_sub="fc-sub"))
    change_password(world, "session-franceconnect", "", "Lille")
    assert world.hasher.verify(account(world).password_hash or "", NEW_PASSWORD)


# Secret question by the password -----------------------------------------------------------


def test_the_secret_question_changes_with_the_password(world):
    world.settings.change_secret_question(
        "acc-1", by_password(), "  Nom de mon  chien ?", "Rex", IP
    )
    assert account(world).secret_question == "Nom de mon chien ?"
    (mail,) = world.mailer.sent
    assert mail.subject == "Votre question secrète a été modifiée" and "Rex" not in mail.text
    assert world.audit.names("acc-1") == ["secret-question-changed"]


def test_a_wrong_password_or_a_bad_question_is_refused(world):
    wrong = refusal(
        lambda: world.settings.change_secret_question(
            "acc-1", by_password("pas le bon"), "Nom du chien ?", "R", IP
        )
    )
    assert wrong["password"] == WRONG_PASSWORD and "new_secret_answer" in wrong
    assert account(world).secret_question == "Ville de naissance ?"
    assert world.mailer.sent == []


def test_the_answer_typed_with_a_password_account_is_not_the_proof(world):
    # The form sends both fields; the service, not the form, knows which one proves the person.
    errors = refusal(
        lambda: world.settings.change_secret_question(
            "acc-1", Proof(password="", secret_answer="Lille"), "Mon chien ?", "Rex", IP
        )
    )
    assert errors == {"password": MISSING_PASSWORD}


# Mail address -----------------------------------------------------------


def request_change(world: World, new: str, confirmation: str, proof: Proof | None = None):
    proof = proof or by_password()
    return world.settings.request_email_change("acc-1", new, confirmation, proof, IP)


def test_a_new_address_applies_only_once_its_link_is_opened(world):
    request_change(world, NEW_EMAIL, NEW_EMAIL)
    assert account(world).email == EMAIL
    confirmation = world.mailer.sent_to(NEW_EMAIL)[0]
    notice = world.mailer.sent_to(EMAIL)[0]
    assert confirmation.subject == "Confirmez votre nouvelle adresse mail"
    assert "24 heures" in confirmation.text
    assert notice.subject == "Changement de votre adresse mail demandé"
    assert "c***e@example.fr" in notice.text and NEW_EMAIL not in notice.text

    world.settings.confirm_email_change(world.confirmation_token(), IP)
    assert account(world).email == NEW_EMAIL
    assert world.accounts.find_by_email(EMAIL) is None
    assert world.accounts.find_by_email(NEW_EMAIL).account_id == "acc-1"
    told = [mail.to for mail in world.mailer.sent if mail.subject.endswith("a été modifiée")]
    assert told == [EMAIL, NEW_EMAIL]
    assert world.audit.names("acc-1") == ["email-change-requested", "email-changed"]
    # The link serves once.
    token = world.confirmation_token()
    assert refusal(lambda: world.settings.confirm_email_change(token, IP)) == {
        "token": LINK_EXPIRED
    }


def test_the_link_expires_after_24_hours(world):
    request_change(world, NEW_EMAIL, NEW_EMAIL)
    world.clock.advance(hours=24)
    token = world.confirmation_token()
    assert refusal(lambda: world.settings.confirm_email_change(token, IP)) == {
        "token": LINK_EXPIRED
    }
    assert account(world).email == EMAIL


def test_a_forged_link_is_refused(world):
    request_change(world, NEW_EMAIL, NEW_EMAIL)
    challenge_id = world.confirmation_token().partition(".")[0]
    for token in (f"{challenge_id}.faux", "faux", ""):
        with pytest.raises(Invalid) as refused:
            world.settings.confirm_email_change(token, IP)
        assert refused.value.code == "email_change_refused"
    assert account(world).email == EMAIL


def test_an_address_of_another_account_is_only_refused_at_confirmation(world):
    world.accounts.add(account(world).updated(account_id="acc-2", email=NEW_EMAIL))
    request_change(world, NEW_EMAIL, NEW_EMAIL)  # the screen tells nothing about the other one
    token = world.confirmation_token()
    errors = refusal(lambda: world.settings.confirm_email_change(token, IP))
    assert errors == {"token": ADDRESS_TAKEN}
    assert account(world).email == EMAIL


def test_the_address_form_checks_its_fields_and_the_password(world):
    assert refusal(lambda: request_change(world, "x", "x")) == {
        "new_email": "Saisissez une adresse mail valide, par exemple nom@exemple.fr."
    }
    assert refusal(lambda: request_change(world, NEW_EMAIL, EMAIL)) == {
        "email_confirmation": EMAIL_CONFIRMATION_DIFFERS
    }
    assert refusal(lambda: request_change(world, EMAIL, EMAIL)) == {"new_email": SAME_EMAIL}
    assert refusal(lambda: request_change(world, NEW_EMAIL, NEW_EMAIL, by_password("faux"))) == {
        "password": WRONG_PASSWORD
    }
    assert world.mailer.sent == []


def test_without_a_password_the_secret_answer_proves_the_person(world):
    world.accounts.items["acc-1"] = account(world).updated(password_hash=None)
    settings = world.settings
    wrong = refusal(
        lambda: settings.change_secret_question("acc-1", by_answer("Paris"), "Chien ?", "Rex", IP)
    )
    assert wrong == {"secret_answer": WRONG_ANSWER}
    # A password typed by an account without one is no proof: only the answer counts.
    settings.change_secret_question("acc-1", Proof("x", "Lille"), "Mon chien ?", "Rex", IP)
    request_change(world, NEW_EMAIL, NEW_EMAIL, by_answer("Rex"))
    assert len(world.mailer.sent_to(NEW_EMAIL)) == 1


def test_confirming_a_new_address_ends_the_other_sessions_like_a_password_change(world):
    kept = world.sign_in()
    other = world.sign_in()
    request_change(world, NEW_EMAIL, NEW_EMAIL)

    world.settings.confirm_email_change(world.confirmation_token(), IP, keep_token=kept)

    assert [session.token_hash for session in world.session_store.for_account("acc-1")] == [
        hash_token(kept)
    ]
    assert hash_token(other) != hash_token(kept)


def test_a_link_opened_without_a_session_ends_them_all(world):
    world.sign_in()
    request_change(world, NEW_EMAIL, NEW_EMAIL)

    world.settings.confirm_email_change(world.confirmation_token(), IP)

    assert world.session_store.for_account("acc-1") == []
    assert account(world).email == NEW_EMAIL


def test_the_overview_tells_the_bounces_of_the_address(world):
    assert world.settings.overview("acc-1").mail_notice is None
    world.accounts.mark_bounced(EMAIL, START)
    overview = world.settings.overview("acc-1")
    assert overview.account.account_id == "acc-1" and overview.mail_notice is not None


def test_a_throttled_proof_still_tells_the_other_inputs_to_correct(world):
    for _ in range(5):
        refusal(lambda: request_change(world, NEW_EMAIL, NEW_EMAIL, by_password("faux")))
    with pytest.raises(Throttled) as blocked:
        request_change(world, "x", "x")
    assert blocked.value.key == "password" and "Trop de tentatives" in blocked.value.message
    assert blocked.value.errors == {
        "password": blocked.value.message,
        "new_email": "Saisissez une adresse mail valide, par exemple nom@exemple.fr.",
    }
