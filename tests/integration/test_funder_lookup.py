"""« Rechercher un dossier » under moto: the demo data, the stores, the journal, « Mes données »,
and the journal's erasure with the dossier."""

from __future__ import annotations

import json
from datetime import date

from chalicelib.container import get_container
from chalicelib.services.funders.lookup import CallerKind, FunderCaller
from chalicelib.store.erasure import DynamoErasureStore
from chalicelib.store.funder_lookups import consultation_partition
from chalicelib.store.models import AuditItem
from local.demo import READY
from tests.support.aws import count_dynamodb_requests
from tests.support.residue import personal_residue
from tests.support.web import WebClient

CAMILLE_IDF = "IDF-2017-000123"
PREFIX = "portail-stagiaire-test-"


def staff(funder: str = "region-idf") -> FunderCaller:
    return FunderCaller(funder, CallerKind.STAFF, "staff-1", "gestionnaire", True, "192.0.2.7")


def test_a_look_up_reads_the_stores_and_the_trainee_sees_it(messages_on: WebClient) -> None:
    camille = messages_on  # signed in, with her two dossiers and their demo payments
    lookup = get_container().dossier_lookup
    assert lookup.by_number(staff("region-hdf"), CAMILLE_IDF) is None

    found = lookup.by_number(staff(), CAMILLE_IDF)
    assert found is not None
    assert found.received["family_name"] == "MARTIN"
    assert (found.account.linked, found.account.activated) == (True, True)
    assert found.account.masked_email == f"{READY.email[0]}***@{READY.email.split('@')[1]}"
    assert found.payments, "the demo file pays this dossier"
    assert all(isinstance(state.notified, bool) for state in found.payments)
    (created,) = found.history
    assert created.created and created.source_file.startswith("incoming/region-idf/")

    # By name and birth date: one Query on the index, then one BatchGetItem; never a Scan.
    with count_dynamodb_requests() as requests:
        by_name = lookup.by_name_and_birth(staff(), "martin", found.dossier.birth_date)
    assert CAMILLE_IDF in [file.dossier.dossier_number for file in by_name]
    assert requests["Scan"] == 0 and requests["Query"] >= 1
    assert lookup.by_name_and_birth(staff(), "MARTI", found.dossier.birth_date) == []
    assert lookup.by_name_and_birth(staff(), "MARTIN", date(1990, 1, 1)) == []

    page = camille.get("/mes-donnees")
    assert "Consultations de votre dossier par votre financeur" in page.text
    assert "Région Île-de-France" in page.text and "rôle « gestionnaire »" in page.text
    export = json.loads(camille.get("/mes-donnees/telechargement").body)
    consultations = export["consultations_par_votre_financeur"]
    assert len(consultations) == 1 + len(by_name)
    assert {entry["dossier"] for entry in consultations} == {CAMILLE_IDF}
    assert "staff-1" not in json.dumps(consultations)


def test_the_journal_goes_with_the_dossier(messages_on: WebClient) -> None:
    container = get_container()
    found = container.dossier_lookup.by_number(staff(), CAMILLE_IDF)
    assert found is not None
    partition = consultation_partition("region-idf", CAMILLE_IDF)
    assert len(list(AuditItem.query(partition))) == 1
    DynamoErasureStore().delete_dossier(found.dossier)
    assert list(AuditItem.query(partition)) == []
    residue = personal_residue(CAMILLE_IDF)
    # Only the funder's own files (its exchange prefix, 180 days) still name the dossier.
    assert set(residue) == {next(place for place in residue if "-exchange-" in place)}
