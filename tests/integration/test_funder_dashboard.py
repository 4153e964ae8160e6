"""The funder's dashboard comes from counters kept at write time: after the demo data (files,
dossiers, sign-ups that link dossiers, payment mails) a recount of the stored items gives the same
figures, and reading the dashboard costs two DynamoDB requests whatever the funder's size."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.container import get_container
from chalicelib.store.models import DossierItem, PaymentItem
from tests.support.aws import count_dynamodb_requests, run_queue
from tests.support.web import WebClient


def recount(funder_code: str) -> dict[str, int]:
    """What the counters should say, from the stored items (a test may Query a whole funder)."""
    dossiers = list(DossierItem.query(funder_code))
    payments = list(PaymentItem.query(funder_code))
    month = f"{datetime.now(UTC):%Y-%m}"
    files = [
        record
        for record in get_container().file_records.latest(funder_code, 1000)
        if f"{record.received_at:%Y-%m}" == month and record.finished
    ]
    return {
        "files_this_month": len(files),
        "lines_rejected_this_month": sum(r.counts.get("lines_rejected", 0) for r in files),
        "dossiers": len(dossiers),
        "linked_accounts": sum(1 for item in dossiers if item.account_id),
        "payment_mails": sum(1 for item in payments if item.notified),
    }


def shown(funder_code: str) -> dict[str, int]:
    board = get_container().funder_dashboard.read(funder_code)
    return {
        "files_this_month": board.files_this_month,
        "lines_rejected_this_month": board.lines_rejected_this_month,
        "dossiers": board.dossiers,
        "linked_accounts": board.linked_accounts,
        "payment_mails": board.payment_mails_sent + board.payment_mails_bounced,
    }


def test_the_counters_match_a_recount_after_the_demo_data(demo_data: WebClient) -> None:
    run_queue(queue="notifications")
    for funder_code in ("region-idf", "region-hdf"):
        expected = recount(funder_code)
        assert expected["dossiers"] > 0 and expected["files_this_month"] >= 1
        assert shown(funder_code) == expected, funder_code
    # The demo's ready account has linked dossiers, and its payments were mailed.
    assert recount("region-idf")["linked_accounts"] >= 1


def test_reading_the_dashboard_costs_two_requests(demo_data: WebClient) -> None:
    with count_dynamodb_requests() as requests:
        get_container().funder_dashboard.read("region-idf")
    assert sum(requests.values()) <= 2 and requests["Scan"] == requests["Query"] == 0
