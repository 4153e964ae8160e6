"""A dossier removed (the daily retention purge, or a funder's `supprime` line) while its owner
links it (« Ajouter un dossier »), under moto, each interleaving forced: the other write runs
inside the store's read of the dossier, so it lands between that read and the write conditioned
on it.

1. The removal reads the dossier unlinked, a link lands (« Ajouter un dossier » by an activated
   account, its activation counted too; a sign-up with the number), then the removal's
   transaction runs: it is refused, reads again and takes the dossier away with its link and
   its activation, so the funder's dashboard equals a recount (docs/specs/product.md: a dossier
   past its period, or withdrawn, goes whoever holds it), and the one who held it as it went is
   the one told. The same for an activation counted on a dossier linked already (its owner's
   first login).
2. The link reads the dossier, the removal deletes it, then the link's conditional write runs:
   refused, nothing written again, no count moves twice, and the person gets the page's answer
   for a dossier that is not there (« Ajouter un dossier »: the one of any number not theirs,
   with no code mailed; sign-up: « Nous ne trouvons pas ce numéro de dossier… »).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from chalicelib.container import get_container
from chalicelib.events.funder_files import process_funder_file
from chalicelib.services.accounts.signup import NO_MATCHING_DOSSIER
from chalicelib.services.formatting import paris_month
from chalicelib.store.models import DossierItem
from local.demo import READY
from tests.integration.conftest import mails_to
from tests.integration.test_accounts_web import log_in
from tests.integration.test_concurrency import Person, sign_up
from tests.integration.test_funder_dashboard import recount, shown
from tests.integration.test_retention import DOSSIER_HEADER
from tests.support.aws import drop, run_queue
from tests.support.web import WebClient

# Camille's (the demo's ready, activated account) third training, ended in June 2010: past a
# ten-year period, which keeps her other Île-de-France training (ended in 2018).
NUMBER = "IDF-2009-000777"
TITLE = "Technicien d’archives"
DOSSIER = (
    f"{NUMBER};MARTIN;Camille Louise;14/05/1990;{READY.email};ARCH;{TITLE};01/09/2009;"
    "30/06/2010;54756834567143;Institut de formation numérique;;310,39;02/07/2009;terminee\n"
)
COUNTED = ("dossiers", "linked_accounts", "activated_accounts")
# What « Ajouter un dossier » answers for any number that is not the person's to link at once.
CLAIM_PAGE = "Confirmez que ce dossier est le vôtre"
WITHDRAWN_MAIL = "Un dossier a été retiré de votre compte"
CODE_MAIL = "Votre code pour ajouter un dossier"
GONE = "n’existe pas ou n’est pas rattaché à votre compte"


def purge(dossiers: int = 1) -> None:
    """The daily run, the funder's period now ten years (the training ended sixteen ago)."""
    from chalicelib import admin

    assert (
        admin.main(["--stage", "test", "funder", "set", "region-idf", "--retention-years", "10"])
        == 0
    )
    assert get_container().retention_purge().run() == dossiers


def withdrawal(number: str = NUMBER) -> None:
    """The funder's file with the dossier's `supprime` line, as its function runs it."""
    key = drop(
        "region-idf",
        f"dossiers_retrait_{number}.csv",
        f"{DOSSIER_HEADER}{number};{';' * 13}supprime\n".encode(),
    )
    summary = process_funder_file({"bucket": get_container().exchange.name, "key": key})
    assert summary["dossiers_withdrawn"] == 1, summary


REMOVALS = {"purge": purge, "withdrawal": withdrawal}


@pytest.fixture
def camille(demo_data: WebClient) -> WebClient:
    """Camille signed in, her dossier of 2009 received but not linked yet."""
    drop("region-idf", "dossiers_archives.csv", (DOSSIER_HEADER + DOSSIER).encode())
    run_queue()
    assert DossierItem.get("region-idf", NUMBER, consistent_read=True).account_id is None
    assert log_in(demo_data, READY.email, READY.password).location == "/formations"
    return demo_data


