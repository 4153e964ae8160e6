"""Identification and the first-login steps: one message for a wrong pair, delays, steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.services.accounts.login import (
    INVALID_CREDENTIALS,
    STALE_TERMS,
    WRONG_PAIR,
    Login,
)
from chalicelib.services.accounts.model import Account, Step
from chalicelib.services.accounts.passwords import (
    MESSAGE_FAMILY_NAME,
    MESSAGE_TOO_SHORT,
    normalise_secret_answer,
)
from chalicelib.services.accounts.sessions import LoginMethod, Session, Sessions, SignedIn
from chalicelib.services.accounts.terms import Terms
from chalicelib.services.errors import Invalid, Throttled
from tests.support.builder import build
from tests.support.fakes import (
    CountingHasher,
    FakeClock,
    MemoryAccounts,
    MemoryAudit,
    MemoryCounters,
    MemorySessions,
    MemoryTerms,
    PlainTestHasher,
    RecordingMailer,
)

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)  # 10:00 in Paris
EMAIL = "camille.martin@example.fr"
PASSWORD = "Pluie-Soleil-Nuage-42"
NEW_PASSWORD = "Brume-Orage-Grele-2026"
TEMPORARY = "Kx7mP2qRt9wZbc"
IP = "192.0.2.1"

OLD_PASSWORD_WRONG = "L'ancien mot de passe est incorrect."
CONFIRMATION_DIFFERS = "La confirmation doit être identique au nouveau mot de passe."
PASSWORD_CHANGED_SUBJECT = "Votre mot de passe a été modifié"

# The stored hashes are made by a hasher of the same version as the service's: no rehash.
SETUP_HASHER = PlainTestHasher()


@dataclass
class World:
    login: Login
    accounts: MemoryAccounts
    session_store: MemorySessions
    sessions: Sessions
    counters: MemoryCounters
    hasher: CountingHasher
    terms: Terms
    terms_store: MemoryTerms
    audit: MemoryAudit
    mailer: RecordingMailer
    clock: FakeClock

    def log_in(
        self, identifier: str = EMAIL, password: str = PASSWORD
    ) -> SignedIn | Invalid | Throttled:
        """The session opened, or the refusal raised (returned, to compare refusals)."""
        try:
            return self.login.log_in(identifier, password, IP)
        except (Invalid, Throttled) as refused:
            return refused

    def account(self, account_id: str = "acc-1") -> Account:
        return self.accounts.items[account_id]

    def signed_in(self, identifier: str = EMAIL, password: str = PASSWORD) -> tuple[str, Session]:
        signed_in = self.login.log_in(identifier, password, IP)
        return signed_in.token, signed_in.session


def make_world(hasher_version: int = 1) -> World:
    built = build(clock=FakeClock(START), hasher=CountingHasher(hasher_version))
    built.terms.publish("v1", "Conditions générales d'utilisation, version 1.")
    ports = built.ports
    return World(
        built.login,
        ports.accounts,
        ports.session_store,
        built.sessions,
        ports.counters,
        ports.hasher,
        built.terms,
        ports.terms_store,
        ports.audit,
        ports.mailer,
        ports.clock,
    )


@pytest.fixture
def world() -> World:
    return make_world()


def complete_account(**changes: object) -> Account:
    """A trainee who has a password, a secret question and the CGU v1 accepted."""
    account = Account(
        account_id="acc-1",
        email=EMAIL,
        family_name="Martin",
        given_names="Camille Louise",
        birth_date=date(1990, 5, 14),
        created_at=START - timedelta(days=30),
        password_hash=SETUP_HASHER.hash(PASSWORD),
        secret_question="Ville de naissance ?",
        secret_answer_hash=SETUP_HASHER.hash("brest"),
        terms_version="v1",
    )
    return account.updated(**changes)


def new_trainee(**changes: object) -> Account:
    """Just signed up: a temporary password valid 72 hours, every step still to do."""
    account = complete_account(
        password_hash=None,
        temporary_password_hash=SETUP_HASHER.hash(TEMPORARY),
        temporary_password_expires_at=START + timedelta(hours=72),
        secret_question=None,
        secret_answer_hash=None,
        terms_version=None,
    )
    return account.updated(**changes)


def is_wrong_pair(result: SignedIn | Invalid | Throttled) -> bool:
    """The one refusal of a wrong pair, whatever was wrong (not a delay in force)."""
    return (
        isinstance(result, Invalid)
        and result.code == INVALID_CREDENTIALS
        and result.errors == {"credentials": WRONG_PAIR}
    )


def delay(result: SignedIn | Invalid | Throttled) -> Throttled:
    assert isinstance(result, Throttled), result
    return result


# Logging in --------------------------------------------------------------------------------


def test_the_right_pair_opens_a_complete_session(world):
    world.accounts.add(complete_account())

    result = world.log_in()

    assert isinstance(result, SignedIn)
    assert result.session.account_id == "acc-1"
    assert result.session.method == LoginMethod.PASSWORD
    assert result.session.pending_step is None
    assert world.sessions.resolve(result.token) is not None
    assert world.audit.names("acc-1") == ["login-success"]
    assert world.audit.events[0].details == {"method": "password"}
    assert world.audit.events[0].client_ip == IP


def test_the_address_is_typed_in_any_case_with_spaces(world):
    world.accounts.add(complete_account())

    assert isinstance(world.log_in("  Camille.MARTIN@Example.FR "), SignedIn)


def test_each_login_gives_a_new_token(world):
    world.accounts.add(complete_account())

    first, _ = world.signed_in()
    second, _ = world.signed_in()

    assert first != second
    assert world.sessions.resolve(first) is not None
    assert world.sessions.resolve(second) is not None


def test_a_wrong_password_and_an_unknown_address_get_the_same_message(world):
    world.accounts.add(complete_account())

    wrong_password = world.log_in(password="Mauvais-Mot-De-Passe-1")
    unknown_address = world.log_in("personne@example.fr")

    assert is_wrong_pair(wrong_password) and is_wrong_pair(unknown_address)
    assert WRONG_PAIR == "Adresse mail ou mot de passe incorrect."
    assert world.session_store.items == {}
    # Both count as failures: the known account in its trail, the unknown address in metrics only.
    assert world.audit.names() == ["login-failure"]
    assert world.audit.unattributed == ["login-failure-unknown-account"]


def test_a_password_is_verified_even_for_an_unknown_address(world):
    world.accounts.add(complete_account())
    world.log_in("personne@example.fr")  # the throwaway hash is made once per instance
    before = world.hasher.verify_calls

    world.log_in("quelquun@example.fr")
    unknown = world.hasher.verify_calls - before
    world.log_in(password="Mauvais-Mot-De-Passe-1")
    wrong = world.hasher.verify_calls - before - unknown

    assert unknown == wrong == 1


@pytest.mark.parametrize("first_address", ["quelquun@example.fr", None])
def test_the_throwaway_hash_is_made_by_the_first_login_not_by_building_the_service(
    first_address,
):
    """Every signed-in page builds this service: it must not cost a hash. The first login pays
    it whether the address is known or not, so that cannot tell them apart."""
    world = make_world()
    world.accounts.add(complete_account())
    assert world.hasher.hash_calls == 0
    if first_address:
        world.log_in(first_address)
    else:
        world.log_in(password="Mauvais-Mot-De-Passe-1")
    assert world.hasher.hash_calls == 1
    world.log_in("autre@example.fr")
    assert world.hasher.hash_calls == 1


@pytest.mark.parametrize("password", ["", "x" * 1025])
def test_an_empty_or_absurdly_long_password_is_a_wrong_pair(world, password):
    world.accounts.add(complete_account())

    assert is_wrong_pair(world.log_in(password=password))


def test_a_failure_on_an_account_is_audited(world):
    world.accounts.add(complete_account())

    world.log_in(password="Mauvais-Mot-De-Passe-1")

    assert world.audit.names("acc-1") == ["login-failure"]
    assert world.audit.events[0].client_ip == IP


def test_the_password_hash_is_renewed_when_the_hashing_parameters_changed():
    world = make_world(hasher_version=2)
    world.accounts.add(complete_account())  # hashed with version 1

    assert isinstance(world.log_in(), SignedIn)

    stored = world.account().password_hash
    assert stored is not None and stored.startswith("test$v2$")
    assert world.hasher.verify(stored, PASSWORD)


def test_an_up_to_date_password_hash_is_left_alone(world):
    account = world.accounts.add(complete_account())

    world.log_in()

    assert world.account().password_hash == account.password_hash
    assert world.accounts.calls["save"] == 0


# The temporary password --------------------------------------------------------------------


def test_the_temporary_password_opens_a_session_at_the_password_step(world):
    world.accounts.add(new_trainee())

    result = world.log_in(password=TEMPORARY)

    assert isinstance(result, SignedIn)
    assert result.session.pending_step is Step.PASSWORD
    assert world.account().temporary_password_used is True


def test_the_temporary_password_works_only_once(world):
    world.accounts.add(new_trainee())
    world.signed_in(password=TEMPORARY)

    assert is_wrong_pair(world.log_in(password=TEMPORARY))


def test_the_temporary_password_works_until_just_before_72_hours(world):
    world.accounts.add(new_trainee())

    world.clock.advance(hours=71, minutes=59, seconds=59)

    assert isinstance(world.log_in(password=TEMPORARY), SignedIn)


def test_the_temporary_password_expires_after_72_hours(world):
    world.accounts.add(new_trainee())

    world.clock.advance(hours=72)

    assert is_wrong_pair(world.log_in(password=TEMPORARY))
    assert world.account().temporary_password_used is False


def test_an_expired_temporary_password_costs_a_verification_too(world):
    world.accounts.add(new_trainee())
    world.clock.advance(hours=72)
    world.log_in("personne@example.fr")
    before = world.hasher.verify_calls

    world.log_in(password=TEMPORARY)

    assert world.hasher.verify_calls - before == 1


def test_a_wrong_temporary_password_is_a_wrong_pair(world):
    world.accounts.add(new_trainee())

    assert is_wrong_pair(world.log_in(password="Kx7mP2qRt9wZbX"))
    assert world.account().temporary_password_used is False


# Delays after failures ---------------------------------------------------------------------


def fail(world: World, times: int, identifier: str = EMAIL) -> list[SignedIn | Invalid | Throttled]:
    return [world.log_in(identifier, "Mauvais-Mot-De-Passe-1") for _ in range(times)]


def test_five_failures_keep_the_same_message_then_tries_must_wait_a_minute(world):
    world.accounts.add(complete_account())

    results = fail(world, 5)
    assert all(is_wrong_pair(result) for result in results)

    locked = delay(world.log_in())  # even the right password must wait
    assert locked.retry_after == START + timedelta(minutes=1)
    assert locked.errors == {"credentials": locked.message}
    assert "Trop de tentatives de connexion" in locked.message
    assert "10:01 (heure de Paris)" in locked.message


def test_no_password_is_verified_while_the_identifier_must_wait(world):
    world.accounts.add(complete_account())
    fail(world, 5)
    before = world.hasher.verify_calls

    world.log_in()

    assert world.hasher.verify_calls == before


def test_the_right_password_works_once_the_delay_is_over_and_resets_the_count(world):
    world.accounts.add(complete_account())
    fail(world, 5)
    world.clock.advance(minutes=1)

    assert isinstance(world.log_in(), SignedIn)

    fail(world, 4)
    assert isinstance(world.log_in(), SignedIn), "four new failures bring no delay"


def test_the_delays_double_after_each_further_failure(world):
    world.accounts.add(complete_account())
    fail(world, 5)
    waits = []
    for _ in range(3):
        retry_after = delay(world.log_in()).retry_after
        waits.append(retry_after - world.clock())
        world.clock.set(retry_after)
        fail(world, 1)

    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]


def test_the_account_stays_protected_after_dozens_of_failures(world):
    # A patient robot trying once per allowed slot (or many requests in parallel, which all
    # pass the lock check before the first one sets it) piles up failures well past a dozen.
    world.accounts.add(complete_account())
    for _ in range(50):
        result = world.log_in(password="Mauvais-Mot-De-Passe-1")
        if isinstance(result, Throttled):
            world.clock.set(result.retry_after)
            result = world.log_in(password="Mauvais-Mot-De-Passe-1")
        assert is_wrong_pair(result)

    locked = delay(world.log_in())

    assert locked.retry_after == world.clock() + timedelta(hours=1)


def test_a_lockout_is_audited_on_the_account(world):
    world.accounts.add(complete_account())

    fail(world, 5)

    assert world.audit.names("acc-1") == ["login-failure"] * 5 + ["lockout"]


def test_a_lockout_looks_the_same_for_an_unknown_address(world):
    world.accounts.add(complete_account())

    fail(world, 5)
    fail(world, 5, "personne@example.fr")
    known = delay(world.log_in())
    unknown = delay(world.log_in("personne@example.fr"))

    assert known.retry_after == unknown.retry_after == START + timedelta(minutes=1)
    assert known.errors == unknown.errors
    assert (known.message, known.key, known.also) == (unknown.message, unknown.key, unknown.also)


# First-login steps -------------------------------------------------------------------------


def test_the_first_login_steps_come_in_order_and_the_token_changes_at_the_end(world):
    world.accounts.add(new_trainee())
    token, session = world.signed_in(password=TEMPORARY)
    assert session.pending_step is Step.PASSWORD

    result = world.login.change_first_password(
        token, session, TEMPORARY, NEW_PASSWORD, NEW_PASSWORD, IP
    )
    assert result.token == token
    assert result.session.pending_step is Step.SECRET_QUESTION

    result = world.login.set_secret_question(
        token, result.session, "Ville de naissance ?", "Brest", IP
    )
    assert result.token == token
    assert result.session.pending_step is Step.TERMS

    result = world.login.accept_terms(token, result.session, "v1", IP)
    assert result.token != token
    assert result.session.pending_step is None
    assert world.sessions.resolve(token) is None
    resolved = world.sessions.resolve(result.token)
    assert resolved is not None and world.sessions.step_due(resolved) is None
    assert world.audit.names("acc-1") == [
        "login-success",
        "password-changed",
        "secret-question-set",
        "terms-accepted",
    ]


def test_without_published_cgu_the_secret_question_is_the_last_step(world):
    world.login.terms = Terms(MemoryTerms(), world.clock)  # nothing published
    world.accounts.add(new_trainee(password_hash=SETUP_HASHER.hash(PASSWORD)))
    token, session = world.signed_in()
    assert session.pending_step is Step.SECRET_QUESTION

    result = world.login.set_secret_question(token, session, "Ville de naissance ?", "Brest", IP)

    assert result.session.pending_step is None
    assert result.token != token


# The new password


def first_password(
    world: World, new_password: str, confirmation: str | None = None, old: str = TEMPORARY
) -> tuple[str, Session, SignedIn | Invalid]:
    """The step's session moved on, or its refusal (returned)."""
    world.accounts.add(new_trainee())
    token, session = world.signed_in(password=TEMPORARY)
    try:
        result: SignedIn | Invalid = world.login.change_first_password(
            token,
            session,
            old,
            new_password,
            new_password if confirmation is None else confirmation,
            IP,
        )
    except Invalid as refused:
        result = refused
    return token, session, result


