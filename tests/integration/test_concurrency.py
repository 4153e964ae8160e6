"""Races run for real: threads released together by a barrier, against the emulator (each request
atomic, as in DynamoDB: tests/support/concurrency.py), many times over; the end state is checked.

Each repetition uses its own references, dossiers and people, so repetitions need no cleanup and
a failure names the repetition where the interleaving went wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from functools import partial

import pytest

from chalicelib.container import get_container
from chalicelib.events.funder_files import process_funder_file
from chalicelib.services.funders import Funder, save_funder
from chalicelib.store.models import DossierItem, PaymentItem
from tests.integration.test_funder_files_chain import (
    DOSSIER_HEADER,
    PAYMENT_HEADER,
    csv_file,
    dossier_line,
    payment_line,
)
from tests.support.aws import drop, run_queue
from tests.support.concurrency import atomic_requests, run_together

REPETITIONS = 15
CONFLICT = "est déjà enregistrée avec un contenu différent"


@pytest.fixture
def racing(aws: dict[str, str]) -> Iterator[None]:
    save_funder(get_container().funders, Funder("region-idf", "Région Île-de-France"))
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
