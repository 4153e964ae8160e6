"""The account rules of franceconnect.md, with in-memory fakes: the state and nonce, then the
first use of an identity, which creates the account already linked to the person's dossier."""

from __future__ import annotations

import re
from datetime import date

import pytest

from chalicelib.services.accounts.model import Step
from chalicelib.services.accounts.retention import inactivity_due
from chalicelib.services.accounts.sessions import LoginMethod
from chalicelib.services.franceconnect.identity import (
    FranceConnectError,
    Outcome,
    parse_birthdate,
)
from chalicelib.services.security.challenges import Purpose
from tests.support.franceconnect_world import (
    ANGELA,
    FUNDER,
    IP,
    START,
    SUB,
    World,
    account,
    dossier,
    make_world,
)


@pytest.fixture
def world() -> World:
    return make_world()


# Start and callback ---------------------------------------------------------------------------


def test_start_keeps_a_64_hex_state_and_nonce_for_ten_minutes(world):
    started = world.service.start(FUNDER, "192.0.2.1")
    assert started is not None and len(started.browser_secret) == 64
    (state, nonce), *_ = world.provider.nonces.items()
    assert re.fullmatch(r"[0-9a-f]{64}", state) and re.fullmatch(r"[0-9a-f]{64}", nonce)
    challenge = world.challenges.items[state]
    assert challenge.purpose is Purpose.FRANCECONNECT
    assert challenge.data == {"step": "authorize", "funder": FUNDER, "nonce": nonce}
    assert (challenge.expires_at - START).total_seconds() == 600


def test_without_settings_there_is_no_franceconnect(world):
    world.service._provider = None
    assert world.service.start(FUNDER, "192.0.2.1") is None and not world.service.available


def test_a_state_is_single_use(world):
    world.dossiers.add(dossier())
    world.provider.claims = dict(ANGELA)
    started = world.service.start(FUNDER, "192.0.2.1")
    assert started is not None
    state = next(iter(world.provider.nonces))
    first = world.service.finish(state, "code-1", "", started.browser_secret, IP)
    assert first.outcome is Outcome.SIGNED_IN
    again = world.service.finish(state, "code-1", "", started.browser_secret, IP)
    assert again.outcome is Outcome.INVALID_STATE


def test_a_state_from_another_browser_is_refused(world):
    world.dossiers.add(dossier())
    assert world.callback(secret="f" * 64).outcome is Outcome.INVALID_STATE
    assert world.callback(secret="").outcome is Outcome.INVALID_STATE
    assert world.accounts.items == {}


def test_cancel_and_other_errors_are_told_apart(world):
    cancelled = world.callback(error="access_denied")
    assert (cancelled.outcome, cancelled.funder_code) == (Outcome.CANCELLED, FUNDER)
    assert world.callback(error="server_error").outcome is Outcome.PROVIDER_ERROR


def test_a_verification_failure_logs_in_nobody(world):
    world.dossiers.add(dossier())
    world.provider.failure = "id_token: signature does not verify"
    result = world.callback()
    assert result.outcome is Outcome.FAILED
    assert result.reason == "id_token: signature does not verify"
    assert world.accounts.items == {} and world.sessions.items == {}


# First use: a new account, already linked -----------------------------------------------------


def test_first_use_with_a_free_dossier_creates_the_account_already_linked(world):
    world.dossiers.add(dossier())
    result = world.callback()
    assert result.outcome is Outcome.SIGNED_IN and result.session is not None
    (created,) = world.accounts.items.values()
    assert created.franceconnect_sub == SUB
    assert (created.family_name, created.given_names) == ("DUBOIS", "Angela Claire Louise")
    assert created.birth_date == date(1962, 8, 24)
    assert created.email == "angela.dubois@example.fr"
    # No temporary password: the person sets a secret question, then accepts the CGU.
    assert created.password_hash is None and created.temporary_password_hash is None
    assert result.session.pending_step is Step.SECRET_QUESTION
    assert result.session.method == LoginMethod.FRANCECONNECT
    assert result.session.id_token == "id-token-for-code-1"
    assert world.dossiers.items[(FUNDER, "IDF-2026-000456")].account_id == created.account_id
    assert world.links.owners == {SUB: created.account_id}
    assert world.audit.names() == ["signup", "franceconnect-linked", "login-success"]


def test_the_next_use_logs_into_the_same_account(world):
    world.dossiers.add(dossier())
    first = world.callback()
    second = world.callback()
    assert second.outcome is Outcome.SIGNED_IN
    assert second.session.account_id == first.session.account_id  # type: ignore[union-attr]
    assert len(world.accounts.items) == 1


