"""Sessions: opaque tokens stored hashed, idle and absolute timeouts, first-login steps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from chalicelib.services.accounts.model import Account, Step
from chalicelib.services.accounts.sessions import (
    LoginMethod,
    Session,
    Sessions,
    hash_token,
)
from tests.support.fakes import FakeClock, MemorySessions

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def account(account_id: str = "acc-1", **changes: object) -> Account:
    """A trainee who finished the first-login steps and accepted the CGU "v1"."""
    complete = Account(
        account_id=account_id,
        email=f"{account_id}@example.fr",
        family_name="Martin",
        given_names="Camille",
        birth_date=date(1990, 5, 14),
        created_at=START,
        password_hash="test$v1$salt$digest",
        secret_question="Ville de naissance ?",
        secret_answer_hash="test$v1$salt$digest",
        terms_version="v1",
    )
    return complete.updated(**changes)


def new_trainee() -> Account:
    """Signed up, logged in once with the temporary password: every step still to do."""
    return account(
        password_hash=None, secret_question=None, secret_answer_hash=None, terms_version=None
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def repository() -> MemorySessions:
    return MemorySessions()


@pytest.fixture
def sessions(repository: MemorySessions, clock: FakeClock) -> Sessions:
    return Sessions(repository, clock)


def open_session(sessions: Sessions, owner: Account | None = None) -> tuple[str, Session]:
    return sessions.open(owner or account(), LoginMethod.PASSWORD, "v1")


# Opening -----------------------------------------------------------------------------------


def test_only_the_sha256_of_the_token_is_stored(sessions, repository):
    token, session = open_session(sessions)

    assert token not in repository.items
    assert list(repository.items) == [hash_token(token)] == [session.token_hash]
    assert token not in repr(repository.items[session.token_hash])


def test_tokens_and_csrf_tokens_carry_at_least_256_random_bits(sessions):
    token, session = open_session(sessions)
    other_token, other = open_session(sessions)

    # token_urlsafe(32): 32 random bytes written in 43 characters.
    assert len(token) >= 43 and len(session.csrf_token) >= 43
    assert token != other_token
    assert session.csrf_token != other.csrf_token
    assert token != session.csrf_token


def test_a_new_session_records_the_account_method_times_and_id_token(sessions, clock):
    owner = account(franceconnect_sub="sub-1")

    _, session = sessions.open(owner, LoginMethod.FRANCECONNECT, "v1", id_token="id-token")

    assert session.account_id == owner.account_id
    assert session.kind == owner.kind
    assert session.method == LoginMethod.FRANCECONNECT
    assert session.id_token == "id-token"
    assert session.created_at == session.last_used_at == clock()
    assert session.terms_version == "v1"


def test_a_session_of_a_complete_account_has_no_pending_step(sessions):
    _, session = open_session(sessions)

    assert session.pending_step is None


def test_a_session_of_a_new_trainee_starts_at_the_password_step(sessions):
    _, session = open_session(sessions, new_trainee())

    assert session.pending_step is Step.PASSWORD


def test_a_session_opened_after_a_new_cgu_version_starts_at_the_terms_step(sessions):
    _, session = sessions.open(account(), LoginMethod.PASSWORD, "v2")

    assert session.pending_step is Step.TERMS


# Resolving and timeouts --------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_a_missing_or_unknown_token_resolves_to_no_session(sessions, token):
    assert sessions.resolve(token) is None


def test_a_token_resolves_to_its_session(sessions):
    token, session = open_session(sessions)

    resolved = sessions.resolve(token)

    assert resolved is not None
    assert resolved.token_hash == session.token_hash
    assert resolved.account_id == "acc-1"


def test_the_stored_hash_is_not_accepted_as_a_token(sessions):
    _, session = open_session(sessions)

    assert sessions.resolve(session.token_hash) is None


def test_a_session_is_alive_one_second_before_30_idle_minutes(sessions, clock):
    token, _ = open_session(sessions)

    clock.advance(minutes=29, seconds=59)

    assert sessions.resolve(token) is not None


def test_a_session_expires_at_exactly_30_idle_minutes_and_is_deleted(sessions, repository, clock):
    token, session = open_session(sessions)

    clock.advance(minutes=30)

    assert sessions.resolve(token) is None
    assert session.token_hash not in repository.items


def test_using_a_session_pushes_its_idle_timeout_back(sessions, clock):
    token, _ = open_session(sessions)
    clock.advance(minutes=20)
    assert sessions.resolve(token) is not None

    clock.advance(minutes=29, seconds=59)  # 49:59 after opening, 29:59 after last use
    assert sessions.resolve(token) is not None

    clock.advance(minutes=30)
    assert sessions.resolve(token) is None


def test_a_session_used_all_along_still_ends_12_hours_after_it_was_opened(sessions, clock):
    token, _ = open_session(sessions)

    for _ in range(71):  # every 10 minutes for 11 h 50
        clock.advance(minutes=10)
        assert sessions.resolve(token) is not None
    clock.advance(minutes=9, seconds=59)
    assert sessions.resolve(token) is not None, "alive at 11:59:59"

    clock.advance(seconds=1)
    assert sessions.resolve(token) is None, "ended at exactly 12 hours"


def test_expires_at_is_the_earlier_of_the_idle_and_absolute_limits(sessions, clock):
    _, session = open_session(sessions)
    assert session.expires_at == START.replace(minute=30)

    late = replace(session, last_used_at=START.replace(hour=20, minute=50))
    assert late.expires_at == START.replace(hour=21)


def test_last_use_is_not_written_again_within_a_minute(sessions, repository, clock):
    token, _ = open_session(sessions)

    for _ in range(5):
        clock.advance(seconds=11)  # up to 55 s after opening
        assert sessions.resolve(token) is not None

    assert repository.calls["touch"] == 0


def test_last_use_is_written_once_a_minute_has_passed(sessions, repository, clock):
    token, session = open_session(sessions)

    clock.advance(minutes=1)
    resolved = sessions.resolve(token)
    for _ in range(5):
        clock.advance(seconds=10)  # 50 s after the write
        sessions.resolve(token)

    assert repository.calls["touch"] == 1
    assert resolved is not None and resolved.last_used_at == START.replace(minute=1)
    assert repository.items[session.token_hash].last_used_at == START.replace(minute=1)


def test_uses_within_the_first_minute_do_not_extend_the_idle_timeout(sessions, clock):
    # The price of writing "last used" once a minute: a minute of precision, never more.
    token, _ = open_session(sessions)
    clock.advance(seconds=59)
    sessions.resolve(token)

    clock.advance(minutes=29, seconds=1)

    assert sessions.resolve(token) is None


# Pending steps and the CGU -----------------------------------------------------------------


def test_a_complete_session_has_nothing_pending_while_the_cgu_do_not_change(sessions):
    _, session = open_session(sessions)

    assert sessions.pending_step(session, "v1") is None


def test_a_new_cgu_version_puts_a_complete_session_back_on_the_terms_step(sessions):
    _, session = open_session(sessions)

    assert sessions.pending_step(session, "v2") is Step.TERMS


def test_without_any_published_cgu_a_complete_session_has_nothing_pending(sessions):
    _, session = open_session(sessions)

    assert sessions.pending_step(session, None) is None


def test_an_unfinished_step_stays_first_even_after_a_new_cgu_version(sessions):
    _, session = open_session(sessions, new_trainee())

    assert sessions.pending_step(session, "v2") is Step.PASSWORD


# Advancing through the first-login steps ---------------------------------------------------


def test_advance_keeps_the_token_while_steps_remain(sessions, repository):
    trainee = new_trainee()
    token, session = open_session(sessions, trainee)

    with_password = trainee.updated(password_hash="test$v1$salt$digest")
    new_token, updated = sessions.advance(token, session, with_password, "v1")

    assert new_token == token
    assert updated.pending_step is Step.SECRET_QUESTION
    assert repository.items[session.token_hash].pending_step is Step.SECRET_QUESTION
    assert repository.calls["save_progress"] == 1

    with_question = with_password.updated(secret_answer_hash="test$v1$salt$digest")
    new_token, updated = sessions.advance(token, updated, with_question, "v1")

    assert new_token == token
    assert updated.pending_step is Step.TERMS
    assert sessions.resolve(token) is not None


def test_advance_gives_a_new_token_when_the_last_step_completes(sessions, repository, clock):
    trainee = new_trainee().updated(
        password_hash="test$v1$salt$digest", secret_answer_hash="test$v1$salt$digest"
    )
    token, session = sessions.open(trainee, LoginMethod.FRANCECONNECT, "v1", id_token="idt")
    assert session.pending_step is Step.TERMS
    clock.advance(minutes=3)

    new_token, new_session = sessions.advance(
        token, session, trainee.updated(terms_version="v1"), "v1"
    )

    assert new_token != token
    assert sessions.resolve(token) is None, "the old token is ended"
    assert session.token_hash not in repository.items
    resolved = sessions.resolve(new_token)
    assert resolved is not None and resolved.pending_step is None
    assert new_session.pending_step is None
    assert new_session.method == LoginMethod.FRANCECONNECT
    assert new_session.id_token == "idt"
    assert new_session.csrf_token != session.csrf_token
    assert list(repository.items) == [hash_token(new_token)]


def test_a_complete_session_that_accepts_a_new_cgu_version_is_complete_again(sessions, repository):
    token, session = open_session(sessions)
    assert sessions.pending_step(session, "v2") is Step.TERMS

    new_token, updated = sessions.advance(token, session, account(terms_version="v2"), "v2")

    assert updated.pending_step is None
    assert updated.terms_version == "v2"
    stored = sessions.resolve(new_token)
    assert stored is not None and sessions.pending_step(stored, "v2") is None


# Ending sessions ---------------------------------------------------------------------------


def test_close_ends_the_session_server_side(sessions, repository):
    token, _ = open_session(sessions)

    sessions.close(token)

    assert sessions.resolve(token) is None
    assert repository.items == {}


def test_close_all_ends_every_other_session_of_the_account_and_keeps_the_current_one(sessions):
    current, _ = open_session(sessions)
    phone, _ = open_session(sessions)
    tablet, _ = open_session(sessions)
    someone_else, _ = open_session(sessions, account("acc-2"))

    ended = sessions.close_all("acc-1", keep_token=current)

    assert ended == 2
    assert sessions.resolve(current) is not None
    assert sessions.resolve(phone) is None
    assert sessions.resolve(tablet) is None
    assert sessions.resolve(someone_else) is not None


def test_close_all_without_a_token_to_keep_ends_every_session_of_the_account(sessions):
    first, _ = open_session(sessions)
    second, _ = open_session(sessions)
    someone_else, _ = open_session(sessions, account("acc-2"))

    assert sessions.close_all("acc-1") == 2
    assert sessions.resolve(first) is None
    assert sessions.resolve(second) is None
    assert sessions.resolve(someone_else) is not None


# The CGU version read with the session --------------------------------------------------


def test_a_cold_resolve_reads_the_session_and_the_cgu_version_in_one_read_then_only_the_session(
    repository: MemorySessions, clock: FakeClock
) -> None:
    from chalicelib.services.accounts.terms import Terms
    from tests.support.fakes import MemoryTerms

    terms_repository = MemoryTerms()
    terms_repository.current_pointer = "v2"
    terms = Terms(terms_repository, clock)
    together: list[str] = []

    def with_terms(token_hash: str) -> tuple[Session | None, str | None]:
        together.append(token_hash)
        return repository.items.get(token_hash), terms_repository.current_pointer

    sessions = Sessions(repository, clock, terms=terms, with_terms=with_terms)
    token, opened = open_session(sessions)

    assert sessions.resolve(token) == opened  # a new Lambda: both in one read
    assert together == [hash_token(token)] and repository.calls["get"] == 0
    assert terms.current_version() == "v2" and terms_repository.calls["current_version"] == 0
    assert sessions.pending_step(opened, terms.current_version()) is Step.TERMS

    assert sessions.resolve(token) == opened  # the version is in memory: the session alone
    assert len(together) == 1 and repository.calls["get"] == 1
