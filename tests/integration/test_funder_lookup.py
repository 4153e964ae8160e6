"""« Rechercher un dossier » under moto: the demo data, the stores, the journal, « Mes données »,
and the journal's erasure with the dossier."""

from __future__ import annotations

import json
from datetime import date

import pytest

from chalicelib import admin
from chalicelib.container import get_container
from chalicelib.services.funders.lookup import CallerKind, FunderCaller
from chalicelib.store.erasure import DynamoErasureStore
from chalicelib.store.funder_lookups import consultation_partition
from chalicelib.store.models import AuditItem, DossierItem
from local.demo import READY
from tests.support.api import Api
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


# The funder's API -----------------------------------------------------------------------------


def api_key(funder: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert admin.main(["--stage", "test", "funder", "api-key", "--funder", funder]) == 0
    return next(line for line in capsys.readouterr().out.splitlines() if line.startswith("pfk_"))


def test_the_api_answers_only_the_keys_funder_and_needs_a_key(
    demo_data: WebClient, capsys: pytest.CaptureFixture[str]
) -> None:
    api = Api(demo_data.client)
    idf, hdf = api_key("region-idf", capsys), api_key("region-hdf", capsys)
    path = f"/api/v1/funder/dossiers?numero={CAMILLE_IDF}"
    assert api.call("GET", path).status == 401
    assert api.call("GET", path, token="pfk_inconnue").status == 401
    other = api.call("GET", path, token=hdf)
    missing = api.call("GET", "/api/v1/funder/dossiers?numero=IDF-0000-000000", token=hdf)
    assert (other.status, other.error) == (missing.status, missing.error)
    assert (
        other.status == 404
        and other.error["message"] == "Dossier introuvable pour votre organisme."
    )

    found = api.call("GET", path, token=idf)
    assert found.status == 200, found.body
    (dossier,) = found.json["dossiers"]
    assert dossier["number"] == CAMILLE_IDF
    assert dossier["account"]["linked"] is True and dossier["account"]["activated"] is True
    # The dossier as received holds the address the funder sent; the account's is masked.
    assert dossier["account"]["masked_email"] == "c***@example.fr"
    assert READY.email not in json.dumps(dossier["account"])
    assert "password" not in found.body.decode() and "secret" not in found.body.decode()
    assert dossier["payments"] and "notified_by_mail" in dossier["payments"][0]
    assert dossier["history"][0]["created"] is True

    birth = dossier["received"]["birth_date"]
    by_name = api.call(
        "GET", f"/api/v1/funder/dossiers?nom=martin&date_naissance={birth}", token=idf
    )
    assert CAMILLE_IDF in [d["number"] for d in by_name.json["dossiers"]]
    partial = api.call("GET", f"/api/v1/funder/dossiers?nom=MART&date_naissance={birth}", token=idf)
    assert partial.json == {"dossiers": []}
    bad = api.call("GET", "/api/v1/funder/dossiers?nom=MARTIN&date_naissance=14/05/1990", token=idf)
    assert bad.status == 400 and "AAAA-MM-JJ" in bad.error["fields"]["date_naissance"]
    both = api.call("GET", f"{path}&nom=MARTIN", token=idf)
    assert both.status == 400 and both.error["code"] == "invalid_request"

    # The trainee reads that her funder's system looked her dossier up.
    consultations = get_container().trainee_consultations.of_account(
        get_container().accounts.find_by_email(READY.email).account_id  # type: ignore[union-attr]
    )
    assert "le système informatique du financeur" in {entry["par"] for entry in consultations}


def test_dossiers_older_than_the_name_search_are_keyed_once_by_the_operator(
    messages_on: WebClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dossiers written before « Rechercher un dossier » by name have no `name_birth_key`: the
    index does not list them until `admin dossiers backfill-name-search` keys them; a second run
    keys nothing (each update is conditional on the key still missing)."""
    lookup = get_container().dossier_lookup
    camille = get_container().dossiers.get("region-idf", CAMILLE_IDF)
    assert camille is not None
    old = DossierItem.get("region-idf", CAMILLE_IDF)
    old.update(actions=[DossierItem.name_birth_key.remove()])
    assert lookup.by_name_and_birth(staff(), "MARTIN", camille.birth_date) == []

    assert admin.main(["--stage", "test", "dossiers", "backfill-name-search"]) == 0
    assert "par nom et date de naissance : 1" in capsys.readouterr().out
    found = lookup.by_name_and_birth(staff(), "MARTIN", camille.birth_date)
    assert CAMILLE_IDF in [file.dossier.dossier_number for file in found]

    with count_dynamodb_requests() as requests:
        assert admin.main(["--stage", "test", "dossiers", "backfill-name-search"]) == 0
    assert "par nom et date de naissance : 0" in capsys.readouterr().out
    assert requests["UpdateItem"] == 0
