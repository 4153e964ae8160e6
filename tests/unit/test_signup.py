"""S'inscrire: field checks in French, dossier identity, no enumeration of addresses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.services.accounts.model import Account, PortalUrls
from chalicelib.services.accounts.signup import (
    NO_MATCHING_DOSSIER,
    TEMPORARY_PASSWORD_LIFETIME,
    Signup,
    SignupForm,
)
from chalicelib.services.errors import Invalid
from chalicelib.services.funder_files.model import DossierStatus
from chalicelib.services.funders.model import Funder
from chalicelib.services.security.challenges import Challenges, Purpose
from chalicelib.services.trainings.dossiers import Dossier
from tests.support.builder import build
from tests.support.fakes import (
    CountingHasher,
    FakeClock,
    MemoryAccounts,
    MemoryAudit,
    MemoryChallenges,
    MemoryDossierLookup,
    RecordingMailer,
)

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
FUNDER = Funder("region", "Région test")
BASE_URL = "https://portail.example.gouv.fr"
CAPTCHA_ANSWER = "K7P2QX"
EMAIL = "camille.lefevre@example.fr"

REGISTERED_SUBJECT = "Demande d'inscription au Portail stagiaire"
WELCOME_SUBJECT = "Votre inscription au Portail stagiaire"
DOSSIER_LINKED_SUBJECT = "Votre demande d'inscription au Portail stagiaire"


def dossier(**changes: object) -> Dossier:
    base = Dossier(
        funder_code="region",
        dossier_number="D-2026-001",
        family_name="LEFÈVRE-DUPONT",
        given_names="Camille Louise",
        birth_date=date(1990, 5, 14),
        email=EMAIL,  # the funder's courriel: the proof that links the dossier at sign-up
        training_code="DEV",
        training_title="Développeur web",
        start_date=date(2026, 2, 2),
        end_date=date(2026, 9, 30),
        organisation_siret="54756834567143",
        organisation_name="IFN",
        organisation_email=None,
        monthly_rate=Decimal("310.39"),
        decision_date=date(2026, 1, 5),
        status=DossierStatus.IN_PROGRESS,
    )
    return replace(base, **changes)


@dataclass
class World:
    signup: Signup
    accounts: MemoryAccounts
    dossiers: MemoryDossierLookup
    challenges: Challenges
    challenge_store: MemoryChallenges
    hasher: CountingHasher
    mailer: RecordingMailer
    audit: MemoryAudit
    clock: FakeClock
    owners_told: list[Dossier]

    def captcha(self) -> str:
        return self.challenges.issue(Purpose.CAPTCHA, CAPTCHA_ANSWER)

    def form(self, **changes: object) -> SignupForm:
        """A complete, valid form for the dossier D-2026-001, with a fresh captcha."""
        base = SignupForm(
            family_name="Lefèvre-Dupont",
            given_names="Camille",
            birth_date="14/05/1990",
            dossier_number="D-2026-001",
            email=EMAIL,
            email_confirmation=EMAIL,
            captcha_id=self.captcha(),
            captcha_answer=CAPTCHA_ANSWER,
            terms_accepted=True,
        )
        return replace(base, **changes)

    def sign_up(self, **changes: object) -> dict[str, str]:
        """The inputs to correct (`Invalid`'s errors); {} when the sign-up went through."""
        return attempt(lambda: self.signup.sign_up(FUNDER, self.form(**changes), "192.0.2.1"))


def attempt(sign_up: Callable[[], None]) -> dict[str, str]:
    try:
        sign_up()
    except Invalid as refused:
        assert refused.code == "validation_failed"
        return refused.errors
    return {}


@pytest.fixture
def world() -> World:
    built = build(
        clock=FakeClock(START),
        dossiers=MemoryDossierLookup(dossier()),
        hasher=CountingHasher(),
        urls=PortalUrls(BASE_URL),
    )
    # A spy on the owner's warning, which the signup borrows from « Ajouter un dossier ».
    owners_told: list[Dossier] = []
    tell_owner = built.dossier_claims.tell_owner

    def told(linked: Dossier) -> None:
        owners_told.append(linked)
        tell_owner(linked)

    built.dossier_claims.tell_owner = told  # type: ignore[method-assign]
    ports = built.ports
    return World(
        built.signup,
        ports.accounts,
        ports.dossiers,
        built.challenges,
        ports.challenge_store,
        ports.hasher,
        ports.mailer,
        ports.audit,
        ports.clock,
        owners_told,
    )


def existing_account(email: str = EMAIL) -> Account:
    return Account(
        account_id="existing",
        email=email,
        family_name="Durand",
        given_names="Dominique",
        birth_date=date(1985, 1, 2),
        created_at=START - timedelta(days=100),
        password_hash="test$v1$salt$digest",
    )


# A successful sign-up ----------------------------------------------------------------------


def test_a_sign_up_with_a_matching_dossier_creates_the_account_and_links_the_dossier(world):
    result = world.sign_up()

    assert result == {}
    assert result == {}
    (account,) = world.accounts.items.values()
    assert account.email == EMAIL
    assert account.family_name == "Lefèvre-Dupont"
    assert account.given_names == "Camille"
    assert account.birth_date == date(1990, 5, 14)
    assert account.awaiting_dossier is False
    assert account.password_hash is None
    assert world.dossiers.items[("region", "D-2026-001")].account_id == account.account_id


def test_the_temporary_password_is_mailed_and_stored_hashed_for_72_hours(world):
    world.sign_up()

    (account,) = world.accounts.items.values()
    (mail,) = world.mailer.sent
    (temporary_password,) = world.hasher.hashed_secrets
    assert mail.to == EMAIL
    assert mail.subject == WELCOME_SUBJECT
    assert temporary_password in mail.text
    assert f"{BASE_URL}/region/connexion" in mail.text
    assert account.temporary_password_hash is not None
    assert temporary_password not in account.temporary_password_hash
    assert world.hasher.verify(account.temporary_password_hash, temporary_password)
    assert account.temporary_password_expires_at == START + timedelta(hours=72)
    assert timedelta(hours=72) == TEMPORARY_PASSWORD_LIFETIME
    assert account.temporary_password_used is False


def test_each_sign_up_gets_its_own_temporary_password(world):
    world.sign_up()
    world.sign_up(email="autre@example.fr", email_confirmation="autre@example.fr", no_dossier=True)

    first, second = world.hasher.hashed_secrets
    assert first != second
    assert len(first) >= 12


def test_the_sign_up_is_written_to_the_audit_trail(world):
    world.sign_up()

    (account,) = world.accounts.items.values()
    (event,) = world.audit.events
    assert (event.account_id, event.event, event.client_ip) == (
        account.account_id,
        "signup",
        "192.0.2.1",
    )
    assert event.details == {"funder": "region"}


def test_the_address_is_stored_lower_case_without_surrounding_spaces(world):
    world.sign_up(
        email="  Camille.LEFEVRE@Example.FR ", email_confirmation="camille.lefevre@EXAMPLE.fr"
    )

    (account,) = world.accounts.items.values()
    assert account.email == EMAIL
    assert world.mailer.sent[0].to == EMAIL


def test_given_names_are_stored_with_single_spaces(world):
    world.sign_up(given_names="  Camille   Louise ")

    (account,) = world.accounts.items.values()
    assert account.given_names == "Camille Louise"


# Field errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"family_name": ""}, "family_name", "Saisissez votre nom."),
        ({"family_name": "   "}, "family_name", "Saisissez votre nom."),
        ({"family_name": "A" * 101}, "family_name", "Votre nom doit faire 100 caractères au plus."),
        ({"given_names": ""}, "given_names", "Saisissez votre prénom."),
        (
            {"given_names": "B" * 101},
            "given_names",
            "Votre prénom doit faire 100 caractères au plus.",
        ),
        (
            {"birth_date": ""},
            "birth_date",
            "Saisissez votre date de naissance au format JJ/MM/AAAA, par exemple 14/05/1990.",
        ),
        (
            {"birth_date": "1990-05-14"},
            "birth_date",
            "Saisissez votre date de naissance au format JJ/MM/AAAA, par exemple 14/05/1990.",
        ),
        (
            {"birth_date": "31/02/1990"},
            "birth_date",
            "Saisissez votre date de naissance au format JJ/MM/AAAA, par exemple 14/05/1990.",
        ),
        (
            {"birth_date": "15/01/2026"},
            "birth_date",
            "La date de naissance doit être dans le passé.",
        ),
        (
            {"birth_date": "01/01/2030"},
            "birth_date",
            "La date de naissance doit être dans le passé.",
        ),
        (
            {"dossier_number": "  "},
            "dossier_number",
            "Saisissez le numéro de dossier indiqué sur votre décision de prise en charge, "
            "ou cochez « Je ne possède pas encore de dossier ».",
        ),
        (
            {"email": "", "email_confirmation": ""},
            "email",
            "Saisissez une adresse mail valide, par exemple nom@exemple.fr.",
        ),
        (
            {"email": "camille@", "email_confirmation": "camille@"},
            "email",
            "Saisissez une adresse mail valide, par exemple nom@exemple.fr.",
        ),
        (
            {"email_confirmation": "camille.lefevre@example.com"},
            "email_confirmation",
            "La confirmation doit être identique à l'adresse mail.",
        ),
        (
            {"terms_accepted": False},
            "terms_accepted",
            "Vous devez accepter les conditions d'utilisation pour créer votre compte.",
        ),
        (
            {"captcha_answer": "AAAAAA"},
            "captcha_answer",
            "Le code recopié ne correspond pas. Recopiez le nouveau code ci-dessous.",
        ),
    ],
)
def test_each_field_error_is_given_in_french_and_nothing_is_created(world, changes, field, message):
    result = world.sign_up(**changes)

    assert result == {field: message}
    assert world.accounts.items == {}
    assert world.mailer.sent == []
    assert world.audit.events == []