@contextmanager
def landing_after_the_read(
    consistent: bool, meanwhile: Callable[[], object], number: str = NUMBER
) -> Iterator[list]:
    """Runs `meanwhile` right after the first GetItem of the dossier (strongly consistent: the
    removal's, in store/erasure.py; eventually consistent: « Ajouter un dossier »'s) has
    answered, before the caller writes on what it read. Yields what `meanwhile` returned."""
    original = DossierItem.get
    landed: list[Any] = []

    def get(hash_key: str, range_key: str | None = None, **options: Any) -> DossierItem:
        item = original(hash_key, range_key, **options)
        read_there = range_key == number and bool(options.get("consistent_read")) == consistent
        if read_there and not landed:
            landed.append(None)  # set first: `meanwhile` reads the dossier too
            landed[0] = meanwhile()
        return item

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DossierItem, "get", get)
        yield landed
    assert landed, "the interleaving was not forced: the dossier was never read there"


def assert_counters_match_a_recount(before: dict[str, int], dossiers: int) -> None:
    now, counted = shown("region-idf"), recount("region-idf")
    assert {key: now[key] for key in COUNTED} == {key: counted[key] for key in COUNTED}
    assert now["dossiers"] == before["dossiers"] + dossiers
    # The link and its activation came and went with the dossier: none is left, none negative.
    assert now["linked_accounts"] == before["linked_accounts"]
    assert now["activated_accounts"] == before["activated_accounts"]
    assert all(now[key] >= 0 for key in COUNTED)


def assert_no_ghost_training(camille: WebClient) -> None:
    assert DossierItem.count("region-idf", DossierItem.dossier_number == NUMBER) == 0
    account = get_container().accounts.find_by_email(READY.email)
    assert account is not None
    owned = {
        d.dossier_number for d in get_container().dossiers.list_for_account(account.account_id)
    }
    assert NUMBER not in owned and owned  # her other trainings stay
    trainings = camille.get("/formations")
    assert trainings.status == 200 and TITLE not in trainings.text
    page = camille.get(f"/formations/document?financeur=region-idf&dossier={NUMBER}&type=decision")
    assert page.status == 404 and GONE in page.text


@pytest.mark.parametrize("removal", REMOVALS)
def test_a_link_landing_between_the_removals_read_and_its_write_goes_with_the_dossier(
    camille: WebClient, removal: str
) -> None:
    account = get_container().accounts.find_by_email(READY.email)
    assert account is not None
    before = shown("region-idf")

    def add_the_dossier() -> object:
        # « Ajouter un dossier » with the address the funder gave: linked at once, and counted
        # as activated (Camille's account is).
        result = get_container().dossier_claims.request(
            account.account_id, "region-idf", NUMBER, "192.0.2.44"
        )
        assert result.linked is not None
        linked = shown("region-idf")
        assert linked["linked_accounts"] == before["linked_accounts"] + 1
        assert linked["activated_accounts"] == before["activated_accounts"] + 1
        return result

    with landing_after_the_read(consistent=True, meanwhile=add_the_dossier):
        REMOVALS[removal]()

    assert_counters_match_a_recount(before, -1)
    assert_no_ghost_training(camille)
    # She is the one who held it as it went: her trail says so, a withdrawal is mailed to her.
    events = [e.event for e in get_container().audit.events(account.account_id, limit=50)]
    assert {"purge": "dossier-expired", "withdrawal": "dossier-withdrawn"}[removal] in events
    withdrawn = [text for s, text in mails_to(READY.email) if s == WITHDRAWN_MAIL]
    assert len(withdrawn) == (removal == "withdrawal") and all(TITLE in t for t in withdrawn)


@pytest.mark.parametrize("removal", REMOVALS)
def test_a_removal_between_the_links_read_and_its_write_leaves_nothing_and_says_so(
    camille: WebClient, removal: str
) -> None:
    before = shown("region-idf")
    form = camille.get("/formations")
    with landing_after_the_read(consistent=False, meanwhile=REMOVALS[removal]):
        answer = camille.post(
            "/formations/ajouter-un-dossier",
            {"csrf": form.hidden("csrf"), "financeur": "region-idf", "numero_dossier": NUMBER},
        )

    # The answer of any number that is not hers to link: the page that asks for a code.
    assert answer.status == 200 and CLAIM_PAGE in answer.text
    assert_counters_match_a_recount(before, -1)
    assert_no_ghost_training(camille)
    # No code is mailed for a dossier that is gone: it could open nothing.
    assert [s for s, _ in mails_to(READY.email) if s == CODE_MAIL] == []