def test_the_new_password_is_stored_hashed_and_the_temporary_one_forgotten(world):
    _, _, result = first_password(world, NEW_PASSWORD)

    assert isinstance(result, SignedIn)
    account = world.account()
    assert account.password_hash is not None
    assert NEW_PASSWORD not in account.password_hash
    assert world.hasher.verify(account.password_hash, NEW_PASSWORD)
    assert account.temporary_password_hash is None
    assert account.temporary_password_expires_at is None


def test_after_the_change_only_the_new_password_logs_in(world):
    first_password(world, NEW_PASSWORD)

    assert is_wrong_pair(world.log_in(password=TEMPORARY))
    assert isinstance(world.log_in(password=NEW_PASSWORD), SignedIn)


def test_a_wrong_old_password_is_refused(world):
    _, _, result = first_password(world, NEW_PASSWORD, old="Pas-Le-Bon-Provisoire")

    assert result.errors == {"old_password": OLD_PASSWORD_WRONG}
    assert world.account().password_hash is None


def test_a_weak_new_password_is_refused_with_the_rule(world):
    _, _, result = first_password(world, "Court-1a")

    assert result.errors == {"new_password": MESSAGE_TOO_SHORT}
    assert world.account().password_hash is None
    assert world.mailer.sent == []


def test_a_new_password_containing_the_name_is_refused(world):
    _, _, result = first_password(world, "Martin-Soleil-Nuage-42")

    assert result.errors == {"new_password": MESSAGE_FAMILY_NAME}