def test_an_empty_form_gets_an_error_on_every_field(world):
    result = attempt(lambda: world.signup.sign_up(FUNDER, SignupForm(), None))

    assert set(result) == {
        "family_name",
        "given_names",
        "birth_date",
        "dossier_number",
        "email",
        "terms_accepted",
        "captcha_answer",
    }


def test_the_dossier_number_is_optional_with_no_dossier_ticked(world):
    result = world.sign_up(dossier_number="", no_dossier=True)

    assert result == {}


# The captcha -------------------------------------------------------------------------------


def test_a_refused_captcha_creates_no_account_and_sends_no_mail(world):
    result = world.sign_up(captcha_answer="WRONG1")

    assert "captcha_answer" in result
    assert world.accounts.items == {}
    assert world.mailer.sent == []
    assert world.hasher.hash_calls == 0


def test_an_unknown_or_missing_captcha_is_refused(world):
    assert "captcha_answer" in world.sign_up(captcha_id="")
    assert "captcha_answer" in world.sign_up(captcha_id="unknown")
    assert world.accounts.items == {}


def test_an_expired_captcha_is_refused(world):
    form = world.form()
    world.clock.advance(minutes=10)

    result = attempt(lambda: world.signup.sign_up(FUNDER, form, None))

    assert "captcha_answer" in result
    assert world.accounts.items == {}