def test_a_dossier_sent_later_is_linked_at_the_next_franceconnect_login(world):
    """The identity is the State's: a free dossier of it needs no courriel (dossier_claims.py)."""
    world.dossiers.add(dossier())
    first = world.callback()
    world.dossiers.add(dossier("IDF-2027-000001", email=None))
    world.dossiers.add(dossier("IDF-2027-000002", email=None, account_id="someone-else"))
    world.dossiers.add(dossier("IDF-2027-000003", family_name="DURAND", email=None))
    assert world.callback().outcome is Outcome.SIGNED_IN
    account_id = first.session.account_id  # type: ignore[union-attr]
    owners = {number: d.account_id for (_f, number), d in world.dossiers.items.items()}
    assert owners["IDF-2027-000001"] == account_id
    assert owners["IDF-2027-000002"] == "someone-else"  # never re-linked
    assert owners["IDF-2027-000003"] is None  # another identity
    assert world.audit.names(account_id).count("dossier-added") == 1


def test_a_franceconnect_login_pushes_the_inactivity_warning_back(world):
    world.dossiers.add(dossier())
    signed_in = world.callback()
    [account] = world.accounts.items.values()
    assert account.account_id == signed_in.session.account_id  # type: ignore[union-attr]
    assert account.inactivity_due == inactivity_due(START.date())


def test_names_compare_without_case_accents_apostrophes_or_hyphens(world):
    world.dossiers.add(
        dossier("FT-1", family_name="D’Artagnan Léger", given_names="Marie-Hélène", email=None)
    )
    claims = {
        "family_name": "D'ARTAGNAN-LÉGER",
        "given_name": "Marie-Hélène Anne",
        "email": "mh@example.fr",
    }
    assert world.callback(claims).outcome is Outcome.SIGNED_IN


@pytest.mark.parametrize("presumed", ["1980-01-01", "1980-00-00"])
def test_a_presumed_birth_date_matches_the_first_of_january(world, presumed):
    world.dossiers.add(dossier(birth_date=date(1980, 1, 1)))
    assert world.callback({"birthdate": presumed}).outcome is Outcome.SIGNED_IN
    (created,) = world.accounts.items.values()
    assert created.birth_date == date(1980, 1, 1)


def test_parse_birthdate_refuses_what_is_not_a_date():
    assert parse_birthdate("1962-08-00") == date(1962, 8, 1)
    for wrong in ("24/08/1962", "1962-13-01", ""):
        with pytest.raises(FranceConnectError):
            parse_birthdate(wrong)


def test_a_family_name_longer_than_50_characters_is_kept_whole(world):
    long_name = "DE LA ROCHEFOUCAULD-MONTMORENCY DE SAINT-JEAN-PIED-DE-PORT"
    world.dossiers.add(dossier(family_name=long_name))
    assert world.callback({"family_name": long_name}).outcome is Outcome.SIGNED_IN
    assert next(iter(world.accounts.items.values())).family_name == long_name


def test_without_a_mail_from_franceconnect_the_dossier_mail_is_used(world):
    world.dossiers.add(dossier(email="a.dubois@example.fr"))
    assert world.callback({"email": None}).outcome is Outcome.SIGNED_IN
    assert next(iter(world.accounts.items.values())).email == "a.dubois@example.fr"


def test_without_any_mail_no_account_is_created(world):
    world.dossiers.add(dossier(email=None))
    assert world.callback({"email": None}).outcome is Outcome.NO_EMAIL
    assert world.accounts.items == {}


def test_no_dossier_means_no_account(world):
    assert world.callback().outcome is Outcome.NO_DOSSIER
    world.dossiers.add(dossier(funder_code="region-hdf"))
    assert world.callback().outcome is Outcome.NO_DOSSIER  # a dossier of another funder only
    assert world.accounts.items == {}


def test_a_dossier_removed_before_the_account_is_written_means_no_account(world, monkeypatch):
    """Found free, withdrawn before the account that links it is written: the creation is
    refused whole, and the answer is the one of anyone without a dossier here."""
    world.dossiers.add(dossier())
    create = world.accounts.create

    def create_after_a_withdrawal(*arguments, **options):
        world.dossiers.items.pop((FUNDER, "IDF-2026-000456"))
        return create(*arguments, **options)

    monkeypatch.setattr(world.accounts, "create", create_after_a_withdrawal)
    assert world.callback().outcome is Outcome.NO_DOSSIER
    assert world.accounts.items == {} and world.links.owners == {}


def test_a_mail_address_of_someone_else_is_never_linked(world):
    world.dossiers.add(dossier())
    world.accounts.add(account(family_name="Martin", given_names="Camille"))
    assert world.callback().outcome is Outcome.EMAIL_IN_USE
    assert world.links.owners == {}
    assert all(a.franceconnect_sub is None for a in world.accounts.items.values())
