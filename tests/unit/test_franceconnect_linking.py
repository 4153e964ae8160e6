"""The account rules of franceconnect.md, with in-memory fakes: an existing account is linked
only after one password login; the link is removed from « Mon compte »; logout ends it too."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.services.accounts.login import WRONG_PAIR
from chalicelib.services.accounts.sessions import LoginMethod
from chalicelib.services.errors import Expired, Invalid
from chalicelib.services.franceconnect.identity import Outcome
from chalicelib.services.franceconnect.login import (
    LINK_EXPIRED,
    NOT_THIS_ACCOUNT,
    PASSWORD_NEEDED,
)
from tests.support.franceconnect_world import (
    FUNDER,
    IP,
    PASSWORD,
    SUB,
    World,
    account,
    dossier,
    make_world,
)


@pytest.fixture
def world() -> World:
    return make_world()


# An existing account: linked only after one password login -------------------------------------


def test_an_account_holding_the_dossier_needs_one_password_login(world):
    world.accounts.add(account())
    world.dossiers.add(dossier(account_id="acc-1"))
    result = world.callback()
    assert result.outcome is Outcome.LINK_REQUIRED and result.link is not None
    assert world.accounts.items["acc-1"].franceconnect_sub is None  # not on the identity alone
    link_id, secret = result.link.link_id, result.link.browser_secret
    pending = world.service.pending_link(link_id, secret)
    assert pending is not None and pending.candidates == {"acc-1"}
    assert world.service.pending_link(link_id, "0" * 64) is None  # another browser

    with pytest.raises(Invalid) as wrong:
        world.service.confirm_link(link_id, secret, "angela.dubois@example.fr", "faux", IP)
    assert wrong.value.errors == {"credentials": WRONG_PAIR}
    assert world.accounts.items["acc-1"].franceconnect_sub is None

    linked = world.service.confirm_link(link_id, secret, "angela.dubois@example.fr", PASSWORD, IP)
    assert world.accounts.items["acc-1"].franceconnect_sub == SUB
    assert linked.session.method == LoginMethod.FRANCECONNECT
    assert linked.session.id_token == "id-token-for-code-1"
    assert [s.method for s in world.sessions.items.values()] == [LoginMethod.FRANCECONNECT]
    assert "franceconnect-linked" in world.audit.names("acc-1")
    assert [m.subject for m in world.mailer.sent] == ["FranceConnect est relié à votre compte"]
    with pytest.raises(Expired) as again:  # single use
        world.service.confirm_link(link_id, secret, "angela.dubois@example.fr", PASSWORD, IP)
    assert again.value.errors == {"credentials": LINK_EXPIRED}
    assert world.callback().outcome is Outcome.SIGNED_IN  # from now on, by its sub


def test_another_account_password_does_not_link(world):
    world.accounts.add(account())
    world.accounts.add(
        account(
            "acc-2",
            email="lucas.petit@example.fr",
            family_name="Petit",
            given_names="Lucas",
            birth_date=date(1998, 2, 3),
        )
    )
    world.dossiers.add(dossier(account_id="acc-1"))
    link = world.callback().link
    assert link is not None
    with pytest.raises(Invalid) as refused:
        world.service.confirm_link(
            link.link_id, link.browser_secret, "lucas.petit@example.fr", PASSWORD, IP
        )
    assert refused.value.errors == {"credentials": NOT_THIS_ACCOUNT}
    assert world.accounts.items["acc-2"].franceconnect_sub is None
    assert world.sessions.items == {}  # the password session it opened is closed
    assert world.service.pending_link(link.link_id, link.browser_secret) is not None  # can retry


def test_without_a_given_name_the_account_is_found_by_its_password(world):
    world.accounts.add(account(family_name="Rousseau", given_names="Jean"))
    claims = {"given_name": "", "family_name": "ROUSSEAU"}
    result = world.callback(claims)
    assert result.outcome is Outcome.LINK_REQUIRED and result.link is not None
    pending = world.service.pending_link(result.link.link_id, result.link.browser_secret)
    assert pending is not None and pending.candidates == frozenset()
    linked = world.service.confirm_link(
        result.link.link_id, result.link.browser_secret, "angela.dubois@example.fr", PASSWORD, IP
    )
    assert linked.session.method == LoginMethod.FRANCECONNECT
    assert world.accounts.items["acc-1"].franceconnect_sub == SUB


def test_the_same_person_with_the_address_and_no_dossier_yet_links_by_password(world):
    world.accounts.add(account(awaiting_dossier=True))
    world.dossiers.add(dossier())
    result = world.callback()
    assert result.outcome is Outcome.LINK_REQUIRED and result.link is not None
    linked = world.service.confirm_link(
        result.link.link_id, result.link.browser_secret, "angela.dubois@example.fr", PASSWORD, IP
    )
    assert linked.session.method == LoginMethod.FRANCECONNECT
    assert world.dossiers.items[(FUNDER, "IDF-2026-000456")].account_id == "acc-1"


# « Mon compte » and logout ---------------------------------------------------------------------


def test_unlink_needs_a_password(world):
    world.dossiers.add(dossier())
    created = world.callback().session
    assert created is not None
    assert world.service.unlink(created.account_id, IP) == PASSWORD_NEEDED
    assert world.accounts.items[created.account_id].franceconnect_sub == SUB


def test_unlink_with_a_password_removes_the_link_and_says_so(world):
    world.accounts.add(account(franceconnect_sub=SUB))
    world.links.claim(SUB, "acc-1")
    assert world.service.unlink("acc-1", IP) is None
    assert world.accounts.items["acc-1"].franceconnect_sub is None
    assert world.links.owners == {}
    assert world.audit.names("acc-1") == ["franceconnect-unlinked"]
    assert [m.subject for m in world.mailer.sent] == [
        "FranceConnect n'est plus relié à votre compte"
    ]


def test_logout_of_a_franceconnect_session_goes_through_the_provider(world):
    world.dossiers.add(dossier())
    session = world.callback().session
    assert session is not None
    ending = world.service.end_session(session)
    assert ending is not None and ending.url.startswith("https://fc.example/session/end?state=")
    (id_token, state), *_ = world.provider.ended
    assert id_token == "id-token-for-code-1"
    assert not world.service.logout_returned(state, "0" * 64)  # another browser's
    assert world.service.logout_returned(state, ending.browser_secret)
    assert not world.service.logout_returned(state, ending.browser_secret)  # single use


def test_a_password_session_has_no_provider_logout(world):
    world.accounts.add(account())
    result = world.service._login.log_in("angela.dubois@example.fr", PASSWORD, IP)
    assert result.session is not None
    assert world.service.end_session(result.session) is None