def test_a_solved_captcha_cannot_be_used_for_a_second_sign_up(world):
    form = world.form()
    assert attempt(lambda: world.signup.sign_up(FUNDER, form, None)) == {}

    again = replace(form, email="autre@example.fr", email_confirmation="autre@example.fr")
    result = attempt(lambda: world.signup.sign_up(FUNDER, again, None))

    assert "captcha_answer" in result
    assert len(world.accounts.items) == 1


def test_a_captcha_of_another_purpose_is_refused(world):
    arithmetic = world.challenges.issue(Purpose.ARITHMETIC, CAPTCHA_ANSWER)

    assert "captcha_answer" in world.sign_up(captcha_id=arithmetic)


# Matching the dossier ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family_name", "given_names"),
    [
        ("LEFÈVRE-DUPONT", "Camille Louise"),
        ("Lefèvre-Dupont", "Camille"),
        ("lefevre dupont", "camille"),
        ("LEFEVRE-DUPONT", "CAMILLE LOUISE"),
        ("  Lefèvre   Dupont ", "  Camille  "),
        ("Lefevre\u2011Dupont", "Camille-Louise"),
    ],
)
def test_the_dossier_matches_despite_case_accents_hyphens_spaces_and_extra_given_names(
    world, family_name, given_names
):
    result = world.sign_up(family_name=family_name, given_names=given_names)

    assert result == {}
    assert world.dossiers.items[("region", "D-2026-001")].account_id is not None


def test_the_dossier_number_is_read_without_surrounding_spaces(world):
    assert world.sign_up(dossier_number="  D-2026-001 ") == {}


@pytest.mark.parametrize(
    "changes",
    [
        {"given_names": "Louise"},  # the second given name alone is not the first
        {"given_names": "Camilla"},
        {"family_name": "Lefèvre"},
        {"birth_date": "15/05/1990"},
        {"dossier_number": "D-2026-999"},
    ],
)
def test_a_dossier_that_does_not_match_is_refused_with_one_message(world, changes):
    result = world.sign_up(**changes)

    assert result == {"dossier_number": NO_MATCHING_DOSSIER}
    assert world.accounts.items == {}
    assert world.mailer.sent == []
    assert world.dossiers.items[("region", "D-2026-001")].account_id is None


