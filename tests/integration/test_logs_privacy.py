"""The logs of a whole journey carry no personal data and no secret (security.md, CNIL 2021-122)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from tests.integration.conftest import mails_to
from tests.integration.test_accounts_web import (
    LUCAS,
    NEW_PASSWORD,
    complete_first_login,
    sign_up,
    temporary_password,
)
from tests.support.aws import drop, run_queue
from tests.support.web import WebClient

PAYMENT = (
    b"numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;"
    b"element;libelle;taux;jours;diviseur;montant\n"
    b"IDF-2026-000789;IDF-P-LUCAS-1;09/10/2026;07/09/2026;30/09/2026;REMUNERATION;;685,00;24;30;"
    b"548,00\n"
)


@pytest.fixture
def service_logs() -> Iterator[io.StringIO]:
    """What the portal's Powertools logger writes at INFO, Lambda's level, formatted as in Lambda.
    Read through a handler and a level of its own: the logger keeps the stream and the level it
    was created with, and the admin command line (test_admin.py) asks for WARNING."""
    from chalicelib.observability import SERVICE, logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    service_logger = logging.getLogger(SERVICE)
    level = service_logger.level
    service_logger.setLevel(logging.INFO)
    service_logger.addHandler(handler)
    yield stream
    service_logger.removeHandler(handler)
    service_logger.setLevel(level)


def test_a_full_journey_logs_no_personal_data(
    portal: WebClient,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    service_logs: io.StringIO,
) -> None:
    caplog.set_level(logging.INFO)  # what Lambda keeps; debug logs of botocore are off there
    sign_up(portal)
    password = temporary_password(LUCAS["email"])
    complete_first_login(portal)
    drop("region-idf", "paiements_lucas.csv", PAYMENT)
    run_queue()
    run_queue(queue="notifications")
    page = portal.get("/formations")
    portal.get("/formations/paiement?financeur=region-idf&reference=IDF-P-LUCAS-1")
    portal.get("/formations/paiement/pdf?financeur=region-idf&reference=IDF-P-LUCAS-1")
    portal.get("/mes-donnees/telechargement")
    portal.post("/deconnexion", {"csrf": page.hidden("csrf")})
    assert mails_to(LUCAS["email"])  # the journey did send mails

    out, err = capfd.readouterr()
    logs = (
        out
        + err
        + service_logs.getvalue()
        + "\n".join(record.getMessage() for record in caplog.records)
    )
    assert "Funder file processed" in logs  # the logs were captured
    secrets = [
        LUCAS["email"],
        "lucas.petit",
        "Petit",
        "PETIT",
        "Lucas",
        "03/02/1998",
        "1998-02-03",
        password,
        NEW_PASSWORD,
        "Lille",
        *portal.cookies.values(),
        page.hidden("csrf"),
    ]
    for secret in secrets:
        assert secret not in logs, secret
