"""S3 → SQS → handler under moto, real files: clean, replayed, crashed, malformed, wrong funder."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote_plus

import boto3
import pytest

from chalicelib.container import get_container
from chalicelib.services.funders.model import Funder, save_funder
from chalicelib.store.models import DossierChangeItem, DossierItem, PaymentItem
from local.poller import QueuePoller
from tests.support.aws import count_dynamodb_requests, drop, report, run_queue

DEMO = Path(__file__).resolve().parents[2] / "local" / "demo"
DOSSIER_HEADER = (
    "numero_dossier;nom;prenoms;date_naissance;courriel;code_formation;intitule_formation;"
    "date_debut;date_fin;siret_organisme;nom_organisme;courriel_organisme;taux_mensuel;"
    "date_decision;statut"
)
PAYMENT_HEADER = (
    "numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;"
    "element;libelle;taux;jours;diviseur;montant"
)


def dossier_line(number: str, family_name: str = "MARTIN", status: str = "en_cours") -> str:
    return (
        f"{number};{family_name};Camille;14/05/1990;camille.martin@example.fr;DEV;Développeur web;"
        f"16/10/2017;29/06/2018;54756834567143;Institut de formation numérique;;310,39;"
        f"02/10/2017;{status}"
    )


def payment_line(number: str, reference: str, days: int = 14, amount: str = "144,85") -> str:
    return (
        f"{number};{reference};20/03/2018;16/10/2017;31/10/2017;REMUNERATION;;310,39;{days};30;"
        f"{amount}"
    )


def csv_file(header: str, lines: list[str]) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


@pytest.fixture
def funders(aws: dict[str, str]) -> None:
    repository = get_container().funders
    save_funder(repository, Funder("region-idf", "Région Île-de-France"))
    save_funder(repository, Funder("region-hdf", "Région Hauts-de-France"))


def payments_of(funder_code: str) -> dict[str, PaymentItem]:
    return {item.reference: item for item in PaymentItem.query(funder_code)}


def dossiers_of(funder_code: str) -> dict[str, DossierItem]:
    return {item.dossier_number: item for item in DossierItem.query(funder_code)}


def test_demo_files_land_in_dynamodb_with_a_report_each(funders: None) -> None:
    drop("region-idf", "dossiers_region-idf.csv", (DEMO / "dossiers_region-idf.csv").read_bytes())
    assert run_queue() == 1
    drop("region-idf", "paiements_region-idf.csv", (DEMO / "paiements_region-idf.csv").read_bytes())
    assert run_queue() == 1

    dossiers = dossiers_of("region-idf")
    assert set(dossiers) == {
        "IDF-2017-000123",
        "IDF-2026-000456",
        "IDF-2026-000789",
        "IDF-2026-000790",
    }
    assert dossiers["IDF-2017-000123"].identity_key == "MARTIN|CAMILLE|1990-05-14"
    payments = payments_of("region-idf")
    assert len(payments) == 5
    guide_example = payments["IDF-P-2018-0003"]
    assert guide_example.payment_date == "2018-03-20"
    assert guide_example.total == "144.85"
    assert [(line.rate, line.days, line.divisor, line.amount) for line in guide_example.lines] == [
        ("310.39", "14", "30", "144.85")
    ]
    absence = payments["IDF-P-2017-0001"]
    assert Decimal(absence.total) == Decimal("289.70")
    summary = report("region-idf", "paiements_region-idf.csv")
    assert summary["Lignes lues"] == "6"
    assert summary["Paiements enregistrés"] == "5"
    assert summary["Paiements rejetés"] == "0"
    assert summary["Rejet"] == ""
    assert report("region-idf", "dossiers_region-idf.csv")["Dossiers créés"] == "4"


def test_a_file_dropped_again_changes_nothing_and_says_so(funders: None) -> None:
    dossiers = csv_file(DOSSIER_HEADER, [dossier_line("D-1"), dossier_line("D-2")])
    payments = csv_file(PAYMENT_HEADER, [payment_line("D-1", "P-1"), payment_line("D-2", "P-2")])
    for _ in range(2):
        drop("region-idf", "dossiers_a.csv", dossiers)
        drop("region-idf", "paiements_a.csv", payments)
        run_queue()
    assert set(payments_of("region-idf")) == {"P-1", "P-2"}
    assert (
        report("region-idf", "paiements_a.csv")["Paiements déjà enregistrés à l'identique"] == "2"
    )
    assert report("region-idf", "dossiers_a.csv")["Dossiers inchangés"] == "2"
    # The history holds the version received once, not once per delivery of the file.
    (version,) = DossierChangeItem.query("region-idf#D-1")
    assert (version.created, version.line, version.source_file) == (
        True,
        2,
        "incoming/region-idf/dossiers_a.csv",
    )


def test_a_message_delivered_again_after_a_completed_run_is_not_run_again(funders: None) -> None:
    drop("region-idf", "dossiers_a.csv", csv_file(DOSSIER_HEADER, [dossier_line("D-1")]))
    sqs = boto3.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=os.environ["FUNDER_FILES_QUEUE"])["QueueUrl"]
    message = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1)["Messages"][0]
    event = {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-3:123456789012:q",
            }
        ]
    }
    import app as portal

    portal.handle_funder_file_messages(event, None)
    DossierItem.get("region-idf", "D-1").delete()  # would be recreated by a second run
    portal.handle_funder_file_messages(event, None)  # SQS's at-least-once delivery
    assert dossiers_of("region-idf") == {}
    assert report("region-idf", "dossiers_a.csv")["Dossiers créés"] == "1"


def test_an_update_replaces_values_keeps_the_link_and_records_the_change(funders: None) -> None:
    drop("region-idf", "dossiers_a.csv", csv_file(DOSSIER_HEADER, [dossier_line("D-1")]))
    run_queue()
    item = DossierItem.get("region-idf", "D-1")
    item.update(actions=[DossierItem.account_id.set("account-1")])
    drop(
        "region-idf",
        "dossiers_b.csv",
        csv_file(DOSSIER_HEADER, [dossier_line("D-1", status="terminee")]),
    )
    run_queue()
    updated = DossierItem.get("region-idf", "D-1")
    assert updated.status == "terminee"
    assert updated.account_id == "account-1"
    from chalicelib.store.dossiers import DynamoDossierRepository

    created, change = DynamoDossierRepository().history("region-idf", "D-1")
    assert (created.created, created.source_file) == (True, "incoming/region-idf/dossiers_a.csv")
    assert created.values["status"] == "en_cours"
    assert "activation_code_hash" not in created.values
    assert (change.created, change.line) == (False, 2)
    assert change.source_file == "incoming/region-idf/dossiers_b.csv"
    assert change.changes == {"status": ("en_cours", "terminee")}
    assert change.values["status"] == "terminee"
    assert report("region-idf", "dossiers_b.csv")["Dossiers mis à jour"] == "1"


def test_a_run_that_crashes_halfway_then_is_retried_ends_as_one_clean_run(
    funders: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = [f"D-{index}" for index in range(250)]
    drop(
        "region-idf", "dossiers_a.csv", csv_file(DOSSIER_HEADER, [dossier_line(n) for n in numbers])
    )
    run_queue()
    lines = [payment_line(number, f"P-{number}") for number in numbers]
    drop("region-idf", "paiements_a.csv", csv_file(PAYMENT_HEADER, lines))

    from chalicelib.store.payments import DynamoPaymentRepository

    original = DynamoPaymentRepository.write_many
    calls = {"count": 0}

    def crash_on_second_batch(self: DynamoPaymentRepository, *args: object) -> set[str]:
        calls["count"] += 1
        if calls["count"] == 2:
            raise RuntimeError("Lambda tuée au milieu du fichier")
        return original(self, *args)

    monkeypatch.setattr(DynamoPaymentRepository, "write_many", crash_on_second_batch)
    import app as portal

    failures: list[str] = []
    poller = QueuePoller(
        os.environ["FUNDER_FILES_QUEUE"],
        portal.handle_funder_file_messages,
        failures.append,
        retry_delay_seconds=0,
    )
    poller.poll_once()
    assert failures and "tuée" in failures[0]
    assert len(payments_of("region-idf")) == 100  # the first batch only

    monkeypatch.setattr(DynamoPaymentRepository, "write_many", original)
    assert run_queue() == 1

    stored = payments_of("region-idf")
    assert set(stored) == {f"P-{number}" for number in numbers}
    assert {item.total for item in stored.values()} == {"144.85"}
    # Dropped once more, the file finds everything in place: nothing missing, nothing doubled.
    drop("region-idf", "paiements_a.csv", csv_file(PAYMENT_HEADER, lines))
    run_queue()
    assert (
        report("region-idf", "paiements_a.csv")["Paiements déjà enregistrés à l'identique"] == "250"
    )
    assert len(payments_of("region-idf")) == 250


def test_a_malformed_file_reports_each_rejected_line_and_keeps_the_good_payments(
    funders: None,
) -> None:
    drop("region-idf", "dossiers_a.csv", csv_file(DOSSIER_HEADER, [dossier_line("D-1")]))
    run_queue()
    lines = [
        payment_line("D-1", "P-OK"),
        payment_line("D-1", "P-BAD", amount="144,80"),
        payment_line("D-1", "P-HALF"),
        "D-1;P-HALF;20/03/2018;16/10/2017;31/10/2017;INCONNU;;;;;10,00",
        payment_line("D-404", "P-NODOSSIER"),
    ]
    drop("region-idf", "paiements_a.csv", csv_file(PAYMENT_HEADER, lines))
    run_queue()
    assert set(payments_of("region-idf")) == {"P-OK"}
    summary = report("region-idf", "paiements_a.csv")
    assert summary["Paiements enregistrés"] == "1"
    assert summary["Paiements rejetés"] == "3"
    rejections = summary["Rejet"]
    assert "3;montant;" in rejections and "144,85" in rejections
    assert "4;;paiement P-HALF rejeté en entier" in rejections
    assert "5;element;" in rejections
    assert "6;numero_dossier;dossier D-404 inconnu pour ce financeur" in rejections


def test_an_unreadable_file_is_rejected_whole(funders: None) -> None:
    drop("region-idf", "paiements_x.csv", b"numero_dossier;montant\nD-1;12,00\n")
    drop("region-idf", "photo.jpg", b"\xff\xd8\xff")
    run_queue()
    assert (
        "colonnes obligatoires absentes"
        in report("region-idf", "paiements_x.csv")["Fichier rejeté"]
    )
    assert "nom de fichier non reconnu" in report("region-idf", "photo.jpg")["Fichier rejeté"]
    assert payments_of("region-idf") == {}


def test_windows_1252_crlf_quoted_and_bom_files_are_read(funders: None) -> None:
    cp1252 = (
        DOSSIER_HEADER + "\r\n" + '"D-1";"LÉGER";"Zoé Anaïs";14/05/1990;;DEV;"Cuisine; pâtisserie";'
        "16/10/2017;29/06/2018;54756834567143;Organisme;;310,39;02/10/2017;en_cours\r\n"
    ).encode("cp1252")
    drop("region-idf", "dossiers_cp1252.csv", cp1252)
    bom = "\ufeff" + PAYMENT_HEADER + "\r\n" + payment_line("D-1", "P-1") + "\r\n\r\n"
    run_queue()
    drop("region-idf", "paiements_bom.csv", bom.encode("utf-8"))
    run_queue()
    dossier = DossierItem.get("region-idf", "D-1")
    assert (dossier.family_name, dossier.given_names) == ("LÉGER", "Zoé Anaïs")
    assert dossier.training_title == "Cuisine; pâtisserie"
    assert set(payments_of("region-idf")) == {"P-1"}


def test_a_file_cannot_touch_another_funders_data(funders: None) -> None:
    drop("region-idf", "dossiers_a.csv", csv_file(DOSSIER_HEADER, [dossier_line("D-1")]))
    run_queue()
    # region-hdf names region-idf's dossier: for region-hdf it does not exist.
    drop("region-hdf", "paiements_a.csv", csv_file(PAYMENT_HEADER, [payment_line("D-1", "P-1")]))
    drop("region-hdf", "dossiers_a.csv", csv_file(DOSSIER_HEADER, [dossier_line("D-1", "DURAND")]))
    drop("inconnu", "dossiers_a.csv", csv_file(DOSSIER_HEADER, [dossier_line("D-9")]))
    run_queue()
    assert payments_of("region-idf") == {}
    assert DossierItem.get("region-idf", "D-1").family_name == "MARTIN"
    assert DossierItem.get("region-hdf", "D-1").family_name == "DURAND"
    assert dossiers_of("inconnu") == {}
    assert "aucun financeur" in report("inconnu", "dossiers_a.csv")["Fichier rejeté"]


def test_dynamodb_writes_are_batched(funders: None) -> None:
    numbers = [f"D-{index}" for index in range(500)]
    drop(
        "region-idf", "dossiers_a.csv", csv_file(DOSSIER_HEADER, [dossier_line(n) for n in numbers])
    )
    drop(
        "region-idf",
        "paiements_a.csv",
        csv_file(PAYMENT_HEADER, [payment_line(n, f"P-{n}") for n in numbers]),
    )
    with count_dynamodb_requests() as requests:
        run_queue()
    assert requests["Scan"] == 0
    # Per file: the idempotency records, and its status record (« reçu », « en cours », the end);
    # per batch of 100 new dossiers, the dashboard's two counters (total and month).
    assert requests["PutItem"] + requests["UpdateItem"] <= (4 + 3) * 2 + 2 * 500 / 100
    # Conditional writes, 100 items per transaction: 500 dossier history items (put only where
    # absent), 500 dossiers, then 500 payments; and per file one for the dashboard's counters
    # with their counted-once marker.
    assert requests["TransactWriteItems"] == 3 * 500 / 100 + 2
    assert requests["BatchWriteItem"] == 0


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue(
    funders: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.events import funder_files

    def always_fail(s3_object: dict[str, str]) -> dict[str, object]:
        raise RuntimeError("panne")

    monkeypatch.setattr(funder_files, "_idempotent_process", lambda: (None, always_fail))
    drop("region-idf", "dossiers_a.csv", csv_file(DOSSIER_HEADER, [dossier_line("D-1")]))
    import app as portal

    sqs = boto3.client("sqs")
    dlq_url = sqs.get_queue_url(QueueName=os.environ["FUNDER_FILES_QUEUE"] + "-dlq")["QueueUrl"]
    poller = QueuePoller(
        os.environ["FUNDER_FILES_QUEUE"],
        portal.handle_funder_file_messages,
        lambda _: None,
        retry_delay_seconds=0,
    )
    for _ in range(8):
        poller.poll_once()
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(dead) == 1
    key = json.loads(dead[0]["Body"])["Records"][0]["s3"]["object"]["key"]
    assert unquote_plus(key) == "incoming/region-idf/dossiers_a.csv"


def test_a_history_item_is_never_overwritten_by_a_redelivery(funders: None) -> None:
    """The run died after its history writes, before its dossier writes: SQS delivers the file
    again, the same version is judged new again, and its history item keeps its first date."""
    drop("region-idf", "dossiers_a.csv", csv_file(DOSSIER_HEADER, [dossier_line("D-1")]))
    run_queue()
    (first,) = DossierChangeItem.query("region-idf#D-1")
    DossierItem.get("region-idf", "D-1").delete()  # as if its put had never happened
    drop("region-idf", "dossiers_a.csv", csv_file(DOSSIER_HEADER, [dossier_line("D-1")]))
    run_queue()
    (again,) = DossierChangeItem.query("region-idf#D-1")
    assert (again.change_id, again.recorded_at) == (first.change_id, first.recorded_at)
    assert DossierItem.get("region-idf", "D-1").status == "en_cours"