def test_a_dossier_of_another_funder_is_not_found(world):
    world.dossiers.items.clear()
    world.dossiers.add(dossier(funder_code="autre"))

    result = world.sign_up()

    assert result == {"dossier_number": NO_MATCHING_DOSSIER}


def test_the_dossier_message_is_in_french(world):
    assert NO_MATCHING_DOSSIER.startswith("Nous ne trouvons pas ce numéro de dossier")


# Without a dossier -------------------------------------------------------------------------


def test_without_a_dossier_the_account_awaits_one(world):
    result = world.sign_up(no_dossier=True, dossier_number="", family_name="Nouvelle")

    assert result == {}
    (account,) = world.accounts.items.values()
    assert account.awaiting_dossier is True
    assert world.dossiers.calls["get"] == 0
    assert world.dossiers.items[("region", "D-2026-001")].account_id is None
    (mail,) = world.mailer.sent
    assert mail.subject == WELCOME_SUBJECT
    assert mail.to == EMAIL


def test_with_no_dossier_ticked_a_typed_number_is_ignored(world):
    result = world.sign_up(no_dossier=True, family_name="Autre")

    assert result == {}
    (account,) = world.accounts.items.values()
    assert account.awaiting_dossier is True
    assert world.dossiers.items[("region", "D-2026-001")].account_id is None


# No enumeration ----------------------------------------------------------------------------


def test_an_address_with_an_account_gets_the_same_result_and_a_mail_instead(world):
    existing = world.accounts.add(existing_account())

    result = world.sign_up(email="Camille.Lefevre@example.fr")

    assert result == {}
    assert world.accounts.items == {"existing": existing}, "no account created or changed"
    assert world.dossiers.items[("region", "D-2026-001")].account_id is None
    (mail,) = world.mailer.sent
    assert mail.to == EMAIL
    assert mail.subject == REGISTERED_SUBJECT
    assert f"{BASE_URL}/region/connexion" in mail.text
    assert f"{BASE_URL}/region/mot-de-passe-oublie" in mail.text
    assert world.hasher.hashed_secrets[0] not in mail.text
    # The attempt is in the owner's audit trail: the owner may want to know.
    assert [(event.account_id, event.event) for event in world.audit.events] == [
        ("existing", "signup-attempt")
    ]


def test_an_address_with_an_account_and_no_dossier_gets_the_same_mail(world):
    world.accounts.add(existing_account())

    result = world.sign_up(no_dossier=True, dossier_number="")

    assert result == {}
    assert [mail.subject for mail in world.mailer.sent] == [REGISTERED_SUBJECT]
    assert len(world.accounts.items) == 1


def test_a_dossier_already_linked_gets_the_same_result_and_a_mail_to_the_typed_address(world):
    world.dossiers.link("region", "D-2026-001", "someone-else")

    result = world.sign_up()

    assert result == {}
    assert world.accounts.items == {}
    assert world.dossiers.items[("region", "D-2026-001")].account_id == "someone-else"
    (mail,) = world.mailer.sent
    assert mail.to == EMAIL
    assert mail.subject == DOSSIER_LINKED_SUBJECT
    assert "D-2026-001" in mail.text
    assert f"{BASE_URL}/region/mot-de-passe-oublie" in mail.text
    assert world.hasher.hashed_secrets[0] not in mail.text
    # Its owner is told (the mail itself: tests/unit/test_dossier_claims.py).
    assert [d.account_id for d in world.owners_told] == ["someone-else"]


@pytest.mark.parametrize("courriel", [None, "camille.perso@example.org"])
def test_without_the_funder_s_courriel_the_typed_identity_links_nothing(world, courriel):
    """Issue 13: someone else's name, birth date and number, with one's own address."""
    world.dossiers.add(dossier(email=courriel))

    assert world.sign_up() == {}  # the same screen: nothing to learn from it

    (account,) = world.accounts.items.values()
    assert world.dossiers.items[("region", "D-2026-001")].account_id is None
    assert account.awaiting_dossier is True  # linked later by a funder file with its address
    (mail,) = world.mailer.sent
    assert mail.to == EMAIL and "Mot de passe provisoire" in mail.text
    assert "Votre dossier n'est pas encore rattaché à votre compte" in mail.text
    assert world.owners_told == []


def test_the_funder_s_courriel_matches_whatever_its_case(world):
    world.dossiers.add(dossier(email="Camille.Lefevre@EXAMPLE.fr"))
    assert world.sign_up() == {}
    (account,) = world.accounts.items.values()
    assert world.dossiers.items[("region", "D-2026-001")].account_id == account.account_id
    assert "pas encore rattaché" not in world.mailer.sent[0].text