def test_a_confirmation_that_differs_is_refused(world):
    _, _, result = first_password(world, NEW_PASSWORD, confirmation=NEW_PASSWORD + "!")

    assert result.errors == {"confirmation": CONFIRMATION_DIFFERS}
    assert world.account().password_hash is None


def test_every_problem_is_reported_at_once(world):
    _, _, result = first_password(world, "court", old="faux")

    assert set(result.errors) == {"old_password", "new_password"}


def test_a_refused_change_keeps_the_session_on_the_password_step(world):
    token, _, result = first_password(world, "court")

    assert isinstance(result, Invalid)
    resolved = world.sessions.resolve(token)
    assert resolved is not None and resolved.pending_step is Step.PASSWORD


def test_the_password_change_ends_every_other_session_and_keeps_this_one(world):
    world.accounts.add(new_trainee())
    token, session = world.signed_in(password=TEMPORARY)
    other, _ = world.sessions.open(world.account(), LoginMethod.PASSWORD, "v1")

    world.login.change_first_password(token, session, TEMPORARY, NEW_PASSWORD, NEW_PASSWORD, IP)

    assert world.sessions.resolve(other) is None
    assert world.sessions.resolve(token) is not None


def test_the_password_change_is_mailed_without_the_password(world):
    first_password(world, NEW_PASSWORD)

    (mail,) = world.mailer.sent
    assert mail.to == EMAIL
    assert mail.subject == PASSWORD_CHANGED_SUBJECT
    assert NEW_PASSWORD not in mail.text and TEMPORARY not in mail.text
    assert "Camille" in mail.text
    assert world.audit.names("acc-1")[-1] == "password-changed"


