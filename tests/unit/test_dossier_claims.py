"""« Ajouter un dossier » with in-memory fakes: a dossier is linked only on a proof, every other
case gets one answer, attempts are throttled before they are looked at, owners are told."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.services.accounts.model import Account
from chalicelib.services.errors import DomainError, Expired, Invalid, SignedOut, Throttled
from chalicelib.services.trainings.dossier_claims import (
    ALREADY_YOURS,
    EXPIRED,
    NO_FUNDER,
    NO_NUMBER,
    WRONG_CODE,
    ClaimResult,
    ClaimThrottle,
    WrongCode,
)
from chalicelib.services.trainings.dossiers import Dossier, activation_code_hash
from tests.support.builder import build
from tests.support.fakes import (
    FakeClock,
    MemoryAccounts,
    MemoryCounters,
    MemoryFunders,
    MemoryTrainingDossiers,
)
from tests.unit.test_trainings import CAMILLE, HDF, IDF, account, new_dossier

IP = "192.0.2.7"
CAMILLE_EMAIL = "camille.martin@example.fr"
OTHER_COURRIEL = "camille.perso@example.org"
ACTIVATION = "K7M2-P9QX-4TDV"
NUMBER = "HDF-2026-000099"


class World:
    def __init__(self, *dossiers: Dossier, test_answer: str | None = None) -> None:
        self.clock = FakeClock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
        self.dossiers = MemoryTrainingDossiers(*dossiers)
        self.accounts = MemoryAccounts()
        built = build(
            clock=self.clock,
            dossiers=self.dossiers,
            accounts=self.accounts,
            funders=MemoryFunders(IDF, HDF),
            captcha_test_answer=test_answer,
        )
        self.challenge_store = built.ports.challenge_store
        self.counters = built.ports.counters
        self.mailer = built.ports.mailer
        self.audit = built.ports.audit
        self.claims = built.dossier_claims

    def request(self, number: str = NUMBER, who: Account | None = None) -> ClaimResult:
        """The claim of `who` (Camille by default): its result, or the service's refusal."""
        who = self.accounts.add(who or account())
        return self.claims.request(who.account_id, "region-hdf", number, IP)

    def confirm(self, claim_id: str, code: str, who: Account | None = None) -> ClaimResult:
        who = self.accounts.add(who or account())
        return self.claims.confirm(who.account_id, claim_id, code, IP)

    def linked_to(self, number: str = NUMBER) -> str | None:
        return self.dossiers.items[("region-hdf", number)].account_id

    def mailed_code(self, address: str) -> str:
        match = re.search(r"Votre code : (\d{8})", self.mailer.sent_to(address)[-1].text)
        assert match is not None
        return match.group(1)


def hashed(code: str, number: str = NUMBER) -> str:
    return activation_code_hash("region-hdf", number, code)


def refusal(attempt: Callable[[], object]) -> DomainError:
    with pytest.raises(DomainError) as raised:
        attempt()
    return raised.value


def shape(result: ClaimResult) -> tuple[object, ...]:
    """What the caller can see of a pending answer, but its one-time id."""
    return (result.linked, result.claim_id is not None)


@pytest.mark.parametrize(
    ("family_name", "given_names"),
    [("MARTIN", "Camille Louise"), ("martin", "camille"), (" Mârtin ", "Camille-Louise")],
)
def test_the_funder_s_courriel_being_the_account_s_address_links_at_once(
    family_name: str, given_names: str
) -> None:
    world = World(new_dossier(email="Camille.Martin@Example.fr"))
    result = world.request(f" {NUMBER} ", account(family_name=family_name, given_names=given_names))
    assert result.linked is not None
    assert world.linked_to() == CAMILLE
    assert world.audit.names(CAMILLE) == ["dossier-added"]
    assert world.mailer.sent == []