def test_a_taken_address_wins_over_a_taken_dossier(world):
    world.accounts.add(existing_account())
    world.dossiers.link("region", "D-2026-001", "existing")

    assert world.sign_up() == {}

    assert [mail.subject for mail in world.mailer.sent] == [REGISTERED_SUBJECT]


def hashing_work(world: World, **changes: object) -> tuple[int, int]:
    before = (world.hasher.hash_calls, world.hasher.verify_calls)
    assert world.sign_up(**changes) == {}
    return world.hasher.hash_calls - before[0], world.hasher.verify_calls - before[1]


def test_the_same_hashing_work_is_done_whether_or_not_the_address_has_an_account(world):
    new_address = hashing_work(world)

    world.dossiers.add(dossier(dossier_number="D-2026-002"))
    world.accounts.add(existing_account("deja@example.fr"))
    taken_address = hashing_work(
        world,
        dossier_number="D-2026-002",
        email="deja@example.fr",
        email_confirmation="deja@example.fr",
    )

    assert new_address == taken_address == (1, 0)


def test_the_same_hashing_work_is_done_when_the_dossier_is_already_linked(world):
    world.dossiers.add(dossier(dossier_number="D-2026-002", account_id="someone-else"))

    fresh = hashing_work(world)
    linked = hashing_work(
        world,
        dossier_number="D-2026-002",
        email="autre@example.fr",
        email_confirmation="autre@example.fr",
    )

    assert fresh == linked == (1, 0)


def test_the_same_hashing_work_is_done_without_a_dossier(world):
    fresh = hashing_work(world, no_dossier=True)
    world.accounts.add(existing_account("deja@example.fr"))
    taken = hashing_work(
        world, no_dossier=True, email="deja@example.fr", email_confirmation="deja@example.fr"
    )

    assert fresh == taken == (1, 0)


# Addresses (issue 13, Low 3) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "attacker<camille.lefevre@example.fr>",  # a display name: SES would mail the victim
        "camille.lefevre@example.fr,",
        "camille.lefevre@example.fr;x",  # raised a 500 after the account was created
        "camille.lefevre@example.fr\x00",
        '"camille lefevre"@example.fr',
        "camille.lefevre@example",
        "camille@lefèvre@example.fr",
    ],
)
def test_an_address_that_is_not_one_mailbox_creates_nothing(world, typed):
    result = world.sign_up(email=typed, email_confirmation=typed)

    assert result == {"email": "Saisissez une adresse mail valide, par exemple nom@exemple.fr."}
    assert world.accounts.items == {} and world.mailer.sent == []


def test_an_international_domain_is_stored_in_the_form_ses_sends_to(world):
    world.sign_up(email="Camille@Exämple.fr", email_confirmation="camille@exämple.FR")

    (account,) = world.accounts.items.values()
    assert account.email == "camille@xn--exmple-cua.fr"


def test_a_mail_that_cannot_leave_says_so_and_the_account_can_get_a_new_password(world):
    world.mailer.failing = True

    result = world.sign_up()

    assert "Mot de passe oublié" in result["email"]
    (account,) = world.accounts.items.values()
    # Never logged in: « Mot de passe oublié » gives such an account a new temporary password
    # (test_recovery.py, test_an_account_that_never_finished_its_first_login_gets_a_...).
    assert account.secret_answer_hash is None and account.password_hash is None


def test_a_mail_that_cannot_leave_tells_nothing_about_the_address(world):
    world.accounts.add(existing_account())
    world.mailer.failing = True

    known = world.sign_up()
    world.accounts.items.pop("existing")
    unknown = world.sign_up()

    assert known == unknown


def test_a_dossier_removed_between_its_read_and_the_link_gets_the_answer_of_no_dossier(
    world, monkeypatch
):
    """Withdrawn or purged after the sign-up read it: not « déjà un compte », but the page's
    answer for a number that matches no dossier; nothing created, nothing mailed."""
    read = world.dossiers.get

    def read_then_removed(funder_code, dossier_number, consistent=False):
        found = read(funder_code, dossier_number, consistent)
        world.dossiers.items.pop((funder_code, dossier_number), None)
        return found

    monkeypatch.setattr(world.dossiers, "get", read_then_removed)
    result = world.sign_up()

    assert result == {"dossier_number": NO_MATCHING_DOSSIER}
    assert world.accounts.items == {}
    assert world.mailer.sent == []