# The secret question


def at_secret_question(world: World) -> tuple[str, Session]:
    world.accounts.add(
        new_trainee(password_hash=SETUP_HASHER.hash(PASSWORD), temporary_password_hash=None)
    )
    token, session = world.signed_in()
    assert session.pending_step is Step.SECRET_QUESTION
    return token, session


def test_the_secret_answer_is_stored_hashed_once_normalised(world):
    token, session = at_secret_question(world)

    result = world.login.set_secret_question(
        token, session, "  Ville   de naissance ? ", "  Saint-Étienne ", IP
    )

    assert isinstance(result, SignedIn)
    account = world.account()
    assert account.secret_question == "Ville de naissance ?"
    assert account.secret_answer_hash is not None
    assert "tienne" not in account.secret_answer_hash.lower()
    assert world.hasher.verify(account.secret_answer_hash, "saint etienne")
    assert world.hasher.verify(account.secret_answer_hash, normalise_secret_answer("SAINT ETIENNE"))


@pytest.mark.parametrize(
    ("question", "answer", "field", "message"),
    [
        (
            "Ville de naissance ?",
            "B",
            "answer",
            "Saisissez la réponse à votre question secrète (2 caractères au moins).",
        ),
        (
            "Ville de naissance ?",
            "  -  ",
            "answer",
            "Saisissez la réponse à votre question secrète (2 caractères au moins).",
        ),
        (
            "Ville de naissance ?",
            "b" * 101,
            "answer",
            "La réponse doit faire 100 caractères au plus.",
        ),
        (
            "Ville de naissance ?",
            "VILLE DE NAISSANCE ?",
            "answer",
            "La réponse ne doit pas être identique à la question.",
        ),
        (
            "Prénom de ma sœur ?",
            "prenom de ma soeur ?",
            "answer",
            "La réponse ne doit pas être identique à la question.",
        ),
        (
            "?",
            "Brest",
            "question",
            "Saisissez votre question secrète, par exemple : Prénom de mon fils ?",
        ),
        ("Q" * 201, "Brest", "question", "La question doit faire 200 caractères au plus."),
    ],
)
def test_a_bad_question_or_answer_is_refused_in_french(world, question, answer, field, message):
    token, session = at_secret_question(world)

    with pytest.raises(Invalid) as refused:
        world.login.set_secret_question(token, session, question, answer, IP)

    assert refused.value.errors == {field: message}
    assert world.account().secret_answer_hash is None
    assert "secret-question-set" not in world.audit.names()


