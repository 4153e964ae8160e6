"""Metrics per use case (issue 8): what a journey does is counted, in CloudWatch's embedded metric
format on stdout (no cloudwatch:PutMetricData), namespaced, and without personal data."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.integration.test_accounts_web import (
    LUCAS,
    NEW_PASSWORD,
    complete_first_login,
    log_in,
    sign_up,
)
from tests.support.aws import drop, run_queue
from tests.support.web import WebClient

PAYMENT = (
    b"numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;"
    b"element;libelle;taux;jours;diviseur;montant\n"
    b"IDF-2026-000789;IDF-P-LUCAS-1;09/10/2026;07/09/2026;30/09/2026;REMUNERATION;;685,00;24;30;"
    b"548,00\n"
)
PDF = "/formations/paiement/pdf?financeur=region-idf&reference=IDF-P-LUCAS-1"


def emitted(output: str) -> tuple[Counter[str], list[dict[str, Any]]]:
    """Each metric's total, and the EMF documents themselves, from what the functions printed."""
    totals: Counter[str] = Counter()
    documents: list[dict[str, Any]] = []
    for line in output.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        document = json.loads(line)
        documents.append(document)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "PortailStagiaire"
            for metric in directive["Metrics"]:
                totals[metric["Name"]] += int(sum(document[metric["Name"]]))
    return totals, documents


def test_a_journey_is_counted_use_case_by_use_case(
    portal: WebClient, capfd: pytest.CaptureFixture[str]
) -> None:
    capfd.readouterr()
    sign_up(portal)
    complete_first_login(portal)  # a first login with the mailed password, then the steps
    stranger = WebClient(portal.client, source_ip="192.0.2.40")
    log_in(stranger, LUCAS["email"], "Pas-Le-Bon-Mot-De-Passe-1")
    log_in(stranger, "personne@example.fr", "Pas-Le-Bon-Mot-De-Passe-1")
    log_in(stranger, LUCAS["email"], NEW_PASSWORD)
    drop("region-idf", "paiements_lucas.csv", PAYMENT)
    drop("region-idf", "inconnu.csv", b"pas un fichier de financeur\n")
    run_queue()
    run_queue(queue="notifications")
    assert portal.get(PDF).status == 303
    assert portal.get(PDF).status == 303  # served again from the bucket: counted again

    totals, documents = emitted(capfd.readouterr().out)
    assert totals["Signup"] == 1
    assert totals["LoginSuccessPassword"] == 2
    assert totals["LoginFailure"] == 1
    assert totals["LoginFailureUnknownAccount"] == 1
    assert totals["FunderFilesProcessed"] == 2
    assert totals["FunderFilesRejected"] == 1
    assert totals["payments_stored"] == 1
    assert totals["NewPaymentMailsSent"] == 1
    assert totals["PdfServed"] == 2
    # Dimensions say which service and which funder, never who.
    dimensions = {
        name
        for document in documents
        for d in document["_aws"]["CloudWatchMetrics"]
        for name in d["Dimensions"][0]
    }
    assert dimensions <= {"service", "funder"}
    text = json.dumps(documents)
    for personal in (LUCAS["email"], "PETIT", "Lucas", "IDF-2026-000789", "personne@example.fr"):
        assert personal not in text
