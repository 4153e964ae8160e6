"""A dossier removed (the daily retention purge, or a funder's `supprime` line) while its owner
starts a conversation about it in « Mes messages », under moto, each interleaving forced. The
removal deletes the dossier's threads: none may outlive it, naming a training that is gone.

1. The removal has swept the dossier's threads, then the thread is written, then the removal
   deletes the dossier: the removal sweeps its holder's threads once more after the deletion.
2. The person's page read the dossier as hers, the removal ran to its end, then the thread is
   written: its transaction checks the dossier and is refused whole; she reads why, with what
   she typed, and her organisation is told of nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.container import get_container
from chalicelib.services.messages.my_messages import TRAINING_LEFT
from chalicelib.store.erasure import DynamoErasureStore
from chalicelib.store.messages import DynamoMessageRepository
from chalicelib.store.models import DossierItem, ThreadItem
from local.demo import READY
from tests.integration.conftest import mails_to
from tests.integration.test_removal_link_race import DOSSIER, NUMBER, REMOVALS, TITLE
from tests.integration.test_retention import DOSSIER_HEADER
from tests.support.aws import drop, run_queue
from tests.support.messages import ORGANISATION_MAIL
from tests.support.web import WebClient

TRAINING = f"region-idf~{NUMBER}"
TEXT = "Bonjour, pouvez-vous m’envoyer l’attestation de fin de formation ?"


@pytest.fixture
def camille(messages_on: WebClient) -> WebClient:
    """Camille signed in, messages on at Île-de-France, her dossier of 2009 linked to her."""
    drop("region-idf", "dossiers_archives.csv", (DOSSIER_HEADER + DOSSIER).encode())
    run_queue()
    account = get_container().accounts.find_by_email(READY.email)
    assert account is not None
    claim = get_container().dossier_claims.request(
        account.account_id, "region-idf", NUMBER, "192.0.2.45"
    )
    assert claim.linked is not None
    return messages_on


def start_thread(camille: WebClient) -> Any:
    form = camille.get("/messages/nouveau")
    assert form.status == 200 and TITLE in form.text
    fields = {
        "csrf": form.hidden("csrf"),
        "envoi": form.hidden("envoi"),
        "training": TRAINING,
        "subject": "Fin de formation",
        "text": TEXT,
    }
    return camille.post("/messages/nouveau", fields)


def threads_on_the_dossier() -> list[str]:
    return [item.thread_id for item in ThreadItem.scan(ThreadItem.dossier_number == NUMBER)]


@pytest.mark.parametrize("removal", REMOVALS)
def test_a_thread_started_after_the_removals_sweep_goes_with_the_dossier(
    camille: WebClient, removal: str
) -> None:
    original = DynamoErasureStore._delete_and_uncount
    started: list[Any] = []

    def delete_and_uncount(funder_code: str, dossier_number: str) -> str | None:
        if dossier_number == NUMBER and not started:
            started.append(start_thread(camille))  # its threads swept, the dossier still there
            assert threads_on_the_dossier(), "the interleaving was not forced"
        return original(funder_code, dossier_number)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DynamoErasureStore, "_delete_and_uncount", staticmethod(delete_and_uncount))
        REMOVALS[removal]()

    assert started and started[0].status == 303, started
    assert threads_on_the_dossier() == []
    assert DossierItem.count("region-idf", DossierItem.dossier_number == NUMBER) == 0
    assert "Fin de formation" not in camille.get("/messages").text


@pytest.mark.parametrize("removal", REMOVALS)
def test_a_removal_between_a_threads_read_and_its_write_starts_nothing_and_says_so(
    camille: WebClient, removal: str
) -> None:
    told_before = len(mails_to(ORGANISATION_MAIL))
    original = DynamoMessageRepository.create_thread
    removed: list[bool] = []

    def create_thread(self: DynamoMessageRepository, *arguments: Any, **options: Any) -> bool:
        if not removed:
            removed.append(True)
            REMOVALS[removal]()  # the page read the dossier as hers; it goes before the write
        return original(self, *arguments, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DynamoMessageRepository, "create_thread", create_thread)
        answer = start_thread(camille)

    assert removed
    assert answer.status == 400 and TRAINING_LEFT in answer.text
    assert TEXT.replace("’", "&#8217;") in answer.text or TEXT in answer.text  # kept for her
    assert threads_on_the_dossier() == []
    assert len(mails_to(ORGANISATION_MAIL)) == told_before