# The CGU


def at_terms(world: World) -> tuple[str, Session]:
    world.accounts.add(complete_account(terms_version=None))
    token, session = world.signed_in()
    assert session.pending_step is Step.TERMS
    return token, session


def test_accepting_the_current_cgu_records_the_proof(world):
    token, session = at_terms(world)
    world.clock.advance(minutes=2)

    result = world.login.accept_terms(token, session, "v1", IP)

    assert isinstance(result, SignedIn)
    (acceptance,) = world.terms_store.acceptances("acc-1")
    assert (acceptance.version, acceptance.accepted_at) == ("v1", START + timedelta(minutes=2))
    assert world.account().terms_version == "v1"
    assert world.audit.events[-1].event == "terms-accepted"
    assert world.audit.events[-1].details == {"version": "v1"}


def test_accepting_a_stale_cgu_version_is_refused(world):
    token, session = at_terms(world)
    world.terms.publish("v2", "Conditions générales d'utilisation, version 2.")

    with pytest.raises(Invalid) as refused:
        world.login.accept_terms(token, session, "v1", IP)

    assert refused.value.errors == {"version": STALE_TERMS}
    assert world.terms_store.acceptances("acc-1") == []
    assert world.account().terms_version is None


def test_accepting_an_unknown_cgu_version_is_refused(world):
    token, session = at_terms(world)

    with pytest.raises(Invalid) as refused:
        world.login.accept_terms(token, session, "v9", IP)

    assert refused.value.errors == {"version": STALE_TERMS}


def test_a_new_cgu_version_sends_a_complete_session_back_to_the_cgu(world):
    world.accounts.add(complete_account())
    token, session = world.signed_in()
    assert world.sessions.step_due(session) is None

    world.terms.publish("v2", "Conditions générales d'utilisation, version 2.")
    assert world.sessions.step_due(session) is Step.TERMS

    result = world.login.accept_terms(token, session, "v2", IP)

    resolved = world.sessions.resolve(result.token)
    assert resolved is not None and world.sessions.step_due(resolved) is None
    assert world.account().terms_version == "v2"


# Logging out -------------------------------------------------------------------------------


def test_logging_out_ends_the_session_and_is_audited(world):
    world.accounts.add(complete_account())
    token, session = world.signed_in()

    world.login.log_out(token, session, IP)

    assert world.sessions.resolve(token) is None
    assert world.audit.names("acc-1")[-1] == "logout"