def test_every_case_without_proof_gets_the_same_answer_and_links_nothing() -> None:
    owner = Account(
        account_id="account-owner",
        email="owner@example.fr",
        family_name="MARTIN",
        given_names="Camille",
        birth_date=account().birth_date,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    world = World(
        new_dossier(dossier_number="A-NO-COURRIEL", email=None),
        new_dossier(dossier_number="B-OTHER-COURRIEL", email=OTHER_COURRIEL),
        new_dossier(dossier_number="C-OTHER-IDENTITY", family_name="PETIT", email=CAMILLE_EMAIL),
        new_dossier(dossier_number="D-TAKEN", email=CAMILLE_EMAIL, account_id=owner.account_id),
    )
    world.accounts.add(owner)
    numbers = ["A-NO-COURRIEL", "B-OTHER-COURRIEL", "C-OTHER-IDENTITY", "D-TAKEN", "E-UNKNOWN"]
    results = [world.request(number) for number in numbers]  # the fifth is still free
    assert len({shape(result) for result in results}) == 1
    assert shape(results[0]) == (None, True)
    assert [world.linked_to(n) for n in numbers[:3]] == [None, None, None]
    assert world.linked_to("D-TAKEN") == owner.account_id
    # Only two mails: the code to the funder's courriel, the warning to the owner.
    assert [mail.to for mail in world.mailer.sent] == [OTHER_COURRIEL, owner.email]
    warning = world.mailer.sent[1]
    assert warning.subject == "Tentative de rattachement de votre dossier"
    assert "D-TAKEN" in warning.text and CAMILLE_EMAIL not in warning.text
    assert "Martin" not in warning.text.replace("MARTIN", "")  # no attacker data
    assert world.audit.names(CAMILLE) == ["dossier-claim-unproven"] * 5
    assert world.audit.names(owner.account_id) == ["dossier-claim-attempt"]
    # The owner's trail holds no client address of whoever tried.
    assert [e.client_ip for e in world.audit.events if e.account_id == owner.account_id] == [None]


def test_the_code_mailed_to_the_funder_s_courriel_links_the_dossier_once() -> None:
    world = World(new_dossier(email=OTHER_COURRIEL))
    pending = world.request()
    assert pending.claim_id is not None
    code = world.mailed_code(OTHER_COURRIEL)
    wrong = refusal(lambda: world.confirm(pending.claim_id or "", "00000000"))
    assert isinstance(wrong, WrongCode) and wrong.errors == {"code": WRONG_CODE}
    assert wrong.claim_id == pending.claim_id
    assert world.linked_to() is None
    done = world.confirm(pending.claim_id, f" {code[:4]} {code[4:]} ")
    assert done.linked is not None and world.linked_to() == CAMILLE
    again = refusal(lambda: world.confirm(pending.claim_id or "", code))
    assert isinstance(again, Expired) and again.errors == {"code": EXPIRED}
    assert world.audit.names(CAMILLE) == [
        "dossier-claim-unproven",
        "dossier-claim-failed",
        "dossier-added",
    ]


def test_a_claim_serves_only_the_account_that_made_it_and_five_tries() -> None:
    world = World(new_dossier(email=OTHER_COURRIEL))
    pending = world.request()
    assert pending.claim_id is not None
    code = world.mailed_code(OTHER_COURRIEL)
    stranger = account(account_id="account-stranger")
    claim_id = pending.claim_id
    assert isinstance(refusal(lambda: world.confirm(claim_id, code, stranger)), Expired)
    for _ in range(5):
        world.counters.items.clear()  # the tries of the claim, not the throttle, are shown here
        assert isinstance(refusal(lambda: world.confirm(claim_id, "11111111")), WrongCode)
    world.counters.items.clear()
    assert isinstance(refusal(lambda: world.confirm(claim_id, code)), Expired)
    assert world.linked_to() is None


def test_the_activation_code_of_the_decision_links_a_dossier_without_courriel() -> None:
    world = World(new_dossier(email=None, activation_code_hash=hashed(ACTIVATION)))
    pending = world.request()
    assert pending.claim_id is not None and world.mailer.sent == []
    claim_id = pending.claim_id
    wrong = refusal(lambda: world.confirm(claim_id, "K7M2-P9QX-4TDX"))
    assert isinstance(wrong, WrongCode) and wrong.errors == {"code": WRONG_CODE}
    done = world.confirm(claim_id, "k7m2 p9qx4tdv")
    assert done.linked is not None and world.linked_to() == CAMILLE


def test_the_activation_code_does_not_hand_a_dossier_to_another_identity() -> None:
    world = World(new_dossier(email=None, activation_code_hash=hashed(ACTIVATION)))
    someone = account(account_id="account-someone", family_name="PETIT")
    pending = world.request(who=someone)
    assert pending.claim_id is not None
    claim_id = pending.claim_id
    assert isinstance(refusal(lambda: world.confirm(claim_id, ACTIVATION, someone)), WrongCode)
    assert world.linked_to() is None


def test_a_ticket_no_code_was_mailed_for_opens_nothing_even_with_a_test_answer() -> None:
    world = World(new_dossier(email=None), test_answer="123456")
    pending = world.request()
    assert pending.claim_id is not None
    claim_id = pending.claim_id
    assert isinstance(refusal(lambda: world.confirm(claim_id, "123456")), WrongCode)
    assert world.linked_to() is None


def test_fields_are_checked_before_anything_is_counted_and_one_s_own_dossier_is_said() -> None:
    world = World(new_dossier(email=CAMILLE_EMAIL, account_id=CAMILLE))
    world.accounts.add(account())
    invalid = refusal(lambda: world.claims.request(CAMILLE, "inconnu", "  ", IP))
    # Keyed by the use case's inputs, not by any form's fields.
    assert isinstance(invalid, Invalid)
    assert invalid.errors == {"funder_code": NO_FUNDER, "dossier_number": NO_NUMBER}
    assert world.counters.calls["increment"] == 0
    mine = refusal(world.request)
    assert isinstance(mine, Invalid) and mine.errors == {"dossier_number": ALREADY_YOURS}


def test_an_account_closed_since_the_login_is_signed_out() -> None:
    world = World(new_dossier(email=CAMILLE_EMAIL))
    assert isinstance(
        refusal(lambda: world.claims.request(CAMILLE, "region-hdf", NUMBER, IP)), SignedOut
    )
    assert isinstance(
        refusal(lambda: world.claims.confirm(CAMILLE, "claim", "1234", IP)), SignedOut
    )
    assert world.linked_to() is None and world.counters.calls["increment"] == 0


def test_attempts_wait_like_logins_after_the_fifth_and_a_link_starts_afresh() -> None:
    world = World(new_dossier(email=CAMILLE_EMAIL))
    for _ in range(5):
        world.request("UNKNOWN")
    refused = refusal(lambda: world.request(NUMBER))
    assert isinstance(refused, Throttled)
    assert refused.retry_after == world.clock() + timedelta(minutes=1)
    assert "Trop de tentatives" in refused.errors["dossier_number"]
    assert world.linked_to() is None and "dossier-claim-throttled" in world.audit.names(CAMILLE)
    world.clock.advance(minutes=1)
    world.request("UNKNOWN")  # its turn: then 2 minutes
    again = refusal(lambda: world.request(NUMBER))
    assert isinstance(again, Throttled)
    assert again.retry_after == world.clock() + timedelta(minutes=2)
    world.clock.advance(minutes=2)
    assert world.request(NUMBER).linked is not None
    assert world.counters.locked_until(f"dossier-claims#account#{CAMILLE}") is None


def test_one_address_trying_many_accounts_is_throttled_too() -> None:
    world = World()
    for n in range(25):
        # Twenty more free attempts than an account (a training centre's trainees share one).
        world.request("UNKNOWN", account(account_id=f"account-{n}"))
    refused = refusal(lambda: world.request("UNKNOWN", account(account_id="account-25")))
    assert isinstance(refused, Throttled)
    assert refused.retry_after == world.clock() + timedelta(minutes=1)


class RacingCounters(MemoryCounters):
    """Another request sets the lock between this one's read and its compare-and-set."""

    def take_turn(
        self, key: str, seen: datetime | None, until: datetime, expires_at: datetime
    ) -> bool:
        super().take_turn(key, seen, until, expires_at)  # the other request wins the turn
        return super().take_turn(key, seen, until, expires_at)


def test_of_concurrent_attempts_past_the_free_ones_only_one_goes_on() -> None:
    clock = FakeClock()
    throttle = ClaimThrottle(RacingCounters(clock), clock)
    for _ in range(4):
        assert throttle.attempt(CAMILLE, None) is None
    assert throttle.attempt(CAMILLE, None) == clock() + timedelta(minutes=1)


def test_a_claim_for_a_dossier_linked_meanwhile_is_refused_like_a_wrong_code() -> None:
    world = World(new_dossier(email=OTHER_COURRIEL))
    pending = world.request()
    assert pending.claim_id is not None
    code = world.mailed_code(OTHER_COURRIEL)
    world.dossiers.link_account("region-hdf", NUMBER, "account-first")
    claim_id = pending.claim_id
    result = refusal(lambda: world.confirm(claim_id, code))
    assert isinstance(result, WrongCode) and result.errors == {"code": WRONG_CODE}
    assert world.linked_to() == "account-first"


@pytest.mark.parametrize("meanwhile", ["removed", "taken"])
def test_a_link_refused_on_a_dossier_changed_since_its_read_answers_on_what_is_there_now(
    monkeypatch: pytest.MonkeyPatch, meanwhile: str
) -> None:
    """Between « Ajouter un dossier »'s read and its link, the dossier is withdrawn or purged, or
    another account links it: the answer of any number not hers, and no code mailed to her own
    address for a dossier she can no longer have (its owner is told, as always)."""
    owner = account(account_id="account-owner", email="owner@example.fr")
    world = World(new_dossier(email=CAMILLE_EMAIL))
    world.accounts.add(owner)
    link = world.dossiers.link_account

    def raced_link(funder_code: str, dossier_number: str, account_id: str) -> bool:
        if meanwhile == "removed":
            del world.dossiers.items[(funder_code, dossier_number)]
        else:
            assert link(funder_code, dossier_number, owner.account_id)
        return link(funder_code, dossier_number, account_id)

    monkeypatch.setattr(world.dossiers, "link_account", raced_link)
    result = world.request()
    assert shape(result) == (None, True)
    assert world.audit.names(CAMILLE) == ["dossier-claim-unproven"]
    told = [owner.email] if meanwhile == "taken" else []
    assert [mail.to for mail in world.mailer.sent] == told