@pytest.mark.parametrize("removal", REMOVALS)
def test_an_activation_counted_between_the_removals_read_and_its_write_goes_with_it(
    camille: WebClient, removal: str
) -> None:
    """The dossier linked already, to an account not yet activated; its owner finishes the first
    login (its activation counted) after the removal read the dossier and its marker."""
    account = get_container().accounts.find_by_email(READY.email)
    assert account is not None
    before = shown("region-idf")
    assert get_container().dossiers.link_account("region-idf", NUMBER, account.account_id)

    def activate() -> bool:
        return get_container().dashboard_counters.count_activation(
            "region-idf", NUMBER, account.account_id, paris_month(datetime.now(UTC))
        )

    with landing_after_the_read(consistent=True, meanwhile=activate) as landed:
        REMOVALS[removal]()

    assert landed == [True]  # counted, on the dossier still there and linked
    assert_counters_match_a_recount(before, -1)
    assert_no_ghost_training(camille)


# Someone signs up with the number (the account, not activated yet, and its link in one
# transaction, store/accounts.py): only the dossier's own condition can see the link.
NEWCOMER = Person(index=777)
NEWCOMER_DOSSIER = NEWCOMER.dossier_line(NEWCOMER.email("inscrit")).replace(
    "16/10/2017;29/06/2018", "01/09/2009;30/06/2010"
)


@pytest.mark.parametrize("removal", REMOVALS)
def test_a_sign_up_landing_between_the_removals_read_and_its_write_goes_with_the_dossier(
    demo_data: WebClient, removal: str
) -> None:
    header = DOSSIER_HEADER.rstrip("\n") + ";code_activation\n"
    drop("region-idf", "dossiers_newcomer.csv", f"{header}{NEWCOMER_DOSSIER}\n".encode())
    run_queue()
    before = shown("region-idf")
    remove = {"purge": purge, "withdrawal": partial(withdrawal, NEWCOMER.number)}[removal]

    with landing_after_the_read(
        consistent=True, meanwhile=partial(sign_up, NEWCOMER, "inscrit"), number=NEWCOMER.number
    ) as landed:
        remove()

    assert landed == [{}]  # signed up, the dossier linked to the new account
    account = get_container().accounts.find_by_email(NEWCOMER.email("inscrit"))
    assert account is not None
    assert DossierItem.count("region-idf", DossierItem.dossier_number == NEWCOMER.number) == 0
    assert get_container().dossiers.list_for_account(account.account_id) == []
    assert_counters_match_a_recount(before, -1)


@pytest.mark.parametrize("removal", REMOVALS)
def test_a_removal_between_a_sign_ups_read_and_its_link_answers_no_such_dossier(
    demo_data: WebClient, removal: str
) -> None:
    header = DOSSIER_HEADER.rstrip("\n") + ";code_activation\n"
    drop("region-idf", "dossiers_newcomer.csv", f"{header}{NEWCOMER_DOSSIER}\n".encode())
    run_queue()
    before = shown("region-idf")
    remove = {"purge": purge, "withdrawal": partial(withdrawal, NEWCOMER.number)}[removal]

    with landing_after_the_read(consistent=False, meanwhile=remove, number=NEWCOMER.number):
        refused = sign_up(NEWCOMER, "inscrit")

    # What the sign-up page says for a number that matches no dossier; no account, no mail.
    assert refused == {"dossier_number": NO_MATCHING_DOSSIER}
    assert get_container().accounts.find_by_email(NEWCOMER.email("inscrit")) is None
    assert mails_to(NEWCOMER.email("inscrit")) == []
    assert DossierItem.count("region-idf", DossierItem.dossier_number == NEWCOMER.number) == 0
    assert_counters_match_a_recount(before, -1)
